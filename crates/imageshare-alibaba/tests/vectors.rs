//! Signer test vectors: every vector published in `protocols/alibaba.md` (byte for byte),
//! plus edge cases pinned against the official Python SDK algorithm
//! (`alibabacloud_openapi_util.get_rpcsignature`, `get_authorization`), and round trips
//! through the verifying side.

use imageshare_alibaba::acs3::{self, Acs3Request, Acs3VerifyError, ReceivedRequest};
use imageshare_alibaba::rpc_v1::{self, RpcRequest, RpcV1VerifyError};
use imageshare_alibaba::{percent_encode, AlibabaCredentials};
use imageshare_core::Secret;

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Vector A: RPC signature V2, DescribeDedicatedHosts (current official doc), alibaba.md 5.2.

const A_PARAMS: [(&str, &str); 9] = [
    ("Action", "DescribeDedicatedHosts"),
    ("Version", "2014-05-26"),
    ("Format", "JSON"),
    ("RegionId", "cn-beijing"),
    ("SignatureMethod", "HMAC-SHA1"),
    ("SignatureNonce", "edb2b34af0af9a6d14deaf7c1a5315eb"),
    ("SignatureVersion", "1.0"),
    ("Timestamp", "2023-03-13T08:34:30Z"),
    ("AccessKeyId", "testid"),
];
const A_CANONICALIZED: &str = "AccessKeyId=testid&Action=DescribeDedicatedHosts&Format=JSON&RegionId=cn-beijing&SignatureMethod=HMAC-SHA1&SignatureNonce=edb2b34af0af9a6d14deaf7c1a5315eb&SignatureVersion=1.0&Timestamp=2023-03-13T08%3A34%3A30Z&Version=2014-05-26";
const A_STRING_TO_SIGN: &str = "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDedicatedHosts%26Format%3DJSON%26RegionId%3Dcn-beijing%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dedb2b34af0af9a6d14deaf7c1a5315eb%26SignatureVersion%3D1.0%26Timestamp%3D2023-03-13T08%253A34%253A30Z%26Version%3D2014-05-26";
const A_SIGNATURE: &str = "9NaGiOspFP5UPcwX8Iwt2YJXXuk=";
/// 2023-03-13T08:34:30Z.
const A_UNIX: u64 = 1_678_696_470;

#[test]
fn vector_a_low_level_steps() {
    let secret = Secret::new("testsecret");
    assert_eq!(rpc_v1::canonicalized_query(&A_PARAMS), A_CANONICALIZED);
    assert_eq!(
        rpc_v1::string_to_sign("GET", A_CANONICALIZED),
        A_STRING_TO_SIGN
    );
    assert_eq!(rpc_v1::signature(A_STRING_TO_SIGN, &secret), A_SIGNATURE);
    let c = rpc_v1::compute("GET", &A_PARAMS, &secret);
    assert_eq!(c.canonicalized_query, A_CANONICALIZED);
    assert_eq!(c.string_to_sign, A_STRING_TO_SIGN);
    assert_eq!(c.signature, A_SIGNATURE);
}

#[test]
fn vector_a_through_the_request_signer() {
    let creds = AlibabaCredentials::new("testid", "testsecret");
    let req = RpcRequest::new("DescribeDedicatedHosts", "2014-05-26")
        .method("GET")
        .param("RegionId", "cn-beijing");
    let signed = rpc_v1::sign(&creds, &req, A_UNIX, "edb2b34af0af9a6d14deaf7c1a5315eb");
    assert_eq!(signed.computation.canonicalized_query, A_CANONICALIZED);
    assert_eq!(signed.computation.string_to_sign, A_STRING_TO_SIGN);
    assert_eq!(signed.signature(), A_SIGNATURE);
    // The documented final URL carries the same parameters (in another order) with the
    // signature encoded as `9NaGiOspFP5UPcwX8Iwt2YJXXuk%3D`.
    let qs = signed.query_string();
    assert!(
        qs.contains("Signature=9NaGiOspFP5UPcwX8Iwt2YJXXuk%3D"),
        "{qs}"
    );
    assert!(qs.contains("Timestamp=2023-03-13T08%3A34%3A30Z"), "{qs}");
    let mut got: Vec<&str> = qs.split('&').collect();
    let doc_url = "AccessKeyId=testid&Action=DescribeDedicatedHosts&Format=JSON&Signature=9NaGiOspFP5UPcwX8Iwt2YJXXuk%3D&SignatureMethod=HMAC-SHA1&SignatureNonce=edb2b34af0af9a6d14deaf7c1a5315eb&SignatureVersion=1.0&Timestamp=2023-03-13T08%3A34%3A30Z&Version=2014-05-26&RegionId=cn-beijing";
    let mut want: Vec<&str> = doc_url.split('&').collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
}

