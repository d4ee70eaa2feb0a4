//! The verifying side: sign -> verify round trips, and every single change that must break
//! verification, with the Tencent error code the emulator answers with.

use imageshare_core::Secret;
use imageshare_tencent::signer::{
    canonical_headers, canonical_request, credential_scope, derive_keys, hash_hex, signature_hex,
    string_to_sign,
};
use imageshare_tencent::{
    scope_from_authorization, sign, ReceivedRequest, SignedHeaderSet, Tc3Authorization, Tc3Request,
    Tc3Signature, Tc3Verifier, TencentCredentials, VerifyError,
};

const SECRET_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const SECRET_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const TS: u64 = 1_551_113_065;
const PAYLOAD: &[u8] =
    br#"{"ImageId":"img-6pb6lrmy","AccountIds":["1038493875","1038493876"],"Permission":"SHARE"}"#;

fn key() -> Secret {
    Secret::new(SECRET_KEY)
}

fn request(set: SignedHeaderSet) -> Tc3Request<'static> {
    Tc3Request::post_json(
        "cvm",
        "cvm.tencentcloudapi.com",
        "ModifyImageSharePermission",
        "2017-03-12",
        PAYLOAD,
        TS,
    )
    .region("ap-guangzhou")
    .signed_headers(set)
}

fn signed(set: SignedHeaderSet) -> Tc3Signature {
    sign(
        &TencentCredentials::new(SECRET_ID, SECRET_KEY),
        &request(set),
    )
}

fn received<'a>(s: &Tc3Signature, payload: &'a [u8]) -> ReceivedRequest<'a> {
    ReceivedRequest::new("POST", "/", "", payload)
        .headers(s.headers.iter().map(|(n, v)| (*n, v.clone())))
}

fn replace_header(r: &mut ReceivedRequest<'_>, name: &str, value: String) {
    let slot = r
        .headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .expect("header present");
    slot.1 = value;
}

fn remove_header(r: &mut ReceivedRequest<'_>, name: &str) {
    r.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
}

fn header(r: &ReceivedRequest<'_>, name: &str) -> String {
    r.header_value(name).unwrap().to_owned()
}

/// Replaces the byte at `i` by a different byte that is not the same letter in another case
/// (header values are compared lowercased).
fn change_byte(s: &str, i: usize) -> String {
    let mut b = s.as_bytes().to_vec();
    b[i] = if b[i] == b'0' { b'1' } else { b'0' };
    String::from_utf8(b).unwrap()
}

#[test]
fn round_trip_with_both_signed_header_sets() {
    for set in [
        SignedHeaderSet::ContentTypeHost,
        SignedHeaderSet::ContentTypeHostAction,
    ] {
        let s = signed(set);
        let v = Tc3Verifier::new()
            .expected_service("cvm")
            .now(TS)
            .verify(&received(&s, PAYLOAD), &key())
            .unwrap();
        assert_eq!(v.secret_id, SECRET_ID);
        assert_eq!(v.service, "cvm");
        assert_eq!(v.date, "2019-02-25");
        assert_eq!(v.timestamp, TS);
        assert_eq!(v.signed_headers.join(";"), s.signed_headers);
        assert!(!v.unsigned_payload);
    }
}

#[test]
fn header_names_are_case_insensitive_on_the_server() {
    let s = signed(SignedHeaderSet::ContentTypeHostAction);
    let r = ReceivedRequest::new("POST", "/", "", PAYLOAD).headers(
        s.headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), format!("  {v} "))),
    );
    Tc3Verifier::new().verify(&r, &key()).unwrap();
}

