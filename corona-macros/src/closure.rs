//! What `coroutine` and `entry` share: both move a function's body into a closure, inside a
//! new body of their own.

use syn::{AttrStyle, Attribute};

/// The function's attributes split into outer ones (`#[..]` before the `fn`) and inner ones
/// (`#![..]` and `//!` written at the top of the body). syn keeps both in `ItemFn::attrs`;
/// inner ones printed before the `fn` are an error, so the expansion prints them at the top
/// of the new body, where they apply to the whole function as the user wrote.
pub fn split_attrs(attrs: Vec<Attribute>) -> (Vec<Attribute>, Vec<Attribute>) {
    attrs
        .into_iter()
        .partition(|attr| matches!(attr.style, AttrStyle::Outer))
}
