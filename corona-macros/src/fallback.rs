//! What to emit beside an error: the item in a harmless form, so that the user sees our one
//! message and not a cascade (callers that cannot find the function, rustc's own errors about
//! what we already reported).

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit::Visit;
use syn::{ItemFn, Path, ReturnType, Type};

use crate::closure;

/// The error beside `item` as it was (for items that are not functions, which we leave alone).
pub fn with_item(err: syn::Error, item: TokenStream) -> TokenStream {
    let err = err.to_compile_error();
    quote!(#err #item)
}

/// A `#[corona::coroutine]` function that failed a check, beside the error: the signature
/// its callers expect (`-> Coroutine<T>`), minus what cannot be (async, const, extern,
/// variadic; `!` becomes `Infallible`), with a body that never runs. Callers type-check
/// against it as if the attribute had worked.
///
/// Input: `async fn fetch(key: &str) -> u32 { body }`
///
/// Output: `fn fetch(key: &str) -> ::corona::Coroutine<u32> { ::core::unreachable!() }`
pub fn coroutine(err: syn::Error, mut function: ItemFn, krate: &Path) -> TokenStream {
    let sig = &mut function.sig;
    sig.asyncness = None;
    sig.constness = None;
    sig.abi = None;
    sig.variadic = None;
    let output = match &sig.output {
        // `Coroutine<!>` would add rustc's E0658 to our error about `!`.
        ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => {
            quote!(::core::convert::Infallible)
        }
        output => closure::declared_output(output),
    };
    sig.output = syn::parse_quote!(-> #krate::Coroutine<#output>);
    stand_in(
        err,
        function,
        quote!(#[allow(dead_code, unused_variables, unreachable_code)]),
    )
}

/// A `#[corona::main]` / `#[corona::test]` function that failed a check, beside the error:
/// what was wrong taken out and an empty body, so that rustc adds no errors of its own (such
/// as E0752 for `async fn main`) to ours.
pub fn entry(err: syn::Error, mut function: ItemFn) -> TokenStream {
    function.sig.asyncness = None;
    function.sig.inputs.clear();
    function.sig.generics = syn::Generics::default();
    function.attrs.retain(|attr| !attr.path().is_ident("test"));
    stand_in(err, function, quote!(#[allow(dead_code, unreachable_code)]))
}

/// The error, and `function` with a body that never runs.
///
/// The error goes beside the function, except when the function returns an `impl Trait`: a
/// body with no value leaves rustc no type that the `impl Trait` could stand for, and it says
/// so (E0283) after our error. An error inside the body marks the body as failed, and rustc
/// adds nothing about it.
///
/// Output: `compile_error!{..} fn f() -> T { ::core::unreachable!() }`, or
/// `fn f() -> impl Trait { compile_error!{..} }`
fn stand_in(err: syn::Error, mut function: ItemFn, allow: TokenStream) -> TokenStream {
    let err = err.to_compile_error();
    if returns_impl_trait(&function.sig.output) {
        function.block = syn::parse_quote!({ #err });
        quote!(#allow #function)
    } else {
        function.block = syn::parse_quote!({ ::core::unreachable!() });
        quote!(#err #allow #function)
    }
}

/// Whether a return type has an `impl Trait` in it (`impl Debug`, `Coroutine<impl Debug>`).
fn returns_impl_trait(output: &ReturnType) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    finder.visit_return_type(output);
    finder.0
}
