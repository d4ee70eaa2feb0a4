//! #18 semver guard: the public API of the `imageshare` facade, listed from the source and
//! compared with the hand-kept list `tests/public_api.txt`, so that any change to what users
//! can name (an item added, removed or renamed, a signature, a public field, a variant, a
//! trait implemented, `#[non_exhaustive]` put on or taken off) is a visible diff in review.
//!
//! The list is extracted with `syn` (rustdoc's JSON output needs a nightly toolchain): from
//! the facade's `src/lib.rs`, every `pub` item of every `pub` module, following the crates
//! the facade re-exports whole (`pub use imageshare_alibaba as unstable` lists that crate
//! under `imageshare::alibaba::unstable`) and the core modules it re-exports at its root
//! (`pub use imageshare_core::bulk` lists that module under `imageshare::bulk`), with each
//! function's signature, each public field and variant, each trait's items, each
//! re-export's target, and the methods and trait implementations of every `impl` block
//! (private modules included: a public type's methods may be written there). Items behind
//! `#[cfg(test)]` or `#[doc(hidden)]` are not public API; a cargo feature gate is written on
//! the line (`[cfg(feature = "manifest")]`).
//!
//! The whole core crate is re-exported too, `#[doc(hidden)]` (`imageshare::core`, for
//! imageshare's own crates; not a stable API). It is listed in a separate part at the end of
//! the file, under `imageshare::core`: that part holds the definitions of the items the root
//! re-exports from the core (`use imageshare::Error = imageshare_core::Error` above; the
//! variants of `imageshare::core::error::Error` below), so a change there to an item the
//! root re-exports is a change to the stable API, and any change is a diff either way.
//!
//! After an intended change, regenerate the list and commit it with the change:
//!
//! ```text
//! IMAGESHARE_BLESS=1 cargo test -p imageshare-tests --test public_api
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::{Attribute, Fields, ImplItem, Item, TraitItem, UseTree, Visibility};

/// The crates the facade may re-export whole, and where their sources are.
const CRATES: &[(&str, &str)] = &[
    ("imageshare_core", "crates/imageshare-core/src/lib.rs"),
    ("imageshare_alibaba", "crates/imageshare-alibaba/src/lib.rs"),
    ("imageshare_tencent", "crates/imageshare-tencent/src/lib.rs"),
    ("imageshare_ucloud", "crates/imageshare-ucloud/src/lib.rs"),
    (
        "imageshare_emulator",
        "crates/imageshare-emulator/src/lib.rs",
    ),
];

const LIST: &str = "tests/public_api.txt";

/// The crate whose modules re-exported by the facade are walked under their facade path
/// (`imageshare::bulk`): the core, itself re-exported whole only `#[doc(hidden)]`. The
/// provider crates are walked whole under their public `unstable` module instead.
const MODULES_OF: &str = "imageshare_core";

/// The line that starts the hidden part of the list.
const HIDDEN_PART: &str =
    "# ---- hidden, not a stable API: `imageshare::core`, the whole core crate \
                           (#[doc(hidden)], for imageshare's own crates) ----";

struct Walker {
    lines: BTreeSet<String>,
    /// The lines of the crates re-exported whole `#[doc(hidden)]` (`imageshare::core`).
    hidden: BTreeSet<String>,
    /// Whether the walk is in such a crate.
    in_hidden: bool,
    crates_walked: BTreeSet<String>,
    /// The path of the crate being walked (`imageshare::core`): where its exported macros are.
    root: String,
}

/// Tokens as text, without doc comments.
fn text(tokens: impl ToTokens) -> String {
    tokens.to_token_stream().to_string()
}

fn is_pub(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

fn hidden_or_test(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        let t = text(a);
        t.starts_with("# [cfg (test)]") || t == "# [doc (hidden)]"
    })
}

