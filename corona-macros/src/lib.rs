//! Procedural macros of the `corona` crate (this workspace's `corona/`). Use them through it:
//! `#[corona::coroutine]`, `#[corona::main]`, `#[corona::test]`.
//!
//! Layout, as in async-trait and thiserror: parse → validate → expand, with a fallback.
//! `options` parses the attribute's arguments; `validate` says what a coroutine cannot be;
//! `coroutine` and `entry` expand the item (what they share is in `closure`); on an error,
//! `fallback` emits a harmless stand-in for the item beside it (for a coroutine, the
//! signature its callers expect), so that the user sees one message and not a cascade.
//! Every error is a `syn::Error` on the offending tokens.

mod argument;
mod closure;
mod coroutine;
mod entry;
mod fallback;
mod options;
mod validate;

use proc_macro::TokenStream;

/// See `corona::coroutine`.
#[proc_macro_attribute]
pub fn coroutine(args: TokenStream, item: TokenStream) -> TokenStream {
    coroutine::expand(args.into(), item.into()).into()
}

/// See `corona::main`.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Entry::Main, args.into(), item.into()).into()
}

/// See `corona::test`.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Entry::Test, args.into(), item.into()).into()
}