#[test]
fn every_single_byte_change_to_the_payload_fails() {
    let s = signed(SignedHeaderSet::ContentTypeHost);
    let verifier = Tc3Verifier::new();
    for i in 0..PAYLOAD.len() {
        for flip in [0x01u8, 0x20, 0x80] {
            let mut p = PAYLOAD.to_vec();
            p[i] ^= flip;
            let err = verifier.verify(&received(&s, &p), &key()).unwrap_err();
            assert!(
                matches!(err, VerifyError::SignatureMismatch { .. }),
                "byte {i} flip {flip:#x}: {err:?}"
            );
            assert_eq!(err.code(), "AuthFailure.SignatureFailure");
        }
    }
    // Appending or dropping one byte fails too.
    let mut longer = PAYLOAD.to_vec();
    longer.push(b' ');
    assert!(verifier.verify(&received(&s, &longer), &key()).is_err());
    assert!(verifier
        .verify(&received(&s, &PAYLOAD[..PAYLOAD.len() - 1]), &key())
        .is_err());
}

#[test]
fn every_single_byte_change_to_a_signed_header_fails() {
    for set in [
        SignedHeaderSet::ContentTypeHost,
        SignedHeaderSet::ContentTypeHostAction,
    ] {
        let s = signed(set);
        let mut names = vec!["Content-Type", "Host"];
        if set == SignedHeaderSet::ContentTypeHostAction {
            names.push("X-TC-Action");
        }
        for name in names {
            let original = header(&received(&s, PAYLOAD), name);
            for i in 0..original.len() {
                let mut r = received(&s, PAYLOAD);
                replace_header(&mut r, name, change_byte(&original, i));
                let err = Tc3Verifier::new().verify(&r, &key()).unwrap_err();
                assert!(
                    matches!(err, VerifyError::SignatureMismatch { .. }),
                    "{name} byte {i}: {err:?}"
                );
            }
        }
    }
}

#[test]
fn unsigned_headers_can_change_and_signed_values_are_case_insensitive() {
    // x-tc-action is not signed by default: changing it keeps the signature valid (this is
    // Tencent's design, the SDKs sign content-type;host only).
    let s = signed(SignedHeaderSet::ContentTypeHost);
    let mut r = received(&s, PAYLOAD);
    replace_header(&mut r, "X-TC-Action", "DeleteImages".into());
    replace_header(&mut r, "X-TC-Region", "ap-shanghai".into());
    Tc3Verifier::new().verify(&r, &key()).unwrap();

    // Signed values are canonicalised to lowercase, so a case-only change still verifies.
    let s = signed(SignedHeaderSet::ContentTypeHostAction);
    let mut r = received(&s, PAYLOAD);
    replace_header(&mut r, "X-TC-Action", "MODIFYIMAGESHAREPERMISSION".into());
    replace_header(&mut r, "Host", "CVM.TencentCloudAPI.com".into());
    Tc3Verifier::new().verify(&r, &key()).unwrap();
}

#[test]
fn timestamp_changes_fail() {
    let s = signed(SignedHeaderSet::ContentTypeHost);
    // One second later, same day: the string to sign differs.
    let mut r = received(&s, PAYLOAD);
    replace_header(&mut r, "X-TC-Timestamp", (TS + 1).to_string());
    let err = Tc3Verifier::new().verify(&r, &key()).unwrap_err();
    assert!(
        matches!(err, VerifyError::SignatureMismatch { .. }),
        "{err:?}"
    );

    // Every single-byte change of the timestamp digits.
    let original = TS.to_string();
    for i in 0..original.len() {
        let mut r = received(&s, PAYLOAD);
        replace_header(&mut r, "X-TC-Timestamp", change_byte(&original, i));
        let err = Tc3Verifier::new().verify(&r, &key()).unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::SignatureMismatch { .. } | VerifyError::DateMismatch { .. }
            ),
            "digit {i}: {err:?}"
        );
        assert_eq!(err.code(), "AuthFailure.SignatureFailure");
    }

    // Another day: the credential date no longer matches.
    let mut r = received(&s, PAYLOAD);
    replace_header(&mut r, "X-TC-Timestamp", (TS + 86_400).to_string());
    let err = Tc3Verifier::new().verify(&r, &key()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::DateMismatch {
            credential_date: "2019-02-25".into(),
            timestamp_date: "2019-02-26".into()
        }
    );
}