#[test]
fn vector_a_verifies_and_detects_tampering() {
    let secret = Secret::new("testsecret");
    let mut params = owned(&A_PARAMS);
    params.push(("Signature".into(), A_SIGNATURE.into()));
    assert_eq!(rpc_v1::verify("GET", &params, &secret), Ok(()));
    assert_eq!(
        rpc_v1::verify("GET", &params, &Secret::new("testsecreT")),
        Err(RpcV1VerifyError::SignatureMismatch)
    );
    assert_eq!(
        rpc_v1::verify("POST", &params, &secret),
        Err(RpcV1VerifyError::SignatureMismatch)
    );
}

// ---------------------------------------------------------------------------------------
// Vector B: legacy ECS doc, DescribeRegions, with the key spelled `TimeStamp`.

const B_PARAMS: [(&str, &str); 8] = [
    ("TimeStamp", "2016-02-23T12:46:24Z"),
    ("Format", "XML"),
    ("AccessKeyId", "testid"),
    ("Action", "DescribeRegions"),
    ("SignatureMethod", "HMAC-SHA1"),
    ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
    ("Version", "2014-05-26"),
    ("SignatureVersion", "1.0"),
];
const B_STRING_TO_SIGN: &str = "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26TimeStamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26";
const B_SIGNATURE: &str = "CT9X0VtwR86fNWSnsc6v8YGOjuE=";
/// DERIVED, not documented: the same parameters with the key spelled `Timestamp`
/// (computed locally per alibaba.md 5.2; also an expected value in a third-party suite).
const B_DERIVED_TIMESTAMP_SIGNATURE: &str = "OLeaidS1JvxuMvnyHOwuJ+uX5qY=";

#[test]
fn vector_b_legacy_timestamp_spelling() {
    let secret = Secret::new("testsecret");
    let c = rpc_v1::compute("GET", &B_PARAMS, &secret);
    assert_eq!(c.string_to_sign, B_STRING_TO_SIGN);
    assert_eq!(c.signature, B_SIGNATURE);

    // The doc's signed URL, decoded, verifies.
    let mut params = owned(&B_PARAMS);
    params.push(("Signature".into(), B_SIGNATURE.into()));
    assert_eq!(rpc_v1::verify("GET", &params, &secret), Ok(()));

    // The rendering that lost the %26 separators is NOT what is signed.
    let lossy = B_STRING_TO_SIGN.replace("%26", "&");
    assert_ne!(rpc_v1::signature(&lossy, &secret), B_SIGNATURE);
}

#[test]
fn vector_b_derived_companion_with_timestamp_spelling() {
    // DERIVED vector (see B_DERIVED_TIMESTAMP_SIGNATURE): `Timestamp` sorts after
    // `SignatureVersion` just like `TimeStamp`, so only the key bytes differ.
    let params: Vec<(&str, &str)> = B_PARAMS
        .iter()
        .map(|&(k, v)| (if k == "TimeStamp" { "Timestamp" } else { k }, v))
        .collect();
    let c = rpc_v1::compute("GET", &params, &Secret::new("testsecret"));
    assert_eq!(
        c.string_to_sign,
        B_STRING_TO_SIGN.replace("TimeStamp%3D", "Timestamp%3D")
    );
    assert_eq!(c.signature, B_DERIVED_TIMESTAMP_SIGNATURE);
}

// ---------------------------------------------------------------------------------------
// Vector C: ACS3-HMAC-SHA256 (official V3 doc), alibaba.md 5.3.

const C_CANONICAL_REQUEST: &str = "POST
/
ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai
host:ecs.cn-shanghai.aliyuncs.com
x-acs-action:RunInstances
x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
x-acs-date:2023-10-26T10:22:32Z
x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d
x-acs-version:2014-05-26

