//! The error envelope `{RequestId, HostId, Code, Message, Recommend}`: auth failures,
//! not found, verbatim service codes, throttling honouring `x-acs-retry-after` then
//! success, 5xx retried with fresh signatures; builders and secrets.

mod common;

use std::time::{Duration, Instant};

use common::*;
use imageshare_alibaba::{EcsImageSharing, SasImageSharing, SignatureVersion, ECS, SAS};
use imageshare_core::credentials::StaticEnv;
use imageshare_core::transport::RetryReason;
use imageshare_core::{ClientBuilder, Error, ImageSharing, ImageSharingExt, Principal};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

const IMAGE: &str = "m-bp18ygjuqnwhechc";

fn envelope(code: &str, message: &str) -> serde_json::Value {
    json!({
        "RequestId": "7DC0013A-1111-2222-3333-444455556666",
        "HostId": "ecs.cn-hangzhou.aliyuncs.com",
        "Code": code,
        "Message": message,
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}&product=Ecs")
    })
}

#[tokio::test]
async fn auth_errors_become_error_auth_with_code_and_request_id() {
    for (status, code) in [
        (403, "SignatureDoesNotMatch"),
        (404, "InvalidAccessKeyId.NotFound"),
        (400, "InvalidTimeStamp.Expired"),
        (400, "SignatureNonceUsed"),
        (400, "IncompleteSignature"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(json(
                status,
                envelope(
                    code,
                    "Specified signature is not matched with our calculation.",
                ),
            ))
            .expect(1) // never retried
            .mount(&server)
            .await;
        let err = ecs(&server.uri(), SignatureVersion::Acs3, creds())
            .share(&IMAGE.into(), &[Principal::account("1234567890")])
            .await
            .unwrap_err();
        match &err {
            Error::Auth {
                provider,
                code: c,
                request_id,
                ..
            } => {
                assert_eq!(*provider, ECS);
                assert_eq!(c, code);
                assert_eq!(
                    request_id.as_deref(),
                    Some("7DC0013A-1111-2222-3333-444455556666")
                );
            }
            other => panic!("{code}: expected Auth, got {other:?}"),
        }
        assert!(!err.to_string().contains(SECRET));
    }
}

#[tokio::test]
async fn image_not_found_becomes_error_not_found_for_that_image() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            404,
            envelope(
                "InvalidImageId.NotFound",
                "The specified ImageId does not exist.",
            ),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = ecs(&server.uri(), SignatureVersion::RpcV1, creds())
        .sharees(&IMAGE.into())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { provider: ECS, what: "image", id, .. } if id == IMAGE),
        "{err:?}"
    );
}

#[tokio::test]
async fn service_codes_are_kept_verbatim_with_status_and_request_id() {
    for (status, code) in [
        (403, "QuotaExceed.ShareImageUser"),
        (404, "InvalidAccount.Forbbiden"),
        (404, "InvalidAccount.NotFound"),
        (403, "InvalidOperation.ServiceKeyEncryptedImageUnsupported"),
        (403, "AssumeRoleError"),
        (403, "InvalidImageId.BidMismatch"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(json(status, envelope(code, "refused")))
            .expect(1)
            .mount(&server)
            .await;
        let err = ecs(&server.uri(), SignatureVersion::Acs3, creds())
            .share(&IMAGE.into(), &[Principal::account("1234567890")])
            .await
            .unwrap_err();
        let Error::Api(api) = &err else {
            panic!("{code}: expected Api, got {err:?}")
        };
        assert_eq!(api.code, code);
        assert_eq!(api.status, status);
        assert_eq!(api.action, "ModifyImageSharePermission");
        assert_eq!(api.message, "refused");
        assert_eq!(
            api.request_id.as_deref(),
            Some("7DC0013A-1111-2222-3333-444455556666")
        );
        assert_eq!(api.retry, None);
    }

    // SAS: CustomImageInShare on delete.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            400,
            envelope(
                "CustomImageInShare",
                "The custom image is being shared. Please disable sharing first and then delete it.",
            ),
        ))
        .mount(&server)
        .await;
    let err = sas(&server.uri(), SignatureVersion::Acs3, creds())
        .delete(&"m-sas1".into())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("CustomImageInShare"));
    assert_eq!(
        err.request_id(),
        Some("7DC0013A-1111-2222-3333-444455556666")
    );
}

