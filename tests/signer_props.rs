//! Property tests of the four signing algorithms (issue #9 item 4), each driven through the
//! exact public verifying functions the emulator calls (`frontend/*.rs`):
//!
//! | algorithm | client side | emulator side |
//! |---|---|---|
//! | Alibaba RPC v1 (HMAC-SHA1) | `rpc_v1::sign` | `rpc_v1::verify` |
//! | Alibaba ACS3-HMAC-SHA256 | `acs3::sign` | `acs3::authorization_of` + `acs3::verify` |
//! | Tencent TC3-HMAC-SHA256 | `signer::sign` | `scope_from_authorization` + `Tc3Verifier` |
//! | UCloud SHA1 | `sign_request` + `form_encode` | `form_decode` + `verify_with` |
//!
//! For random parameter maps (unicode, RFC 3986 reserved characters, spaces, `~`, `*`,
//! `%`, empty values, long `AddAccount.N`-style lists) and random bodies: the verifier
//! accepts what the client signed; after any single-byte change to a signed part (a
//! parameter name or value, a signed header name or value, the body, the timestamp, the
//! nonce, the method, the path, the access key id, the signature) it rejects.
//!
//! Where an algorithm normalises a part before signing, "a change" means a change of the
//! normalised form, and the property is both ways (rejected iff the normalised form
//! changed): ACS3 lower-cases header names, trims header values and upper-cases the
//! method; TC3 lower-cases header names, trims and lower-cases signed header values and
//! reads the hex signature case-insensitively.
//!
//! The access key id is not part of the ACS3 and TC3 strings to sign (as in AWS SigV4): the
//! server finds the secret by it, so a changed id is tested against a key table in which
//! the changed id exists with another secret. RPC v1 and UCloud sign the id itself, so
//! there a changed id is rejected even when it maps to the same secret.

use imageshare_alibaba::signer::{acs3, rpc_v1};
use imageshare_alibaba::AlibabaCredentials;
use imageshare_core::Secret;
use imageshare_tencent::signer::{
    self as tc3, scope_from_authorization, ReceivedRequest, SignedHeaderSet, Tc3Request,
    Tc3Verifier,
};
use imageshare_tencent::TencentCredentials;
use imageshare_ucloud::signer as uc;
use imageshare_ucloud::UCloudCredentials;
use proptest::prelude::*;

// ------------------------------------------------------------------------------ inputs

/// Characters of parameter names and values: letters, digits, every RFC 3986 reserved
/// character, space, `~`, `*`, `%`, `-`, `_`, `.`, Latin-1, CJK, an emoji and a combining
/// mark.
const TEXT: &str = "[a-zA-Z0-9 ~*%:/?#\\[\\]@!$&'()+,;=._\\-éü杭州😀\u{0301}]";

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("{TEXT}{{0,{max}}}")).expect("valid regex")
}

fn name() -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("{TEXT}{{1,12}}")).expect("valid regex")
}

/// Business parameters with distinct names (none named like a parameter the signer sets),
/// values possibly empty, plus a list of 0 to 60 account ids flattened as `list.N`.
fn params(reserved: &'static [&'static str]) -> impl Strategy<Value = Vec<(String, String)>> {
    (
        prop::collection::btree_map(
            name().prop_filter("reserved", move |n| !reserved.contains(&n.as_str())),
            text(16),
            0..8,
        ),
        prop::collection::vec("[0-9]{10,16}", 0..60),
    )
        .prop_map(|(map, accounts)| {
            let mut out: Vec<(String, String)> = map.into_iter().collect();
            let taken: std::collections::BTreeSet<String> =
                out.iter().map(|(k, _)| k.clone()).collect();
            out.extend(
                accounts
                    .into_iter()
                    .enumerate()
                    .map(|(i, a)| (format!("AddAccount.{}", i + 1), a))
                    .filter(|(k, _)| !taken.contains(k)),
            );
            out
        })
}

fn key_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.]{1,24}"
}

fn secret() -> impl Strategy<Value = String> {
    text(40).prop_filter("non-empty", |s| !s.is_empty())
}

fn host() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9.-]{0,30}"
}