#[test]
fn credential_date_change_fails() {
    let s = signed(SignedHeaderSet::ContentTypeHost);
    let mut r = received(&s, PAYLOAD);
    let auth = header(&r, "Authorization").replace("/2019-02-25/", "/2019-02-24/");
    replace_header(&mut r, "Authorization", auth);
    let err = Tc3Verifier::new().verify(&r, &key()).unwrap_err();
    assert!(matches!(err, VerifyError::DateMismatch { .. }), "{err:?}");
    assert_eq!(err.code(), "AuthFailure.SignatureFailure");
}

#[test]
fn key_changes_fail() {
    let s = signed(SignedHeaderSet::ContentTypeHost);
    for i in 0..SECRET_KEY.len() {
        let wrong = Secret::new(change_byte(SECRET_KEY, i));
        let err = Tc3Verifier::new()
            .verify(&received(&s, PAYLOAD), &wrong)
            .unwrap_err();
        assert!(
            matches!(err, VerifyError::SignatureMismatch { .. }),
            "key byte {i}"
        );
    }
    let err = Tc3Verifier::new()
        .verify(
            &received(&s, PAYLOAD),
            &Secret::new(format!("{SECRET_KEY}x")),
        )
        .unwrap_err();
    assert!(matches!(err, VerifyError::SignatureMismatch { .. }));
}

#[test]
fn signature_changes_fail() {
    let s = signed(SignedHeaderSet::ContentTypeHost);
    for i in 0..64 {
        let mut sig = s.signature.clone().into_bytes();
        sig[i] = if sig[i] == b'a' { b'b' } else { b'a' };
        let forged = s
            .authorization
            .replace(&s.signature, std::str::from_utf8(&sig).unwrap());
        let mut r = received(&s, PAYLOAD);
        replace_header(&mut r, "Authorization", forged);
        let err = Tc3Verifier::new().verify(&r, &key()).unwrap_err();
        assert!(
            matches!(err, VerifyError::SignatureMismatch { .. }),
            "sig byte {i}"
        );
    }
}

#[test]
fn method_path_and_query_are_signed() {
    let s = signed(SignedHeaderSet::ContentTypeHost);
    let base = received(&s, PAYLOAD);
    let cases = [
        ReceivedRequest {
            method: "GET",
            ..base.clone()
        },
        ReceivedRequest {
            path: "/x",
            ..base.clone()
        },
        ReceivedRequest {
            query: "a=b",
            ..base.clone()
        },
    ];
    for r in cases {
        let err = Tc3Verifier::new().verify(&r, &key()).unwrap_err();
        assert!(
            matches!(err, VerifyError::SignatureMismatch { .. }),
            "{r:?}"
        );
    }
}