host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const C_STRING_TO_SIGN: &str =
    "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259";
const C_SIGNATURE: &str = "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0";
const C_AUTHORIZATION: &str = "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0";
/// 2023-10-26T10:22:32Z.
const C_UNIX: u64 = 1_698_315_752;
const C_NONCE: &str = "3156853299f313e23d1673dc12e1703d";

fn c_query() -> Vec<(String, String)> {
    owned(&[
        (
            "ImageId",
            "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
        ),
        ("RegionId", "cn-shanghai"),
    ])
}

fn c_request() -> Acs3Request {
    let mut req = Acs3Request::new("ecs.cn-shanghai.aliyuncs.com", "RunInstances", "2014-05-26");
    req.query = c_query();
    req
}

#[test]
fn vector_c_canonical_request_bytes() {
    // No trailing newline, `\n` line endings, an empty line before SignedHeaders.
    assert!(!C_CANONICAL_REQUEST.ends_with('\n'));
    assert!(!C_CANONICAL_REQUEST.contains('\r'));
    let headers = [
        ("host", "ecs.cn-shanghai.aliyuncs.com"),
        ("x-acs-action", "RunInstances"),
        ("x-acs-version", "2014-05-26"),
        ("x-acs-date", "2023-10-26T10:22:32Z"),
        ("x-acs-signature-nonce", C_NONCE),
        ("x-acs-content-sha256", acs3::EMPTY_BODY_SHA256),
    ];
    let (canon_headers, signed_headers) = acs3::canonical_headers(&headers);
    assert_eq!(
        signed_headers,
        "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
    );
    let canonical = acs3::canonical_request(
        "POST",
        acs3::canonical_uri("/"),
        &acs3::canonical_query_string(&c_query()),
        &canon_headers,
        &signed_headers,
        &acs3::hex_sha256(b""),
    );
    assert_eq!(canonical.as_bytes(), C_CANONICAL_REQUEST.as_bytes());
    assert_eq!(acs3::string_to_sign(&canonical), C_STRING_TO_SIGN);
    let sig = acs3::signature(C_STRING_TO_SIGN, &Secret::new("YourAccessKeySecret"));
    assert_eq!(sig, C_SIGNATURE);
    assert_eq!(
        acs3::authorization("YourAccessKeyId", &signed_headers, &sig),
        C_AUTHORIZATION
    );
    assert_eq!(acs3::hex_sha256(b""), acs3::EMPTY_BODY_SHA256);
}

#[test]
fn vector_c_through_the_request_signer() {
    let creds = AlibabaCredentials::new("YourAccessKeyId", "YourAccessKeySecret");
    let signed = acs3::sign(&creds, &c_request(), C_UNIX, C_NONCE);
    assert_eq!(signed.canonical_request, C_CANONICAL_REQUEST);
    assert_eq!(signed.string_to_sign, C_STRING_TO_SIGN);
    assert_eq!(signed.signature, C_SIGNATURE);
    assert_eq!(signed.authorization(), C_AUTHORIZATION);
    assert_eq!(signed.header("host"), Some("ecs.cn-shanghai.aliyuncs.com"));
    assert_eq!(signed.header("x-acs-action"), Some("RunInstances"));
    assert_eq!(signed.header("x-acs-version"), Some("2014-05-26"));
    assert_eq!(signed.header("x-acs-date"), Some("2023-10-26T10:22:32Z"));
    assert_eq!(signed.header("x-acs-signature-nonce"), Some(C_NONCE));
    assert_eq!(
        signed.header("x-acs-content-sha256"),
        Some(acs3::EMPTY_BODY_SHA256)
    );
    assert_eq!(signed.header("x-acs-security-token"), None);
}

