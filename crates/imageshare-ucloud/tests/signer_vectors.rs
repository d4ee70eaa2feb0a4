//! Every signature vector of ucloud.md §4.3, §4.4 and §4.5, checked byte for byte (the
//! string to hash) and by value (the signature), through both the low-level functions and
//! `sign_request`. The Go `TestSign` value 682fc4fb... is deliberately absent: it signs an
//! unflattened map (the Go JSON-encoder path), not the wire form (ucloud.md §4.4).

use imageshare_core::Secret;
use imageshare_ucloud::signer::{self, Param};
use imageshare_ucloud::UCloudCredentials;
use serde_json::json;

const PUBLIC_KEY: &str = "ucloudsomeone@example.com1296235120854146120";
const PRIVATE_KEY: &str = "46f09bb9fab4f12dfc160dae12273d5332b5debe";

fn pairs(p: &[(&str, &str)]) -> Vec<Param> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Checks the string to hash and the signature of `params` (PublicKey included), then
/// that `sign_request` (which adds PublicKey itself) gives the same signature, and that
/// the result verifies.
fn check(params: &[Param], private_key: &str, string: &str, signature: &str) {
    let key = Secret::new(private_key);
    assert_eq!(signer::string_to_sign(params, &key).expose(), string);
    assert_eq!(
        signer::canonical_string(params),
        string.strip_suffix(private_key).unwrap()
    );
    assert_eq!(signer::sign(params, &key), signature);

    let public_key = params
        .iter()
        .find(|(k, _)| k == "PublicKey")
        .map(|(_, v)| v.clone())
        .expect("vector has a PublicKey");
    let token = params
        .iter()
        .find(|(k, _)| k == "SecurityToken")
        .map(|(_, v)| v.clone());
    let mut creds = UCloudCredentials::new(public_key, private_key);
    if let Some(t) = token {
        creds = creds.with_security_token(t);
    }
    let without: Vec<Param> = params
        .iter()
        .filter(|(k, _)| k != "PublicKey" && k != "SecurityToken")
        .cloned()
        .collect();
    let signed = signer::sign_request(without, &creds);
    assert_eq!(
        signed.last(),
        Some(&("Signature".to_owned(), signature.to_owned()))
    );
    assert_eq!(signer::verify(&signed, &key), Ok(()));
}

#[test]
fn official_worked_example_4_3() {
    // Parameters in the documented (unsorted) order.
    let params = pairs(&[
        ("Action", "DescribeUHostInstance"),
        ("Region", "cn-bj2"),
        ("Limit", "10"),
        ("PublicKey", PUBLIC_KEY),
    ]);
    check(
        &params,
        PRIVATE_KEY,
        "ActionDescribeUHostInstanceLimit10PublicKeyucloudsomeone@example.com1296235120854146120Regioncn-bj246f09bb9fab4f12dfc160dae12273d5332b5debe",
        "cba5cf5ec4d4233d206b1b54951e3787350a642f",
    );
}

#[test]
fn official_worked_example_from_the_documented_json_body() {
    // The documented request body, with Limit as a JSON number.
    let body = json!({"Action":"DescribeUHostInstance","Limit":10,"PublicKey":PUBLIC_KEY,"Region":"cn-bj2","Signature":"cba5cf5ec4d4233d206b1b54951e3787350a642f"});
    let params = signer::flatten(&body).unwrap();
    assert_eq!(signer::verify(&params, &Secret::new(PRIVATE_KEY)), Ok(()));
    assert_eq!(
        signer::sign(&params, &Secret::new(PRIVATE_KEY)),
        "cba5cf5ec4d4233d206b1b54951e3787350a642f"
    );
}

fn create_uhost_params() -> Vec<Param> {
    // Built from JSON with integer numbers, to exercise number flattening too.
    signer::flatten(&json!({
        "Action": "CreateUHostInstance",
        "CPU": 2,
        "ChargeType": "Month",
        "DiskSpace": 10,
        "ImageId": "f43736e1-65a5-4bea-ad2e-8a46e18883c2",
        "LoginMode": "Password",
        "Memory": 2048,
        "Name": "Host01",
        "Password": "VUNsb3VkLmNu",
        "PublicKey": PUBLIC_KEY,
        "Quantity": 1,
        "Region": "cn-bj2",
        "Zone": "cn-bj2-04",
    }))
    .unwrap()
}

#[test]
fn sdk_create_uhost_instance_4_4() {
    check(
        &create_uhost_params(),
        PRIVATE_KEY,
        "ActionCreateUHostInstanceCPU2ChargeTypeMonthDiskSpace10ImageIdf43736e1-65a5-4bea-ad2e-8a46e18883c2LoginModePasswordMemory2048NameHost01PasswordVUNsb3VkLmNuPublicKeyucloudsomeone@example.com1296235120854146120Quantity1Regioncn-bj2Zonecn-bj2-0446f09bb9fab4f12dfc160dae12273d5332b5debe",
        "4f9ef5df2abab2c6fccd1e9515cb7e2df8c6bb65",
    );
}