/// The feature gates and `#[non_exhaustive]` of an item, as a suffix.
fn marks(attrs: &[Attribute]) -> String {
    let mut out = String::new();
    for a in attrs {
        let p = a.path();
        if p.is_ident("cfg") || p.is_ident("non_exhaustive") || p.is_ident("derive") {
            out.push_str("  ");
            out.push_str(text(a).trim_start_matches("# "));
        }
    }
    out
}

fn strip_field_attrs(fields: &Fields) -> Fields {
    let mut fields = fields.clone();
    for f in fields.iter_mut() {
        f.attrs.clear();
    }
    fields
}

impl Walker {
    fn add(&mut self, line: String) {
        if self.in_hidden {
            self.hidden.insert(line);
        } else {
            self.lines.insert(line);
        }
    }

    /// Walks the whole crate `krate` (from its `lib.rs`, `file`) as `root`, once.
    fn krate(&mut self, krate: &str, file: &str, root: String) {
        if self.crates_walked.insert(krate.to_owned()) {
            let file = repo(file);
            let dir = file.parent().unwrap().to_owned();
            let outer = std::mem::replace(&mut self.root, root.clone());
            self.module_file(&file, &dir, &root, true);
            self.root = outer;
        }
    }

    /// Walks the module `target` (`imageshare_core::bulk`) of [`MODULES_OF`] as `path`, when
    /// `target` is one of its modules; whether it was.
    fn reexported_module(&mut self, target: &str, path: &str) -> bool {
        let Some(rest) = target.strip_prefix(&format!("{MODULES_OF}::")) else {
            return false;
        };
        let (_, lib) = CRATES.iter().find(|(c, _)| *c == MODULES_OF).unwrap();
        let mut dir = repo(lib).parent().unwrap().to_owned();
        for segment in rest.split("::") {
            dir.push(segment);
        }
        let flat = dir.with_extension("rs");
        let file = if flat.exists() {
            flat
        } else if dir.join("mod.rs").exists() {
            dir.join("mod.rs")
        } else {
            return false;
        };
        self.module_file(&file, &dir, path, true);
        true
    }

    /// Walks the module in `file` (`dir` holds its submodules), public as `path` when
    /// `public`.
    fn module_file(&mut self, file: &Path, dir: &Path, path: &str, public: bool) {
        let source =
            std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let parsed = syn::parse_file(&source).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        self.items(&parsed.items, dir, path, public);
    }

    fn items(&mut self, items: &[Item], dir: &Path, path: &str, public: bool) {
        // The types this module declares without `pub`: their impls are not API (an impl
        // of a private type written beside it, such as a guard's `Drop`).
        let private: Vec<String> = items
            .iter()
            .filter_map(|item| match item {
                Item::Struct(s) if !is_pub(&s.vis) => Some(s.ident.to_string()),
                Item::Enum(e) if !is_pub(&e.vis) => Some(e.ident.to_string()),
                _ => None,
            })
            .collect();
        for item in items {
            if let Item::Impl(i) = item {
                if let syn::Type::Path(t) = &*i.self_ty {
                    let name = t.path.segments.last().map(|s| s.ident.to_string());
                    if name.is_some_and(|n| private.contains(&n)) {
                        continue;
                    }
                }
            }
            self.item(item, dir, path, public);
        }
    }

