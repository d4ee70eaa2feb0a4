//! Typed API action names: the keys of the client-side rate limits
//! ([`ClientBuilder::rate_limit`](crate::ClientBuilder::rate_limit)).
//!
//! Each provider crate names the actions its adapter sends with an enum implementing
//! [`ProviderAction`] (`imageshare_tencent::CvmAction`, `imageshare_alibaba::EcsAction`,
//! ...), so a misspelt action is a compile error rather than a rate that silently never
//! applies. [`Action`] is the same name with its provider, whatever the enum: what a builder
//! keeps, and what a name read at run time becomes once checked against the provider's
//! known actions ([`ProviderAction::from_name`], [`Action::find`]), which fails with an
//! [`UnknownAction`] that lists them.
//!
//! ```
//! use imageshare_core::{Action, Provider, ProviderAction};
//!
//! // A provider crate's action enum (the real ones are in the provider crates).
//! #[derive(Debug, Clone, Copy, PartialEq, Eq)]
//! enum ExampleAction {
//!     ShareImage,
//!     DescribeImages,
//! }
//! impl ProviderAction for ExampleAction {
//!     const PROVIDER: Provider = Provider::new("example-cloud");
//!     const ALL: &'static [Self] = &[ExampleAction::ShareImage, ExampleAction::DescribeImages];
//!     fn name(self) -> &'static str {
//!         match self {
//!             ExampleAction::ShareImage => "ShareImage",
//!             ExampleAction::DescribeImages => "DescribeImages",
//!         }
//!     }
//! }
//!
//! let share = Action::from(ExampleAction::ShareImage);
//! assert_eq!((share.provider().name(), share.name()), ("example-cloud", "ShareImage"));
//!
//! // A name read at run time is checked against the known ones.
//! assert_eq!(ExampleAction::from_name("DescribeImages").unwrap(), ExampleAction::DescribeImages);
//! let err = ExampleAction::from_name("ShareImages").unwrap_err();
//! assert_eq!(err.known(), ["ShareImage", "DescribeImages"]);
//! assert!(err.to_string().contains("example-cloud has no action \"ShareImages\""));
//! ```

use std::fmt;

use crate::error::Error;
use crate::model::Provider;

/// The API actions of one provider, as a closed set of names: implemented by an enum in
/// each provider crate. Converts into [`Action`] (what
/// [`ClientBuilder::rate_limit`](crate::ClientBuilder::rate_limit) takes).
pub trait ProviderAction: Copy + fmt::Debug + Send + Sync + 'static {
    /// The provider whose API has these actions.
    const PROVIDER: Provider;
    /// Every action, in the provider crate's order.
    const ALL: &'static [Self];

    /// The action's name on the wire (`ModifyImageSharePermission`).
    fn name(self) -> &'static str;

    /// The action named `name` (exact, case-sensitive, as on the wire); an
    /// [`UnknownAction`] listing the known names otherwise.
    fn from_name(name: &str) -> Result<Self, UnknownAction> {
        Self::ALL
            .iter()
            .copied()
            .find(|a| a.name() == name)
            .ok_or_else(|| {
                UnknownAction::new(Self::PROVIDER, name, Self::ALL.iter().map(|a| a.name()))
            })
    }

    /// Every action as an [`Action`] (what a provider's registry entry lists).
    #[must_use]
    fn actions() -> Vec<Action> {
        Self::ALL.iter().map(|&a| Action::from(a)).collect()
    }
}

/// Declares a provider's action enum and its [`ProviderAction`], `Display` and `FromStr`
/// impls, from the variants alone: each variant's wire name is its own name (every action
/// of every provider is spelt on the wire as its variant is), so the list is written once.
///
/// ```
/// const EXAMPLE: imageshare_core::Provider = imageshare_core::Provider::new("example");
/// imageshare_core::provider_actions! {
///     /// The actions of an example adapter.
///     pub enum ExampleAction for EXAMPLE {
///         /// Lists images.
///         DescribeImages,
///     }
/// }
/// use imageshare_core::ProviderAction;
/// assert_eq!(ExampleAction::DescribeImages.name(), "DescribeImages");
/// assert!("DescribeImage".parse::<ExampleAction>().is_err());
/// ```
#[macro_export]
macro_rules! provider_actions {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident for $provider:path {
            $( $(#[$vmeta:meta])* $variant:ident ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $crate::ProviderAction for $name {
            const PROVIDER: $crate::Provider = $provider;
            const ALL: &'static [Self] = &[ $( $name::$variant, )+ ];
            fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => stringify!($variant), )+
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str($crate::ProviderAction::name(*self))
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::UnknownAction;
            fn from_str(s: &str) -> ::core::result::Result<Self, $crate::UnknownAction> {
                <Self as $crate::ProviderAction>::from_name(s)
            }
        }
    };
}

