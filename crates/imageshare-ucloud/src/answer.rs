//! A UCloud answer decoded from its bytes in one pass: `RetCode` and `Message` are picked
//! out of the flat JSON object as its keys go by, everything else goes straight into the
//! model (core [`pick`](imageshare_core::transport::pick); #13 item 8: no intermediate
//! `serde_json::Value` of the whole answer).
//!
//! Shape (ucloud.md §3.4; ucloud-sdk-go `ucloud/response/common.go`): `{"Action":
//! "...Response", "RetCode": 0, "Message": "...", ..payload..}`. `RetCode` may come as a
//! JSON number or as a decimal number in a string (the Go SDK patches the latter).

use std::fmt;
use std::marker::PhantomData;

use imageshare_core::transport::pick::{decode_picking, Pick};
use serde::de::{DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde::Deserializer;
use serde_json::Value;

/// One decoded answer.
#[derive(Debug)]
pub struct DecodedAnswer<T> {
    /// `RetCode`, when present and a number (or a decimal string).
    pub ret_code: Option<i64>,
    /// `Message`, when present.
    pub message: Option<String>,
    /// The model, or why it did not decode.
    pub model: Result<T, String>,
}

const PICKS: &[Pick] = &[
    Pick {
        key: "RetCode",
        also_to_model: false,
    },
    Pick {
        key: "Message",
        also_to_model: false,
    },
];

/// Decodes `bytes` (a JSON object) into a [`DecodedAnswer`]; `Err` says why they are not a
/// UCloud answer at all.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<DecodedAnswer<T>, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let answer = Seed::<T>(PhantomData)
        .deserialize(&mut de)
        .map_err(|e| format!("the response is not a JSON object of the expected shape: {e}"))?;
    de.end()
        .map_err(|e| format!("the response is not JSON: {e}"))?;
    Ok(answer)
}

/// `RetCode` as UCloud sends it: a JSON number (integral), or a decimal string.
fn ret_code(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

struct Seed<T>(PhantomData<T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Seed<T> {
    type Value = DecodedAnswer<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Seed<T> {
    type Value = DecodedAnswer<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let picked = decode_picking::<A, T>(map, PICKS)?;
        let mut values = picked.values.into_iter();
        let ret_code = values.next().flatten().as_ref().and_then(ret_code);
        let message = values
            .next()
            .flatten()
            .and_then(|v| v.as_str().map(str::to_owned));
        Ok(DecodedAnswer {
            ret_code,
            message,
            model: picked.model,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DescribeImageResponse;

    #[test]
    fn ret_code_message_and_model_from_one_pass() {
        let a: DecodedAnswer<DescribeImageResponse> = parse(
            br#"{"Action":"DescribeImageResponse","RetCode":"0","TotalCount":1,"ImageSet":[{"ImageId":"uimage-a"}]}"#,
        )
        .unwrap();
        assert_eq!(a.ret_code, Some(0));
        assert_eq!(a.model.unwrap().image_set[0].image_id, "uimage-a");
        let a: DecodedAnswer<Value> =
            parse(br#"{"RetCode":171.0,"Message":"Signature VerifyAC Error"}"#).unwrap();
        assert_eq!(
            (a.ret_code, a.message.as_deref()),
            (Some(171), Some("Signature VerifyAC Error"))
        );
        let a: DecodedAnswer<Value> = parse(br#"{"Message":"m"}"#).unwrap();
        assert_eq!(a.ret_code, None);
        assert!(parse::<Value>(b"[1]").is_err());
        assert!(parse::<Value>(b"{} x").is_err());
    }
}
