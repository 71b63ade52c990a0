//! What a coroutine cannot be, each reported as a `syn::Error` on the tokens at fault.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::visit::Visit;
use syn::{
    Expr, ExprPath, FnArg, GenericParam, Generics, Item, Pat, PatIdent, PatType, ReturnType,
    Signature, Type, TypeParamBound, WherePredicate,
};

use crate::argument::kept_name;

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

/// Rejects what a coroutine cannot be: async, const, extern, variadic, borrowing, generic
/// over a type that is not `'static`, or returning `!`.
pub fn check(sig: &Signature) -> syn::Result<()> {
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
    check_type_params(&sig.generics)?;
    for arg in &sig.inputs {
        check_arg(arg)?;
    }
    check_output(&sig.output)
}

/// The return type can stand in `Coroutine<T>`: not `!`, which stable Rust refuses as a type
/// argument (rustc would say "the `!` type is experimental", about a type the user wrote
/// where it is allowed).
fn check_output(output: &ReturnType) -> syn::Result<()> {
    match output {
        ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => Err(syn::Error::new_spanned(
            ty,
            "a coroutine cannot return `!`: its call returns a Coroutine<T>, and stable Rust \
             does not take `!` as T. Return std::convert::Infallible instead; a body that \
             never returns still type-checks",
        )),
        _ => Ok(()),
    }
}

/// `stack_size` reads no name that an argument's pattern binds.
///
/// The expression is evaluated when the function is called, to size the stack before the
/// body runs. It can read an argument that the signature names (`stack_size = kib * 1024`
/// with `kib: usize`), but a pattern (`(kib, _): (usize, Tag)`) is destructured inside the
/// coroutine, when the body starts: at the call its names do not exist, and rustc would only
/// say that it cannot find them.
pub fn stack_size(expr: Option<&Expr>, sig: &Signature) -> syn::Result<()> {
    let Some(expr) = expr else {
        return Ok(());
    };
    let destructured: Vec<&PatType> = sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(typed) if kept_name(&typed.pat).is_none() => Some(typed),
            _ => None,
        })
        .collect();
    for name in names_read(expr) {
        let binder = destructured
            .iter()
            .find(|typed| bindings(&typed.pat).contains(&name));
        if let Some(typed) = binder {
            return Err(bound_in_body(name, typed));
        }
    }
    Ok(())
}

/// The error for `stack_size` reading `name`, which the pattern of `arg` binds in the body.
fn bound_in_body(name: &syn::Ident, arg: &PatType) -> syn::Error {
    let ty = compact(&arg.ty);
    let lone_name = matches!(&*arg.pat, Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none());
    let message = if lone_name {
        // Taken for a possible unit struct or constant (see `kept_name`).
        let lower = name.to_string().to_lowercase();
        format!(
            "`stack_size` cannot read `{name}`: an argument whose name starts with an \
             uppercase letter may be a unit struct or a constant, so it is matched only when \
             the body starts, after the stack is sized. Name it in snake_case (`{lower}: {ty}`)"
        )
    } else {
        format!(
            "`stack_size` cannot read `{name}`: the stack is sized when the function is \
             called, before the body runs, and the argument pattern `{pat}` binds `{name}` \
             only when the body starts. Give that argument a plain name (`name: {ty}`) and \
             read the size from it",
            pat = compact(&arg.pat),
        )
    };
    syn::Error::new_spanned(name, message)
}

/// The names a pattern binds.
fn bindings(pat: &Pat) -> Vec<&syn::Ident> {
    struct Finder<'ast>(Vec<&'ast syn::Ident>);
    impl<'ast> Visit<'ast> for Finder<'ast> {
        fn visit_pat_ident(&mut self, pat: &'ast PatIdent) {
            self.0.push(&pat.ident);
            syn::visit::visit_pat_ident(self, pat);
        }
    }
    let mut finder = Finder(Vec::new());
    finder.visit_pat(pat);
    finder.0
}

/// The lone names an expression reads, in order (`a` and `b` in `a + b.len() + c::D`): the
/// ones that may be local variables.
pub fn names_read(expr: &Expr) -> Vec<&syn::Ident> {
    struct Finder<'ast>(Vec<&'ast syn::Ident>);
    impl<'ast> Visit<'ast> for Finder<'ast> {
        fn visit_expr_path(&mut self, path: &'ast ExprPath) {
            if path.qself.is_none() {
                self.0.extend(path.path.get_ident());
            }
        }
    }
    let mut finder = Finder(Vec::new());
    finder.visit_expr(expr);
    finder.0
}

