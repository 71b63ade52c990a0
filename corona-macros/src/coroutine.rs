//! `#[corona::coroutine]`: parse the options and the function, check it (`validate`), then
//! move its body into a coroutine; on an error, emit a stand-in instead (`fallback`).
//!
//! Input:
//!
//! ```text
//! /// Docs.
//! pub fn fetch<T: Key + 'static>(key: T, mut retries: u32, (id, _): (Id, Tag))
//!     -> Result<Value, Error> { body }
//! ```
//!
//! Output:
//!
//! ```text
//! /// Docs.
//! pub fn fetch<T: Key + 'static>(key: T, retries: u32, __corona_arg2: (Id, Tag))
//!     -> ::corona::Coroutine<Result<Value, Error>>
//! {
//!     let __corona_stack_size: ::core::primitive::usize =
//!         ::corona::__private::DEFAULT_STACK_SIZE;
//!     ::corona::__private::coroutine(__corona_stack_size, move || -> Result<Value, Error> {
//!         let key = key;           // every argument moves in, used or not
//!         let mut retries = retries;
//!         let __corona_arg2 = __corona_arg2; // all of it, the `_` part too
//!         let (id, _) = __corona_arg2;
//!         body
//!     })
//! }
//! ```

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Attribute, FnArg, ItemFn, Meta, Pat, PatIdent, ReturnType};

use crate::argument::kept_name;
use crate::options::CoroutineOptions;
use crate::{closure, fallback, validate};

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
            return fallback::coroutine(err, function, &krate);
        }
    };
    let checked = validate::check(&function.sig)
        .and_then(|()| validate::stack_size(options.stack_size.as_ref(), &function.sig));
    match checked {
        Ok(()) => expand_fn(&options, function),
        Err(err) => fallback::coroutine(err, function, &options.krate),
    }
}

fn expand_fn(options: &CoroutineOptions, function: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    let (outer_attrs, inner_attrs) = closure::split_attrs(attrs);
    let krate = &options.krate;
    // `stack_size` is bound to a `usize` before the call, so that a wrong type is reported on
    // the user's expression rather than on an argument of `__private::coroutine`.
    let stack_size_var = format_ident!("__corona_stack_size", span = Span::mixed_site());
    // The type by absolute path, as everything generated: a user's `struct usize;` in scope
    // must not change it. Spanned with the expression, so that rustc does not point at the
    // attribute as the reason for the type.
    let stack_size = match &options.stack_size {
        Some(expr) => quote_spanned! {expr.span()=>
            let #stack_size_var: ::core::primitive::usize = #expr;
        },
        None => quote! {
            let #stack_size_var: ::core::primitive::usize =
                #krate::__private::DEFAULT_STACK_SIZE;
        },
    };

    // Every argument moves into the coroutine: arguments become plain idents in the
    // signature, and their patterns are bound again inside the body.
    let read_at_call = options
        .stack_size
        .as_ref()
        .map(validate::names_read)
        .unwrap_or_default();
    let rebind: Vec<TokenStream> = sig
        .inputs
        .iter_mut()
        .enumerate()
        .map(|(index, arg)| move_in(index, arg, &read_at_call))
        .collect();

    let output = closure::declared_output(&sig.output);
    let closure_output = closure::return_type(&sig.output);
    let output_span = match &sig.output {
        ReturnType::Default => sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    sig.output = syn::parse_quote_spanned!(output_span=> -> #krate::Coroutine<#output>);
    let stmts = &block.stmts;
    let body = quote_spanned! {block.brace_token.span.join()=>
        #stack_size
        #krate::__private::coroutine(#stack_size_var, move || -> #closure_output {
            #(#rebind)*
            #(#stmts)*
        })
    };
    quote! {
        #(#outer_attrs)*
        #vis #sig {
            #(#inner_attrs)*
            #body
        }
    }
}

