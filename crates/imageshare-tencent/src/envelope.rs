//! The `{"Response": {...}}` envelope of every Tencent Cloud API 3.0 answer, decoded from
//! the bytes in one pass: `RequestId` and `Error` are picked out of the `Response` object
//! as its keys stream by, and every other key goes straight to the payload model `T`. No
//! intermediate `serde_json::Value` tree is built (#13, item 8: one representation per
//! hop).
//!
//! Shapes (API 3.0 common answer structure, <https://cloud.tencent.com/document/api/213/15729>):
//! success `{"Response": {..payload.., "RequestId": "..."}}`; failure
//! `{"Response": {"Error": {"Code": "...", "Message": "..."}, "RequestId": "..."}}`.

use std::fmt;
use std::marker::PhantomData;

use imageshare_core::transport::pick::{decode_picking, Pick};
use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// `Response.Error`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// The error code, verbatim (`AuthFailure.SignatureFailure`).
    pub code: String,
    /// The message.
    pub message: String,
}

impl ErrorBody {
    /// Reads an `Error` value leniently: any `Error` key makes the answer a failure, and a
    /// `Code` or `Message` that is not a string reads as empty.
    fn from_value(v: &serde_json::Value) -> Self {
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
        ErrorBody {
            code: text("Code"),
            message: text("Message"),
        }
    }
}

/// One decoded envelope.
#[derive(Debug)]
pub struct Envelope<T> {
    /// `Response.RequestId`, when present.
    pub request_id: Option<String>,
    /// `Response.Error`, when the answer is a failure.
    pub error: Option<ErrorBody>,
    /// The payload; `Err(message)` when it does not decode (a failure answer has no
    /// payload fields, so this is what it holds then).
    pub payload: Result<T, String>,
}

/// Why bytes are not an envelope at all.
#[derive(Debug)]
pub enum NotAnEnvelope {
    /// Not JSON, or JSON without a `Response` object.
    Shape(String),
}

impl fmt::Display for NotAnEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotAnEnvelope::Shape(m) => f.write_str(m),
        }
    }
}

/// Decodes `bytes` as an envelope of `T`. When the payload does not decode, the envelope
/// fields are read again on their own (that error path only), so that the failure still
/// carries the request id.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<Envelope<T>, NotAnEnvelope> {
    let whole = |bytes| -> Result<Option<Envelope<T>>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let outer = Outer::<T>(PhantomData).deserialize(&mut de)?;
        de.end()?;
        Ok(outer)
    };
    match whole(bytes) {
        Ok(Some(envelope)) => Ok(envelope),
        Ok(None) => Err(NotAnEnvelope::Shape("no \"Response\" object".to_owned())),
        Err(payload_error) => match serde_json::from_slice::<Head>(bytes) {
            Ok(head) => Ok(Envelope {
                request_id: head.response.request_id,
                error: head.response.error.as_ref().map(ErrorBody::from_value),
                payload: Err(payload_error.to_string()),
            }),
            Err(_) => Err(NotAnEnvelope::Shape(payload_error.to_string())),
        },
    }
}

/// `Some` for any value, `null` included (serde's `Option` reads `null` as `None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// The envelope fields alone (the error path of [`parse`]).
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "Response")]
    response: HeadFields,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HeadFields {
    #[serde(default)]
    request_id: Option<String>,
    /// Any value: present (even `null`) means a failure.
    #[serde(default, deserialize_with = "present")]
    error: Option<serde_json::Value>,
}

/// The outer object: finds `Response` and decodes it; other keys are skipped.
struct Outer<T>(PhantomData<T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Outer<T> {
    type Value = Option<Envelope<T>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Outer<T> {
    type Value = Option<Envelope<T>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a {\"Response\": {...}} object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "Response" && found.is_none() {
                found = Some(map.next_value_seed(Inner::<T>(PhantomData))?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// The `Response` object: decodes `T` from it while picking out `RequestId` and `Error`.
struct Inner<T>(PhantomData<T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Inner<T> {
    type Value = Envelope<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Inner<T> {
    type Value = Envelope<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the Response object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let picked = decode_picking::<A, T>(map, PICKS)?;
        let mut values = picked.values.into_iter();
        let request_id = values
            .next()
            .flatten()
            .and_then(|v| v.as_str().map(str::to_owned));
        let error = values.next().flatten().map(|v| ErrorBody::from_value(&v));
        // Without an Error, a model that does not decode is the answer's fault.
        let payload = match picked.model {
            Err(e) if error.is_none() => return Err(serde::de::Error::custom(e)),
            other => other,
        };
        Ok(Envelope {
            request_id,
            error,
            payload,
        })
    }
}

/// The envelope keys of a `Response` object: `RequestId` (models such as `Empty` carry it
/// too) and `Error` (never the model's).
const PICKS: &[Pick] = &[
    Pick {
        key: "RequestId",
        also_to_model: true,
    },
    Pick {
        key: "Error",
        also_to_model: false,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Empty;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Payload {
        total_count: u32,
        names: Vec<String>,
    }

    #[test]
    fn a_success_streams_into_the_model_with_its_request_id() {
        let e: Envelope<Payload> = parse(
            br#"{"Response":{"TotalCount":2,"RequestId":"r-1","Names":["a","b"],"Extra":{"x":[1]}}}"#,
        )
        .unwrap();
        assert_eq!(e.request_id.as_deref(), Some("r-1"));
        assert!(e.error.is_none());
        assert_eq!(
            e.payload.unwrap(),
            Payload {
                total_count: 2,
                names: vec!["a".into(), "b".into()]
            }
        );
        let empty: Envelope<Empty> = parse(br#"{"Response":{"RequestId":"r-2"}}"#).unwrap();
        assert_eq!(empty.payload.unwrap().request_id.as_deref(), Some("r-2"));
    }

    #[test]
    fn a_failure_keeps_its_error_and_request_id_whatever_the_key_order() {
        for body in [
            br#"{"Response":{"Error":{"Code":"AuthFailure","Message":"m"},"RequestId":"r"}}"#
                .as_slice(),
            br#"{"Response":{"RequestId":"r","Error":{"Code":"AuthFailure","Message":"m"}}}"#
                .as_slice(),
        ] {
            let e: Envelope<Payload> = parse(body).unwrap();
            assert_eq!(e.request_id.as_deref(), Some("r"));
            assert_eq!(e.error.unwrap().code, "AuthFailure");
            assert!(e.payload.is_err());
        }
    }

    #[test]
    fn what_is_not_an_envelope_says_so() {
        assert!(parse::<Empty>(b"not json").is_err());
        assert!(parse::<Empty>(br#"{"Other":{}}"#).is_err());
        assert!(parse::<Empty>(br#"{"Response":{}} trailing"#).is_err());
        // A payload of the wrong type without an Error is a payload failure that keeps the
        // request id.
        let e = parse::<Payload>(br#"{"Response":{"TotalCount":"x","Names":[],"RequestId":"r"}}"#)
            .unwrap();
        assert!(e.payload.is_err());
        assert_eq!(e.request_id.as_deref(), Some("r"));
    }
}
