//! The arguments of `#[corona::coroutine(...)]` and `#[corona::main(...)]`.

use syn::meta::ParseNestedMeta;
use syn::parse::{Parse, Parser};
use syn::{parse_quote, Expr, LitStr, Path};

/// `#[corona::coroutine(stack_size = EXPR, crate = path)]`; `crate = "path"` too.
pub struct CoroutineOptions {
    /// `stack_size = EXPR`: an expression of type `usize`.
    pub stack_size: Option<Expr>,
    /// `crate = path` or `crate = "path"`: where the `corona` crate is; `::corona` by default.
    pub krate: Path,
}

impl CoroutineOptions {
    /// Parses the attribute's arguments; each problem is an error on its own tokens.
    pub fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        let mut stack_size = None;
        let mut krate = None;
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("stack_size") {
                set_once(&meta, &mut stack_size, |m| m.value()?.parse::<Expr>())
            } else if meta.path.is_ident("crate") {
                set_once(&meta, &mut krate, crate_path)
            } else {
                Err(meta.error(format_args!(
                    "unknown option `{}` of #[corona::coroutine]; the options are \
                     `stack_size = <bytes>` and `crate = <path>`",
                    path_text(&meta.path)
                )))
            }
        });
        parser.parse2(input.parse()?)?;
        Ok(CoroutineOptions {
            stack_size,
            krate: krate.unwrap_or_else(Self::default_crate),
        })
    }

    /// `::corona`, where the crate is unless `crate = path` says otherwise.
    pub fn default_crate() -> Path {
        parse_quote!(::corona)
    }
}

/// Parses `name = value` into `slot`, refusing a second occurrence of the same name.
pub fn set_once<T>(
    meta: &ParseNestedMeta,
    slot: &mut Option<T>,
    value: impl FnOnce(&ParseNestedMeta) -> syn::Result<T>,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format_args!(
            "option `{}` is given twice",
            path_text(&meta.path)
        )));
    }
    if !meta.input.peek(syn::Token![=]) {
        return Err(meta.error(format_args!(
            "option `{0}` needs a value: `{0} = ...`",
            path_text(&meta.path)
        )));
    }
    *slot = Some(value(meta)?);
    Ok(())
}

/// The value of `crate = ..`: a path, or a string holding one as tokio and serde spell it
/// (`crate = "my_corona"`), so that neither spelling is a surprise. The path parsed from a
/// string is spanned at the string, where rustc then reports a path that does not resolve.
fn crate_path(meta: &ParseNestedMeta) -> syn::Result<Path> {
    let value = meta.value()?;
    if !value.peek(LitStr) {
        return value.parse::<Path>().map_err(|err| {
            syn::Error::new(
                err.span(),
                "`crate` takes the path where corona is: `crate = my_corona` or `crate = \"my_corona\"`",
            )
        });
    }
    let text = value.parse::<LitStr>()?;
    text.parse::<Path>().map_err(|_| {
        let hint = if text.value().contains('-') {
            " (a crate's name in Rust code has `_` where its package name has `-`)"
        } else {
            ""
        };
        syn::Error::new_spanned(
            &text,
            format_args!(
                "`crate = {}` does not hold a path: write where corona is, such as \
                 `crate = \"my_corona\"` or `crate = my_corona`{hint}",
                text.token()
            ),
        )
    })
}

fn path_text(path: &Path) -> String {
    quote::ToTokens::to_token_stream(path)
        .to_string()
        .replace(' ', "")
}

/// `#[corona::main]` / `#[corona::test]` take only `crate = path` (or `crate = "path"`).
pub struct EntryOptions {
    pub krate: Path,
}

impl Parse for EntryOptions {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        let mut krate = None;
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("crate") {
                set_once(&meta, &mut krate, crate_path)
            } else {
                Err(meta.error(format_args!(
                    "unknown option `{}`; the only option here is `crate = <path>`",
                    path_text(&meta.path)
                )))
            }
        });
        parser.parse2(input.parse()?)?;
        Ok(EntryOptions {
            krate: krate.unwrap_or_else(|| parse_quote!(::corona)),
        })
    }
}