#[test]
fn vector_c_verifies_on_the_server_side() {
    let headers = owned(&[
        ("Host", "ecs.cn-shanghai.aliyuncs.com"),
        ("x-acs-action", "RunInstances"),
        ("x-acs-version", "2014-05-26"),
        ("x-acs-date", "2023-10-26T10:22:32Z"),
        ("x-acs-signature-nonce", C_NONCE),
        ("x-acs-content-sha256", acs3::EMPTY_BODY_SHA256),
        ("Authorization", C_AUTHORIZATION),
        // Unsigned headers the server also receives are ignored.
        ("content-length", "0"),
        ("connection", "keep-alive"),
    ]);
    let query = c_query();
    let received = ReceivedRequest {
        method: "POST",
        path: "/",
        query: &query,
        headers: &headers,
        body: b"",
    };
    let auth = acs3::authorization_of(&received).unwrap();
    assert_eq!(auth.access_key_id, "YourAccessKeyId");
    assert_eq!(
        acs3::verify(&received, &Secret::new("YourAccessKeySecret")),
        Ok(auth)
    );
    assert_eq!(
        acs3::verify(&received, &Secret::new("YourAccessKeySecreT")),
        Err(Acs3VerifyError::SignatureMismatch)
    );
}

// ---------------------------------------------------------------------------------------
// Edge cases. Expected values computed with the official Python SDK algorithm
// (alibabacloud_openapi_util get_rpcsignature / get_authorization); not published vectors.

const EDGE_DESCRIPTION: &str = "a b*c~d/e+f=g&h%i 杭州 ü";

fn edge_rpc_params() -> Vec<(String, String)> {
    let mut p = owned(&[
        ("AccessKeyId", "testid"),
        ("Action", "ModifyImageSharePermission"),
        ("Version", "2014-05-26"),
        ("Format", "JSON"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "n-1"),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2024-01-01T00:00:00Z"),
        ("RegionId", "cn-hangzhou"),
        ("ImageId", "m-x"),
        ("Description", EDGE_DESCRIPTION),
        ("Empty", ""),
        ("Tag.1.Key", "k"),
        ("Tag", "t"),
        ("TagKey", "tk"),
    ]);
    for i in 1..=12 {
        p.push((format!("AddAccount.{i}"), (1_000_000_000 + i).to_string()));
    }
    p
}

#[test]
fn rpc_edge_cases_match_the_official_algorithm() {
    let c = rpc_v1::compute("POST", &edge_rpc_params(), &Secret::new("testsecret"));
    assert_eq!(
        c.canonicalized_query,
        "AccessKeyId=testid&Action=ModifyImageSharePermission\
         &AddAccount.1=1000000001&AddAccount.10=1000000010&AddAccount.11=1000000011\
         &AddAccount.12=1000000012&AddAccount.2=1000000002&AddAccount.3=1000000003\
         &AddAccount.4=1000000004&AddAccount.5=1000000005&AddAccount.6=1000000006\
         &AddAccount.7=1000000007&AddAccount.8=1000000008&AddAccount.9=1000000009\
         &Description=a%20b%2Ac~d%2Fe%2Bf%3Dg%26h%25i%20%E6%9D%AD%E5%B7%9E%20%C3%BC\
         &Empty=&Format=JSON&ImageId=m-x&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1\
         &SignatureNonce=n-1&SignatureVersion=1.0&Tag=t&Tag.1.Key=k&TagKey=tk\
         &Timestamp=2024-01-01T00%3A00%3A00Z&Version=2014-05-26"
    );
    assert!(c.string_to_sign.contains(
        "Description%3Da%2520b%252Ac~d%252Fe%252Bf%253Dg%2526h%2525i%2520%25E6%259D%25AD%25E5%25B7%259E%2520%25C3%25BC"
    ));
    assert!(c
        .string_to_sign
        .starts_with("POST&%2F&AccessKeyId%3Dtestid%26"));
    assert_eq!(c.signature, "oXk+d7vcKRyrDJGuDVvzSWuWVO8=");
}

#[test]
fn repeated_parameters_sort_byte_wise() {
    let req = RpcRequest::new("ModifyImageSharePermission", "2014-05-26")
        .list("AddAccount", (1..=12).map(|i| format!("10000000{i:02}")));
    let signed = rpc_v1::sign(
        &AlibabaCredentials::new("id", "secret"),
        &req,
        1_700_000_000,
        "n",
    );
    let order: Vec<&str> = signed
        .params
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| k.starts_with("AddAccount."))
        .collect();
    assert_eq!(
        order,
        [
            "AddAccount.1",
            "AddAccount.10",
            "AddAccount.11",
            "AddAccount.12",
            "AddAccount.2",
            "AddAccount.3",
            "AddAccount.4",
            "AddAccount.5",
            "AddAccount.6",
            "AddAccount.7",
            "AddAccount.8",
            "AddAccount.9",
        ]
    );
    assert!(signed
        .computation
        .canonicalized_query
        .contains("AddAccount.1=1000000001&AddAccount.10=1000000010&"));
    // The whole list is signed: the ordering is the one verify recomputes.
    rpc_v1::verify("POST", &signed.params, &Secret::new("secret")).unwrap();
}

