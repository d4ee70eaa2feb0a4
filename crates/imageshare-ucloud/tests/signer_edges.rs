//! Edge cases of flattening, sorting and form encoding, and sign/verify round trips.
//! Values marked "python hashlib" were computed independently with Python's hashlib over
//! the hand-written string.

use imageshare_core::Secret;
use imageshare_ucloud::signer::{self, FlattenError, FormError, Param, VerifyError};
use imageshare_ucloud::UCloudCredentials;
use serde_json::json;
use sha1::{Digest, Sha1};

fn pairs(p: &[(&str, &str)]) -> Vec<Param> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn sha1_hex(s: &str) -> String {
    hex::encode(Sha1::digest(s.as_bytes()))
}

#[test]
fn special_characters_and_unicode_are_signed_raw() {
    let params = pairs(&[
        ("Action", "Echo"),
        ("Name", "héllo wörld 中文"),
        ("Chars", "* ~ / + = & % ?"),
        ("Empty", ""),
        ("PublicKey", "pk"),
    ]);
    let key = Secret::new("sk/+=");
    let expected = "ActionEchoChars* ~ / + = & % ?EmptyNamehéllo wörld 中文PublicKeypksk/+=";
    assert_eq!(signer::string_to_sign(&params, &key).expose(), expected);
    // python hashlib
    assert_eq!(
        signer::sign(&params, &key),
        "d6cad3e7eec9f5c574d41cd937dfa03a65b87505"
    );
    assert_eq!(signer::sign(&params, &key), sha1_hex(expected));
}

#[test]
fn special_characters_survive_the_form_round_trip() {
    let creds = UCloudCredentials::new("someone+tag@example.com", "p/r+i=v&k");
    let params = pairs(&[
        ("Action", "Echo"),
        ("Text", "a b*c~d/e+f=g&h%i?j#k"),
        ("Unicode", "镜像 ünïcödé 🚀"),
        ("Empty", ""),
        ("Spaces", "  leading and trailing  "),
    ]);
    let signed = signer::sign_request(params.clone(), &creds);
    let body = signer::form_encode(&signed);
    // Nothing that would split the body is left raw.
    assert!(!body.contains(' '));
    assert_eq!(body.matches('&').count(), signed.len() - 1);
    let decoded = signer::form_decode(&body).unwrap();
    assert_eq!(decoded, signed);
    assert_eq!(signer::verify(&decoded, &creds.private_key), Ok(()));
    for p in &params {
        assert!(decoded.contains(p), "{p:?} lost in {body}");
    }
}

#[test]
fn form_encode_escapes_like_go_url_values() {
    let body = signer::form_encode(&pairs(&[
        ("K", "a b"),
        ("Star", "*"),
        ("Tilde", "~-_."),
        ("Slash", "/+=&"),
        ("U", "é"),
        ("At", "x@y"),
        ("Key.0", "v"),
    ]));
    assert_eq!(
        body,
        "K=a+b&Star=%2A&Tilde=~-_.&Slash=%2F%2B%3D%26&U=%C3%A9&At=x%40y&Key.0=v"
    );
}

#[test]
fn form_decode_handles_plus_percent_and_bare_names() {
    assert_eq!(
        signer::form_decode("a=1+2&b=%2B%20&&c&d=&e=x%3Dy").unwrap(),
        pairs(&[
            ("a", "1 2"),
            ("b", "+ "),
            ("c", ""),
            ("d", ""),
            ("e", "x=y")
        ])
    );
    assert_eq!(signer::form_decode("").unwrap(), Vec::<Param>::new());
    assert_eq!(
        signer::form_decode("ok=1&bad=%4"),
        Err(FormError::InvalidEscape(9))
    );
    assert!(matches!(
        signer::form_decode("x=%C3"),
        Err(FormError::InvalidUtf8(_))
    ));
}

#[test]
fn the_signature_covers_decoded_values_not_the_escaped_body() {
    // ucloud.md §3.2: a GET query with PublicKey=...%40... signs the decoded value.
    let key = Secret::new("46f09bb9fab4f12dfc160dae12273d5332b5debe");
    let query = "Action=DescribeUHostInstance&Region=cn-bj2&Limit=10\
                 &PublicKey=ucloudsomeone%40example.com1296235120854146120\
                 &Signature=cba5cf5ec4d4233d206b1b54951e3787350a642f";
    let params = signer::form_decode(query).unwrap();
    assert_eq!(signer::verify(&params, &key), Ok(()));
}