    fn item(&mut self, item: &Item, dir: &Path, path: &str, public: bool) {
        match item {
            Item::Mod(m) => {
                if hidden_or_test(&m.attrs) {
                    return;
                }
                let name = m.ident.to_string();
                let child = format!("{path}::{name}");
                let child_public = public && is_pub(&m.vis);
                if child_public {
                    self.add(format!("mod {child}{}", marks(&m.attrs)));
                }
                match &m.content {
                    Some((_, items)) => self.items(items, &dir.join(&name), &child, child_public),
                    None => {
                        let flat = dir.join(format!("{name}.rs"));
                        let (file, sub) = if flat.exists() {
                            (flat, dir.join(&name))
                        } else {
                            (dir.join(&name).join("mod.rs"), dir.join(&name))
                        };
                        self.module_file(&file, &sub, &child, child_public);
                    }
                }
            }
            Item::Impl(i) => {
                if hidden_or_test(&i.attrs) {
                    return;
                }
                let head = match &i.trait_ {
                    Some((bang, tr, _)) => format!(
                        "impl{} {}{} for {}",
                        text(&i.generics),
                        if bang.is_some() { "!" } else { "" },
                        text(tr),
                        text(&i.self_ty)
                    ),
                    None => format!("impl{} {}", text(&i.generics), text(&i.self_ty)),
                };
                let head = format!("{path}: {head}");
                if i.trait_.is_some() {
                    self.add(head);
                    return;
                }
                for it in &i.items {
                    match it {
                        ImplItem::Fn(f) if is_pub(&f.vis) && !hidden_or_test(&f.attrs) => {
                            self.add(format!("{head} {{ {} }}", text(&f.sig)))
                        }
                        ImplItem::Const(c) if is_pub(&c.vis) && !hidden_or_test(&c.attrs) => {
                            self.add(format!("{head} {{ const {}: {} }}", c.ident, text(&c.ty)))
                        }
                        _ => {}
                    }
                }
            }
            Item::Macro(m)
                if m.mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "provider_actions") =>
            {
                // `provider_actions! { ... enum Name for PROVIDER { variants } }`: the enum
                // and the three impls the macro writes, as if written out.
                let src = m.mac.tokens.to_string();
                let brace = src.find('{').expect("provider_actions! has a body");
                let head = &src[..brace];
                let head = head.rfind(" for ").map_or(head, |i| &head[..i]);
                let e: syn::ItemEnum = syn::parse_str(&format!("{head} {}", &src[brace..]))
                    .expect("provider_actions! declares an enum");
                let name = e.ident.to_string();
                self.item(&Item::Enum(e), dir, path, public);
                for imp in ["FromStr", "ProviderAction", "fmt :: Display"] {
                    self.add(format!("{path}: impl {imp} for {name}"));
                }
            }
            Item::Macro(m) => {
                let exported = m.attrs.iter().any(|a| a.path().is_ident("macro_export"));
                if exported && !hidden_or_test(&m.attrs) {
                    if let Some(name) = &m.ident {
                        self.add(format!("macro {}::{name}!", self.root));
                    }
                }
            }
            _ if !public => {}
            Item::Use(u) if is_pub(&u.vis) && hidden_or_test(&u.attrs) => {
                // A whole crate re-exported `#[doc(hidden)]` (`imageshare::core`): listed in
                // the hidden part, not as the facade's API.
                let test = u
                    .attrs
                    .iter()
                    .any(|a| text(a).starts_with("# [cfg (test)]"));
                if test || self.in_hidden {
                    return;
                }
                let mut uses = Vec::new();
                flatten(&u.tree, String::new(), &mut uses);
                for (target, name) in uses {
                    if let Some((krate, file)) = CRATES.iter().find(|(c, _)| *c == target) {
                        self.in_hidden = true;
                        self.add(format!("use {path}::{name} = {target}  [doc (hidden)]"));
                        self.krate(krate, file, format!("{path}::{name}"));
                        self.in_hidden = false;
                    }
                }
            }
            Item::Use(u) if is_pub(&u.vis) => {
                let mut uses = Vec::new();
                flatten(&u.tree, String::new(), &mut uses);
                for (target, name) in uses {
                    let gates = marks(&u.attrs);
                    self.add(format!("use {path}::{name} = {target}{gates}"));
                    // A whole crate re-exported: its API is the facade's, under `name`.
                    if let Some((krate, file)) = CRATES.iter().find(|(c, _)| *c == target) {
                        self.krate(krate, file, format!("{path}::{name}"));
                    } else if !self.in_hidden {
                        // A core module re-exported: its API is the facade's, under `name`.
                        self.reexported_module(&target, &format!("{path}::{name}"));
                    }
                }
            }
            Item::Fn(f) if is_pub(&f.vis) && !hidden_or_test(&f.attrs) => self.add(format!(
                "{path}::{}  {}{}",
                f.sig.ident,
                text(&f.sig),
                marks(&f.attrs)
            )),
            Item::Struct(s) if is_pub(&s.vis) && !hidden_or_test(&s.attrs) => {
                let name = format!("{path}::{}", s.ident);
                self.add(format!(
                    "struct {name}{}{}",
                    text(&s.generics),
                    marks(&s.attrs)
                ));
                for (n, f) in s.fields.iter().enumerate() {
                    if is_pub(&f.vis) {
                        let field = f.ident.as_ref().map_or(n.to_string(), ToString::to_string);
                        self.add(format!("struct {name}.{field}: {}", text(&f.ty)));
                    }
                }
            }
            Item::Enum(e) if is_pub(&e.vis) && !hidden_or_test(&e.attrs) => {
                let name = format!("{path}::{}", e.ident);
                self.add(format!(
                    "enum {name}{}{}",
                    text(&e.generics),
                    marks(&e.attrs)
                ));
                for v in &e.variants {
                    let space = if matches!(v.fields, Fields::Named(_)) {
                        " "
                    } else {
                        ""
                    };
                    self.add(format!(
                        "enum {name}::{}{space}{}{}",
                        v.ident,
                        text(strip_field_attrs(&v.fields)),
                        marks(&v.attrs)
                    ));
                }
            }
            Item::Trait(t) if is_pub(&t.vis) && !hidden_or_test(&t.attrs) => {
                let name = format!("{path}::{}", t.ident);
                let supertraits = text(&t.supertraits);
                self.add(format!("trait {name}{}: {supertraits}", text(&t.generics)));
                for it in &t.items {
                    let line = match it {
                        TraitItem::Fn(f) => text(&f.sig),
                        TraitItem::Type(ty) => format!("type {}: {}", ty.ident, text(&ty.bounds)),
                        TraitItem::Const(c) => format!("const {}: {}", c.ident, text(&c.ty)),
                        _ => continue,
                    };
                    self.add(format!("trait {name} {{ {line} }}"));
                }
            }
            Item::Type(t) if is_pub(&t.vis) && !hidden_or_test(&t.attrs) => self.add(format!(
                "type {path}::{}{} = {}",
                t.ident,
                text(&t.generics),
                text(&t.ty)
            )),
            Item::Const(c) if is_pub(&c.vis) && !hidden_or_test(&c.attrs) => {
                self.add(format!("const {path}::{}: {}", c.ident, text(&c.ty)))
            }
            Item::Static(s) if is_pub(&s.vis) && !hidden_or_test(&s.attrs) => {
                self.add(format!("static {path}::{}: {}", s.ident, text(&s.ty)))
            }
            _ => {}
        }
    }
}

