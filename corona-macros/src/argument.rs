//! How an argument's pattern reads to the macros, before rustc resolves any name: what
//! `coroutine` keeps in the signature, and what `validate` checks `stack_size` against.

use proc_macro2::Ident;
use syn::ext::IdentExt;
use syn::{Pat, PatIdent};

/// The name an argument keeps in the signature: its pattern, when that is a plain binding of
/// the whole value (`x`, `mut x`); otherwise `None`, and the argument gets a hidden name.
///
/// A lone name that starts with an uppercase letter is not taken for a binding: in a pattern
/// it may name a unit struct or a constant (`fn f(Unit: Unit)`), which rustc tells apart only
/// when it resolves names, after the macro ran. Such a pattern binds nothing, so
/// `let Unit = Unit;` would build a second value and leave the argument behind. Matched
/// against the argument's hidden name instead, the pattern is right in both readings.
pub fn kept_name(pat: &Pat) -> Option<&Ident> {
    match pat {
        Pat::Ident(PatIdent {
            by_ref: None,
            subpat: None,
            mutability,
            ident,
            ..
        }) if mutability.is_some() || !starts_uppercase(ident) => Some(ident),
        _ => None,
    }
}

fn starts_uppercase(ident: &Ident) -> bool {
    ident.unraw().to_string().starts_with(char::is_uppercase)
}