#[test]
fn empty_values_are_kept_and_signed() {
    let params = signer::flatten(&json!({"A": "", "B": "x", "Gone": null})).unwrap();
    assert_eq!(params, pairs(&[("A", ""), ("B", "x")]));
    let key = Secret::new("k");
    assert_eq!(signer::string_to_sign(&params, &key).expose(), "ABxk");
    // Dropping the empty parameter changes the signature.
    assert_ne!(
        signer::sign(&params, &key),
        signer::sign(&pairs(&[("B", "x")]), &key)
    );
}

#[test]
fn long_arrays_sort_by_bytes_key_10_before_key_2() {
    let items: Vec<String> = (0..12).map(|i| format!("v{i}")).collect();
    let params = signer::flatten(&json!({ "Key": items })).unwrap();
    assert_eq!(params.len(), 12);
    assert_eq!(params[10], ("Key.10".to_owned(), "v10".to_owned()));
    assert_eq!(
        signer::canonical_string(&params),
        "Key.0v0Key.1v1Key.10v10Key.11v11Key.2v2Key.3v3Key.4v4Key.5v5Key.6v6Key.7v7Key.8v8Key.9v9"
    );
}

#[test]
fn keys_sharing_a_prefix_and_case_sort_in_byte_order() {
    let params = pairs(&[
        ("Ab", "1"),
        ("Abc", "2"),
        ("Ab.0", "3"),
        ("AbC", "4"),
        ("action", "5"),
        ("Zone", "6"),
    ]);
    let key = Secret::new("k");
    let expected = "Ab1Ab.03AbC4Abc2Zone6action5k";
    assert_eq!(signer::string_to_sign(&params, &key).expose(), expected);
    // python hashlib
    assert_eq!(
        signer::sign(&params, &key),
        "e281bbaa5a627c938a832a731acd4e3135036181"
    );
    // The input order never matters.
    let mut reversed = params.clone();
    reversed.reverse();
    assert_eq!(signer::sign(&reversed, &key), signer::sign(&params, &key));
}

#[test]
fn nested_objects_and_arrays_flatten_with_dots() {
    let params = signer::flatten(&json!({
        "Action": "Nest",
        "Arr": [{"Region": "cn-bj2", "Zone": "z"}],
        "Obj": {"A": 1, "B": {"C": false}},
        "Null": null,
        "List": [[1, 2], [3]],
        "EmptyList": [],
        "EmptyObj": {},
        "PublicKey": "pk",
    }))
    .unwrap();
    let key = Secret::new("sk");
    let expected = "ActionNestArr.0.Regioncn-bj2Arr.0.ZonezList.0.01List.0.12List.1.03Obj.A1Obj.B.CfalsePublicKeypksk";
    assert_eq!(signer::string_to_sign(&params, &key).expose(), expected);
    // python hashlib
    assert_eq!(
        signer::sign(&params, &key),
        "9ca0c20c8d3a914aee4a53fbfb793f4e6bc2747c"
    );
    assert!(!params.iter().any(|(k, _)| k.starts_with("Null")
        || k.starts_with("EmptyList")
        || k.starts_with("EmptyObj")));
}

#[test]
fn numbers_format_like_the_go_sdk() {
    let cases = [
        (json!(42.0), "42"),
        (json!(42.1), "42.1"),
        (json!(0.5), "0.5"),
        (json!(-3.0), "-3"),
        (json!(0.00001), "0.00001"),
        (json!(1e21), "1000000000000000000000"),
        (json!(0.1 + 0.2), "0.30000000000000004"),
        (json!(0), "0"),
        (json!(-7), "-7"),
        (json!(u64::MAX), "18446744073709551615"),
        (json!(i64::MIN), "-9223372036854775808"),
    ];
    for (value, expected) in cases {
        let p = signer::flatten(&json!({ "N": value })).unwrap();
        assert_eq!(p, pairs(&[("N", expected)]), "{value}");
    }
    assert_eq!(signer::format_float(42.0), "42");
    // A widened f32 keeps its binary noise, as in Go: callers must pass f64.
    assert_eq!(signer::format_float(42.1f32 as f64), "42.099998474121094");
}

#[test]
fn booleans_are_lower_case() {
    let p = signer::flatten(&json!({"T": true, "F": false, "L": [true]})).unwrap();
    assert_eq!(p, pairs(&[("F", "false"), ("L.0", "true"), ("T", "true")]));
}