#[test]
fn sdk_long_array_4_4() {
    // foo, bar, 42 repeated 4 times; 42 as a JSON number and as a string must sign alike.
    let backends =
        json!(["foo", "bar", 42, "foo", "bar", "42", "foo", "bar", 42, "foo", "bar", 42]);
    let params = signer::flatten(&json!({
        "Action": "AllocateBackendBatch",
        "Backends": backends,
        "PublicKey": PUBLIC_KEY,
    }))
    .unwrap();
    assert_eq!(params.len(), 14);
    assert_eq!(params[1], ("Backends.0".to_owned(), "foo".to_owned()));
    assert_eq!(params[12], ("Backends.11".to_owned(), "42".to_owned()));
    check(
        &params,
        PRIVATE_KEY,
        "ActionAllocateBackendBatchBackends.0fooBackends.1barBackends.10barBackends.1142Backends.242Backends.3fooBackends.4barBackends.542Backends.6fooBackends.7barBackends.842Backends.9fooPublicKeyucloudsomeone@example.com129623512085414612046f09bb9fab4f12dfc160dae12273d5332b5debe",
        "6bc32642779f8cb0bb3d3f128b1c0688abf9a1a3",
    );
}

#[test]
fn sdk_sts_security_token_is_signed_4_4() {
    let mut params = create_uhost_params();
    params.push(("SecurityToken".into(), "some_stoken".into()));
    check(
        &params,
        PRIVATE_KEY,
        "ActionCreateUHostInstanceCPU2ChargeTypeMonthDiskSpace10ImageIdf43736e1-65a5-4bea-ad2e-8a46e18883c2LoginModePasswordMemory2048NameHost01PasswordVUNsb3VkLmNuPublicKeyucloudsomeone@example.com1296235120854146120Quantity1Regioncn-bj2SecurityTokensome_stokenZonecn-bj2-0446f09bb9fab4f12dfc160dae12273d5332b5debe",
        "170c480ad176a247b324eb92a2cfe536aacfbd04",
    );
    // And sign_request puts the token on the wire.
    let creds = UCloudCredentials::new(PUBLIC_KEY, PRIVATE_KEY).with_security_token("some_stoken");
    let signed = signer::sign_request(create_uhost_params(), &creds);
    assert!(signed.contains(&("SecurityToken".into(), "some_stoken".into())));
}

#[test]
fn python_doctest_verify_ac_without_public_key_4_4() {
    // verify_ac("my_private_key", {"foo": "bar"}): no PublicKey at all.
    let params = pairs(&[("foo", "bar")]);
    let key = Secret::new("my_private_key");
    assert_eq!(
        signer::string_to_sign(&params, &key).expose(),
        "foobarmy_private_key"
    );
    assert_eq!(
        signer::sign(&params, &key),
        "634edc1bb957c0d65e5ab5494cf3b7784fbc87af"
    );
}

#[test]
fn python_doctest_credential_verify_ac_4_4() {
    // Credential("my_public_key", "my_private_key").verify_ac({"foo": "bar"}): "P" < "f".
    let params = pairs(&[("foo", "bar"), ("PublicKey", "my_public_key")]);
    check(
        &params,
        "my_private_key",
        "PublicKeymy_public_keyfoobarmy_private_key",
        "d4411ab30953fb0bbcb1e7313081f05e4e91a394",
    );
}

#[test]
fn white_label_variant_someone_4_4() {
    let params = pairs(&[
        ("PublicKey", "someone@example.com1296235120854146120"),
        ("Region", "cn-bj2"),
        ("Limit", "10"),
        ("Action", "DescribeUHostInstance"),
    ]);
    check(
        &params,
        PRIVATE_KEY,
        "ActionDescribeUHostInstanceLimit10PublicKeysomeone@example.com1296235120854146120Regioncn-bj246f09bb9fab4f12dfc160dae12273d5332b5debe",
        "4201919d267504385deb93af19e0197870fed36b",
    );
    // The pair some white-label pages print (someone@... with cba5cf...) is inconsistent.
    assert_ne!(
        signer::sign(&params, &Secret::new(PRIVATE_KEY)),
        "cba5cf5ec4d4233d206b1b54951e3787350a642f"
    );
}

#[test]
fn white_label_variant_john_doe_4_4() {
    let params = pairs(&[
        ("PublicKey", "john.doe@example.com1296235120854146120"),
        ("Region", "vn-sng"),
        ("Limit", "10"),
        ("Action", "DescribeUHostInstance"),
    ]);
    check(
        &params,
        PRIVATE_KEY,
        "ActionDescribeUHostInstanceLimit10PublicKeyjohn.doe@example.com1296235120854146120Regionvn-sng46f09bb9fab4f12dfc160dae12273d5332b5debe",
        "52fc1191f026532c9100946c6a863a90d5f766ed",
    );
}

