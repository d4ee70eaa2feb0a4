//! The providers compiled into this build: each provider crate lists the providers it
//! serves ([`ProviderSpec`]: name, limits, default rates, how to build an adapter), and
//! `REGISTERED` (in this file) holds one line per provider crate. Adding a provider is one new crate
//! plus one line there; nothing else in the facade or the CLI names a provider.

use imageshare_core::{Action, Error, Provider, ProviderSpec, Result};

/// Every provider crate compiled in (one cargo feature each), in display order.
const REGISTERED: &[&[ProviderSpec]] = &[
    #[cfg(feature = "alibaba")]
    imageshare_alibaba::PROVIDERS,
    #[cfg(feature = "ucloud")]
    imageshare_ucloud::PROVIDERS,
    #[cfg(feature = "tencent")]
    imageshare_tencent::PROVIDERS,
];

/// Every provider compiled in, in display order.
pub fn providers() -> impl Iterator<Item = &'static ProviderSpec> {
    REGISTERED.iter().flat_map(|specs| specs.iter())
}

/// The spec of `provider`, when it is compiled in.
#[must_use]
pub fn spec(provider: Provider) -> Option<&'static ProviderSpec> {
    providers().find(|s| s.provider == provider)
}

/// The provider named `name` (case-insensitive, e.g. `tencent-cvm`). An unknown name is
/// [`Error::InvalidInput`] for the field `provider`, listing the providers compiled in.
pub fn lookup(name: &str) -> Result<&'static ProviderSpec> {
    providers()
        .find(|s| s.provider.name().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            let known: Vec<&str> = providers().map(|s| s.provider.name()).collect();
            Error::invalid_input(
                "provider",
                format!(
                    "unknown provider {name:?}; known providers: {}",
                    known.join(", ")
                ),
            )
        })
}

/// The action named `name` of `provider`, for a name read at run time (a configuration
/// file, a flag): checked against the actions its adapter knows
/// ([`ProviderSpec::actions`]). An unknown name is [`Error::InvalidInput`] for the field
/// `action`, listing the known ones; a provider not compiled in is
/// [`Error::Unsupported`]. In Rust code, name the action with the provider crate's enum
/// instead (`imageshare::tencent::CvmAction::ModifyImageSharePermission`): a misspelling
/// is then a compile error.
///
/// ```
/// let share = imageshare::registry::action(imageshare::tencent::CVM, "ModifyImageSharePermission")?;
/// assert_eq!(share, imageshare::tencent::CvmAction::ModifyImageSharePermission.into());
///
/// let err = imageshare::registry::action(imageshare::tencent::CVM, "ModifyImageSharePermision")
///     .unwrap_err();
/// assert!(err.to_string().contains("tencent-cvm has no action \"ModifyImageSharePermision\""));
/// assert!(err.to_string().contains("give one of ModifyImageSharePermission, "));
/// # Ok::<(), imageshare::Error>(())
/// ```
pub fn action(provider: Provider, name: &str) -> Result<Action> {
    let spec = spec(provider).ok_or_else(|| {
        Error::unsupported(
            provider,
            "action names",
            "this provider is not compiled in (its cargo feature is off)",
        )
    })?;
    Ok(Action::find(provider, &(spec.actions)(), name)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let names: Vec<&str> = providers().map(|s| s.provider.name()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "{names:?}");
        for s in providers() {
            assert_eq!(lookup(s.provider.name()).unwrap().provider, s.provider);
            assert_eq!(
                s.limits.provider, s.provider,
                "a spec carries its own table"
            );
            assert_eq!(spec(s.provider).unwrap().provider, s.provider);
            let actions = (s.actions)();
            assert!(!actions.is_empty(), "{} lists its actions", s.provider);
            for a in actions {
                assert_eq!(a.provider(), s.provider, "{a}");
                assert_eq!(action(s.provider, a.name()).unwrap(), a);
            }
        }
        // Every copy table belongs to a provider with a cross-region copy action and
        // names it; copy_limits_of answers from the spec.
        for s in providers() {
            if let Some(c) = s.copy {
                assert!(!c.action.is_empty() && c.max_regions_per_call >= 1, "{c:?}");
                assert!(!c.source.is_empty());
            }
            assert_eq!(crate::copy_limits_of(s.provider), s.copy);
        }
        let e = lookup("nope").unwrap_err().to_string();
        assert!(
            e.contains("unknown provider \"nope\"; known providers: "),
            "{e}"
        );
    }
}