#[tokio::test]
async fn throttling_with_retry_after_is_retried_after_that_delay_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            json(
                400,
                envelope(
                    "Throttling.User",
                    "Request was denied due to user flow control.",
                ),
            )
            .insert_header("x-acs-retry-after", "150"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(json(200, json!({"RequestId": "ok-after-throttle"})))
        .with_priority(2)
        .mount(&server)
        .await;
    let started = Instant::now();
    let report = ecs(&server.uri(), SignatureVersion::Acs3, creds())
        .share(&IMAGE.into(), &[Principal::account("1234567890")])
        .await
        .unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 1);
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "waited {:?}",
        started.elapsed()
    );
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    let expected = [
        ("RegionId", REGION),
        ("ImageId", IMAGE),
        ("AddAccount.1", "1234567890"),
    ];
    let a = check_acs3(
        &reqs[0],
        "ModifyImageSharePermission",
        "2014-05-26",
        &expected,
        SECRET,
    );
    let b = check_acs3(
        &reqs[1],
        "ModifyImageSharePermission",
        "2014-05-26",
        &expected,
        SECRET,
    );
    assert_ne!(a, b, "each attempt is signed with a fresh nonce");
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            503,
            envelope(
                "ServiceUnavailable",
                "The request has failed due to a temporary failure of the server.",
            ),
        ))
        .expect(3)
        .mount(&server)
        .await;
    let err = ecs(&server.uri(), SignatureVersion::RpcV1, creds())
        .delete(&IMAGE.into())
        .await
        .unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.retry, Some(RetryReason::ServerError));
    assert_eq!(api.status, 503);
    assert_eq!(api.code, "ServiceUnavailable");

    // A body that is not the envelope still gives a classified error.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"),
        )
        .expect(3)
        .mount(&server)
        .await;
    let err = ecs(&server.uri(), SignatureVersion::Acs3, creds())
        .delete(&IMAGE.into())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("HTTP502"));
    assert!(err.is_retryable());
    assert_eq!(RetryReason::of_answer(&err), Some(RetryReason::ServerError));
}

#[tokio::test]
async fn a_success_body_that_is_not_json_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_string("<xml/>"))
        .mount(&server)
        .await;
    let err = ecs(&server.uri(), SignatureVersion::Acs3, creds())
        .sharees(&IMAGE.into())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[test]
fn builders_validate_and_read_the_environment() {
    // The builders read the environment they are given (here an empty one), never the
    // process's, at build().
    let err = EcsImageSharing::builder()
        .env(StaticEnv::new())
        .credentials(creds())
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "region"),
        "{err}"
    );
    let err = EcsImageSharing::builder()
        .credentials(creds())
        .region(REGION)
        .endpoint("ecs.cn-hangzhou.aliyuncs.com")
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "endpoint"),
        "{err}"
    );

    let ecs = EcsImageSharing::builder()
        .credentials(creds())
        .region("ap-southeast-1")
        .build()
        .unwrap();
    assert_eq!(
        ecs.client().endpoint(),
        "https://ecs.ap-southeast-1.aliyuncs.com"
    );
    assert_eq!(ecs.client().signature_version(), SignatureVersion::Acs3);
    let sas = SasImageSharing::builder()
        .credentials(creds())
        .region(REGION)
        .build()
        .unwrap();
    assert_eq!(
        sas.client().endpoint(),
        "https://swas.cn-hangzhou.aliyuncs.com"
    );
    assert_eq!(sas.region().as_str(), REGION);

    let env = StaticEnv::new()
        .with_var("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv")
        .with_var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret")
        .with_var("ALIBABA_CLOUD_SECURITY_TOKEN", "env-token")
        .with_var("ALIBABA_CLOUD_REGION_ID", "cn-beijing");
    let ecs = EcsImageSharing::builder().env(env.clone()).build().unwrap();
    assert_eq!(ecs.region().as_str(), "cn-beijing");
    assert_eq!(
        ecs.client().credentials().fixed().unwrap().access_key_id,
        "LTAIenv"
    );
    assert_eq!(
        ecs.client().endpoint(),
        "https://ecs.cn-beijing.aliyuncs.com"
    );
    // Debug shows neither the secret nor the token.
    let sas = SasImageSharing::from_env()
        .unwrap()
        .env(env.clone())
        .build()
        .unwrap();
    // A builder holding explicit credentials does not show them either.
    let builder = SasImageSharing::builder().credentials(
        imageshare_alibaba::AlibabaCredentials::sts("LTAIenv", "env-secret", "env-token"),
    );
    let debug = format!("{ecs:?} {sas:?} {builder:?}");
    assert!(
        !debug.contains("env-secret") && !debug.contains("env-token"),
        "{debug}"
    );
    assert!(debug.contains("LTAIenv"), "{debug}");

    let err = SasImageSharing::builder()
        .env(StaticEnv::new())
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::CredentialsNotFound { provider: SAS, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn failed_attempts_are_recorded_in_the_callers_context_with_their_reason() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(400, envelope("Throttling.User", "flow control")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(json(500, envelope("InternalError", "busy")))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(json(200, json!({"RequestId": "ok"})))
        .with_priority(3)
        .mount(&server)
        .await;
    let (cx, log) = imageshare_core::CallContext::new().collecting_retries();
    let report = ecs(&server.uri(), SignatureVersion::RpcV1, creds())
        .share_in(&cx, &IMAGE.into(), &[Principal::account("1234567890")])
        .await
        .unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 1);
    let log = log.log();
    assert_eq!(
        (log.retried().throttled, log.retried().server_error),
        (1, 1),
        "{log}"
    );
    assert!(log.gave_up().is_empty(), "{log}");
    assert_eq!(log.actions()[0].provider, ECS);
    assert_eq!(log.actions()[0].action, "ModifyImageSharePermission");
}