#[test]
fn mismatch_reports_the_server_side_strings() {
    let s = signed(SignedHeaderSet::ContentTypeHost);
    let err = Tc3Verifier::new()
        .verify(&received(&s, b"{}"), &key())
        .unwrap_err();
    let VerifyError::SignatureMismatch {
        canonical_request,
        string_to_sign,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(canonical_request.ends_with(&hash_hex(b"{}")));
    assert!(string_to_sign.starts_with("TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"));
    assert_eq!(err.to_string(), "the signature does not match the request");
    assert!(!format!("{err:?}").contains(SECRET_KEY));
}

#[test]
fn service_scope_is_checked() {
    let s = signed(SignedHeaderSet::ContentTypeHost);
    let err = Tc3Verifier::new()
        .expected_service("lighthouse")
        .verify(&received(&s, PAYLOAD), &key())
        .unwrap_err();
    assert_eq!(
        err,
        VerifyError::ServiceMismatch {
            expected: "lighthouse".into(),
            got: "cvm".into()
        }
    );
    assert_eq!(err.code(), "AuthFailure.SignatureFailure");

    // A scope rewritten to another service fails even without an expected service: the
    // service is part of the derived key.
    let mut r = received(&s, PAYLOAD);
    let auth = header(&r, "Authorization").replace("/cvm/", "/lighthouse/");
    replace_header(&mut r, "Authorization", auth);
    let err = Tc3Verifier::new().verify(&r, &key()).unwrap_err();
    assert!(
        matches!(err, VerifyError::SignatureMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn clock_skew_is_checked_both_ways() {
    let s = signed(SignedHeaderSet::ContentTypeHost);
    let r = received(&s, PAYLOAD);
    for now in [TS - 300, TS, TS + 300] {
        Tc3Verifier::new().now(now).verify(&r, &key()).unwrap();
    }
    for now in [TS - 301, TS + 301, TS + 86_400] {
        let err = Tc3Verifier::new().now(now).verify(&r, &key()).unwrap_err();
        assert_eq!(
            err,
            VerifyError::Expired {
                timestamp: TS,
                now,
                max_skew: 300
            }
        );
        assert_eq!(err.code(), "AuthFailure.SignatureExpire");
    }
    Tc3Verifier::new()
        .now(TS + 1000)
        .max_skew(1000)
        .verify(&r, &key())
        .unwrap();
}

#[test]
fn missing_pieces_have_their_own_errors() {
    let s = signed(SignedHeaderSet::ContentTypeHostAction);

    let mut r = received(&s, PAYLOAD);
    remove_header(&mut r, "Authorization");
    let err = Tc3Verifier::new().verify(&r, &key()).unwrap_err();
    assert_eq!(err, VerifyError::MissingAuthorization);
    assert_eq!(err.code(), "AuthFailure.InvalidAuthorization");

    let mut r = received(&s, PAYLOAD);
    remove_header(&mut r, "X-TC-Timestamp");
    let err = Tc3Verifier::new().verify(&r, &key()).unwrap_err();
    assert_eq!(err, VerifyError::MissingTimestamp);
    assert_eq!(err.code(), "MissingParameter");

    let mut r = received(&s, PAYLOAD);
    replace_header(&mut r, "X-TC-Timestamp", "soon".into());
    let err = Tc3Verifier::new().verify(&r, &key()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::InvalidTimestamp {
            value: "soon".into()
        }
    );
    assert_eq!(err.code(), "InvalidParameterValue");

    let mut r = received(&s, PAYLOAD);
    remove_header(&mut r, "X-TC-Action");
    let err = Tc3Verifier::new().verify(&r, &key()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::MissingSignedHeader {
            header: "x-tc-action".into()
        }
    );
    assert_eq!(err.code(), "AuthFailure.SignatureFailure");

    for (from, missing) in [
        ("SignedHeaders=content-type;host;x-tc-action", "host"),
        (
            "SignedHeaders=content-type;host;x-tc-action",
            "content-type",
        ),
    ] {
        let mut r = received(&s, PAYLOAD);
        let to = if missing == "host" {
            "SignedHeaders=content-type;x-tc-action"
        } else {
            "SignedHeaders=host;x-tc-action"
        };
        let auth = header(&r, "Authorization").replace(from, to);
        replace_header(&mut r, "Authorization", auth);
        let err = Tc3Verifier::new().verify(&r, &key()).unwrap_err();
        assert!(
            matches!(err, VerifyError::RequiredHeaderNotSigned { header } if header == missing),
            "{err:?}"
        );
        assert_eq!(err.code(), "AuthFailure.InvalidAuthorization");
    }
}

#[test]
fn a_client_signing_other_headers_verifies() {
    // A third-party client that also signs x-tc-timestamp and x-tc-region, built from the
    // public building blocks: the server recomputes from whatever SignedHeaders names.
    let host = "cvm.tencentcloudapi.com";
    let ts = TS.to_string();
    let (block, signed_headers) = canonical_headers(&[
        ("Host", host),
        ("X-TC-Timestamp", &ts),
        ("Content-Type", "application/json"),
        ("X-TC-Region", "ap-guangzhou"),
    ]);
    assert_eq!(
        signed_headers,
        "content-type;host;x-tc-region;x-tc-timestamp"
    );
    let cr = canonical_request("POST", "/", "", &block, &signed_headers, &hash_hex(PAYLOAD));
    let scope = credential_scope("2019-02-25", "cvm");
    let sts = string_to_sign(TS, &scope, &hash_hex(cr.as_bytes()));
    let sig = signature_hex(&derive_keys(&key(), "2019-02-25", "cvm"), &sts);
    let auth = format!(
        "TC3-HMAC-SHA256 Credential={SECRET_ID}/{scope}, SignedHeaders={signed_headers}, Signature={sig}"
    );
    let r = ReceivedRequest::new("POST", "/", "", PAYLOAD)
        .header("Authorization", auth)
        .header("Content-Type", "application/json")
        .header("Host", host)
        .header("X-TC-Action", "ModifyImageSharePermission")
        .header("X-TC-Timestamp", ts.clone())
        .header("X-TC-Region", "ap-guangzhou");
    let v = Tc3Verifier::new().verify(&r, &key()).unwrap();
    assert_eq!(
        v.signed_headers,
        ["content-type", "host", "x-tc-region", "x-tc-timestamp"]
    );

    // ... and changing the now-signed region breaks it.
    let mut r2 = r.clone();
    replace_header(&mut r2, "X-TC-Region", "ap-shanghai".into());
    assert!(matches!(
        Tc3Verifier::new().verify(&r2, &key()).unwrap_err(),
        VerifyError::SignatureMismatch { .. }
    ));
}

#[test]
fn authorization_parsing() {
    let s = signed(SignedHeaderSet::ContentTypeHostAction);
    let a = Tc3Authorization::parse(&s.authorization).unwrap();
    assert_eq!(a.secret_id, SECRET_ID);
    assert_eq!(a.date, "2019-02-25");
    assert_eq!(a.service, "cvm");
    assert_eq!(a.signed_headers, ["content-type", "host", "x-tc-action"]);
    assert_eq!(a.signature, s.signature);
    assert_eq!(a.credential_scope(), "2019-02-25/cvm/tc3_request");
    assert_eq!(
        scope_from_authorization(&s.authorization).unwrap(),
        (SECRET_ID.to_owned(), "cvm".to_owned())
    );

    // Separators without the space after the comma, and an upper-case signature, parse too.
    let compact = s
        .authorization
        .replace(", ", ",")
        .replace(&s.signature, &s.signature.to_ascii_uppercase());
    assert_eq!(Tc3Authorization::parse(&compact).unwrap(), a);
    // The parsed form verifies.
    Tc3Verifier::new()
        .verify_parsed(&received(&s, PAYLOAD), &a, &key())
        .unwrap();
}

#[test]
fn malformed_authorizations_are_refused() {
    let sig = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168";
    let good = format!(
        "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature={sig}"
    );
    assert!(Tc3Authorization::parse(&good).is_ok());
    let bad = [
        String::new(),
        "TC3-HMAC-SHA256".to_owned(),
        good.replace("TC3-HMAC-SHA256", "HMAC-SHA256"),
        good.replace("TC3-HMAC-SHA256 ", "TC3-HMAC-SHA1 "),
        good.replace("Credential=AKID/", "Credential=/"),
        good.replace("/tc3_request", "/aws4_request"),
        good.replace("/2019-02-25/", "/20190225/"),
        good.replace("/2019-02-25/cvm/", "/2019-02-25//"),
        good.replace("/cvm/tc3_request", "/tc3_request"),
        good.replace("AKID/", "AK/ID/"),
        good.replace("Signature=", "Signature=zz"),
        good.replace(sig, &sig[..63]),
        good.replace(sig, &format!("{}g", &sig[..63])),
        good.replace(
            "SignedHeaders=content-type;host",
            "SignedHeaders=content-type;;host",
        ),
        good.replace(", SignedHeaders=content-type;host", ""),
        good.replace(&format!(", Signature={sig}"), ""),
        good.replace("Credential=AKID/2019-02-25/cvm/tc3_request, ", ""),
        format!("{good}, Signature={sig}"),
        format!("{good}, Extra=1"),
        good.replace("SignedHeaders=", "SignedHeaders "),
    ];
    for b in &bad {
        let err = Tc3Authorization::parse(b).unwrap_err();
        assert!(
            matches!(err, VerifyError::MalformedAuthorization { .. }),
            "{b:?}: {err:?}"
        );
        assert_eq!(err.code(), "AuthFailure.InvalidAuthorization");
        assert!(scope_from_authorization(b).is_err());
    }
}