#[test]
fn keys_sharing_a_prefix_sort_by_key_not_by_pair_string() {
    // Sorting "k=v" strings would put "Tag.1.Key=" before "Tag=" ('.' < '='); sorting keys
    // puts "Tag" first because it is a prefix.
    let q = acs3::canonical_query_string(&[("TagKey", "3"), ("Tag.1.Key", "2"), ("Tag", "1")]);
    assert_eq!(q, "Tag=1&Tag.1.Key=2&TagKey=3");
    let q = rpc_v1::canonicalized_query(&[("TagKey", "3"), ("Tag.1.Key", "2"), ("Tag", "1")]);
    assert_eq!(q, "Tag=1&Tag.1.Key=2&TagKey=3");
}

#[test]
fn empty_values_and_empty_query() {
    assert_eq!(
        rpc_v1::canonicalized_query(&[("A", ""), ("B", "x")]),
        "A=&B=x"
    );
    assert_eq!(
        acs3::canonical_query_string(&[("A", ""), ("B", "x")]),
        "A=&B=x"
    );
    assert_eq!(acs3::canonical_query_string::<&str, &str>(&[]), "");
    assert_eq!(percent_encode(""), "");
    // An empty value is still a value: dropping it changes the signature.
    let secret = Secret::new("s");
    let with = rpc_v1::compute("GET", &[("A", ""), ("B", "x")], &secret);
    let without = rpc_v1::compute("GET", &[("B", "x")], &secret);
    assert_ne!(with.signature, without.signature);
}

fn edge_acs3_request() -> Acs3Request {
    Acs3Request::new(
        "ecs.cn-hangzhou.aliyuncs.com",
        "ModifyImageSharePermission",
        "2014-05-26",
    )
    .query("RegionId", "cn-hangzhou")
    .query("ImageId", "m-x")
    .query("Name", "a b*c~d/e+f=g&h 杭州")
    .query("Empty", "")
    .query("AddAccount.10", "10")
    .query("AddAccount.2", "2")
    .header("content-type", "application/x-www-form-urlencoded")
    .header(
        "User-Agent",
        "AlibabaCloud (Linux; x86_64) Python/3.11 TeaDSL/1",
    )
    .header("accept", "application/json")
    .header("x-acs-accesskey-id", "STS.testid")
    .body(&b"Description=%E6%9D%AD%E5%B7%9E"[..])
}

const EDGE_ACS3_CANONICAL: &str = "POST
/
AddAccount.10=10&AddAccount.2=2&Empty=&ImageId=m-x&Name=a%20b%2Ac~d%2Fe%2Bf%3Dg%26h%20%E6%9D%AD%E5%B7%9E&RegionId=cn-hangzhou
accept:application/json
content-type:application/x-www-form-urlencoded
host:ecs.cn-hangzhou.aliyuncs.com
user-agent:AlibabaCloud (Linux; x86_64) Python/3.11 TeaDSL/1
x-acs-accesskey-id:STS.testid
x-acs-action:ModifyImageSharePermission
x-acs-content-sha256:4084489dd9b5e3f082d4b4be7172f1b10493485d4f251945460f8f2311a426d6
x-acs-date:2024-01-01T00:00:00Z
x-acs-security-token:TOKEN/with+chars=
x-acs-signature-nonce:n-1
x-acs-version:2014-05-26

accept;content-type;host;user-agent;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version
4084489dd9b5e3f082d4b4be7172f1b10493485d4f251945460f8f2311a426d6";

