//! Signing edge cases. The expected values were computed with an independent Python
//! implementation (hashlib/hmac) that reproduces the official vector of tencent.md §4.4;
//! they pin the exact byte layout the signer produces for unusual inputs.

use imageshare_core::Secret;
use imageshare_tencent::signer::{canonical_query, hash_hex, percent_encode};
use imageshare_tencent::{sign, ReceivedRequest, Tc3Request, Tc3Verifier, TencentCredentials};

const SECRET_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const SECRET_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const TS: u64 = 1_551_113_065;

fn creds() -> TencentCredentials {
    TencentCredentials::new(SECRET_ID, SECRET_KEY)
}

fn verify_ok(sig: &imageshare_tencent::Tc3Signature, method: &str, query: &str, payload: &[u8]) {
    let received = ReceivedRequest::new(method, "/", query, payload)
        .headers(sig.headers.iter().map(|(n, v)| (*n, v.clone())));
    let v = Tc3Verifier::new()
        .verify(&received, &Secret::new(SECRET_KEY))
        .expect("signed request verifies");
    assert_eq!(v.secret_id, SECRET_ID);
}

#[test]
fn payload_with_unicode_spaces_and_reserved_characters_is_hashed_verbatim() {
    let payload = r#"{"ImageName":"镜像 *~/+=&","Description":"a b"}"#;
    let req = Tc3Request::post_json(
        "cvm",
        "cvm.tencentcloudapi.com",
        "ModifyImageAttribute",
        "2017-03-12",
        payload.as_bytes(),
        1_700_000_000,
    );
    let s = sign(&creds(), &req);
    assert_eq!(
        s.hashed_payload,
        "a06257a5b4e98897c76792093485b629d2382010a5fbcb31f4485a8ecd7783f2"
    );
    assert_eq!(s.date, "2023-11-14");
    assert_eq!(
        s.hashed_canonical_request,
        "2a71581705b2d9a128f4a635ab3ad9a2c85115d64a95bb14264ec960ee5efb1b"
    );
    assert_eq!(
        s.signature,
        "83ffca82ae6ef1a8659f2a302b5926175150ef9d2aca6130c7ee32c231c3677b"
    );
    verify_ok(&s, "POST", "", payload.as_bytes());
}

#[test]
fn empty_post_payload_hashes_the_empty_string() {
    let req = Tc3Request::post_json(
        "cvm",
        "cvm.tencentcloudapi.com",
        "DescribeImageQuota",
        "2017-03-12",
        b"",
        TS,
    );
    let s = sign(&creds(), &req);
    assert_eq!(
        s.hashed_payload,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        s.hashed_canonical_request,
        "7b7ebc45f434eb25f2e88f1e9b5fb933e28d08255012e9f18da1aa688d342247"
    );
    assert_eq!(
        s.signature,
        "ef9411285e5a3704eea3f95e125ef21fc999e2060d5bf592a21e8f58bf4705cc"
    );
    verify_ok(&s, "POST", "", b"");
}

#[test]
fn get_query_is_rfc3986_encoded_and_signed_as_sent() {
    let query = canonical_query(&[("Limit", "100"), ("ImageIds.0", "img-a b*~")]);
    assert_eq!(query, "ImageIds.0=img-a%20b%2A~&Limit=100");
    let req = Tc3Request::get(
        "cvm",
        "cvm.tencentcloudapi.com",
        "DescribeImages",
        "2017-03-12",
        &query,
        TS,
    );
    let s = sign(&creds(), &req);
    assert!(s
        .canonical_request
        .starts_with("GET\n/\nImageIds.0=img-a%20b%2A~&Limit=100\ncontent-type:application/x-www-form-urlencoded\n"));
    assert_eq!(
        s.hashed_canonical_request,
        "1a58daa28007d08cf57f5c786cab4668d98d4fc1cbabbc3c06e91fc5e7d50fe0"
    );
    assert_eq!(
        s.signature,
        "0b38ffcb390c62324b52a2879359a3af634e6753e2b5acf68f00692d2e989b71"
    );
    verify_ok(&s, "GET", &query, b"");
}

#[test]
fn percent_encoding_of_every_awkward_character() {
    assert_eq!(percent_encode(" "), "%20");
    assert_eq!(percent_encode("*"), "%2A");
    assert_eq!(percent_encode("~"), "~");
    assert_eq!(percent_encode("/"), "%2F");
    assert_eq!(percent_encode("+"), "%2B");
    assert_eq!(percent_encode("="), "%3D");
    assert_eq!(percent_encode("&"), "%26");
    assert_eq!(percent_encode("-_."), "-_.");
    assert_eq!(percent_encode("é"), "%C3%A9");
}

#[test]
fn five_hundred_account_ids_in_one_payload() {
    let ids: Vec<String> = (0..500)
        .map(|i| format!("\"{}\"", 100_000_000_000u64 + i))
        .collect();
    let payload = format!(
        r#"{{"ImageId":"img-6pb6lrmy","AccountIds":[{}],"Permission":"SHARE"}}"#,
        ids.join(",")
    );
    // The same bytes serde_json produces for the same structure.
    let value: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(value["AccountIds"].as_array().unwrap().len(), 500);
    let req = Tc3Request::post_json(
        "cvm",
        "cvm.tencentcloudapi.com",
        "ModifyImageSharePermission",
        "2017-03-12",
        payload.as_bytes(),
        TS,
    );
    let s = sign(&creds(), &req);
    assert_eq!(
        s.hashed_payload,
        "7b9f7b98a348677d99e56d21f76edbaec44f4e372688bdf4d5d34e0d44c78bb6"
    );
    assert_eq!(
        s.signature,
        "c9b2cb009550042a114ffc203da5e64c19a6e12a7940915711dc28cba0426dab"
    );
    verify_ok(&s, "POST", "", payload.as_bytes());
}