#[test]
fn adapter_describe_image_4_5() {
    let params = signer::flatten(&json!({
        "Action": "DescribeImage",
        "Region": "cn-bj2",
        "ProjectId": "org-xxxxxx",
        "ImageType": "Custom",
        "Offset": 0,
        "Limit": 20,
        "PublicKey": PUBLIC_KEY,
    }))
    .unwrap();
    check(
        &params,
        PRIVATE_KEY,
        "ActionDescribeImageImageTypeCustomLimit20Offset0ProjectIdorg-xxxxxxPublicKeyucloudsomeone@example.com1296235120854146120Regioncn-bj246f09bb9fab4f12dfc160dae12273d5332b5debe",
        "0e1d9daeb27f0a0ae73ba99470d699ae4b489418",
    );
}

#[test]
fn adapter_copy_custom_image_4_5() {
    let params = signer::flatten(&json!({
        "Action": "CopyCustomImage",
        "Region": "cn-bj2",
        "SourceImageId": "uimage-xxxxxx",
        "TargetProjectId": "org-yyyyyy",
        "TargetRegionList": ["cn-sh2", "hk"],
        "PublicKey": PUBLIC_KEY,
    }))
    .unwrap();
    check(
        &params,
        PRIVATE_KEY,
        "ActionCopyCustomImagePublicKeyucloudsomeone@example.com1296235120854146120Regioncn-bj2SourceImageIduimage-xxxxxxTargetProjectIdorg-yyyyyyTargetRegionList.0cn-sh2TargetRegionList.1hk46f09bb9fab4f12dfc160dae12273d5332b5debe",
        "776fe20a0f55dc84dd9131f10351f92020061336",
    );
}

#[test]
fn adapter_types_4_5() {
    let params = signer::flatten(&json!({
        "Action": "Foo",
        "Auth": true,
        "Price": 42.0,
        "Ratio": 0.5,
        "Ids": ["a", "b"],
        "PublicKey": PUBLIC_KEY,
    }))
    .unwrap();
    assert!(params.contains(&("Price".into(), "42".into())));
    assert!(params.contains(&("Ratio".into(), "0.5".into())));
    assert!(params.contains(&("Auth".into(), "true".into())));
    check(
        &params,
        PRIVATE_KEY,
        "ActionFooAuthtrueIds.0aIds.1bPrice42PublicKeyucloudsomeone@example.com1296235120854146120Ratio0.546f09bb9fab4f12dfc160dae12273d5332b5debe",
        "6e2063ae0f68f50514a5333d046bf3e1dc35b1c9",
    );
}

/// Not in ucloud.md: the worked example of UCloud's UIoT "API access" guide (关于API接入,
/// GetUIoTCoreDeviceShadow), whose keys contain `+` and `/`. Its string to hash and
/// signature are printed in that guide; recomputed independently with Python's hashlib.
#[test]
fn extra_uiot_guide_example_with_plus_and_slash_in_the_keys() {
    let public_key = "CJf+LfjjXPk70z/fsBlK9sHC+kBTTj7gr2g/C/R7YSi3EFTKCmh7Bp5W1UH64D/O";
    let private_key = "ztqlj0vtg6Por5d/etqpadpTZwscLRh5cIsFAHbwuvnMY4mAWI+GT5C2yzj/KiZf";
    let params = pairs(&[
        ("Region", "cn-sh2"),
        ("ProductSN", "8pi2i730vxsala2a"),
        ("DeviceSN", "ark1d4ug1evfb1jy"),
        ("Action", "GetUIoTCoreDeviceShadow"),
        ("ProjectId", "org-z44lmf12e"),
        ("PublicKey", public_key),
    ]);
    check(
        &params,
        private_key,
        "ActionGetUIoTCoreDeviceShadowDeviceSNark1d4ug1evfb1jyProductSN8pi2i730vxsala2aProjectIdorg-z44lmf12ePublicKeyCJf+LfjjXPk70z/fsBlK9sHC+kBTTj7gr2g/C/R7YSi3EFTKCmh7Bp5W1UH64D/ORegioncn-sh2ztqlj0vtg6Por5d/etqpadpTZwscLRh5cIsFAHbwuvnMY4mAWI+GT5C2yzj/KiZf",
        "f1e6b4e35df41b42232e059f6020c7fd51b2889e",
    );
    // The guide's URL encoding of the public key.
    assert_eq!(
        signer::form_encode(&pairs(&[("PublicKey", public_key)])),
        "PublicKey=CJf%2BLfjjXPk70z%2FfsBlK9sHC%2BkBTTj7gr2g%2FC%2FR7YSi3EFTKCmh7Bp5W1UH64D%2FO"
    );
    // Its GET query, decoded, verifies.
    let query = "Action=GetUIoTCoreDeviceShadow&DeviceSN=ark1d4ug1evfb1jy&ProductSN=8pi2i730vxsala2a&ProjectId=org-z44lmf12e&PublicKey=CJf%2BLfjjXPk70z%2FfsBlK9sHC%2BkBTTj7gr2g%2FC%2FR7YSi3EFTKCmh7Bp5W1UH64D%2FO&Region=cn-sh2&Signature=f1e6b4e35df41b42232e059f6020c7fd51b2889e";
    let received = signer::form_decode(query).unwrap();
    assert_eq!(signer::verify(&received, &Secret::new(private_key)), Ok(()));
}