#[test]
fn acs3_sts_with_sdk_style_extra_headers_matches_the_official_algorithm() {
    let creds = AlibabaCredentials::sts("STS.testid", "testsecret", "TOKEN/with+chars=");
    // 2024-01-01T00:00:00Z
    let signed = acs3::sign(&creds, &edge_acs3_request(), 1_704_067_200, "n-1");
    assert_eq!(signed.canonical_request, EDGE_ACS3_CANONICAL);
    assert_eq!(
        signed.signature,
        "bc0787ec03b60fc2caf391401bbe2252dd3b9b4e60bb09ca1b820935afa98ae4"
    );
    assert_eq!(
        signed.authorization(),
        "ACS3-HMAC-SHA256 Credential=STS.testid,SignedHeaders=accept;content-type;host;\
         user-agent;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;\
         x-acs-security-token;x-acs-signature-nonce;x-acs-version,\
         Signature=bc0787ec03b60fc2caf391401bbe2252dd3b9b4e60bb09ca1b820935afa98ae4"
    );
    assert_eq!(
        signed.header("x-acs-security-token"),
        Some("TOKEN/with+chars=")
    );
}

// ---------------------------------------------------------------------------------------
// Round trips: sign, then verify; any single change must fail.

fn rpc_creds() -> AlibabaCredentials {
    AlibabaCredentials::sts("STS.roundtrip", "rt-secret", "rt-token")
}

#[test]
fn rpc_round_trip_and_every_single_change_fails() {
    let creds = rpc_creds();
    let req = RpcRequest::new("ModifyImageSharePermission", "2014-05-26")
        .param("RegionId", "cn-hangzhou")
        .param("ImageId", "m-bp1")
        .param("Note", EDGE_DESCRIPTION)
        .param("Empty", "")
        .list("AddAccount", (1..=12).map(|i| i.to_string()));
    let signed = rpc_v1::sign(&creds, &req, 1_700_000_000, "nonce-rt");
    assert_eq!(signed.param("SecurityToken"), Some("rt-token"));
    let secret = &creds.access_key_secret;
    rpc_v1::verify("POST", &signed.params, secret).unwrap();

    for (i, (key, _)) in signed.params.iter().enumerate() {
        if key == "Signature" {
            continue;
        }
        let mut tampered = signed.params.clone();
        tampered[i].1.push('x');
        let expected = match key.as_str() {
            "SignatureMethod" => Err(RpcV1VerifyError::UnsupportedSignatureMethod {
                found: Some("HMAC-SHA1x".into()),
            }),
            "SignatureVersion" => Err(RpcV1VerifyError::UnsupportedSignatureVersion {
                found: Some("1.0x".into()),
            }),
            _ => Err(RpcV1VerifyError::SignatureMismatch),
        };
        assert_eq!(rpc_v1::verify("POST", &tampered, secret), expected, "{key}");
    }
    // A dropped or an added parameter, another secret, another method, another signature.
    let dropped: Vec<_> = signed
        .params
        .iter()
        .filter(|(k, _)| k != "AddAccount.12")
        .cloned()
        .collect();
    assert_eq!(
        rpc_v1::verify("POST", &dropped, secret),
        Err(RpcV1VerifyError::SignatureMismatch)
    );
    let mut added = signed.params.clone();
    added.push(("AddAccount.13".into(), "13".into()));
    assert_eq!(
        rpc_v1::verify("POST", &added, secret),
        Err(RpcV1VerifyError::SignatureMismatch)
    );
    assert_eq!(
        rpc_v1::verify("POST", &signed.params, &Secret::new("rt-secreT")),
        Err(RpcV1VerifyError::SignatureMismatch)
    );
    assert_eq!(
        rpc_v1::verify("GET", &signed.params, secret),
        Err(RpcV1VerifyError::SignatureMismatch)
    );
    let mut forged = signed.params.clone();
    forged.last_mut().unwrap().1 = A_SIGNATURE.into();
    assert_eq!(
        rpc_v1::verify("POST", &forged, secret),
        Err(RpcV1VerifyError::SignatureMismatch)
    );
}

#[test]
fn rpc_errors_never_contain_the_secret_or_token() {
    let creds = rpc_creds();
    let req = RpcRequest::new("DescribeImages", "2014-05-26");
    let signed = rpc_v1::sign(&creds, &req, 1_700_000_000, "n");
    let err = rpc_v1::verify("POST", &signed.params, &Secret::new("wrong")).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains("rt-secret") && !text.contains("rt-token"),
        "{text}"
    );
}

