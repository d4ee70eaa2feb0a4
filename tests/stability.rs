//! #18 semver guard: the public types that may grow are `#[non_exhaustive]`, so that a new
//! field, variant, provider rule or outcome is not a breaking change, and each can still be
//! built from another crate through its constructor and `with_*` setters.
//!
//! rustdoc's JSON output needs a nightly toolchain, so the attribute is read from the source
//! with `syn` (as `tests/public_api.rs` does): the test fails when one of the listed items
//! loses `#[non_exhaustive]`, when a struct-like variant of `core::Error` lacks it, or when a
//! listed item is renamed or moved (update the list with it).

use std::path::Path;

use syn::{Attribute, Fields, Item};

/// `(source file, items that must be #[non_exhaustive])`.
const NON_EXHAUSTIVE: &[(&str, &[&str])] = &[
    (
        "crates/imageshare-core/src/model.rs",
        &[
            "Principal",
            "PrincipalKind",
            "ImageOrigin",
            "ImageKind",
            "Encryption",
            "ImageState",
            "Image",
            "CallerIdentity",
            "Sharee",
            "CopyTarget",
            "ShareOutcome",
            "OutcomeKind",
        ],
    ),
    (
        "crates/imageshare-core/src/error.rs",
        &["Error", "ApiError", "LimitRule", "LimitViolation"],
    ),
    ("crates/imageshare-core/src/checker.rs", &["CheckOptions"]),
    (
        "crates/imageshare-core/src/limits.rs",
        &[
            "ImageIdUse",
            "ImageIdRule",
            "PrincipalFormError",
            "PrincipalForm",
            "OrgTargetLimits",
            "EncryptedPolicy",
            "ShareLimits",
        ],
    ),
    (
        "crates/imageshare-core/src/paging.rs",
        &["PageCursor", "Page", "Listing"],
    ),
    (
        "crates/imageshare-emulator/src/world.rs",
        &["World", "ImageSeed"],
    ),
    (
        "crates/imageshare-emulator/src/faults.rs",
        &[
            "FaultRule",
            "FaultPlan",
            "FaultKind",
            "Decision",
            "FaultEvent",
        ],
    ),
];

fn non_exhaustive(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("non_exhaustive"))
}

fn parse(rel: &str) -> syn::File {
    let path = imageshare_tests::repo_path(rel);
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    syn::parse_file(&source).unwrap_or_else(|e| panic!("{}: {e}", Path::new(rel).display()))
}

/// The top-level structs and enums of a file, with whether each is `#[non_exhaustive]`.
fn types(file: &syn::File) -> Vec<(String, bool)> {
    file.items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(s) => Some((s.ident.to_string(), non_exhaustive(&s.attrs))),
            Item::Enum(e) => Some((e.ident.to_string(), non_exhaustive(&e.attrs))),
            _ => None,
        })
        .collect()
}

#[test]
fn the_types_that_may_grow_are_non_exhaustive() {
    let mut missing = Vec::new();
    for (rel, names) in NON_EXHAUSTIVE {
        let found = types(&parse(rel));
        for name in *names {
            match found.iter().find(|(n, _)| n == name) {
                Some((_, true)) => {}
                Some((_, false)) => missing.push(format!("{name} ({rel}) lost #[non_exhaustive]")),
                None => missing.push(format!(
                    "{name} is no longer declared in {rel}: update tests/stability.rs"
                )),
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{}\nA public type that may grow stays #[non_exhaustive] (README, Stability).",
        missing.join("\n")
    );
}

#[test]
fn every_struct_variant_of_the_error_is_non_exhaustive() {
    let file = parse("crates/imageshare-core/src/error.rs");
    let error = file
        .items
        .iter()
        .find_map(|item| match item {
            Item::Enum(e) if e.ident == "Error" => Some(e),
            _ => None,
        })
        .expect("core::Error is declared in error.rs");
    let struct_like: Vec<_> = error
        .variants
        .iter()
        .filter(|v| matches!(v.fields, Fields::Named(_)))
        .collect();
    assert!(struct_like.len() >= 10, "the variants were read");
    let bare: Vec<String> = struct_like
        .iter()
        .filter(|v| !non_exhaustive(&v.attrs))
        .map(|v| v.ident.to_string())
        .collect();
    assert!(
        bare.is_empty(),
        "struct-like variants of core::Error without #[non_exhaustive] (add it, and a \
         constructor such as Error::not_found): {bare:?}"
    );
}

/// The constructors and setters a user has for the non-exhaustive types, used from outside
/// the crates that declare them (as a user would).
#[test]
fn the_non_exhaustive_types_are_built_with_their_constructors() {
    use imageshare::core::limits::{EncryptedPolicy, PrincipalForm};
    use imageshare::core::paging::Page;
    use imageshare::core::{
        ApiError, CheckOptions, Encryption, Error, Image, ImageKind, ImageState, LimitRule,
        LimitViolation, Principal, PrincipalKind, Provider, ShareLimits, Sharee,
    };
    use imageshare_emulator::{FaultPlan, FaultRule, World};

    const CLOUD: Provider = Provider::new("example-cloud");
    const LIMITS: ShareLimits = ShareLimits::new(
        CLOUD,
        "img-",
        "xx-north-1",
        PrincipalKind::Account,
        PrincipalForm::PrefixedId { prefix: "acct-" },
    )
    .with_max_principals_per_call(0)
    .with_shareable_kinds(&[ImageKind::SystemDisk])
    .with_encrypted(EncryptedPolicy::Allowed);
    // Evaluated at compile time: the table is `const` data.
    const {
        assert!(LIMITS.max_principals_per_call == 1, "at least one per call");
        assert!(!LIMITS.reshare_received, "conservative defaults");
    }

    let image = Image::new("img-1", "xx-north-1")
        .with_name("golden")
        .with_owner(Some(Principal::account("100000000001")))
        .with_state(ImageState::Pending)
        .with_encryption(Encryption::None);
    assert_eq!(
        (image.id.as_str(), image.name.as_str()),
        ("img-1", "golden")
    );
    assert_eq!(image.kind, ImageKind::SystemDisk);

    let sharee = Sharee::new(Principal::account("100000000002"));
    assert_eq!(sharee.shared_at, None);
    let page = Page::new(vec![sharee], None);
    assert_eq!(page.items.len(), 1);

    let api = ApiError::new(CLOUD, "ShareImage", 400, "Denied", "no")
        .with_request_id(Some("req-1".to_owned()));
    assert_eq!(Error::from(api).request_id(), Some("req-1"));
    let v = LimitViolation::new(CLOUD, LimitRule::SameRegion, "cn-1", "cn-2", "copy first");
    assert_eq!(
        Error::from(v).as_limit().unwrap().rule,
        LimitRule::SameRegion
    );
    let e = Error::not_found(CLOUD, "image", "img-2");
    assert!(matches!(e, Error::NotFound { what: "image", .. }), "{e:?}");

    let options = CheckOptions::new().with_allow_encrypted(true);
    assert!(options.allow_encrypted);

    let plan = FaultPlan::seeded(1).rule(
        FaultRule::for_action(CLOUD, "ShareImage")
            .with_qps(5)
            .with_latency_ms(1, 2),
    );
    assert!(plan.validate().is_ok());
    let world = World::builder().faults(plan).build().unwrap();
    assert_eq!(world.faults.rules[0].qps, Some(5));
}
