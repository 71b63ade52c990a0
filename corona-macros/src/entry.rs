//! `#[corona::main]` and `#[corona::test]`: run the body as a coroutine in `corona::run`.
//!
//! Input:
//!
//! ```text
//! #[corona::test]
//! fn echoes() -> io::Result<()> { body }
//! ```
//!
//! Output:
//!
//! ```text
//! #[::core::prelude::v1::test]
//! fn echoes() -> io::Result<()> {
//!     ::corona::__private::run(move || -> io::Result<()> { body })
//! }
//! ```

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::ItemFn;

use crate::closure;
use crate::fallback::{self, with_item};
use crate::options::EntryOptions;
use crate::validate::not_a_fn;

#[derive(Clone, Copy)]
pub enum Entry {
    Main,
    Test,
}

impl Entry {
    fn name(self) -> &'static str {
        match self {
            Entry::Main => "#[corona::main]",
            Entry::Test => "#[corona::test]",
        }
    }
}

pub fn expand(entry: Entry, args: TokenStream, item: TokenStream) -> TokenStream {
    let options = match syn::parse2::<EntryOptions>(args) {
        Ok(options) => options,
        Err(err) => return with_item(err, item),
    };
    let function = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => function,
        Err(parse_err) => {
            let err = not_a_fn(item.clone()).map_or(parse_err, |err| {
                syn::Error::new(
                    err.span(),
                    format_args!("{} goes on a function with a body", entry.name()),
                )
            });
            return with_item(err, item);
        }
    };
    match check(entry, &function) {
        Ok(()) => expand_fn(entry, &options, function),
        Err(err) => fallback::entry(err, function),
    }
}

fn check(entry: Entry, function: &ItemFn) -> syn::Result<()> {
    let sig = &function.sig;
    let name = entry.name();
    if let Some(asyncness) = &sig.asyncness {
        return Err(syn::Error::new_spanned(
            asyncness,
            format_args!(
                "{name} runs a plain `fn` as a coroutine: remove `async` and write \
                 co_await!(fut) where you wrote fut.await"
            ),
        ));
    }
    if !sig.inputs.is_empty() {
        let what = match entry {
            Entry::Main => {
                "`fn main` takes no arguments: remove them and read std::env::args() for the \
                 command line"
            }
            Entry::Test => {
                "a #[corona::test] function takes no arguments: remove them and build its \
                 inputs in the body"
            }
        };
        return Err(syn::Error::new_spanned(&sig.inputs, what));
    }
    if let Some(param) = sig.generics.params.first() {
        return Err(syn::Error::new_spanned(
            param,
            format_args!("{name} cannot be generic: remove the generic parameters"),
        ));
    }
    // Only a `#[test]` below the macro reaches it: one above has already been expanded, and
    // leaves no trace in the item the macro receives. That order registers the test twice,
    // which nothing here can see (the docs say so).
    if let Entry::Test = entry {
        if let Some(attr) = function.attrs.iter().find(|a| a.path().is_ident("test")) {
            return Err(syn::Error::new_spanned(
                attr,
                "#[corona::test] already registers the test: remove this #[test], or it runs \
                 twice",
            ));
        }
    }
    Ok(())
}

fn expand_fn(entry: Entry, options: &EntryOptions, function: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    let (outer_attrs, inner_attrs) = closure::split_attrs(attrs);
    let krate = &options.krate;
    let output = closure::return_type(&sig.output);
    let test_attr = match entry {
        Entry::Main => quote!(),
        Entry::Test => quote!(#[::core::prelude::v1::test]),
    };
    let stmts = &block.stmts;
    let body = quote_spanned! {block.span()=>
        #krate::__private::run(move || -> #output { #(#stmts)* })
    };
    quote! {
        #test_attr
        #(#outer_attrs)*
        #vis #sig {
            #(#inner_attrs)*
            #body
        }
    }
}