#[test]
fn credential_scope_date_is_the_utc_date_around_midnight() {
    let before = Tc3Request::post_json(
        "cvm",
        "cvm.tencentcloudapi.com",
        "X",
        "2017-03-12",
        b"{}",
        1_551_139_199,
    );
    let after = Tc3Request {
        timestamp: 1_551_139_200,
        ..before.clone()
    };
    let (a, b) = (sign(&creds(), &before), sign(&creds(), &after));
    assert_eq!(a.credential_scope, "2019-02-25/cvm/tc3_request");
    assert_eq!(b.credential_scope, "2019-02-26/cvm/tc3_request");
    // Same canonical request, different scope and key.
    assert_eq!(a.hashed_canonical_request, b.hashed_canonical_request);
    assert_eq!(
        a.hashed_canonical_request,
        "b7511c2a57e10458e52fe57af7b28c25796fc538db71eef3b256d94528d8834d"
    );
    assert_eq!(
        a.signature,
        "a0a5812846cf4ec5fec64e78e7a50b546cad9856fc897842a522b8c2db555327"
    );
    assert_eq!(
        b.signature,
        "7bbd640d7e53d7fac4a9fe0be6358d09e05cd85662dc794e2979272186ae4db9"
    );
}

#[test]
fn international_host_keeps_the_service_name() {
    let host = imageshare_tencent::LIGHTHOUSE_INTL_HOST;
    let service = imageshare_tencent::signer::service_from_host(host);
    assert_eq!(service, "lighthouse");
    let payload = br#"{"BlueprintIds":["lhbp-6jc6l8yb"]}"#;
    let req = Tc3Request::post_json(
        service,
        host,
        "DescribeBlueprintsShareAcrossAccountInfos",
        "2020-03-24",
        payload,
        TS,
    );
    let s = sign(&creds(), &req);
    assert_eq!(s.credential_scope, "2019-02-25/lighthouse/tc3_request");
    assert_eq!(
        s.hashed_canonical_request,
        "ccc363594c9a38f37f64d437987b65c51e252c6623c980a0cb077f3c3cea5922"
    );
    assert_eq!(
        s.signature,
        "484c9405e3ed488c6f0d688dda6a6f5ee154bd47e54c4a30b8238cd36b29c7c0"
    );
}

#[test]
fn session_token_is_sent_but_not_signed_and_never_printed() {
    let token = "TOKEN-abc123-very-secret";
    let temp = creds().with_token(token);
    let req = Tc3Request::post_json(
        "cvm",
        "cvm.tencentcloudapi.com",
        "ModifyImageSharePermission",
        "2017-03-12",
        br#"{"ImageId":"img-6pb6lrmy","AccountIds":["1038493875"],"Permission":"SHARE"}"#,
        TS,
    )
    .region("ap-guangzhou")
    .language("en-US");
    let with = sign(&temp, &req);
    let without = sign(&creds(), &req);
    // The token is not part of the signature (tencent.md: SDKs sign content-type;host).
    assert_eq!(with.signature, without.signature);
    assert_eq!(
        with.signature,
        "49e5b018f6bb31774057f51bf347bfbddb71265e3ceebd24a7d04a3c35ef3d0f"
    );
    assert_eq!(with.header("X-TC-Token"), Some(token));
    assert_eq!(without.header("X-TC-Token"), None);
    assert_eq!(with.header("X-TC-Language"), Some("en-US"));
    let names: Vec<&str> = with.headers.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "Authorization",
            "Content-Type",
            "Host",
            "X-TC-Action",
            "X-TC-Version",
            "X-TC-Timestamp",
            "X-TC-Region",
            "X-TC-Token",
            "X-TC-Language"
        ]
    );
    let dbg = format!("{with:?} {temp:?} {temp}");
    assert!(!dbg.contains(token), "{dbg}");
    assert!(!dbg.contains(SECRET_KEY), "{dbg}");
    verify_ok(&with, "POST", "", req.payload);
}

#[test]
fn empty_token_is_not_sent() {
    let c = creds().with_token("");
    assert!(!c.is_temporary());
    let req = Tc3Request::post_json(
        "cvm",
        "cvm.tencentcloudapi.com",
        "X",
        "2017-03-12",
        b"{}",
        TS,
    );
    assert_eq!(sign(&c, &req).header("X-TC-Token"), None);
}

#[test]
fn unsigned_payload_hashes_the_literal_and_sends_the_marker() {
    let req = Tc3Request::post_json(
        "cvm",
        "cvm.tencentcloudapi.com",
        "X",
        "2017-03-12",
        b"{\"a\":1}",
        TS,
    )
    .unsigned_payload(true);
    let s = sign(&creds(), &req);
    assert_eq!(s.hashed_payload, hash_hex(b"UNSIGNED-PAYLOAD"));
    assert_eq!(s.header("X-TC-Content-SHA256"), Some("UNSIGNED-PAYLOAD"));
    // The verifier honours the marker: any body verifies, as on Tencent's side.
    for body in [&b"{\"a\":1}"[..], b"{\"a\":2}", b""] {
        let received = ReceivedRequest::new("POST", "/", "", body)
            .headers(s.headers.iter().map(|(n, v)| (*n, v.clone())));
        let v = Tc3Verifier::new()
            .verify(&received, &Secret::new(SECRET_KEY))
            .unwrap();
        assert!(v.unsigned_payload);
    }
}

#[test]
fn signing_is_pure() {
    let req = Tc3Request::post_json(
        "cvm",
        "cvm.tencentcloudapi.com",
        "X",
        "2017-03-12",
        b"{}",
        TS,
    );
    assert_eq!(sign(&creds(), &req), sign(&creds(), &req));
}