/// Every type parameter says `'static` itself. The body moves its arguments into a
/// `'static` closure, so a `T` that may borrow fails there anyway, but rustc reports that on
/// the attribute; this reports it on the parameter. A bound that implies `'static` (such as
/// `T: Any`) is not seen through: the rule is the one a reader can check by eye.
fn check_type_params(generics: &Generics) -> syn::Result<()> {
    for param in &generics.params {
        let GenericParam::Type(param) = param else {
            continue;
        };
        let in_where_clause = generics
            .where_clause
            .iter()
            .flat_map(|clause| &clause.predicates)
            .filter_map(|predicate| match predicate {
                WherePredicate::Type(p) if is_param(&p.bounded_ty, &param.ident) => Some(&p.bounds),
                _ => None,
            })
            .flatten();
        if !param.bounds.iter().chain(in_where_clause).any(is_static) {
            let name = &param.ident;
            let bounds = compact(&param.bounds);
            let suggestion = if bounds.is_empty() {
                format!("{name}: 'static")
            } else {
                format!("{name}: {bounds} + 'static")
            };
            return Err(syn::Error::new_spanned(
                param,
                format_args!(
                    "type parameter `{name}` of a coroutine needs a `'static` bound: the body \
                     runs after the call returns (when the coroutine is polled), so a `{name}` \
                     that borrows could dangle. Write `{suggestion}`"
                ),
            ));
        }
    }
    Ok(())
}

fn is_param(ty: &Type, ident: &syn::Ident) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident(ident))
}

fn is_static(bound: &TypeParamBound) -> bool {
    matches!(bound, TypeParamBound::Lifetime(l) if l.ident == "static")
}

fn check_arg(arg: &FnArg) -> syn::Result<()> {
    match arg {
        // `ty` is the whole type of `self`, `&'a Self` for `&'a self`: a `'static` borrow
        // passes, as it does in `self: &'static Self`.
        FnArg::Receiver(receiver) if borrows(&receiver.ty) => {
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
        FnArg::Typed(typed) => match &*typed.ty {
            Type::ImplTrait(impl_trait) if !impl_trait.bounds.iter().any(is_static) => {
                let name = compact(&typed.pat);
                let ty = compact(impl_trait);
                Err(syn::Error::new_spanned(
                    impl_trait,
                    format_args!(
                        "argument `{name}` of a coroutine needs a `'static` bound: the body \
                         runs after the call returns (when the coroutine is polled), so a \
                         value that borrows could dangle. Write `{ty} + 'static`"
                    ),
                ))
            }
            _ => Ok(()),
        },
    }
}

/// Whether a type holds a borrow or a named lifetime other than `'static`. Lifetimes inside
/// `fn(..)` pointers and `Fn(..)` sugar are higher-ranked and do not count, nor do those a
/// `for<'a>` declares (`dyn for<'a> Fn(&'a str) -> &'a str`, `impl for<'de> Deserialize<'de>`):
/// they stand for every lifetime, so the value itself borrows nothing.
fn borrows(ty: &Type) -> bool {
    struct Finder<'ast> {
        found: bool,
        /// The lifetimes declared by the `for<..>`s around the current node.
        higher_ranked: Vec<&'ast syn::Lifetime>,
    }
    impl<'ast> Finder<'ast> {
        fn is_owned(&self, l: &syn::Lifetime) -> bool {
            l.ident == "static" || self.higher_ranked.iter().any(|hr| hr.ident == l.ident)
        }
    }
    impl<'ast> Visit<'ast> for Finder<'ast> {
        fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
            match &r.lifetime {
                Some(l) if self.is_owned(l) => syn::visit::visit_type(self, &r.elem),
                _ => self.found = true,
            }
        }
        fn visit_lifetime(&mut self, l: &'ast syn::Lifetime) {
            if !self.is_owned(l) {
                self.found = true;
            }
        }
        fn visit_trait_bound(&mut self, bound: &'ast syn::TraitBound) {
            // `for<'a> Trait<'a>`: the declarations are not uses, and they scope the path.
            let declared = bound.lifetimes.iter().flat_map(|hr| hr.lifetimes.iter());
            let before = self.higher_ranked.len();
            for param in declared {
                if let GenericParam::Lifetime(param) = param {
                    self.higher_ranked.push(&param.lifetime);
                }
            }
            self.visit_path(&bound.path);
            self.higher_ranked.truncate(before);
        }
        fn visit_type_bare_fn(&mut self, _: &'ast syn::TypeBareFn) {}
        fn visit_parenthesized_generic_arguments(
            &mut self,
            _: &'ast syn::ParenthesizedGenericArguments,
        ) {
        }
    }
    let mut finder = Finder {
        found: false,
        higher_ranked: Vec::new(),
    };
    finder.visit_type(ty);
    finder.found
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