#[test]
fn flatten_refuses_non_objects() {
    assert_eq!(
        signer::flatten(&json!(["a"])),
        Err(FlattenError::NotAnObject("an array"))
    );
    assert_eq!(
        signer::flatten(&json!("x")),
        Err(FlattenError::NotAnObject("a string"))
    );
    assert_eq!(
        signer::flatten(&json!(null)),
        Err(FlattenError::NotAnObject("null"))
    );
    assert!(signer::flatten(&json!(1)).is_err());
    assert!(signer::flatten(&json!(true)).is_err());
    assert_eq!(signer::flatten(&json!({})).unwrap(), Vec::<Param>::new());
}

#[test]
fn an_existing_signature_parameter_is_not_signed() {
    let key = Secret::new("k");
    let base = pairs(&[("A", "1")]);
    let mut with = base.clone();
    with.push(("Signature".into(), "whatever".into()));
    assert_eq!(signer::sign(&with, &key), signer::sign(&base, &key));
    assert_eq!(signer::canonical_string(&with), "A1");
}

#[test]
fn sign_request_replaces_stale_auth_parameters() {
    let creds = UCloudCredentials::new("pk-new", "sk");
    let params = pairs(&[
        ("Action", "X"),
        ("PublicKey", "pk-old"),
        ("SecurityToken", "old-token"),
        ("Signature", "old"),
    ]);
    let signed = signer::sign_request(params, &creds);
    assert_eq!(
        signed[..2],
        pairs(&[("Action", "X"), ("PublicKey", "pk-new")])[..]
    );
    assert_eq!(signed.len(), 3);
    assert_eq!(signed[2].0, "Signature");
    assert_eq!(signed[2].1.len(), 40);
    assert!(signed[2]
        .1
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(creds.sign(pairs(&[("Action", "X")])), signed);
}

// ---- round trips ------------------------------------------------------------------------

const PK: &str = "ucloudsomeone@example.com1296235120854146120";
const SK: &str = "46f09bb9fab4f12dfc160dae12273d5332b5debe";

fn signed_request() -> Vec<Param> {
    let creds = UCloudCredentials::new(PK, SK).with_security_token("tok");
    let params = signer::flatten(&json!({
        "Action": "CopyCustomImage",
        "Region": "cn-bj2",
        "SourceImageId": "uimage-abc",
        "TargetProjectId": "org-yyyyyy",
        "TargetRegionList": ["cn-sh2", "hk"],
        "Auth": true,
        "Ratio": 0.5,
        "Empty": "",
    }))
    .unwrap();
    signer::sign_request(params, &creds)
}

#[test]
fn sign_then_verify_succeeds() {
    let req = signed_request();
    assert_eq!(signer::verify(&req, &Secret::new(SK)), Ok(()));
    assert_eq!(
        signer::verify_with(&req, |pk| (pk == PK).then(|| Secret::new(SK))),
        Ok(PK.to_owned())
    );
}

#[test]
fn changing_any_single_value_breaks_the_signature() {
    let req = signed_request();
    let key = Secret::new(SK);
    for i in 0..req.len() {
        if req[i].0 == "Signature" || req[i].0 == "PublicKey" {
            continue;
        }
        let mut bad = req.clone();
        bad[i].1.push('x');
        assert!(
            matches!(
                signer::verify(&bad, &key),
                Err(VerifyError::Mismatch { .. })
            ),
            "changing {} went unnoticed",
            req[i].0
        );
    }
    // A different public key with the same private key: the PublicKey is signed too.
    let mut bad = req.clone();
    let pk = bad.iter_mut().find(|(k, _)| k == "PublicKey").unwrap();
    pk.1 = "someone-else".into();
    assert!(matches!(
        signer::verify(&bad, &key),
        Err(VerifyError::Mismatch { .. })
    ));
}

#[test]
fn renaming_any_single_parameter_breaks_the_signature() {
    let req = signed_request();
    let key = Secret::new(SK);
    for i in 0..req.len() {
        if matches!(req[i].0.as_str(), "Signature" | "PublicKey") {
            continue;
        }
        let mut bad = req.clone();
        bad[i].0 = bad[i].0.to_lowercase();
        assert!(
            matches!(
                signer::verify(&bad, &key),
                Err(VerifyError::Mismatch { .. })
            ),
            "renaming {} went unnoticed",
            req[i].0
        );
    }
}

#[test]
fn removing_any_single_parameter_breaks_the_signature() {
    let req = signed_request();
    let key = Secret::new(SK);
    for i in 0..req.len() {
        let mut bad = req.clone();
        let (name, _) = bad.remove(i);
        let err = signer::verify(&bad, &key).unwrap_err();
        let expected_code = match name.as_str() {
            "Signature" => 170,
            "PublicKey" => 172,
            _ => 171,
        };
        assert_eq!(err.ret_code(), expected_code, "removing {name}: {err}");
    }
}

#[test]
fn adding_a_parameter_breaks_the_signature() {
    let mut req = signed_request();
    req.push(("Extra".into(), "1".into()));
    assert!(matches!(
        signer::verify(&req, &Secret::new(SK)),
        Err(VerifyError::Mismatch { .. })
    ));
}

#[test]
fn the_wrong_private_key_breaks_the_signature() {
    let req = signed_request();
    let mut wrong = SK.to_owned();
    wrong.replace_range(0..1, "5");
    let err = signer::verify(&req, &Secret::new(wrong)).unwrap_err();
    assert_eq!(err.ret_code(), 171);
    assert_eq!(err.message(), "Signature VerifyAC Error");
    assert!(signer::verify(&req, &Secret::new("")).is_err());
}

#[test]
fn signature_comparison_is_exact() {
    let mut req = signed_request();
    let sig = req.iter_mut().find(|(k, _)| k == "Signature").unwrap();
    sig.1 = sig.1.to_uppercase();
    assert!(matches!(
        signer::verify(&req, &Secret::new(SK)),
        Err(VerifyError::Mismatch { .. })
    ));
    let mut short = signed_request();
    short.last_mut().unwrap().1.pop();
    assert!(signer::verify(&short, &Secret::new(SK)).is_err());
}

#[test]
fn verify_errors_carry_the_gateway_ret_codes() {
    let key = Secret::new(SK);
    let req = signed_request();

    let no_sig: Vec<Param> = req
        .iter()
        .filter(|(k, _)| k != "Signature")
        .cloned()
        .collect();
    let e = signer::verify(&no_sig, &key).unwrap_err();
    assert_eq!(e, VerifyError::MissingSignature);
    assert_eq!((e.ret_code(), e.message()), (170, "Missing Signature"));

    let mut empty_sig = req.clone();
    empty_sig.last_mut().unwrap().1.clear();
    assert_eq!(
        signer::verify(&empty_sig, &key),
        Err(VerifyError::MissingSignature)
    );

    let no_pk: Vec<Param> = req
        .iter()
        .filter(|(k, _)| k != "PublicKey")
        .cloned()
        .collect();
    let e = signer::verify(&no_pk, &key).unwrap_err();
    assert_eq!(e, VerifyError::MissingPublicKey);
    assert_eq!(e.ret_code(), 172);

    let e = signer::verify_with(&req, |_| None).unwrap_err();
    assert_eq!(
        e,
        VerifyError::UnknownPublicKey {
            public_key: PK.to_owned()
        }
    );
    assert_eq!((e.ret_code(), e.message()), (172, "User Not Exists"));

    let mut dup = req.clone();
    dup.insert(0, ("Region".into(), "cn-bj2".into()));
    let e = signer::verify(&dup, &key).unwrap_err();
    assert_eq!(
        e,
        VerifyError::DuplicateParameter {
            name: "Region".into()
        }
    );
    assert_eq!(e.ret_code(), 171);

    let mut two_sigs = req.clone();
    two_sigs.push(req.last().unwrap().clone());
    assert_eq!(
        signer::verify(&two_sigs, &key),
        Err(VerifyError::DuplicateParameter {
            name: "Signature".into()
        })
    );
}

#[test]
fn verify_errors_never_show_the_private_key_or_the_expected_signature() {
    let req = signed_request();
    let expected = req.last().unwrap().1.clone();
    let mut bad = req.clone();
    bad.last_mut().unwrap().1 = "0".repeat(40);
    let err = signer::verify(&bad, &Secret::new(SK)).unwrap_err();
    for text in [format!("{err}"), format!("{err:?}")] {
        assert!(!text.contains(SK), "{text}");
        assert!(!text.contains(&expected), "{text}");
    }
    // The string to hash contains the key, so it never prints.
    let s = signer::string_to_sign(&req, &Secret::new(SK));
    assert_eq!(format!("{s:?}"), "***");
    assert_eq!(format!("{s}"), "***");
}
