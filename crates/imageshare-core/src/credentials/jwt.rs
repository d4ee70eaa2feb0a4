//! What the OIDC sources read from a web identity token before they send it: its `exp`
//! claim, so that an expired token file is reported as such (naming the file) instead of
//! as an STS refusal. The token is not verified here: STS verifies it.

use base64::Engine;

/// The `exp` claim (Unix seconds) of a JWT (`header.payload.signature`, base64url), if
/// readable.
#[must_use]
pub fn jwt_expiry(token: &str) -> Option<u64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_exp_claim_only() {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let jwt = format!(
            "{}.{}.sig",
            b64(r#"{"alg":"RS256"}"#),
            b64(r#"{"exp":1700000000,"sub":"x"}"#)
        );
        assert_eq!(jwt_expiry(&jwt), Some(1_700_000_000));
        assert_eq!(jwt_expiry("not-a-jwt"), None);
        assert_eq!(jwt_expiry(&format!("a.{}.c", b64("{}"))), None);
    }
}