fn action() -> impl Strategy<Value = String> {
    "[A-Z][A-Za-z]{0,30}"
}

fn version() -> impl Strategy<Value = String> {
    "20[0-9]{2}-[01][0-9]-[0-3][0-9]"
}

/// Unix seconds up to the year 2100.
fn timestamp() -> impl Strategy<Value = u64> {
    0u64..4_102_444_800
}

fn nonce() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9-]{1,40}"
}

/// Which single-byte changes to try: (part, byte position, replacement seed).
fn mutations() -> impl Strategy<Value = Vec<(usize, usize, u8)>> {
    prop::collection::vec((any::<usize>(), any::<usize>(), any::<u8>()), 12)
}

/// `s` with the byte at `at % len` replaced by another byte (the first, from `seed` on,
/// that keeps the text UTF-8); `None` for an empty string.
fn mutate(s: &str, at: usize, seed: u8) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    let mut bytes = s.as_bytes().to_vec();
    let i = at % bytes.len();
    let original = bytes[i];
    (0..=255u8).find_map(|k| {
        let b = seed.wrapping_add(k);
        if b == original {
            return None;
        }
        bytes[i] = b;
        String::from_utf8(bytes.clone()).ok()
    })
}

/// `body` with the byte at `at % len` changed; `None` for an empty body.
fn mutate_bytes(body: &[u8], at: usize, seed: u8) -> Option<Vec<u8>> {
    if body.is_empty() {
        return None;
    }
    let mut out = body.to_vec();
    let i = at % out.len();
    out[i] = out[i].wrapping_add(seed.max(1));
    Some(out)
}

/// A parameter list with one name or value changed.
struct ChangedPair {
    /// Which pair changed.
    index: usize,
    /// Whether its name (else its value) changed.
    is_name: bool,
    /// The whole list after the change.
    pairs: Vec<(String, String)>,
}

/// Mutates the name (even `part`) or the value (odd) of one pair of `pairs`.
fn mutate_pair(
    pairs: &[(String, String)],
    part: usize,
    at: usize,
    seed: u8,
) -> Option<ChangedPair> {
    if pairs.is_empty() {
        return None;
    }
    let index = (part / 2) % pairs.len();
    let is_name = part.is_multiple_of(2);
    let mut out = pairs.to_vec();
    let slot = if is_name {
        &mut out[index].0
    } else {
        &mut out[index].1
    };
    *slot = mutate(slot, at, seed)?;
    Some(ChangedPair {
        index,
        is_name,
        pairs: out,
    })
}

// ------------------------------------------------------------------ Alibaba RPC v1