#[tokio::test]
async fn requests_are_stamped_with_the_builders_clock() {
    const AT: u64 = 1_678_696_470; // 2023-03-13T08:34:30Z
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(200, json!({"RequestId": "r"})))
        .mount(&server)
        .await;
    for sig in [SignatureVersion::Acs3, SignatureVersion::RpcV1] {
        EcsImageSharing::builder()
            .region(REGION)
            .endpoint(server.uri())
            .credentials(creds())
            .signature_version(sig)
            .clock(imageshare_core::Clock::fixed(AT))
            .build()
            .unwrap()
            .delete(&IMAGE.into())
            .await
            .unwrap();
    }
    let reqs = server.received_requests().await.unwrap();
    let expected = [("RegionId", REGION), ("ImageId", IMAGE)];
    check_acs3(&reqs[0], "DeleteImage", "2014-05-26", &expected, SECRET);
    assert_eq!(
        header(&headers(&reqs[0]), "x-acs-date"),
        Some("2023-03-13T08:34:30Z")
    );
    check_rpc(&reqs[1], "DeleteImage", "2014-05-26", &expected, SECRET);
    assert!(query(&reqs[1]).contains(&("Timestamp".into(), "2023-03-13T08:34:30Z".into())));
}

#[test]
fn builders_take_the_cli_profile_and_its_region() {
    let profiles = r#"{"current": "default", "profiles": [
        {"name": "default", "mode": "AK", "access_key_id": "LTAIdefault",
         "access_key_secret": "s1", "region_id": "cn-hangzhou"},
        {"name": "prod", "mode": "AK", "access_key_id": "LTAIprod",
         "access_key_secret": "s2", "region_id": "cn-shanghai"}]}"#;
    let env = StaticEnv::new()
        .with_home("/home/u")
        .with_file("/home/u/.aliyun/config.json", profiles)
        .with_var("ALIBABA_CLOUD_PROFILE", "default");
    // The profile chosen on the builder wins over ALIBABA_CLOUD_PROFILE; its region is the
    // client's unless one is set.
    let sas = SasImageSharing::builder()
        .env(env.clone())
        .profile("prod")
        .build()
        .unwrap();
    assert_eq!(
        sas.client().credentials().fixed().unwrap().access_key_id,
        "LTAIprod"
    );
    assert_eq!(sas.region().as_str(), "cn-shanghai");
    assert_eq!(
        sas.client().endpoint(),
        "https://swas.cn-shanghai.aliyuncs.com"
    );
    let ecs = EcsImageSharing::builder()
        .env(env.clone())
        .region("cn-beijing")
        .build()
        .unwrap();
    assert_eq!(
        ecs.client().credentials().fixed().unwrap().access_key_id,
        "LTAIdefault"
    );
    assert_eq!(ecs.region().as_str(), "cn-beijing");
    // The region variables come before the profile's region.
    let ecs = EcsImageSharing::builder()
        .env(env.with_var("ALIBABA_CLOUD_REGION_ID", "ap-southeast-1"))
        .profile("prod")
        .build()
        .unwrap();
    assert_eq!(ecs.region().as_str(), "ap-southeast-1");
}
