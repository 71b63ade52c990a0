//! `#[corona::coroutine]`: check the function, then move its body into a coroutine.
//!
//! Input:
//!
//! ```text
//! /// Docs.
//! pub fn fetch<T: Key>(key: T, mut retries: u32) -> Result<Value, Error> { body }
//! ```
//!
//! Output:
//!
//! ```text
//! /// Docs.
//! pub fn fetch<T: Key>(key: T, retries: u32) -> ::corona::Coroutine<Result<Value, Error>> {
//!     ::corona::__private::coroutine(::corona::__private::DEFAULT_STACK_SIZE,
//!         move || -> Result<Value, Error> {
//!             let key = key;           // every argument moves in, used or not
//!             let mut retries = retries;
//!             body
//!         })
//! }
//! ```

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{FnArg, Item, ItemFn, Pat, PatIdent, ReturnType, Signature, Type};

use crate::options::CoroutineOptions;

pub fn expand(options: CoroutineOptions, item: TokenStream) -> TokenStream {
    match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => match check(&function.sig) {
            Ok(()) => expand_fn(&options, function),
            Err(err) => with_item(err, item),
        },
        Err(parse_err) => with_item(not_a_fn(item.clone()).unwrap_or(parse_err), item),
    }
}

/// The error beside the unchanged item, so that the user sees this one message and not
/// others about the item.
pub fn with_item(err: syn::Error, item: TokenStream) -> TokenStream {
    let err = err.to_compile_error();
    quote!(#err #item)
}

/// The error for an attribute on something other than a function with a body.
pub fn not_a_fn(item: TokenStream) -> Option<syn::Error> {
    let item = syn::parse2::<Item>(item).ok()?;
    let (what, tokens) = match &item {
        Item::Struct(s) => ("a struct", pair(&s.struct_token, &s.ident)),
        Item::Enum(e) => ("an enum", pair(&e.enum_token, &e.ident)),
        Item::Impl(i) => ("an impl block", i.impl_token.to_token_stream()),
        Item::Trait(t) => ("a trait", pair(&t.trait_token, &t.ident)),
        Item::Mod(m) => ("a module", pair(&m.mod_token, &m.ident)),
        Item::Static(s) => ("a static", pair(&s.static_token, &s.ident)),
        Item::Const(c) => ("a const", pair(&c.const_token, &c.ident)),
        Item::Type(t) => ("a type alias", pair(&t.type_token, &t.ident)),
        Item::Use(u) => ("a use declaration", u.use_token.to_token_stream()),
        _ => ("this item", item.to_token_stream()),
    };
    Some(syn::Error::new_spanned(
        tokens,
        format_args!(
            "#[corona::coroutine] goes on a function with a body, not on {what}; put it on \
             each fn (or method) whose call should return a corona::Coroutine"
        ),
    ))
}

/// Rejects what a coroutine cannot be: async, const, extern, variadic, borrowing.
fn check(sig: &Signature) -> syn::Result<()> {
    if let Some(asyncness) = &sig.asyncness {
        return Err(syn::Error::new_spanned(
            asyncness,
            "#[corona::coroutine] goes on a plain `fn`, not an `async fn`: the coroutine is \
             already the future, and its body waits with co_await!(..). Remove `async` and \
             write co_await!(fut) where you wrote fut.await",
        ));
    }
    if let Some(constness) = &sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            "a `const fn` cannot be a coroutine: remove `const`",
        ));
    }
    if let Some(abi) = &sig.abi {
        return Err(syn::Error::new_spanned(
            abi,
            "an `extern` fn cannot be a coroutine: a coroutine returns a Rust future. Remove \
             the ABI, or call the coroutine from a separate extern fn",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new_spanned(
            variadic,
            "a variadic fn cannot be a coroutine: take a slice or a Vec instead",
        ));
    }
    if let Some(lifetime) = sig.generics.lifetimes().next() {
        return Err(syn::Error::new_spanned(
            lifetime,
            format_args!(
                "a coroutine cannot have lifetime parameters such as `{}`: its body runs \
                 after the call returns, so it must own ('static) everything it uses. Take \
                 owned arguments instead",
                lifetime.lifetime
            ),
        ));
    }
    for arg in &sig.inputs {
        check_arg(arg)?;
    }
    Ok(())
}

fn check_arg(arg: &FnArg) -> syn::Result<()> {
    match arg {
        FnArg::Receiver(receiver) if receiver.reference.is_some() || borrows(&receiver.ty) => {
            let shown = compact(receiver);
            Err(syn::Error::new_spanned(
                receiver,
                format_args!(
                    "a coroutine cannot take `{shown}`: its body runs after the call returns \
                     (when the coroutine is polled), so it must own ('static) what it uses, \
                     and a borrow of self could end first. Take `self`, `self: Rc<Self>` or \
                     `self: Box<Self>` instead"
                ),
            ))
        }
        FnArg::Receiver(_) => Ok(()),
        FnArg::Typed(typed) if borrows(&typed.ty) => {
            let name = compact(&typed.pat);
            let ty = compact(&typed.ty);
            Err(syn::Error::new_spanned(
                &typed.ty,
                format_args!(
                    "argument `{name}` of a coroutine borrows (`{ty}`): the body runs after \
                     the call returns (when the coroutine is polled), so it must own \
                     ('static) what it uses. Take an owned type instead (String for &str, \
                     Vec<T> for &[T], Arc<T> or Rc<T> to share)"
                ),
            ))
        }
        FnArg::Typed(_) => Ok(()),
    }
}

/// Whether a type holds a borrow or a named lifetime other than `'static`. Lifetimes inside
/// `fn(..)` pointers and `Fn(..)` sugar are higher-ranked and do not count.
fn borrows(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
            match &r.lifetime {
                Some(l) if l.ident == "static" => syn::visit::visit_type(self, &r.elem),
                _ => self.0 = true,
            }
        }
        fn visit_lifetime(&mut self, l: &'ast syn::Lifetime) {
            if l.ident != "static" {
                self.0 = true;
            }
        }
        fn visit_type_bare_fn(&mut self, _: &'ast syn::TypeBareFn) {}
        fn visit_parenthesized_generic_arguments(
            &mut self,
            _: &'ast syn::ParenthesizedGenericArguments,
        ) {
        }
    }
    let mut finder = Finder(false);
    finder.visit_type(ty);
    finder.0
}

fn expand_fn(options: &CoroutineOptions, function: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    let krate = &options.krate;
    let stack_size = match &options.stack_size {
        Some(expr) => quote_spanned!(expr.span()=> #expr),
        None => quote!(#krate::__private::DEFAULT_STACK_SIZE),
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
        #krate::__private::coroutine(#stack_size, move || -> #output {
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

/// The tokens `a b`, for an error that spans both.
fn pair(a: &impl ToTokens, b: &impl ToTokens) -> TokenStream {
    quote!(#a #b)
}

/// Tokens as a user would write them: `Parser<'_>`, not `Parser < '_ >`.
fn compact(tokens: &impl ToTokens) -> String {
    let text = tokens.to_token_stream().to_string();
    [
        ("& ", "&"),
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        (" :: ", "::"),
    ]
    .iter()
    .fold(text, |text, (from, to)| text.replace(from, to))
}
