//! One function per fuzzed parser. Each takes raw fuzz bytes, drives the parser the way
//! imageshare uses it, checks invariants beyond "no panic" (a violated invariant panics,
//! which libFuzzer reports as a crash) and returns the typed result as an [`Outcome`].
//!
//! Input format of the three response decoders (`*_decode`): byte 0 picks a model (or the
//! structured mode, see each function), byte 1 the HTTP status ([`STATUSES`]), byte 2 flags,
//! and the rest is the body. Short inputs read as zeros.
//!
//! The secret canary: every decoder is run a second time on the body with
//! [`CANARY_FIELD`]`: `[`CANARY`] added (at the envelope level and inside the error
//! object). A field no model declares must never reach an error's `Display` or `Debug`:
//! error text draws only on the documented code, message and request id.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::time::Duration;

use imageshare::manifest::{Manifest, ManifestError};
use imageshare_core::transport::HttpResponse;
use imageshare_core::{Error, Provider};
use imageshare_emulator::world::WorldError;
use imageshare_emulator::World;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// The action name the decoders are called with.
pub const ACTION: &str = "FuzzAction";
/// A secret-looking value planted in bodies under [`CANARY_FIELD`]; never in error text.
pub const CANARY: &str = "LTAIcanary0SECRET0value0b6f1e2d3c4a5968";
/// The undeclared field that carries [`CANARY`].
pub const CANARY_FIELD: &str = "ZzAccessKeySecret";
/// The image id the Alibaba and Tencent decoders are told a call is about (flag bit 1).
pub const SUBJECT: &str = "img-fuzz0001";
/// HTTP statuses byte 1 of a decoder input picks from (200 twice: it matters most).
pub const STATUSES: [u16; 16] = [
    200, 200, 201, 204, 299, 100, 302, 400, 403, 404, 409, 429, 500, 502, 503, 999,
];
/// Longest message an error may carry when the body is not the provider's envelope.
pub const MAX_RAW_MESSAGE_CHARS: usize = 200;

/// What a parser made of one input: accepted, or refused with a typed error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The parser accepted the input.
    Accepted,
    /// The parser refused it with a typed error: `kind` names the variant.
    Refused {
        /// The error type and variant, e.g. `Error::Api`, `ManifestError`.
        kind: &'static str,
        /// The error's `Display`.
        message: String,
    },
}

/// A fuzz target: its name (the directory under `fuzz/regressions/` and `fuzz/seeds/`), its
/// function, and the error kinds it may refuse with.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Name of the cargo-fuzz target.
    pub name: &'static str,
    /// The harness function.
    pub run: fn(&[u8]) -> Outcome,
    /// Every `Outcome::Refused::kind` this target may return.
    pub refusals: &'static [&'static str],
}

/// Every fuzz target.
pub const TARGETS: [Target; 5] = [
    Target {
        name: "alibaba_decode",
        run: alibaba_decode,
        refusals: &[
            "Error::Api",
            "Error::Auth",
            "Error::NotFound",
            "Error::Decode",
        ],
    },
    Target {
        name: "tencent_decode",
        run: tencent_decode,
        refusals: &[
            "Error::Api",
            "Error::Auth",
            "Error::NotFound",
            "Error::Decode",
        ],
    },
    Target {
        name: "ucloud_decode",
        run: ucloud_decode,
        refusals: &["Error::Api", "Error::Auth", "Error::Decode"],
    },
    Target {
        name: "manifest",
        run: manifest,
        refusals: &["ManifestError"],
    },
    Target {
        name: "world",
        run: world,
        refusals: &["WorldError::Parse", "WorldError::Invalid"],
    },
];

/// The kind name of an imageshare error.
fn error_kind(e: &Error) -> &'static str {
    match e {
        Error::Api(_) => "Error::Api",
        Error::Auth { .. } => "Error::Auth",
        Error::NotFound { .. } => "Error::NotFound",
        Error::Decode { .. } => "Error::Decode",
        _ => "Error::<unexpected variant>",
    }
}

fn outcome<T>(r: &Result<T, Error>) -> Outcome {
    match r {
        Ok(_) => Outcome::Accepted,
        Err(e) => Outcome::Refused {
            kind: error_kind(e),
            message: e.to_string(),
        },
    }
}

/// Reads the fuzz bytes front to back; past the end every byte is 0.
struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }
    fn rest(self) -> &'a [u8] {
        self.data
    }
}

/// Splits the structured-mode payload into at least `n` text fields at 0 bytes.
fn fields(body: &[u8], n: usize) -> Vec<String> {
    let mut out: Vec<String> = body
        .split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    while out.len() < n {
        out.push(String::new());
    }
    out
}