/// One API action of one provider: a name from a provider's [`ProviderAction`] enum, with
/// its provider. Made only from such an enum (or found among a provider's known actions
/// with [`Action::find`]), so it always names an action the provider's adapter knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Action {
    provider: Provider,
    name: &'static str,
}

impl Action {
    /// The provider whose API has this action.
    #[must_use]
    pub fn provider(self) -> Provider {
        self.provider
    }
    /// The action's name on the wire.
    #[must_use]
    pub fn name(self) -> &'static str {
        self.name
    }
    /// The action named `name` among `known` (a provider's actions, e.g. its registry
    /// entry's), for names read at run time; an [`UnknownAction`] of `provider` listing
    /// the known names otherwise.
    pub fn find(provider: Provider, known: &[Action], name: &str) -> Result<Action, UnknownAction> {
        known
            .iter()
            .copied()
            .find(|a| a.provider == provider && a.name == name)
            .ok_or_else(|| {
                UnknownAction::new(
                    provider,
                    name,
                    known
                        .iter()
                        .filter(|a| a.provider == provider)
                        .map(|a| a.name),
                )
            })
    }
}

impl<A: ProviderAction> From<A> for Action {
    fn from(action: A) -> Self {
        Action {
            provider: A::PROVIDER,
            name: action.name(),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// A name that is not one of a provider's known actions: what parsing an action name read
/// at run time fails with. Its message lists the known names; as an [`Error`] it is
/// [`Error::InvalidInput`] of field `action`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAction {
    provider: Provider,
    name: String,
    known: Vec<&'static str>,
}

impl UnknownAction {
    /// `name` is not an action of `provider`, whose actions are `known`.
    #[must_use]
    pub fn new(
        provider: Provider,
        name: &str,
        known: impl IntoIterator<Item = &'static str>,
    ) -> Self {
        UnknownAction {
            provider,
            name: name.to_owned(),
            known: known.into_iter().collect(),
        }
    }
    /// The provider the name was looked up in.
    #[must_use]
    pub fn provider(&self) -> Provider {
        self.provider
    }
    /// The name given.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The provider's known action names.
    #[must_use]
    pub fn known(&self) -> &[&'static str] {
        &self.known
    }
}

impl fmt::Display for UnknownAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} has no action {:?}: give one of {} (names are case-sensitive, as on the \
             wire; in Rust, use the provider crate's action enum)",
            self.provider,
            self.name,
            self.known.join(", ")
        )
    }
}

impl std::error::Error for UnknownAction {}

impl From<UnknownAction> for Error {
    fn from(e: UnknownAction) -> Self {
        Error::invalid_input("action", e.to_string())
    }
}

/// The action `action` of a rate limit set for `expected`'s builder, refused when it is
/// another provider's: a [`Error::InvalidInput`] naming both.
pub(crate) fn check_provider(action: Action, expected: Provider) -> crate::Result<()> {
    if action.provider == expected {
        return Ok(());
    }
    Err(Error::invalid_input(
        "action",
        format!(
            "{} is an action of {}, not of {expected}: give a rate limit of this client an \
             action of {expected}'s action enum",
            action.name, action.provider
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum A {
        One,
        Two,
    }
    impl ProviderAction for A {
        const PROVIDER: Provider = Provider::new("example-cloud");
        const ALL: &'static [Self] = &[A::One, A::Two];
        fn name(self) -> &'static str {
            match self {
                A::One => "One",
                A::Two => "Two",
            }
        }
    }

    #[test]
    fn names_parse_and_unknown_ones_list_the_known() {
        assert_eq!(A::from_name("Two").unwrap(), A::Two);
        let e = A::from_name("one").unwrap_err();
        assert_eq!((e.name(), e.known()), ("one", &["One", "Two"][..]));
        let e = Error::from(e);
        assert!(
            matches!(&e, Error::InvalidInput { field, .. } if field == "action"),
            "{e:?}"
        );
        assert!(e.to_string().contains("give one of One, Two"), "{e}");
        let known = A::actions();
        let found = Action::find(A::PROVIDER, &known, "One").unwrap();
        assert_eq!(found, Action::from(A::One));
        assert!(Action::find(Provider::new("other"), &known, "One").is_err());
    }

    #[test]
    fn another_providers_action_is_refused() {
        assert!(check_provider(A::One.into(), A::PROVIDER).is_ok());
        let e = check_provider(A::One.into(), Provider::new("other"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("One is an action of example-cloud, not of other"),
            "{e}"
        );
    }
}