fn alibaba_credentials() -> impl Strategy<Value = AlibabaCredentials> {
    (key_id(), secret(), prop::option::of("[A-Za-z0-9+/=]{1,60}")).prop_map(|(id, s, token)| {
        let c = AlibabaCredentials::new(id, s);
        match token {
            Some(t) => c.with_security_token(t),
            None => c,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// RPC v1 signs every parameter, the common ones included (`AccessKeyId`,
    /// `Timestamp`, `SignatureNonce`, `SecurityToken`, ...): any single-byte change of a
    /// name or a value, or of the method, is refused by `rpc_v1::verify`, even with the
    /// right secret.
    #[test]
    fn rpc_v1_accepts_what_it_signed_and_refuses_any_byte_change(
        creds in alibaba_credentials(),
        business in params(&rpc_v1::COMMON_PARAMS),
        action in action(),
        version in version(),
        ts in timestamp(),
        nonce in nonce(),
        get in any::<bool>(),
        changes in mutations(),
    ) {
        let method = if get { "GET" } else { "POST" };
        let mut req = rpc_v1::RpcRequest::new(action, version).method(method);
        req.params = business;
        let signed = rpc_v1::sign(&creds, &req, ts, &nonce);
        let secret = &creds.access_key_secret;
        prop_assert_eq!(rpc_v1::verify(method, &signed.params, secret), Ok(()));
        let date = imageshare_core::time::format_iso8601(ts);
        prop_assert_eq!(signed.param("Timestamp"), Some(date.as_str()));

        let other = if get { "POST" } else { "GET" };
        prop_assert!(rpc_v1::verify(other, &signed.params, secret).is_err());
        for (part, at, seed) in changes {
            let Some(c) = mutate_pair(&signed.params, part, at, seed) else {
                continue;
            };
            let err = rpc_v1::verify(method, &c.pairs, secret);
            prop_assert!(
                err.is_err(),
                "a change to the {} of {:?} was accepted",
                if c.is_name { "name" } else { "value" },
                signed.params[c.index].0
            );
        }
    }
}

// ---------------------------------------------------------------- Alibaba ACS3

/// One ACS3 part to change.
#[derive(Debug, Clone, Copy)]
enum Acs3Part {
    Query,
    HeaderName,
    HeaderValue,
    Body,
    Method,
    Path,
    Signature,
    KeyId,
}

const ACS3_PARTS: [Acs3Part; 8] = [
    Acs3Part::Query,
    Acs3Part::HeaderName,
    Acs3Part::HeaderValue,
    Acs3Part::Body,
    Acs3Part::Method,
    Acs3Part::Path,
    Acs3Part::Signature,
    Acs3Part::KeyId,
];

/// What the emulator does for ACS3: read the key id from `Authorization`, look its secret
/// up in `keys`, verify with it.
fn acs3_check(
    keys: &[(String, Secret)],
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
    body: &[u8],
) -> Result<(), String> {
    let received = acs3::ReceivedRequest {
        method,
        path,
        query,
        headers,
        body,
    };
    let auth = acs3::authorization_of(&received).map_err(|e| e.to_string())?;
    let secret = keys
        .iter()
        .find(|(id, _)| *id == auth.access_key_id)
        .map(|(_, s)| s)
        .ok_or("InvalidAccessKeyId.NotFound")?;
    acs3::verify(&received, secret)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// ACS3 signs the method, the path, the query, every header but `authorization` and
    /// the body hash; the key id selects the secret.
    #[test]
    fn acs3_accepts_what_it_signed_and_refuses_any_byte_change(
        creds in alibaba_credentials(),
        decoy in secret(),
        query in params(&[]),
        host in host(),
        action in action(),
        version in version(),
        extra in prop::collection::vec(text(24), 3),
        body in prop::collection::vec(any::<u8>(), 0..256),
        ts in timestamp(),
        nonce in nonce(),
        changes in mutations(),
    ) {
        prop_assume!(decoy != creds.access_key_secret.expose());
        let mut req = acs3::Acs3Request::new(host, action, version)
            .header("accept", extra[0].clone())
            .header("user-agent", extra[1].clone())
            .header("content-type", extra[2].clone())
            .body(body.clone());
        req.query = query;
        let signed = acs3::sign(&creds, &req, ts, &nonce);
        let secret = &creds.access_key_secret;
        let keys = vec![(creds.access_key_id.clone(), secret.clone())];
        let headers = signed.headers.clone();
        prop_assert_eq!(
            acs3_check(&keys, &req.method, &req.path, &req.query, &headers, &body),
            Ok(())
        );
        let date = imageshare_core::time::format_iso8601(ts);
        prop_assert_eq!(signed.header("x-acs-date"), Some(date.as_str()));
        prop_assert_eq!(signed.header("x-acs-signature-nonce"), Some(nonce.as_str()));

        // Every header but `authorization` is signed.
        let signed_headers: Vec<usize> = (0..headers.len())
            .filter(|i| headers[*i].0 != "authorization")
            .collect();
        let auth_at = headers.iter().position(|(k, _)| k == "authorization").expect("signed");
        let signed_names = headers
            .iter()
            .filter(|(k, _)| k != "authorization")
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(";");

        for (part, at, seed) in changes {
            let which = ACS3_PARTS[part % ACS3_PARTS.len()];
            let (mut method, mut path) = (req.method.clone(), req.path.clone());
            let (mut q, mut h, mut b) = (req.query.clone(), headers.clone(), body.clone());
            let mut key_table = keys.clone();
            // Whether the normalised signed input changed (so the verifier must refuse).
            let must_refuse = match which {
                Acs3Part::Query => {
                    let Some(c) = mutate_pair(&q, part / 8, at, seed) else { continue };
                    q = c.pairs;
                    true
                }
                Acs3Part::HeaderName | Acs3Part::HeaderValue => {
                    let i = signed_headers[(part / 8) % signed_headers.len()];
                    if matches!(which, Acs3Part::HeaderName) {
                        let Some(m) = mutate(&h[i].0, at, seed) else { continue };
                        let changed = !m.eq_ignore_ascii_case(&h[i].0);
                        h[i].0 = m;
                        changed
                    } else {
                        let Some(m) = mutate(&h[i].1, at, seed) else { continue };
                        let changed = m.trim() != h[i].1.trim();
                        h[i].1 = m;
                        changed
                    }
                }
                Acs3Part::Body => {
                    let Some(m) = mutate_bytes(&b, at, seed) else { continue };
                    b = m;
                    true
                }
                Acs3Part::Method => {
                    let m = mutate(&method, at, seed).expect("non-empty");
                    let changed = !m.eq_ignore_ascii_case(&method);
                    method = m;
                    changed
                }
                Acs3Part::Path => {
                    let m = mutate(&path, at, seed).expect("non-empty");
                    path = m;
                    true
                }
                Acs3Part::Signature => {
                    let m = mutate(&signed.signature, at, seed).expect("non-empty");
                    h[auth_at].1 = acs3::authorization(&creds.access_key_id, &signed_names, &m);
                    true
                }
                Acs3Part::KeyId => {
                    let m = mutate(&creds.access_key_id, at, seed).expect("non-empty");
                    h[auth_at].1 = acs3::authorization(&m, &signed_names, &signed.signature);
                    key_table.push((m, Secret::new(decoy.clone())));
                    true
                }
            };
            let verdict = acs3_check(&key_table, &method, &path, &q, &h, &b);
            prop_assert_eq!(
                verdict.is_err(),
                must_refuse,
                "{:?} change (part {}, byte {}, seed {}): {:?}",
                which, part, at, seed, verdict
            );
        }
    }
}

// ------------------------------------------------------------------- Tencent TC3

fn tencent_credentials() -> impl Strategy<Value = TencentCredentials> {
    (key_id(), secret(), prop::option::of("[A-Za-z0-9]{1,40}")).prop_map(|(id, s, token)| {
        let c = TencentCredentials::new(id, s);
        match token {
            Some(t) => c.with_token(t),
            None => c,
        }
    })
}

/// One TC3 part to change.
#[derive(Debug, Clone, Copy)]
enum Tc3Part {
    Body,
    Query,
    SignedHeaderName,
    SignedHeaderValue,
    Timestamp,
    Method,
    Path,
    Signature,
    KeyId,
    ScopeDate,
    ScopeService,
}

const TC3_PARTS: [Tc3Part; 11] = [
    Tc3Part::Body,
    Tc3Part::Query,
    Tc3Part::SignedHeaderName,
    Tc3Part::SignedHeaderValue,
    Tc3Part::Timestamp,
    Tc3Part::Method,
    Tc3Part::Path,
    Tc3Part::Signature,
    Tc3Part::KeyId,
    Tc3Part::ScopeDate,
    Tc3Part::ScopeService,
];

/// A received TC3 request, owned.
#[derive(Debug, Clone)]
struct Tc3Wire {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// What the emulator does for TC3: read SecretId and service from `Authorization`, look
/// the key up in `keys`, verify with the service of the endpoint and the server clock.
fn tc3_check(
    keys: &[(String, Secret)],
    service: &str,
    now: u64,
    w: &Tc3Wire,
) -> Result<(), String> {
    let auth = w
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let (secret_id, _service) = scope_from_authorization(auth).map_err(|e| e.to_string())?;
    let secret = keys
        .iter()
        .find(|(id, _)| *id == secret_id)
        .map(|(_, s)| s)
        .ok_or("AuthFailure.SecretIdNotFound")?;
    let received = ReceivedRequest::new(&w.method, &w.path, &w.query, &w.body)
        .headers(w.headers.iter().cloned());
    Tc3Verifier::new()
        .expected_service(service)
        .now(now)
        .verify(&received, secret)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn tc3_authorization(id: &str, date: &str, service: &str, signed: &str, sig: &str) -> String {
    format!(
        "{} Credential={id}/{date}/{service}/{}, SignedHeaders={signed}, Signature={sig}",
        tc3::ALGORITHM,
        tc3::TERMINATOR
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// TC3 signs the method, the path, the query, the signed headers (`content-type`,
    /// `host`, optionally `x-tc-action`), the payload, the timestamp and the credential
    /// scope; the SecretId selects the key.
    #[test]
    fn tc3_accepts_what_it_signed_and_refuses_any_byte_change(
        creds in tencent_credentials(),
        decoy in secret(),
        service in "[a-z]{1,12}",
        host in host(),
        action in action(),
        version in version(),
        region in prop::option::of("[a-z]{2}-[a-z]{2,10}"),
        get_params in prop::option::of(params(&[])),
        body in prop::collection::vec(any::<u8>(), 0..256),
        sign_action in any::<bool>(),
        ts in timestamp(),
        changes in mutations(),
    ) {
        prop_assume!(decoy != creds.secret_key.expose());
        // GET: the parameters in the query, an empty payload; POST: the body.
        let pairs: Vec<(&str, &str)> = get_params
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let query = tc3::canonical_query(&pairs);
        let mut req = match &get_params {
            Some(_) => Tc3Request::get(&service, &host, &action, &version, &query, ts),
            None => Tc3Request::post_json(&service, &host, &action, &version, &body, ts),
        };
        if let Some(r) = &region {
            req = req.region(r);
        }
        if sign_action {
            req = req.signed_headers(SignedHeaderSet::ContentTypeHostAction);
        }
        let sig = tc3::sign(&creds, &req);
        let wire = Tc3Wire {
            method: req.method.as_str().to_owned(),
            path: "/".to_owned(),
            query: query.clone(),
            headers: sig.headers.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
            body: req.payload.to_vec(),
        };
        let keys = vec![(creds.secret_id.clone(), creds.secret_key.clone())];
        prop_assert_eq!(tc3_check(&keys, &service, ts, &wire), Ok(()));

        let signed_names: Vec<&str> = sig.signed_headers.split(';').collect();
        let signed_at: Vec<usize> = (0..wire.headers.len())
            .filter(|i| signed_names.contains(&wire.headers[*i].0.to_ascii_lowercase().as_str()))
            .collect();
        prop_assert_eq!(signed_at.len(), if sign_action { 3 } else { 2 });
        let auth_at = wire.headers.iter().position(|(k, _)| k == "Authorization").expect("sent");
        let ts_at = wire.headers.iter().position(|(k, _)| k == "X-TC-Timestamp").expect("sent");

        for (part, at, seed) in changes {
            let which = TC3_PARTS[part % TC3_PARTS.len()];
            let mut w = wire.clone();
            let mut key_table = keys.clone();
            let auth = |id: &str, date: &str, svc: &str, s: &str| {
                tc3_authorization(id, date, svc, &sig.signed_headers, s)
            };
            let must_refuse = match which {
                Tc3Part::Body => {
                    let Some(m) = mutate_bytes(&w.body, at, seed) else { continue };
                    w.body = m;
                    true
                }
                Tc3Part::Query => {
                    let Some(p) = &get_params else { continue };
                    let Some(c) = mutate_pair(p, part / 11, at, seed) else { continue };
                    let pairs: Vec<(&str, &str)> =
                        c.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    w.query = tc3::canonical_query(&pairs);
                    true
                }
                Tc3Part::SignedHeaderName => {
                    let i = signed_at[(part / 11) % signed_at.len()];
                    let m = mutate(&w.headers[i].0, at, seed).expect("non-empty");
                    let changed = !m.eq_ignore_ascii_case(&w.headers[i].0);
                    w.headers[i].0 = m;
                    changed
                }
                Tc3Part::SignedHeaderValue => {
                    let i = signed_at[(part / 11) % signed_at.len()];
                    let Some(m) = mutate(&w.headers[i].1, at, seed) else { continue };
                    let changed = m.trim().to_lowercase() != w.headers[i].1.trim().to_lowercase();
                    w.headers[i].1 = m;
                    changed
                }
                Tc3Part::Timestamp => {
                    w.headers[ts_at].1 = mutate(&w.headers[ts_at].1, at, seed).expect("non-empty");
                    true
                }
                Tc3Part::Method => {
                    w.method = mutate(&w.method, at, seed).expect("non-empty");
                    true
                }
                Tc3Part::Path => {
                    w.path = mutate(&w.path, at, seed).expect("non-empty");
                    true
                }
                Tc3Part::Signature => {
                    let m = mutate(&sig.signature, at, seed).expect("non-empty");
                    let changed = !m.eq_ignore_ascii_case(&sig.signature);
                    w.headers[auth_at].1 = auth(&creds.secret_id, &sig.date, &service, &m);
                    changed
                }
                Tc3Part::KeyId => {
                    let m = mutate(&creds.secret_id, at, seed).expect("non-empty");
                    w.headers[auth_at].1 = auth(&m, &sig.date, &service, &sig.signature);
                    key_table.push((m, Secret::new(decoy.clone())));
                    true
                }
                Tc3Part::ScopeDate => {
                    let m = mutate(&sig.date, at, seed).expect("non-empty");
                    w.headers[auth_at].1 = auth(&creds.secret_id, &m, &service, &sig.signature);
                    true
                }
                Tc3Part::ScopeService => {
                    let m = mutate(&service, at, seed).expect("non-empty");
                    w.headers[auth_at].1 = auth(&creds.secret_id, &sig.date, &m, &sig.signature);
                    true
                }
            };
            let verdict = tc3_check(&key_table, &service, ts, &w);
            prop_assert_eq!(
                verdict.is_err(),
                must_refuse,
                "{:?} change (part {}, byte {}, seed {}): {:?}",
                which, part, at, seed, verdict
            );
        }
    }
}

// ----------------------------------------------------------------------- UCloud SHA1

fn ucloud_credentials() -> impl Strategy<Value = UCloudCredentials> {
    (
        "[A-Za-z0-9+/=@.]{1,40}",
        secret(),
        prop::option::of("[A-Za-z0-9]{1,40}"),
    )
        .prop_map(|(public, private, token)| {
            let c = UCloudCredentials::new(public, private);
            match token {
                Some(t) => c.with_security_token(t),
                None => c,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// UCloud signs every parameter (`PublicKey` and `SecurityToken` included) as
    /// `name + value` pairs in name order: what the client form-encodes decodes on the
    /// emulator side to the same parameters and verifies; any single-byte change of a
    /// name or a value (the signature too) is refused, even when a changed public key
    /// maps to the same private key.
    #[test]
    fn ucloud_accepts_what_it_signed_and_refuses_any_byte_change(
        creds in ucloud_credentials(),
        business in params(&[uc::PUBLIC_KEY, uc::SECURITY_TOKEN, uc::SIGNATURE]),
        action in action(),
        changes in mutations(),
    ) {
        let mut all = vec![("Action".to_owned(), action)];
        all.extend(business.into_iter().filter(|(k, _)| k != "Action"));
        let signed = uc::sign_request(all, &creds);
        let wire = uc::form_encode(&signed);
        let received = uc::form_decode(&wire).expect("the client's form decodes");
        prop_assert_eq!(&received, &signed);
        let private = creds.private_key.clone();
        let any_key = |_: &str| Some(private.clone());
        prop_assert_eq!(uc::verify_with(&received, any_key), Ok(creds.public_key.clone()));

        for (part, at, seed) in changes {
            let Some(c) = mutate_pair(&received, part, at, seed) else {
                continue;
            };
            let verdict = uc::verify_with(&c.pairs, |_: &str| Some(private.clone()));
            prop_assert!(
                verdict.is_err(),
                "a change to the {} of {:?} was accepted",
                if c.is_name { "name" } else { "value" },
                received[c.index].0
            );
        }
    }
}