/// `body` with [`CANARY_FIELD`] added to the top-level object and to the objects at
/// `nested` (a JSON pointer each); `None` when the body is not a JSON object or already
/// holds the canary text.
fn with_canary(body: &[u8], nested: &[&str]) -> Option<Vec<u8>> {
    if contains(body, CANARY.as_bytes()) {
        return None;
    }
    let mut v: Value = serde_json::from_slice(body).ok()?;
    v.as_object_mut()?
        .insert(CANARY_FIELD.to_owned(), Value::String(CANARY.to_owned()));
    for pointer in nested {
        if let Some(Value::Object(m)) = v.pointer_mut(pointer) {
            m.insert(CANARY_FIELD.to_owned(), Value::String(CANARY.to_owned()));
        }
    }
    Some(serde_json::to_vec(&v).expect("a Value serializes"))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The error text (`Display` and `Debug`) must not carry the canary.
fn assert_no_canary<T>(r: &Result<T, Error>) {
    if let Err(e) = r {
        let shown = format!("{e} {e:?}");
        assert!(
            !shown.contains(CANARY),
            "an undeclared body field reached the error text: {shown}"
        );
    }
}

fn response(status: u16, headers: Vec<(String, String)>, body: &[u8]) -> HttpResponse {
    HttpResponse {
        status,
        headers,
        body: body.to_vec(),
    }
}

// ------------------------------------------------------------------------------- Alibaba

/// `imageshare_alibaba::client::decode_response`. Byte 0 picks the model: 0 `Empty`,
/// 1 `DescribeImagesResponse`, 2 `DescribeImageSharePermissionResponse`,
/// 3 `CopyImageResponse`, 4 `ListCustomImagesResponse`, 5
/// `ListCustomImageShareAccountsResponse`, 6 `serde_json::Value`; 7 is the structured mode
/// (an envelope built from 0-separated fields: code, message, request id, then account
/// ids). Flags: bit 0 SAS (else ECS), bit 1 the call is about [`SUBJECT`], bit 2 an
/// `x-acs-retry-after` header follows (a length byte, then that many bytes, at most 23).
///
/// Invariants: a 2xx answer decodes exactly as `serde_json` decodes the model, and fails
/// as `Error::Decode` otherwise; a non-2xx answer is never a success, keeps the envelope's
/// code and request id verbatim, classifies auth codes as `Error::Auth`, retryable codes
/// and statuses as retryable, honours a positive numeric retry-after; a body that is not
/// an envelope gives `HTTP<status>` with at most [`MAX_RAW_MESSAGE_CHARS`] characters; an
/// undeclared field never reaches the error text; an unknown field never changes a
/// decoded success; a built envelope round-trips field for field.
pub fn alibaba_decode(data: &[u8]) -> Outcome {
    use imageshare_alibaba::model;
    let mut input = Input { data };
    let mode = input.byte() % 8;
    let status = STATUSES[usize::from(input.byte()) % STATUSES.len()];
    let flags = input.byte();
    let provider = if flags & 1 == 0 {
        imageshare_alibaba::ECS
    } else {
        imageshare_alibaba::SAS
    };
    let image = (flags & 2 != 0).then_some(SUBJECT);
    let mut headers = Vec::new();
    if flags & 4 != 0 {
        let n = usize::from(input.byte()) % 24;
        let value = String::from_utf8_lossy(input.take(n)).into_owned();
        headers.push((
            imageshare_alibaba::client::RETRY_AFTER_HEADER.to_owned(),
            value,
        ));
    }
    let body = input.rest();
    let ctx = AliCtx {
        provider,
        image,
        status,
        headers,
    };
    match mode {
        0 => ctx.raw::<model::Empty>(body),
        1 => ctx.raw::<model::DescribeImagesResponse>(body),
        2 => ctx.raw::<model::DescribeImageSharePermissionResponse>(body),
        3 => ctx.raw::<model::CopyImageResponse>(body),
        4 => ctx.raw::<model::ListCustomImagesResponse>(body),
        5 => ctx.raw::<model::ListCustomImageShareAccountsResponse>(body),
        6 => ctx.raw::<Value>(body),
        _ => ctx.structured(body),
    }
}

struct AliCtx {
    provider: Provider,
    image: Option<&'static str>,
    status: u16,
    headers: Vec<(String, String)>,
}

impl AliCtx {
    fn decode<T: imageshare_alibaba::model::Answer>(
        &self,
        status: u16,
        body: &[u8],
    ) -> Result<T, Error> {
        imageshare_alibaba::client::decode_response(
            self.provider,
            ACTION,
            self.image,
            response(status, self.headers.clone(), body),
        )
    }

    fn raw<T: imageshare_alibaba::model::Answer + PartialEq + Debug>(
        &self,
        body: &[u8],
    ) -> Outcome {
        let status = self.status;
        let result = self.decode::<T>(status, body);
        if (200..300).contains(&status) {
            match (&result, serde_json::from_slice::<T>(body)) {
                (Ok(got), Ok(want)) => assert_eq!(got, &want, "decode differs from serde_json"),
                (
                    Err(Error::Decode {
                        provider,
                        action,
                        request_id,
                        ..
                    }),
                    Err(_),
                ) => {
                    assert_eq!((*provider, action.as_str()), (self.provider, ACTION));
                    if let Some(rid) = request_id {
                        let (_, want) = ali_envelope(body);
                        assert!(
                            want.is_none() || want.as_ref() == Some(rid),
                            "request id {rid:?}, the body says {want:?}"
                        );
                    }
                }
                (got, want) => panic!(
                    "HTTP {status}: decode_response gave {got:?}, serde_json {:?}",
                    want.map(|_| "a value")
                ),
            }
        } else {
            let err = result
                .as_ref()
                .expect_err("a non-2xx answer is never a success");
            self.check_error(err, body);
        }
        // Error text may echo a body only when it is no envelope (a proxy's page).
        let shown_raw = !(200..300).contains(&status) && ali_envelope(body).0.is_none();
        if let Some(canaried) = with_canary(body, &[]).filter(|_| !shown_raw) {
            let again = self.decode::<T>(status, &canaried);
            assert_no_canary(&again);
            let plain = serde_json::to_vec(
                &serde_json::from_slice::<Value>(body).expect("with_canary parsed it"),
            )
            .expect("a Value serializes");
            if std::any::type_name::<T>() != std::any::type_name::<Value>() {
                if let (Ok(a), Ok(b)) = (&again, self.decode::<T>(status, &plain)) {
                    assert_eq!(a, &b, "an unknown field changed the decoded value");
                }
            }
        }
        outcome(&result)
    }

    fn check_error(&self, err: &Error, body: &[u8]) {
        use imageshare_alibaba::client::{is_auth_code, retry_reason};
        let status = self.status;
        let (envelope_code, request_id) = ali_envelope(body);
        match err {
            Error::Api(e) => {
                assert_eq!(
                    (e.provider, e.action.as_str(), e.status),
                    (self.provider, ACTION, status)
                );
                assert!(!e.code.is_empty(), "an Api error without a code");
                assert!(
                    !is_auth_code(&e.code),
                    "auth code {} not Error::Auth",
                    e.code
                );
                assert_eq!(e.retry, retry_reason(status, &e.code), "{e:?}");
                let want_retry = self
                    .headers
                    .first()
                    .and_then(|(_, v)| v.trim().parse::<u64>().ok())
                    .filter(|ms| *ms > 0)
                    .map(Duration::from_millis);
                assert_eq!(e.retry_after, want_retry);
                if let Some(code) = &envelope_code {
                    assert_eq!(&e.code, code, "the envelope's code is not kept verbatim");
                    assert_eq!(e.request_id, request_id, "request id not kept");
                }
                if envelope_code.is_none() {
                    assert_eq!(e.code, format!("HTTP{status}"), "no envelope, yet a code");
                    assert!(e.message.chars().count() <= MAX_RAW_MESSAGE_CHARS);
                }
            }
            Error::Auth {
                provider,
                code,
                request_id: rid,
                ..
            } => {
                assert_eq!(*provider, self.provider);
                assert!(is_auth_code(code), "{code} classified as auth");
                assert_eq!(envelope_code.as_deref(), Some(code.as_str()));
                assert_eq!(rid, &request_id);
            }
            Error::NotFound { provider, id, .. } => {
                assert_eq!(*provider, self.provider);
                assert_eq!(Some(id.as_str()), self.image);
                assert_eq!(envelope_code.as_deref(), Some("InvalidImageId.NotFound"));
            }
            other => panic!("HTTP {status} classified as {other:?}"),
        }
    }

    /// Builds a valid answer from the fuzz fields and checks it decodes field for field.
    fn structured(&self, body: &[u8]) -> Outcome {
        use imageshare_alibaba::client::is_auth_code;
        use imageshare_alibaba::model::{DescribeImageSharePermissionResponse, Empty};
        let f = fields(body, 3);
        let (code, message, rid) = (&f[0], &f[1], &f[2]);
        if (200..300).contains(&self.status) {
            let accounts: Vec<&String> = f[3..].iter().collect();
            let answer = json!({
                "RequestId": rid, "RegionId": "cn-hangzhou", "ImageId": message,
                "PageNumber": 1, "PageSize": 100, "TotalCount": accounts.len(),
                "Accounts": {"Account": accounts.iter()
                    .map(|a| json!({"AliyunId": a, "SharedTime": "2024-01-01T00:00:00Z"}))
                    .collect::<Vec<_>>()},
                "ShareGroups": {"ShareGroup": []},
                CANARY_FIELD: CANARY,
            });
            let r = self.decode::<DescribeImageSharePermissionResponse>(
                self.status,
                &serde_json::to_vec(&answer).expect("serializes"),
            );
            let got = r.as_ref().expect("a built answer decodes");
            assert_eq!(&got.request_id, rid);
            assert_eq!(&got.image_id, message);
            assert_eq!(got.total_count, accounts.len() as u64);
            let ids: Vec<&String> = got.accounts.account.iter().map(|a| &a.aliyun_id).collect();
            assert_eq!(ids, accounts);
            return outcome(&r);
        }
        let envelope = json!({
            "RequestId": rid, "HostId": "ecs.aliyuncs.com", "Code": code, "Message": message,
            "Recommend": "https://api.aliyun.com/troubleshoot", CANARY_FIELD: CANARY,
        });
        let bytes = serde_json::to_vec(&envelope).expect("serializes");
        let r = self.decode::<Empty>(self.status, &bytes);
        let err = r.as_ref().expect_err("an error envelope is an error");
        self.check_error(err, &bytes);
        // An empty code is no envelope: the body is then shown (cut) as it came.
        let clean = ![code, message, rid].iter().any(|s| s.contains(CANARY));
        if !code.is_empty() && clean {
            assert_no_canary(&r);
        }
        match err {
            Error::Api(e) if !code.is_empty() => {
                assert_eq!((&e.code, &e.message), (code, message));
                assert_eq!(e.request_id.as_deref(), Some(rid.as_str()));
            }
            Error::Auth {
                code: c,
                message: m,
                request_id,
                ..
            } => {
                assert!(is_auth_code(code));
                assert_eq!(
                    (c, m, request_id.as_deref()),
                    (code, message, Some(rid.as_str()))
                );
            }
            Error::NotFound { .. } => assert_eq!(code, "InvalidImageId.NotFound"),
            Error::Api(e) => assert_eq!(e.code, format!("HTTP{}", self.status)),
            other => panic!("an error envelope decoded as {other:?}"),
        }
        outcome(&r)
    }
}

/// The code and request id of an Alibaba error envelope as the official SDKs read them
/// from the JSON map: the first of `Code` / `code` that is a string, if not empty; the
/// first of `RequestId` / `requestId` that is a string.
fn ali_envelope(body: &[u8]) -> (Option<String>, Option<String>) {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let text = |keys: [&str; 2]| {
        keys.iter()
            .find_map(|k| parsed.as_ref()?.get(*k)?.as_str())
            .map(str::to_owned)
    };
    (
        text(["Code", "code"]).filter(|c| !c.is_empty()),
        text(["RequestId", "requestId"]),
    )
}

// ------------------------------------------------------------------------------- Tencent

/// `imageshare_tencent::client::decode`. Byte 0 picks the model: 0 `Empty`,
/// 1 `DescribeImagesResponse`, 2 `DescribeImageSharePermissionResponse`,
/// 3 `DescribeBlueprintsResponse`, 4 `DescribeBlueprintsShareAcrossAccountInfosResponse`,
/// 5 `DescribeImagesToShareResponse`, 6 `serde_json::Value`; 7 is the structured mode
/// (0-separated fields: code, message, request id, then account ids). Flags: bit 0
/// Lighthouse (else CVM), bit 1 the call is about [`SUBJECT`].
///
/// Invariants: success only for HTTP 200 with a `{"Response": {...}}` object without
/// `Error`, and then exactly `T::deserialize(Response)`; `Response.Error.Code` kept
/// verbatim (`AuthFailure*` as `Error::Auth`, not-found codes as `Error::NotFound` for the
/// subject); the request id carried; retryable iff the code or the status is; a body that
/// is not an envelope gives `HTTP.<status>` (>= 400, at most [`MAX_RAW_MESSAGE_CHARS`]
/// characters) or `Error::Decode`; no undeclared field in error text; built envelopes
/// round-trip.
pub fn tencent_decode(data: &[u8]) -> Outcome {
    use imageshare_tencent::model;
    let mut input = Input { data };
    let mode = input.byte() % 8;
    let status = STATUSES[usize::from(input.byte()) % STATUSES.len()];
    let flags = input.byte();
    let ctx = TcCtx {
        provider: if flags & 1 == 0 {
            imageshare_tencent::CVM
        } else {
            imageshare_tencent::LIGHTHOUSE
        },
        subject: (flags & 2 != 0).then_some(SUBJECT),
        status,
    };
    let body = input.rest();
    match mode {
        0 => ctx.raw::<model::Empty>(body),
        1 => ctx.raw::<model::DescribeImagesResponse>(body),
        2 => ctx.raw::<model::DescribeImageSharePermissionResponse>(body),
        3 => ctx.raw::<model::DescribeBlueprintsResponse>(body),
        4 => ctx.raw::<model::DescribeBlueprintsShareAcrossAccountInfosResponse>(body),
        5 => ctx.raw::<model::DescribeImagesToShareResponse>(body),
        6 => ctx.raw::<Value>(body),
        _ => ctx.structured(body),
    }
}

struct TcCtx {
    provider: Provider,
    subject: Option<&'static str>,
    status: u16,
}

impl TcCtx {
    fn decode<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T, Error> {
        imageshare_tencent::client::decode(
            self.provider,
            ACTION,
            self.subject,
            response(self.status, Vec::new(), body),
        )
    }

    fn raw<T: DeserializeOwned + PartialEq + Debug>(&self, body: &[u8]) -> Outcome {
        let result = self.decode::<T>(body);
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let envelope = parsed
            .as_ref()
            .and_then(|v| v.get("Response"))
            .filter(|r| r.is_object());
        match (&result, envelope) {
            (Ok(got), Some(resp)) => {
                assert_eq!(self.status, 200, "success on HTTP {}", self.status);
                assert!(resp.get("Error").is_none(), "success with an Error");
                let want: T = serde_json::from_value(resp.clone()).expect("decode agreed");
                assert_eq!(got, &want, "decode differs from serde_json");
            }
            (Ok(_), None) => panic!("success without a Response envelope"),
            (Err(err), Some(resp)) => self.check_error(err, Some(resp)),
            (Err(err), None) => {
                self.check_error(err, None);
                match err {
                    Error::Api(e) => {
                        assert!(self.status >= 400, "{e:?}");
                        assert_eq!(e.code, format!("HTTP.{}", self.status));
                        assert!(e.message.chars().count() <= MAX_RAW_MESSAGE_CHARS);
                    }
                    Error::Decode { .. } => assert!(self.status < 400),
                    other => panic!("no envelope, yet {other:?}"),
                }
            }
        }
        // A body without the envelope is shown (cut) as it came: only envelopes are
        // held to the canary rule.
        if envelope.is_some() {
            if let Some(canaried) = with_canary(body, &["/Response", "/Response/Error"]) {
                assert_no_canary(&self.decode::<T>(&canaried));
            }
        }
        outcome(&result)
    }

    fn check_error(&self, err: &Error, envelope: Option<&Value>) {
        use imageshare_tencent::client::{retry_reason, NOT_FOUND_CODES};
        let error = envelope.and_then(|r| r.get("Error"));
        let code = error
            .and_then(|e| e.get("Code"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let request_id = envelope
            .and_then(|r| r.get("RequestId"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        match err {
            Error::Api(e) => {
                assert_eq!(
                    (e.provider, e.action.as_str(), e.status),
                    (self.provider, ACTION, self.status)
                );
                assert_eq!(e.request_id, request_id);
                assert_eq!(e.retry, retry_reason(&e.code, self.status));
                if error.is_some() {
                    assert_eq!(e.code, code, "Response.Error.Code not kept verbatim");
                    assert!(!e.code.starts_with("AuthFailure"));
                }
            }
            Error::Auth {
                code: c,
                request_id: rid,
                ..
            } => {
                assert!(error.is_some() && c == code && c.starts_with("AuthFailure"));
                assert_eq!(rid, &request_id);
            }
            Error::NotFound { id, .. } => {
                assert_eq!(Some(id.as_str()), self.subject);
                assert!(
                    NOT_FOUND_CODES.contains(&code),
                    "{code} is not a not-found code"
                );
            }
            Error::Decode {
                request_id: rid, ..
            } => {
                assert!(error.is_none(), "an Error envelope reported as Decode");
                assert_eq!(rid, &request_id);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    fn structured(&self, body: &[u8]) -> Outcome {
        use imageshare_tencent::model::DescribeImageSharePermissionResponse;
        let f = fields(body, 3);
        let (code, message, rid) = (&f[0], &f[1], &f[2]);
        let clean = ![code, message, rid].iter().any(|s| s.contains(CANARY));
        if self.status == 200 && code.is_empty() {
            let accounts: Vec<&String> = f[3..].iter().collect();
            let answer = json!({"Response": {
                "SharePermissionSet": accounts.iter()
                    .map(|a| json!({"AccountId": a, "CreatedTime": "2024-01-01T00:00:00Z"}))
                    .collect::<Vec<_>>(),
                "RequestId": rid, CANARY_FIELD: CANARY,
            }});
            let r = self.decode::<DescribeImageSharePermissionResponse>(
                &serde_json::to_vec(&answer).expect("serializes"),
            );
            let got = r.as_ref().expect("a built answer decodes");
            let ids: Vec<&String> = got
                .share_permission_set
                .iter()
                .map(|p| &p.account_id)
                .collect();
            assert_eq!(ids, accounts);
            return outcome(&r);
        }
        let envelope = json!({"Response": {
            "Error": {"Code": code, "Message": message, CANARY_FIELD: CANARY},
            "RequestId": rid, CANARY_FIELD: CANARY,
        }});
        let r = self.decode::<Value>(&serde_json::to_vec(&envelope).expect("serializes"));
        let err = r.as_ref().expect_err("an Error envelope is an error");
        self.check_error(err, envelope.get("Response"));
        if clean {
            assert_no_canary(&r);
        }
        match err {
            Error::Api(e) => assert_eq!((&e.code, &e.message), (code, message)),
            Error::Auth {
                code: c,
                message: m,
                ..
            } => assert_eq!((c, m), (code, message)),
            Error::NotFound { .. } => {}
            other => panic!("an Error envelope decoded as {other:?}"),
        }
        outcome(&r)
    }
}

// -------------------------------------------------------------------------------- UCloud

/// `imageshare_ucloud::client::decode_response`, then the model decoding the client does
/// on success (`serde_json::from_value`). Byte 0 picks the model: 0 `Value`,
/// 1 `DescribeImageResponse`, 2 `CopyCustomImageResponse`, 3 `DescribeImageShareResponse`,
/// 4 `ShareCustomImageResponse`, 5 `SaveSharedImageResponse`, 6
/// `TerminateCustomImageResponse`; 7 is the structured mode (0-separated fields: RetCode
/// digits, message, then image ids). Flags: bit 0 non-idempotent action, bit 1 an
/// `X-UCLOUD-REQUEST-UUID` header (the value `req-fuzz`).
///
/// Invariants: success only for 2xx with an object whose numeric `RetCode` is 0, returning
/// exactly the body and the header's request id; a non-2xx status is `HTTP<status>` with
/// at most [`MAX_RAW_MESSAGE_CHARS`] characters; any other `RetCode` is its decimal code
/// (`Error::Auth` for 170-174 auth codes); nothing is retryable for a non-idempotent
/// action; no undeclared field in error text; what a model decodes serializes back to
/// the same model (the emulator serializes these types).
pub fn ucloud_decode(data: &[u8]) -> Outcome {
    use imageshare_ucloud::client::Idempotency;
    use imageshare_ucloud::model;
    let mut input = Input { data };
    let mode = input.byte() % 8;
    let status = STATUSES[usize::from(input.byte()) % STATUSES.len()];
    let flags = input.byte();
    let ctx = UcCtx {
        idempotency: if flags & 1 == 0 {
            Idempotency::Idempotent
        } else {
            Idempotency::NonIdempotent
        },
        request_id: (flags & 2 != 0).then_some("req-fuzz"),
        status,
    };
    let body = input.rest();
    match mode {
        0 => ctx.raw::<Value>(body),
        1 => ctx.raw::<model::DescribeImageResponse>(body),
        2 => ctx.raw::<model::CopyCustomImageResponse>(body),
        3 => ctx.raw::<model::DescribeImageShareResponse>(body),
        4 => ctx.raw::<model::ShareCustomImageResponse>(body),
        5 => ctx.raw::<model::SaveSharedImageResponse>(body),
        6 => ctx.raw::<model::TerminateCustomImageResponse>(body),
        _ => ctx.structured(body),
    }
}

struct UcCtx {
    idempotency: imageshare_ucloud::client::Idempotency,
    request_id: Option<&'static str>,
    status: u16,
}

impl UcCtx {
    fn decode(&self, body: &[u8]) -> Result<(Value, Option<String>), Error> {
        let headers = self
            .request_id
            .map(|r| {
                vec![(
                    imageshare_ucloud::client::REQUEST_ID_HEADER.to_owned(),
                    r.to_owned(),
                )]
            })
            .unwrap_or_default();
        imageshare_ucloud::client::decode_response(
            ACTION,
            response(self.status, headers, body),
            self.idempotency,
        )
    }

    fn raw<T: DeserializeOwned + Serialize + PartialEq + Debug>(&self, body: &[u8]) -> Outcome {
        use imageshare_ucloud::client::Idempotency;
        use imageshare_ucloud::retcode;
        let result = self.decode(body);
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let idempotent = self.idempotency == Idempotency::Idempotent;
        match &result {
            Ok((value, rid)) => {
                assert!((200..300).contains(&self.status));
                // The body comes back without its envelope fields (picked out in the one
                // pass that decodes it).
                let mut expected = parsed.clone().expect("a 2xx success is JSON");
                assert_eq!(oracle_ret_code(&expected), Some(retcode::OK));
                if let Some(o) = expected.as_object_mut() {
                    o.remove("RetCode");
                    o.remove("Message");
                }
                assert_eq!(value, &expected, "the body minus RetCode and Message");
                assert_eq!(rid.as_deref(), self.request_id);
                // What the client then does; a model that decodes must serialize back to
                // itself (the emulator writes these types).
                if let Ok(m) = serde_json::from_value::<T>(value.clone()) {
                    let again = serde_json::to_value(&m).expect("a model serializes");
                    let back: T = serde_json::from_value(again)
                        .unwrap_or_else(|e| panic!("{m:?} does not read back: {e}"));
                    assert_eq!(back, m, "model does not round-trip");
                }
            }
            Err(Error::Api(e)) => {
                assert_eq!(
                    (e.provider, e.action.as_str()),
                    (imageshare_ucloud::UHOST, ACTION)
                );
                assert_eq!(e.request_id.as_deref(), self.request_id);
                if (200..300).contains(&self.status) {
                    let code = parsed.as_ref().and_then(oracle_ret_code);
                    assert_eq!(
                        Some(e.code.as_str()),
                        code.map(|c| c.to_string()).as_deref()
                    );
                    let code = code.expect("checked above");
                    assert!(code != retcode::OK && !retcode::is_auth(code));
                    let want = retcode::retry_reason(code).filter(|_| idempotent);
                    assert_eq!(e.retry, want);
                } else {
                    assert_eq!(e.code, format!("HTTP{}", self.status));
                    assert!(!e.message.is_empty());
                    assert!(e.message.chars().count() <= MAX_RAW_MESSAGE_CHARS);
                    let want = retcode::status_retry_reason(self.status).filter(|_| idempotent);
                    assert_eq!(e.retry, want);
                }
            }
            Err(Error::Auth {
                provider,
                code,
                request_id,
                ..
            }) => {
                assert_eq!(*provider, imageshare_ucloud::UHOST);
                let n: i64 = code.parse().expect("a RetCode");
                assert!(retcode::is_auth(n));
                assert_eq!(parsed.as_ref().and_then(oracle_ret_code), Some(n));
                assert_eq!(request_id.as_deref(), self.request_id);
            }
            Err(Error::Decode { request_id, .. }) => {
                assert!((200..300).contains(&self.status));
                assert_eq!(request_id.as_deref(), self.request_id);
                let code = parsed
                    .as_ref()
                    .filter(|v| v.is_object())
                    .and_then(oracle_ret_code);
                assert_eq!(code, None, "a numeric RetCode reported as Decode");
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
        // A non-2xx body is no envelope: its text is shown (cut), as a proxy sent it.
        if (200..300).contains(&self.status) {
            if let Some(canaried) = with_canary(body, &[]) {
                assert_no_canary(&self.decode(&canaried));
            }
        }
        outcome(&result)
    }

    fn structured(&self, body: &[u8]) -> Outcome {
        use imageshare_ucloud::model::DescribeImageResponse;
        use imageshare_ucloud::retcode;
        let f = fields(body, 2);
        let digits: String = f[0].chars().filter(char::is_ascii_digit).take(6).collect();
        let code: i64 = digits.parse().unwrap_or(0);
        let message = &f[1];
        if !(200..300).contains(&self.status) {
            return self.raw::<Value>(body);
        }
        let mut answer = Map::new();
        answer.insert("Action".into(), json!(format!("{ACTION}Response")));
        answer.insert("RetCode".into(), json!(code));
        answer.insert(CANARY_FIELD.into(), json!(CANARY));
        if code != retcode::OK {
            answer.insert("Message".into(), json!(message));
        } else {
            let ids = &f[2..];
            answer.insert("TotalCount".into(), json!(ids.len()));
            answer.insert(
                "ImageSet".into(),
                ids.iter().map(|i| json!({"ImageId": i})).collect(),
            );
        }
        let r = self.decode(&serde_json::to_vec(&answer).expect("serializes"));
        match &r {
            Ok((v, _)) => {
                assert_eq!(code, retcode::OK);
                let m: DescribeImageResponse =
                    serde_json::from_value(v.clone()).expect("a built answer decodes");
                let ids: Vec<&String> = m.image_set.iter().map(|i| &i.image_id).collect();
                assert_eq!(ids, f[2..].iter().collect::<Vec<_>>());
                assert_eq!(m.total_count, (f.len() - 2) as u64);
            }
            Err(e) => {
                assert_eq!(e.code(), Some(code.to_string().as_str()));
                if !message.contains(CANARY) {
                    assert_no_canary(&r);
                }
                let shown = match e {
                    Error::Api(a) => &a.message,
                    Error::Auth { message, .. } => message,
                    other => panic!("RetCode {code} decoded as {other:?}"),
                };
                assert_eq!(shown, message);
            }
        }
        outcome(&r)
    }
}

// ------------------------------------------------------------------------------ manifest

/// `imageshare::manifest::Manifest::parse` on the input as text (lossy UTF-8).
///
/// Invariants: an accepted manifest has at least one image, no empty region or id, no
/// duplicate (provider, region, id), entry lines inside the text, principals of the
/// provider's kind; rendering it back to TOML and parsing again gives the same entries.
/// A refusal names the file, and its line and column (when given) lie inside the text.
pub fn manifest(data: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(data);
    let path = "fuzz.toml";
    match Manifest::parse(&text, path) {
        Ok(m) => {
            check_manifest(&m, &text);
            let again = Manifest::parse(&render_manifest(&m), path)
                .unwrap_or_else(|e| panic!("a rendered manifest does not parse: {e}"));
            let strip = |m: &Manifest| {
                m.images
                    .iter()
                    .map(|i| {
                        (
                            i.provider,
                            i.region.clone(),
                            i.id.clone(),
                            i.share_with.clone(),
                            i.prune,
                        )
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(strip(&again), strip(&m), "manifest does not round-trip");
            Outcome::Accepted
        }
        Err(e) => {
            check_manifest_error(&e, &text, path);
            Outcome::Refused {
                kind: "ManifestError",
                message: e.to_string(),
            }
        }
    }
}

fn check_manifest(m: &Manifest, text: &str) {
    assert!(!m.images.is_empty(), "a manifest without images");
    let lines = text.split('\n').count();
    let mut seen = BTreeSet::new();
    for img in &m.images {
        assert!(!img.region.as_str().trim().is_empty() && !img.id.as_str().trim().is_empty());
        assert!(seen.insert((img.provider, img.region.clone(), img.id.clone())));
        assert!(
            (1..=lines).contains(&img.line),
            "line {} of {lines}",
            img.line
        );
        let limits = imageshare::limits_of(img.provider).expect("every cloud is compiled in");
        for p in &img.share_with {
            assert_eq!(p.kind(), limits.principal_kind);
            assert!(limits.check_principal_form(p).is_ok(), "{p:?}");
        }
    }
}

fn check_manifest_error(e: &ManifestError, text: &str, path: &str) {
    let shown = e.to_string();
    assert!(shown.starts_with(path), "{shown}");
    assert!(!e.message.is_empty(), "{shown}");
    let lines: Vec<&str> = text.split('\n').collect();
    if let Some(line) = e.line {
        assert!(
            (1..=lines.len()).contains(&line),
            "line {line} of {}",
            lines.len()
        );
        if let Some(col) = e.column {
            let width = lines[line - 1].len();
            assert!((1..=width + 1).contains(&col), "column {col} of {width}");
        }
    }
    if let Some(field) = &e.field {
        assert!(field.starts_with("image["), "{field}");
    }
}

/// A TOML basic string: `"` and `\` escaped, every control character as `\uXXXX`.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn render_manifest(m: &Manifest) -> String {
    let mut out = String::new();
    for img in &m.images {
        let with: Vec<String> = img.share_with.iter().map(|p| toml_string(p.id())).collect();
        out.push_str(&format!(
            "[[image]]\nprovider = {}\nregion = {}\nid = {}\nshare_with = [{}]\nprune = {}\n\n",
            toml_string(img.provider.name()),
            toml_string(img.region.as_str()),
            toml_string(img.id.as_str()),
            with.join(", "),
            img.prune
        ));
    }
    out
}

// --------------------------------------------------------------------------------- world

/// `imageshare_emulator::World::from_toml_str` on the input as text (lossy UTF-8).
///
/// Invariants: an accepted world validates, survives a serde round trip unchanged, and
/// finds every account by each of its keys; a refusal is `WorldError::Parse` or
/// `WorldError::Invalid` with a message.
pub fn world(data: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(data);
    match World::from_toml_str(&text) {
        Ok(w) => {
            w.validate().expect("a loaded world validates");
            let value = serde_json::to_value(&w).expect("a world serializes");
            let back: World = serde_json::from_value(value).expect("a world reads back");
            assert_eq!(back, w, "world does not round-trip");
            for a in &w.accounts {
                if let Some(k) = &a.keys.tencent {
                    assert_eq!(w.account_by_tencent_key(&k.id).map(|x| &x.id), Some(&a.id));
                }
                if let Some(k) = &a.keys.alibaba {
                    assert_eq!(w.account_by_alibaba_key(&k.id).map(|x| &x.id), Some(&a.id));
                }
                if let Some(k) = &a.keys.ucloud {
                    assert_eq!(
                        w.account_by_ucloud_key(&k.public).map(|x| &x.id),
                        Some(&a.id)
                    );
                }
            }
            Outcome::Accepted
        }
        Err(e) => {
            let message = e.to_string();
            assert!(!message.is_empty());
            let kind = match e {
                WorldError::Parse { .. } => "WorldError::Parse",
                WorldError::Invalid(_) => "WorldError::Invalid",
                WorldError::Read { .. } => panic!("from_toml_str read a file: {message}"),
            };
            Outcome::Refused { kind, message }
        }
    }
}

/// The fuzz oracle's own reading of UCloud's `RetCode` (ucloud.md §3.4: a JSON number, or
/// a decimal number in a string), independent of the client's.
fn oracle_ret_code(v: &Value) -> Option<i64> {
    match v.get("RetCode")? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
