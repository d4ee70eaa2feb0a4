//! Shared helpers of the Alibaba emulator tests: a world, adapters pointed at the
//! emulator, and hand-signed requests.
#![allow(dead_code)]

use imageshare_core::ClientBuilder;
use std::time::Duration;

use imageshare_alibaba::signer::{acs3, rpc_v1};
use imageshare_alibaba::{AlibabaCredentials, EcsImageSharing, SasImageSharing, SignatureVersion};
use imageshare_core::transport::RetryConfig;
use imageshare_core::{ImageKind, Site};
use imageshare_emulator::world::{Encrypted, Origin, State};
use imageshare_emulator::{ImageSeed, World};

pub const REGION: &str = "cn-hangzhou";
/// Owns the images; China site; has the encrypted-image sharing role.
pub const OWNER: &str = "100000000001";
/// A China-site recipient; owns a CMK image but has no sharing role.
pub const PEER: &str = "100000000002";
/// An international-site account.
pub const INTL: &str = "200000000001";

/// The many China-site accounts used for paging and quota tests: `1100000000NN`.
pub fn many(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("1100000000{i:02}")).collect()
}

pub fn world() -> World {
    let mut b = World::builder()
        .account(OWNER, Site::China)
        .role(imageshare_emulator::engine::ECS_ENCRYPTED_SHARE_ROLE)
        .account(PEER, Site::China)
        .account(INTL, Site::International);
    for id in many(60) {
        b = b.account(&id, Site::China);
    }
    let ecs = |id: &str, owner: &str| ImageSeed::new(imageshare_alibaba::ECS, id, owner, REGION);
    let sas = |id: &str, owner: &str| {
        ImageSeed::new(imageshare_alibaba::SAS, id, owner, REGION).kind(ImageKind::LightweightHost)
    };
    b.image(ecs("m-golden0001", OWNER).name("golden"))
        .image(ecs("m-golden0002", OWNER))
        .image(ecs("m-whole00001", OWNER).kind(ImageKind::WholeMachine))
        .image(ecs("m-market0001", OWNER).origin(Origin::Marketplace))
        .image(ecs("m-svckey0001", OWNER).encrypted(Encrypted::ServiceKey))
        .image(ecs("m-cmk0000001", OWNER).encrypted(Encrypted::Cmk))
        .image(ecs("m-cmk0000002", PEER).encrypted(Encrypted::Cmk))
        .image(ecs("m-creating01", OWNER).state(State::Creating))
        .image(ecs("m-recv000001", PEER).shared_with(&[OWNER]))
        .image(ImageSeed::new(
            imageshare_alibaba::ECS,
            "m-shanghai01",
            OWNER,
            "cn-shanghai",
        ))
        .image(sas("m-sas0000001", OWNER).name("web"))
        .image(sas("m-sas0000002", OWNER))
        .image(sas("m-sasrecv001", PEER).shared_with(&[OWNER]))
        .build()
        .expect("valid world")
}

pub fn key_id(account: &str) -> String {
    format!("LTAI{account}")
}

pub fn secret(account: &str) -> String {
    format!("ali-secret-{account}")
}

pub fn creds(account: &str) -> AlibabaCredentials {
    AlibabaCredentials::new(key_id(account), secret(account))
}

pub fn retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(500),
        multiplier: 2.0,
        max_elapsed: Some(Duration::from_secs(20)),
    }
}

pub fn ecs(base: &str, account: &str, sig: SignatureVersion) -> EcsImageSharing {
    EcsImageSharing::builder()
        .endpoint(base)
        .region(REGION)
        .credentials(creds(account))
        .signature_version(sig)
        .retry(retry())
        .build()
        .expect("ECS adapter")
}

pub fn sas(base: &str, account: &str, sig: SignatureVersion) -> SasImageSharing {
    SasImageSharing::builder()
        .endpoint(base)
        .region(REGION)
        .credentials(creds(account))
        .signature_version(sig)
        .retry(retry())
        .build()
        .expect("SAS adapter")
}

/// An answer: status, headers, JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
    pub retry_after: Option<String>,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["Code"].as_str().unwrap_or("")
    }
}

async fn send(url: String, headers: Vec<(String, String)>) -> Answer {
    let client = reqwest::Client::new();
    let mut req = client.post(url);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.expect("emulator answers");
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("x-acs-retry-after")
        .map(|v| v.to_str().unwrap_or("").to_owned());
    let text = resp.text().await.unwrap();
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        retry_after,
    }
}

/// Sends an RPC-v1-signed `POST /?...` exactly as given (time and nonce chosen by the
/// caller). `extra_headers` lets a test add what the Tea SDK's V2 path adds.
#[allow(clippy::too_many_arguments)]
pub async fn rpc(
    base: &str,
    creds: &AlibabaCredentials,
    action: &str,
    version: &str,
    params: &[(&str, &str)],
    unix: u64,
    nonce: &str,
    extra_headers: &[(&str, &str)],
) -> Answer {
    let mut req = rpc_v1::RpcRequest::new(action, version);
    for (k, v) in params {
        req = req.param(*k, *v);
    }
    let signed = rpc_v1::sign(creds, &req, unix, nonce);
    let headers = extra_headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    send(format!("{base}/?{}", signed.query_string()), headers).await
}

/// Sends an ACS3-signed `POST /?...` exactly as given.
pub async fn acs3(
    base: &str,
    creds: &AlibabaCredentials,
    action: &str,
    version: &str,
    params: &[(&str, &str)],
    unix: u64,
    nonce: &str,
) -> Answer {
    let host = base.trim_start_matches("http://").to_owned();
    let mut req = acs3::Acs3Request::new(host, action, version);
    for (k, v) in params {
        req = req.query(*k, *v);
    }
    let signed = acs3::sign(creds, &req, unix, nonce);
    let query: Vec<(String, String)> = req.query.clone();
    send(
        format!("{base}/?{}", rpc_v1::encode_params(&query)),
        signed.headers,
    )
    .await
}

pub fn now() -> u64 {
    imageshare_core::time::now_unix()
}

pub fn nonce() -> String {
    imageshare_core::time::nonce()
}
