//! Every published TC3-HMAC-SHA256 vector of tencent.md §4.4 (official worked example) and
//! §4.5 (derived vectors A-D), byte for byte.

use imageshare_core::Secret;
use imageshare_tencent::signer::{derive_keys, hash_hex, SignedHeaderSet};
use imageshare_tencent::{sign, Tc3Request, TencentCredentials};

const SECRET_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const SECRET_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const TS: u64 = 1_551_113_065;
const CVM_HOST: &str = "cvm.tencentcloudapi.com";
const LH_HOST: &str = "lighthouse.tencentcloudapi.com";

/// The official payload: the `\uXXXX` escapes are literal ASCII.
const OFFICIAL_PAYLOAD: &str =
    r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

fn example_creds() -> TencentCredentials {
    TencentCredentials::new(SECRET_ID, SECRET_KEY)
}

fn official_request() -> Tc3Request<'static> {
    Tc3Request::post_json(
        "cvm",
        CVM_HOST,
        "DescribeInstances",
        "2017-03-12",
        OFFICIAL_PAYLOAD.as_bytes(),
        TS,
    )
    .content_type("application/json; charset=utf-8")
    .region("ap-guangzhou")
}

#[test]
fn official_example_payload_hash() {
    assert_eq!(
        hash_hex(OFFICIAL_PAYLOAD.as_bytes()),
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
}

#[test]
fn official_example_canonical_request_exact_bytes() {
    let s = sign(&example_creds(), &official_request());
    let expected = "POST\n\
                    /\n\
                    \n\
                    content-type:application/json; charset=utf-8\n\
                    host:cvm.tencentcloudapi.com\n\
                    \n\
                    content-type;host\n\
                    35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064";
    assert_eq!(s.canonical_request, expected);
    assert_eq!(
        s.canonical_request.as_bytes(),
        b"POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
    assert_eq!(
        s.hashed_payload,
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
    assert_eq!(
        s.hashed_canonical_request,
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    );
}

#[test]
fn official_example_string_to_sign() {
    let s = sign(&example_creds(), &official_request());
    assert_eq!(s.date, "2019-02-25");
    assert_eq!(s.credential_scope, "2019-02-25/cvm/tc3_request");
    assert_eq!(
        s.string_to_sign,
        "TC3-HMAC-SHA256\n\
         1551113065\n\
         2019-02-25/cvm/tc3_request\n\
         5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    );
}

#[test]
fn official_example_signature_and_authorization() {
    let s = sign(&example_creds(), &official_request());
    assert_eq!(
        s.signature,
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
    assert_eq!(
        s.authorization,
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, \
         SignedHeaders=content-type;host, \
         Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
    assert_eq!(s.header("Authorization"), Some(s.authorization.as_str()));
}

#[test]
fn official_example_intermediate_keys() {
    let k = derive_keys(&Secret::new(SECRET_KEY), "2019-02-25", "cvm");
    assert_eq!(
        hex::encode(k.secret_date),
        "d1308c81fe71cfd4e06437bbc067b2b8a3d2d8c0e375d547f15c41d5214b395a"
    );
    assert_eq!(
        hex::encode(k.secret_service),
        "3c7cb7c7795393edc14fd2e0e6434a518564b4504b88e94f5d11bf59ba3e7050"
    );
    assert_eq!(
        hex::encode(k.secret_signing),
        "ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1"
    );
}

#[test]
fn official_example_with_masked_keys() {
    let creds = TencentCredentials::new(
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
        "Gu5t9xGARNpq86cd98joQYCN3*******",
    );
    let s = sign(&creds, &official_request());
    // Everything but the key-dependent values is unchanged.
    assert_eq!(
        s.hashed_canonical_request,
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    );
    assert_eq!(
        s.signature,
        "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
    );
    assert_eq!(
        s.authorization,
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, \
         SignedHeaders=content-type;host, \
         Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
    );
}

#[test]
fn official_example_headers_to_send() {
    let s = sign(&example_creds(), &official_request());
    let names: Vec<&str> = s.headers.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "Authorization",
            "Content-Type",
            "Host",
            "X-TC-Action",
            "X-TC-Version",
            "X-TC-Timestamp",
            "X-TC-Region"
        ]
    );
    assert_eq!(
        s.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(s.header("Host"), Some(CVM_HOST));
    assert_eq!(s.header("X-TC-Action"), Some("DescribeInstances"));
    assert_eq!(s.header("X-TC-Version"), Some("2017-03-12"));
    assert_eq!(s.header("X-TC-Timestamp"), Some("1551113065"));
    assert_eq!(s.header("X-TC-Region"), Some("ap-guangzhou"));
    assert_eq!(s.header("X-TC-Token"), None);
    assert_eq!(s.header("X-TC-Language"), None);
}

const VECTOR_A_PAYLOAD: &str =
    r#"{"ImageId":"img-6pb6lrmy","AccountIds":["1038493875"],"Permission":"SHARE"}"#;

#[test]
fn vector_a_cvm_modify_image_share_permission() {
    let req = Tc3Request::post_json(
        "cvm",
        CVM_HOST,
        "ModifyImageSharePermission",
        "2017-03-12",
        VECTOR_A_PAYLOAD.as_bytes(),
        TS,
    )
    .region("ap-guangzhou");
    let s = sign(&example_creds(), &req);
    assert_eq!(
        s.hashed_payload,
        "32264b8d63c254c959d600282d2234691602fe86f61b5c2badb819b05c6530f0"
    );
    assert_eq!(
        s.canonical_request,
        "POST\n/\n\ncontent-type:application/json\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n32264b8d63c254c959d600282d2234691602fe86f61b5c2badb819b05c6530f0"
    );
    assert_eq!(
        s.hashed_canonical_request,
        "cbc0c3aca3220863f503920af8085b91f060e6b32f7d4e9dbc5923c827bea652"
    );
    assert_eq!(
        s.signature,
        "49e5b018f6bb31774057f51bf347bfbddb71265e3ceebd24a7d04a3c35ef3d0f"
    );
    assert_eq!(
        s.authorization,
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=49e5b018f6bb31774057f51bf347bfbddb71265e3ceebd24a7d04a3c35ef3d0f"
    );
}

#[test]
fn vector_b_lighthouse_share_blueprint_across_accounts() {
    let payload = r#"{"BlueprintId":"lhbp-6jc6l8yb","AccountIds":["700000164995"]}"#;
    let req = Tc3Request::post_json(
        "lighthouse",
        LH_HOST,
        "ShareBlueprintAcrossAccounts",
        "2020-03-24",
        payload.as_bytes(),
        TS,
    )
    .region("ap-guangzhou");
    let s = sign(&example_creds(), &req);
    assert_eq!(
        s.hashed_payload,
        "444e6a84a25c0719002063d36ffb9fc9585aee95d775ce8ece214d1d72893687"
    );
    assert_eq!(
        s.string_to_sign,
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/lighthouse/tc3_request\n246184aba5adb6155f118ffa254a0c63076ea082805fb66a89486aaca2bf709a"
    );
    assert_eq!(
        s.signature,
        "790c8becea825df2a2607634f7ff628e1ad642b0e7a201500c96b05e0088196f"
    );
}

#[test]
fn vector_c_signing_x_tc_action() {
    let req = official_request().signed_headers(SignedHeaderSet::ContentTypeHostAction);
    let s = sign(&example_creds(), &req);
    assert_eq!(
        s.canonical_headers,
        "content-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\nx-tc-action:describeinstances\n"
    );
    assert_eq!(s.signed_headers, "content-type;host;x-tc-action");
    assert_eq!(
        s.hashed_canonical_request,
        "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
    );
    assert_eq!(
        s.signature,
        "644be983de9a8a3f00db8eadaba61467c3b429e2215758ba897b738ca469fd26"
    );
    // The header sent keeps the action's real case; only the canonical form is lowercase.
    assert_eq!(s.header("X-TC-Action"), Some("DescribeInstances"));
    assert!(s
        .authorization
        .contains("SignedHeaders=content-type;host;x-tc-action, Signature=644be983"));
}

#[test]
fn vector_d_get_with_query_string() {
    let req = Tc3Request::get(
        "cvm",
        CVM_HOST,
        "DescribeImageSharePermission",
        "2017-03-12",
        "ImageId=img-6pb6lrmy",
        TS,
    );
    let s = sign(&example_creds(), &req);
    assert_eq!(
        s.hashed_payload,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        s.canonical_request,
        "GET\n/\nImageId=img-6pb6lrmy\ncontent-type:application/x-www-form-urlencoded\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        s.signature,
        "2e0c4ac05782faa1f5c1263c16360dd6ad570d7261178426803a32a657c39516"
    );
    assert_eq!(
        s.header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
}