/// The statements that move argument `index` into the closure, and the argument as the
/// signature now declares it.
///
/// A closure captures only the places its body reads (edition 2021), and a pattern reads only
/// what it binds: `let (kept, _) = arg;` alone would capture `arg.0` and leave `arg.1` to be
/// dropped when the call returns. So a pattern is first given the whole value, named by a
/// fresh variable that the closure captures entire:
///
/// Input: `fn f(x: T, (kept, _): (A, B))`
///
/// Output: `fn f(x: T, __corona_arg1: (A, B))`, and in the closure
/// `let x = x; let __corona_arg1 = __corona_arg1; let (kept, _) = __corona_arg1;`
///
/// An argument that `stack_size` reads (a name in `read_at_call`) is used, as in a plain fn,
/// even if the body does not name it: its `let` allows `unused_variables`.
fn move_in(index: usize, arg: &mut FnArg, read_at_call: &[&Ident]) -> TokenStream {
    let typed = match arg {
        FnArg::Receiver(receiver) => {
            let self_token = &receiver.self_token;
            // `&self` names the whole of `self`, so the closure captures all of it.
            return quote!(let _ = &#self_token;);
        }
        FnArg::Typed(typed) => typed,
    };
    // The argument's attributes that concern the `let`s as well: a `cfg` that removes the
    // argument removes them too, and a lint level reaches the binding the body uses.
    let cfgs: Vec<&Attribute> = typed.attrs.iter().filter(|a| is_cfg(a)).collect();
    let levels: Vec<&Attribute> = typed.attrs.iter().filter(|a| is_lint_level(a)).collect();
    let pat = typed.pat.clone();
    let (ident, moves) = match kept_name(&pat) {
        // A plain name binds the whole value: `let x = x;` moves all of it.
        Some(ident) => {
            let used = read_at_call
                .contains(&ident)
                .then(|| quote!(#[allow(unused_variables)]));
            let moves = quote!(#(#cfgs)* #(#levels)* #used let #pat = #ident;);
            (ident.clone(), moves)
        }
        None => {
            // Mixed-site hygiene: the user's code cannot name it, nor clash with it; located
            // at the pattern, so that what rustc says about the argument points there.
            let span = Span::mixed_site().located_at(pat.span());
            let var = format_ident!("__corona_arg{}", index, span = span);
            // `ref mut x` borrows the value mutably, so its variable must be `mut`; only
            // then, or `unused_mut` would fire on tokens the user never wrote.
            let mutability = binds_by_ref_mut(&pat).then(|| quote!(mut));
            let moves = quote! {
                #(#cfgs)* let #mutability #var = #var;
                #(#cfgs)* #(#levels)* let #pat = #var;
            };
            (var, moves)
        }
    };
    // The argument itself is only moved into the closure, so a lint it expects fires on the
    // `let` alone; an `expect` left on both would go unfulfilled on the argument. There it
    // becomes an `allow` of the same lints.
    for attr in &mut typed.attrs {
        if let Meta::List(list) = &mut attr.meta {
            if list.path.is_ident("expect") {
                list.path = Ident::new("allow", list.path.span()).into();
            }
        }
    }
    *typed.pat = Pat::Ident(PatIdent {
        attrs: Vec::new(),
        by_ref: None,
        mutability: None,
        ident,
        subpat: None,
    });
    moves
}

/// `#[cfg(..)]` or `#[cfg_attr(..)]`.
fn is_cfg(attr: &Attribute) -> bool {
    attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr")
}

/// A lint level: `#[allow(..)]`, `#[warn(..)]`, `#[deny(..)]`, `#[forbid(..)]`,
/// `#[expect(..)]`.
fn is_lint_level(attr: &Attribute) -> bool {
    ["allow", "warn", "deny", "forbid", "expect"]
        .iter()
        .any(|level| attr.path().is_ident(level))
}

/// Whether a pattern has a `ref mut` binding anywhere in it.
fn binds_by_ref_mut(pat: &Pat) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_pat_ident(&mut self, pat: &'ast PatIdent) {
            self.0 |= pat.by_ref.is_some() && pat.mutability.is_some();
            syn::visit::visit_pat_ident(self, pat);
        }
    }
    let mut finder = Finder(false);
    finder.visit_pat(pat);
    finder.0
}
