//! What to emit beside an error: the item in a harmless form, so that the user sees our one
//! message and not a cascade (callers that cannot find the function, rustc's own errors about
//! what we already reported).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ItemFn, Path, ReturnType};

/// The error beside `item` as it was (for items that are not functions, which we leave alone).
pub fn with_item(err: syn::Error, item: TokenStream) -> TokenStream {
    let err = err.to_compile_error();
    quote!(#err #item)
}

/// A `#[corona::coroutine]` function that failed a check: the signature its callers expect
/// (`-> Coroutine<T>`), minus what cannot be (async, const, extern, variadic), with a body
/// that never runs. Callers type-check against it as if the attribute had worked.
///
/// Input: `async fn fetch(key: &str) -> u32 { body }`
///
/// Output: `fn fetch(key: &str) -> ::corona::Coroutine<u32> { ::core::unreachable!() }`
pub fn coroutine(mut function: ItemFn, krate: &Path) -> TokenStream {
    let sig = &mut function.sig;
    sig.asyncness = None;
    sig.constness = None;
    sig.abi = None;
    sig.variadic = None;
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    sig.output = syn::parse_quote!(-> #krate::Coroutine<#output>);
    function.block = syn::parse_quote!({ ::core::unreachable!() });
    quote!(#[allow(dead_code, unused_variables, unreachable_code)] #function)
}

/// A `#[corona::main]` / `#[corona::test]` function that failed a check: what was wrong
/// taken out and an empty body, so that rustc adds no errors of its own (such as E0752 for
/// `async fn main`) to ours.
pub fn entry(mut function: ItemFn) -> TokenStream {
    function.sig.asyncness = None;
    function.sig.inputs.clear();
    function.sig.generics = syn::Generics::default();
    function.attrs.retain(|attr| !attr.path().is_ident("test"));
    function.block = syn::parse_quote!({ ::core::unreachable!() });
    quote!(#[allow(dead_code, unreachable_code)] #function)
}
