//! `imageshare whoami`: who the credentials act as, per provider, and where they came
//! from (the clouds' caller-identity actions: Alibaba Cloud and Tencent Cloud STS
//! `GetCallerIdentity`).

use std::fmt;

use imageshare::core::{CallerIdentity, Error, Provider};
use imageshare::ImageSharingExt;
use serde::Serialize;

use crate::cli::Global;
use crate::connect::options;
use crate::exit::Failure;
use crate::output::Document;
use crate::table::table;

/// `imageshare whoami`: `--provider`'s identity (its failure is the command's), or every
/// provider's, each row with its identity or why there is none.
pub async fn run(g: &Global) -> Result<Identities, Failure> {
    let providers: Vec<Provider> = match g.provider_filter()? {
        Some(p) => vec![p],
        None => imageshare::registry::providers()
            .map(|s| s.provider)
            .collect(),
    };
    let only_one = providers.len() == 1;
    let mut rows = Vec::with_capacity(providers.len());
    for p in providers {
        match whoami(g, p).await {
            Ok(identity) => rows.push(Row::Identity(identity)),
            Err(e) if only_one => return Err(Failure::from(e)),
            Err(e) => rows.push(Row::Failed {
                provider: p,
                error: e.to_string(),
                status: Failure::from(&e).code,
            }),
        }
    }
    Ok(Identities(rows))
}

/// The identity of `provider`'s credentials. The caller-identity actions are global, so a
/// provider whose region nothing names is asked in its example region.
async fn whoami(g: &Global, provider: Provider) -> Result<CallerIdentity, Error> {
    let adapter = match options(g, provider, None, None).build() {
        Err(Error::InvalidInput { field, .. }) if field == "region" => {
            let region = imageshare::registry::spec(provider)
                .map(|s| s.limits.example_region)
                .unwrap_or_default();
            options(g, provider, Some(region), None).build()?
        }
        other => other?,
    };
    adapter.whoami().await
}

/// One provider's row.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Row {
    /// The identity found.
    Identity(CallerIdentity),
    /// No identity: the error (no credentials, refused, ...).
    Failed {
        /// The provider.
        provider: Provider,
        /// Why there is none.
        error: String,
        /// The exit status it would have had alone.
        #[serde(skip)]
        status: u8,
    },
}

/// What `whoami` prints. Text: a table (provider, account, ARN, expires, source). JSON:
/// `{"identities": [...]}`, an array of `{"provider", "account", "arn", "source", "expires"}` (null `arn` / `expires`
/// when none), or `{"provider", "error"}` for a provider without an identity.
#[derive(Debug)]
pub struct Identities(Vec<Row>);

impl Serialize for Identities {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::output::keyed(s, "identities", &self.0)
    }
}

impl fmt::Display for Identities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dash = || "-".to_owned();
        let rows = self
            .0
            .iter()
            .map(|r| match r {
                Row::Identity(i) => vec![
                    i.provider.to_string(),
                    i.account.clone(),
                    i.arn.clone().unwrap_or_else(dash),
                    i.expires.map_or_else(dash, |t| t.to_string()),
                    i.source.clone(),
                ],
                Row::Failed {
                    provider, error, ..
                } => vec![provider.to_string(), dash(), dash(), dash(), error.clone()],
            })
            .collect();
        f.write_str(&table(
            &["PROVIDER", "ACCOUNT", "ARN", "EXPIRES", "SOURCE"],
            rows,
        ))
    }
}

impl Document for Identities {
    /// Success when at least one provider has an identity; else the first failure.
    fn verdict(&self) -> Result<(), Failure> {
        if self.0.iter().any(|r| matches!(r, Row::Identity(_))) {
            return Ok(());
        }
        match self.0.iter().find_map(|r| match r {
            Row::Failed {
                provider,
                error,
                status,
            } => Some(Failure::new(
                *status,
                format!("no identity on any provider; {provider}: {error}"),
            )),
            Row::Identity(_) => None,
        }) {
            Some(f) => Err(f),
            None => Ok(()),
        }
    }
}
