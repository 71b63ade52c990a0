//! What `coroutine` and `entry` share: both move a function's body into a closure, inside a
//! new body of their own (and, with `fallback`, read the declared return type).

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::visit_mut::VisitMut;
use syn::{AttrStyle, Attribute, ReturnType, Token, Type, TypeInfer};

/// The function's attributes split into outer ones (`#[..]` before the `fn`) and inner ones
/// (`#![..]` and `//!` written at the top of the body). syn keeps both in `ItemFn::attrs`;
/// inner ones printed before the `fn` are an error, so the expansion prints them at the top
/// of the new body, where they apply to the whole function as the user wrote.
pub fn split_attrs(attrs: Vec<Attribute>) -> (Vec<Attribute>, Vec<Attribute>) {
    attrs
        .into_iter()
        .partition(|attr| matches!(attr.style, AttrStyle::Outer))
}

/// The type a function returns: the one it declares, `()` when it declares none.
pub fn declared_output(output: &ReturnType) -> TokenStream {
    match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    }
}

/// The return type to annotate the closure with: the function's ([`declared_output`]),
/// with each `impl Trait` in it written `_`.
///
/// A closure cannot be annotated `-> impl Trait` (E0562). With `_` rustc infers that part
/// from the body, and the concrete type it finds is the one the function's
/// `Coroutine<impl Trait>` (or `impl Trait`) stands for, as in a plain fn. The rest of the
/// annotation stays, so that `?` and `return` in the body still know their type.
///
/// Input: `-> Result<impl Iterator<Item = u32>, Error>`
///
/// Output: `Result<_, Error>`
pub fn return_type(output: &ReturnType) -> TokenStream {
    struct Infer;
    impl VisitMut for Infer {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            match ty {
                Type::ImplTrait(impl_trait) => {
                    let span = impl_trait.impl_token.span;
                    *ty = Type::Infer(TypeInfer {
                        underscore_token: Token![_](span),
                    });
                }
                _ => syn::visit_mut::visit_type_mut(self, ty),
            }
        }
    }
    let mut output = output.clone();
    Infer.visit_return_type_mut(&mut output);
    declared_output(&output)
}
