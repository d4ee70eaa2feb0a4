//! The rules of the emulated Alibaba ECS metadata service's session tokens (IMDSv2,
//! "hardened mode"): a token is asked with `PUT /latest/api/token` and a TTL of 1 to
//! 21600 seconds, and GETs carry it; when the world requires it, a GET without a valid
//! token is refused (IMDSv1 disabled).
//!
//! Source of the TTL range: Alibaba ECS documentation "Instance metadata" (hardened mode,
//! `X-aliyun-ecs-metadata-token-ttl-seconds` between 1 and 21600); the official
//! credential library asks for 21600 (aliyun/credentials-python
//! `alibabacloud_credentials/provider/ecs_ram_role.py`, `DEFAULT_METADATA_TOKEN_DURATION`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::Engine;

/// Allowed TTLs of a metadata token, in seconds.
pub const METADATA_TOKEN_TTL: std::ops::RangeInclusive<u64> = 1..=21600;

/// Why a metadata request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataRefusal {
    /// The TTL header is missing or out of range.
    BadTtl,
    /// A GET without a token while tokens are required.
    TokenRequired,
    /// The token is unknown or expired.
    InvalidToken,
}

/// Issued metadata tokens and their expiry.
#[derive(Debug, Default)]
pub(crate) struct MetadataTokens {
    tokens: BTreeMap<String, Instant>,
    serial: u64,
}

impl Engine {
    /// `PUT /latest/api/token` with `ttl` (the header's text).
    pub fn issue_metadata_token(&mut self, ttl: Option<&str>) -> Result<String, MetadataRefusal> {
        let secs: u64 = ttl
            .and_then(|t| t.trim().parse().ok())
            .filter(|t| METADATA_TOKEN_TTL.contains(t))
            .ok_or(MetadataRefusal::BadTtl)?;
        self.metadata_tokens.serial += 1;
        let mut rng = fastrand::Rng::with_seed(
            self.world.faults.seed ^ 0x6d65_7461 ^ self.metadata_tokens.serial,
        );
        let token: String = (0..56)
            .map(|_| {
                char::from(
                    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"
                        [rng.usize(..64)],
                )
            })
            .collect();
        self.metadata_tokens
            .tokens
            .insert(token.clone(), Instant::now() + Duration::from_secs(secs));
        Ok(token)
    }

    /// Checks the token of a metadata GET (`X-aliyun-ecs-metadata-token`).
    pub fn check_metadata_token(&self, token: Option<&str>) -> Result<(), MetadataRefusal> {
        match token {
            None | Some("") if self.world.metadata.imdsv2_required => {
                Err(MetadataRefusal::TokenRequired)
            }
            None | Some("") => Ok(()),
            Some(t) => match self.metadata_tokens.tokens.get(t) {
                Some(until) if Instant::now() < *until => Ok(()),
                _ => Err(MetadataRefusal::InvalidToken),
            },
        }
    }
}
