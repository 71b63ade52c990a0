//! `#[corona::coroutine]`: parse the options and the function, check it (`validate`), then
//! move its body into a coroutine; on an error, emit a stand-in instead (`fallback`).
//!
//! Input:
//!
//! ```text
//! /// Docs.
//! pub fn fetch<T: Key + 'static>(key: T, mut retries: u32) -> Result<Value, Error> { body }
//! ```
//!
//! Output:
//!
//! ```text
//! /// Docs.
//! pub fn fetch<T: Key + 'static>(key: T, retries: u32)
//!     -> ::corona::Coroutine<Result<Value, Error>>
//! {
//!     let __corona_stack_size: usize = ::corona::__private::DEFAULT_STACK_SIZE;
//!     ::corona::__private::coroutine(__corona_stack_size, move || -> Result<Value, Error> {
//!         let key = key;           // every argument moves in, used or not
//!         let mut retries = retries;
//!         body
//!     })
//! }
//! ```

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Pat, PatIdent, ReturnType};

use crate::options::CoroutineOptions;
use crate::{fallback, validate};

/// Parse the options and the function, check the function, expand it. On an error, the error
/// and a harmless stand-in for the item (see `fallback`).
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => function,
        Err(parse_err) => {
            let err = validate::not_a_fn(item.clone()).unwrap_or(parse_err);
            return fallback::with_item(err, item);
        }
    };
    let options = match syn::parse::Parser::parse2(CoroutineOptions::parse, args) {
        Ok(options) => options,
        Err(err) => {
            let krate = CoroutineOptions::default_crate();
            return fallback::with_item(err, fallback::coroutine(function, &krate));
        }
    };
    match validate::check(&function.sig) {
        Ok(()) => expand_fn(&options, function),
        Err(err) => fallback::with_item(err, fallback::coroutine(function, &options.krate)),
    }
}

fn expand_fn(options: &CoroutineOptions, function: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    let krate = &options.krate;
    // `stack_size` is bound to a `usize` before the call, so that a wrong type is reported on
    // the user's expression rather than on an argument of `__private::coroutine`.
    let stack_size_var = format_ident!("__corona_stack_size", span = Span::mixed_site());
    let stack_size = match &options.stack_size {
        Some(expr) => quote_spanned!(expr.span()=> let #stack_size_var: usize = #expr;),
        None => quote!(let #stack_size_var: usize = #krate::__private::DEFAULT_STACK_SIZE;),
    };

    // Every argument moves into the coroutine: arguments become plain idents in the
    // signature, and their patterns are bound again inside the body.
    let mut rebind = Vec::new();
    for (index, arg) in sig.inputs.iter_mut().enumerate() {
        match arg {
            FnArg::Receiver(receiver) => {
                let self_token = &receiver.self_token;
                // `&self` names the whole of `self`, so the closure captures all of it.
                rebind.push(quote!(let _ = &#self_token;));
            }
            FnArg::Typed(typed) => {
                let (ident, pat) = match &*typed.pat {
                    Pat::Ident(PatIdent {
                        by_ref: None,
                        subpat: None,
                        ident,
                        ..
                    }) => (ident.clone(), typed.pat.clone()),
                    _ => (
                        format_ident!("__corona_arg{}", index, span = typed.pat.span()),
                        typed.pat.clone(),
                    ),
                };
                rebind.push(quote!(let #pat = #ident;));
                *typed.pat = Pat::Ident(PatIdent {
                    attrs: Vec::new(),
                    by_ref: None,
                    mutability: None,
                    ident,
                    subpat: None,
                });
            }
        }
    }

    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    let output_span = match &sig.output {
        ReturnType::Default => sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    sig.output = syn::parse_quote_spanned!(output_span=> -> #krate::Coroutine<#output>);
    let stmts = &block.stmts;
    let body = quote_spanned! {block.brace_token.span.join()=>
        #stack_size
        #krate::__private::coroutine(#stack_size_var, move || -> #output {
            #(#rebind)*
            #(#stmts)*
        })
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    }
}