/// `(target, name)` of every leaf of a `use` tree: `a::{b, c as d}` gives `(a::b, b)` and
/// `(a::c, d)`; a glob gives `(a::*, *)`.
fn flatten(tree: &UseTree, prefix: String, out: &mut Vec<(String, String)>) {
    let join = |p: &str, s: &str| {
        if p.is_empty() {
            s.to_owned()
        } else {
            format!("{p}::{s}")
        }
    };
    match tree {
        UseTree::Path(p) => flatten(&p.tree, join(&prefix, &p.ident.to_string()), out),
        UseTree::Name(n) => out.push((join(&prefix, &n.ident.to_string()), n.ident.to_string())),
        UseTree::Rename(r) => out.push((join(&prefix, &r.ident.to_string()), r.rename.to_string())),
        UseTree::Glob(_) => out.push((join(&prefix, "*"), "*".to_owned())),
        UseTree::Group(g) => {
            for t in &g.items {
                flatten(t, prefix.clone(), out);
            }
        }
    }
}

fn repo(rel: &str) -> PathBuf {
    imageshare_tests::repo_path(rel)
}

/// The facade's public API, one item a line, sorted.
fn extract() -> String {
    let mut w = Walker {
        lines: BTreeSet::new(),
        hidden: BTreeSet::new(),
        in_hidden: false,
        crates_walked: BTreeSet::new(),
        root: "imageshare".to_owned(),
    };
    let lib = repo("src/lib.rs");
    w.module_file(&lib, &repo("src"), "imageshare", true);
    let mut out = String::from(
        "# The public API of the imageshare facade (tests/public_api.rs); regenerate with\n\
         # IMAGESHARE_BLESS=1 cargo test -p imageshare-tests --test public_api\n",
    );
    for line in w.lines {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(HIDDEN_PART);
    out.push('\n');
    for line in w.hidden {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[test]
fn the_public_api_is_the_listed_one() {
    let now = extract();
    let path = repo(LIST);
    if std::env::var_os("IMAGESHARE_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let listed = std::fs::read_to_string(&path).unwrap_or_default();
    if listed == now {
        return;
    }
    let was: BTreeSet<&str> = listed.lines().collect();
    let is: BTreeSet<&str> = now.lines().collect();
    let mut diff = String::new();
    for gone in was.difference(&is) {
        diff.push_str(&format!("- {gone}\n"));
    }
    for new in is.difference(&was) {
        diff.push_str(&format!("+ {new}\n"));
    }
    panic!(
        "the public API changed ({LIST} against the source):\n{diff}\nIf the change is \
         intended, regenerate the list and commit it with the change:\n  IMAGESHARE_BLESS=1 \
         cargo test -p imageshare-tests --test public_api"
    );
}

/// The extractor sees what it must: a sample of items of each kind, through the facade's
/// paths, and nothing private.
#[test]
fn the_extractor_lists_items_of_every_kind() {
    let api = extract();
    for line in [
        "use imageshare::core = imageshare_core",
        "trait imageshare::core::sharing::ImageSharing: Send + Sync + std :: fmt :: Debug",
        "enum imageshare::core::error::Error  [derive (Debug)]  [non_exhaustive]",
        "enum imageshare::core::error::Error::Partial(Box < ShareReport >)",
        "struct imageshare::core::error::ApiError.code: String",
        "type imageshare::connect::DynSharing = Checked < Arc < dyn ImageSharing > >",
        "macro imageshare::core::impl_image_sharing_for_layer!",
        "mod imageshare::manifest  [cfg (feature = \"manifest\")]",
        "imageshare::core::model: impl ShareReport { fn first_failure (& self) -> Option < & Arc < Error > > }",
        "imageshare::core::error: impl fmt :: Display for Error",
    ] {
        assert!(
            api.lines().any(|l| l.starts_with(line)),
            "{line:?} is not in the extracted API"
        );
    }
    // The core modules re-exported at the root are listed under their root path, in the
    // stable part; the whole core crate, hidden, only after it.
    let (stable, hidden) = api
        .split_once(HIDDEN_PART)
        .expect("the list has a hidden part");
    for line in [
        "use imageshare::bulk = imageshare_core::bulk",
        "struct imageshare::bulk::BulkOptions",
        "imageshare::plan: impl SharePlan {",
    ] {
        assert!(
            stable.lines().any(|l| l.starts_with(line)),
            "{line:?} is not in the stable part of the extracted API"
        );
    }
    assert!(
        !stable.contains("imageshare::core"),
        "the hidden core crate is listed as stable API"
    );
    assert!(
        hidden
            .lines()
            .skip(1)
            .all(|l| l.contains("imageshare::core")),
        "the hidden part lists an item outside imageshare::core"
    );
    // Private items and test modules are not public API.
    assert!(!api.contains("fn wrong_kind"), "a private fn is listed");
    // An impl of a private type (the rate limiter's reservation guard) is not API.
    assert!(
        !api.contains("for Reservation"),
        "an impl of a private type is listed"
    );
    assert!(
        api.contains("impl fmt :: Debug for RateLimiter"),
        "an impl of a public type in the same module is missing"
    );
    assert!(
        !api.contains("assert_each_cause_once"),
        "a test helper is listed"
    );
    assert!(
        !api.contains("__async_trait"),
        "a doc(hidden) re-export is listed"
    );
}
