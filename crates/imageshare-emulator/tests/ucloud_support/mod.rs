//! Shared fixtures of the UCloud emulator tests: a world with three accounts and their
//! projects, the images every rule needs, and adapters and hand-signed requests for it.
#![allow(dead_code)]

use imageshare_core::transport::RetryConfig;
use imageshare_core::ClientBuilder;
use imageshare_core::{ImageKind, Site};
use imageshare_emulator::world::{Origin, State};
use imageshare_emulator::{Emulator, ImageSeed, World};
use imageshare_ucloud::signer::{form_encode, sign_request, Param};
use imageshare_ucloud::{UCloudCredentials, UCloudImageSharing, UCloudImageSharingBuilder};
use std::time::Duration;

/// Account A (owns `org-a1`, `org-a2` and the many `org-fNN` target projects).
pub const A: &str = "100000000001";
/// Account B (owns `org-b1`).
pub const B: &str = "100000000002";
/// Account C, international site (owns `org-c1`).
pub const C: &str = "200000000001";
pub const REGION: &str = "cn-bj2";
pub const OTHER_REGION: &str = "cn-sh2";
/// Projects `org-f00` .. `org-f54` of account B: 55 targets for the 50-project rule.
pub const FAN_OUT: usize = 55;

pub fn fan(i: usize) -> String {
    format!("org-f{i:02}")
}

/// Images of `org-a2` for paging.
pub const PAGED: usize = 25;

pub fn paged(i: usize) -> String {
    format!("uimage-page{i:03}")
}

pub fn world() -> World {
    let mut b = World::builder()
        .account(A, Site::China)
        .project("org-a1")
        .project("org-a2")
        .account(B, Site::China)
        .project("org-b1");
    for i in 0..FAN_OUT {
        b = b.project(&fan(i));
    }
    b = b
        .account(C, Site::International)
        .project("org-c1")
        .image(
            ImageSeed::new(imageshare_ucloud::UHOST, "uimage-golden", "org-a1", REGION)
                .name("golden"),
        )
        .image(ImageSeed::new(
            imageshare_ucloud::UHOST,
            "uimage-second",
            "org-a1",
            REGION,
        ))
        .image(
            ImageSeed::new(imageshare_ucloud::UHOST, "uimage-ulhost", "org-a1", REGION)
                .kind(ImageKind::LightweightHost),
        )
        .image(
            ImageSeed::new(imageshare_ucloud::UHOST, "uimage-whole", "org-a1", REGION)
                .kind(ImageKind::WholeMachine),
        )
        .image(
            ImageSeed::new(imageshare_ucloud::UHOST, "uimage-making", "org-a1", REGION)
                .state(State::Creating),
        )
        .image(ImageSeed::new(
            imageshare_ucloud::UHOST,
            "uimage-shanghai",
            "org-a1",
            OTHER_REGION,
        ))
        .image(
            ImageSeed::new(imageshare_ucloud::UHOST, "uimage-recv", "org-b1", REGION)
                .name("from-b")
                .shared_with(&["org-a1"]),
        )
        .image(
            ImageSeed::new(imageshare_ucloud::UHOST, "uimage-base", "org-c1", REGION)
                .origin(Origin::Public)
                .name("CentOS 7.9"),
        );
    for i in 0..PAGED {
        b = b.image(ImageSeed::new(
            imageshare_ucloud::UHOST,
            &paged(i),
            "org-a2",
            REGION,
        ));
    }
    b.build().expect("valid world")
}

pub fn creds(account: &str) -> UCloudCredentials {
    UCloudCredentials::new(
        format!("ucloud{account}@example.com"),
        format!("uc-private-{account}"),
    )
}

/// An adapter builder for `account` acting for `project`, fast retries.
pub fn builder(emu: &Emulator, account: &str, project: &str) -> UCloudImageSharingBuilder {
    UCloudImageSharing::builder()
        .base_url(emu.base_url())
        .credentials(creds(account))
        .region(REGION)
        .project_id(project)
        .retry(RetryConfig {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(1500),
            multiplier: 3.0,
            max_elapsed: Some(Duration::from_secs(20)),
        })
}

pub fn adapter(emu: &Emulator, account: &str, project: &str) -> UCloudImageSharing {
    builder(emu, account, project).build().expect("adapter")
}

/// Signs `params` (PublicKey added) with `account`'s keys and returns the form body.
pub fn signed_body(account: &str, params: &[(&str, &str)]) -> String {
    let params: Vec<Param> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    form_encode(&sign_request(params, &creds(account)))
}

/// POSTs a form body and returns (HTTP status, request-uuid header, JSON body).
pub async fn post_form(emu: &Emulator, body: String) -> (u16, Option<String>, serde_json::Value) {
    let resp = reqwest::Client::new()
        .post(emu.base_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let uuid = resp
        .headers()
        .get("x-ucloud-request-uuid")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = resp.bytes().await.expect("answer body");
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    (status, uuid, json)
}

/// Hand-signs and POSTs an action as `account` in `project` and region `REGION`.
pub async fn call(
    emu: &Emulator,
    account: &str,
    project: &str,
    action: &str,
    extra: &[(&str, &str)],
) -> serde_json::Value {
    let mut params = vec![
        ("Action", action),
        ("Region", REGION),
        ("ProjectId", project),
    ];
    params.extend_from_slice(extra);
    post_form(emu, signed_body(account, &params)).await.2
}

pub fn ret_code(v: &serde_json::Value) -> i64 {
    v["RetCode"]
        .as_i64()
        .unwrap_or_else(|| panic!("no numeric RetCode in {v}"))
}
