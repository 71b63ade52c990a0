//! Procedural macros of [corona](https://docs.rs/corona). Use them through `corona`:
//! `#[corona::coroutine]`, `#[corona::main]`, `#[corona::test]`.
//!
//! Layout: `options` parses the attribute's arguments, `coroutine` and `entry` check
//! the item and expand it. Every error is a `syn::Error` on the offending tokens; on error
//! the item is emitted unchanged beside it so that the user sees one message, not a cascade.

mod coroutine;
mod entry;
mod options;

use proc_macro::TokenStream;
use syn::parse_macro_input;

/// See `corona::coroutine`.
#[proc_macro_attribute]
pub fn coroutine(args: TokenStream, item: TokenStream) -> TokenStream {
    let options = parse_macro_input!(args with options::CoroutineOptions::parse);
    coroutine::expand(options, item.into()).into()
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