fn acs3_received<'a>(req: &'a Acs3Request, headers: &'a [(String, String)]) -> ReceivedRequest<'a> {
    ReceivedRequest {
        method: &req.method,
        path: &req.path,
        query: &req.query,
        headers,
        body: &req.body,
    }
}

#[test]
fn acs3_round_trip_and_every_single_change_fails() {
    let creds = AlibabaCredentials::sts("STS.testid", "testsecret", "TOKEN/with+chars=");
    let req = edge_acs3_request();
    let signed = acs3::sign(&creds, &req, 1_704_067_200, "n-1");
    let secret = &creds.access_key_secret;
    let auth = acs3::verify(&acs3_received(&req, &signed.headers), secret).unwrap();
    assert_eq!(auth.access_key_id, "STS.testid");
    assert_eq!(auth.signed_headers.len(), 11);

    // Every signed header value.
    for (i, (name, _)) in signed.headers.iter().enumerate() {
        if name == "authorization" {
            continue;
        }
        let mut tampered = signed.headers.clone();
        tampered[i].1.push('x');
        let expected = if name == "x-acs-content-sha256" {
            Acs3VerifyError::ContentSha256Mismatch
        } else {
            Acs3VerifyError::SignatureMismatch
        };
        assert_eq!(
            acs3::verify(&acs3_received(&req, &tampered), secret),
            Err(expected),
            "{name}"
        );
    }
    // Every query value.
    for i in 0..req.query.len() {
        let mut changed = req.clone();
        changed.query[i].1.push('x');
        assert_eq!(
            acs3::verify(&acs3_received(&changed, &signed.headers), secret),
            Err(Acs3VerifyError::SignatureMismatch),
            "{}",
            req.query[i].0
        );
    }
    // The secret, the method, the path, the body.
    assert_eq!(
        acs3::verify(
            &acs3_received(&req, &signed.headers),
            &Secret::new("testsecreT")
        ),
        Err(Acs3VerifyError::SignatureMismatch)
    );
    let get = req.clone().method("GET");
    assert_eq!(
        acs3::verify(&acs3_received(&get, &signed.headers), secret),
        Err(Acs3VerifyError::SignatureMismatch)
    );
    let other_path = req.clone().path("/other");
    assert_eq!(
        acs3::verify(&acs3_received(&other_path, &signed.headers), secret),
        Err(Acs3VerifyError::SignatureMismatch)
    );
    let other_body = req.clone().body(&b"Description=x"[..]);
    assert_eq!(
        acs3::verify(&acs3_received(&other_body, &signed.headers), secret),
        Err(Acs3VerifyError::ContentSha256Mismatch)
    );
    // A signed header removed from SignedHeaders (and from the request) no longer
    // verifies; an unsigned header added to the request is ignored.
    let mut extra = signed.headers.clone();
    extra.push(("x-unsigned".into(), "whatever".into()));
    assert!(acs3::verify(&acs3_received(&req, &extra), secret).is_ok());
    let trimmed_auth = signed.authorization().replace("user-agent;", "");
    let fewer: Vec<(String, String)> = signed
        .headers
        .iter()
        .filter(|(k, _)| k != "user-agent")
        .map(|(k, v)| {
            if k == "authorization" {
                (k.clone(), trimmed_auth.clone())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    assert_eq!(
        acs3::verify(&acs3_received(&req, &fewer), secret),
        Err(Acs3VerifyError::SignatureMismatch)
    );
}

#[test]
fn acs3_errors_never_contain_the_secret_or_token() {
    let creds = AlibabaCredentials::sts("STS.testid", "testsecret-VALUE", "TOKEN-VALUE");
    let req = edge_acs3_request();
    let signed = acs3::sign(&creds, &req, 1_704_067_200, "n-1");
    let mut no_token = signed.headers.clone();
    no_token.retain(|(k, _)| k != "x-acs-security-token");
    for (headers, secret) in [
        (signed.headers.clone(), Secret::new("wrong")),
        (no_token, creds.access_key_secret.clone()),
    ] {
        let err = acs3::verify(&acs3_received(&req, &headers), &secret).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(
            !text.contains("testsecret-VALUE") && !text.contains("TOKEN-VALUE"),
            "{text}"
        );
    }
}
