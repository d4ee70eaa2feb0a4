//! Decoding an answer object straight from its bytes into a model while picking out the
//! envelope fields every answer of a cloud carries (Tencent `RequestId` / `Error`, UCloud
//! `RetCode` / `Message`): one pass, no intermediate tree of the whole answer (#13, item
//! 8). Adapters describe which keys to pick ([`Pick`]); [`decode_picking`] gives the model
//! (or why it does not decode) and the picked values.

use serde::de::value::{MapAccessDeserializer, StringDeserializer};
use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess};
use serde_json::Value;

/// One envelope key to pick out of an answer object.
#[derive(Debug, Clone, Copy)]
pub struct Pick {
    /// The key (`RequestId`).
    pub key: &'static str,
    /// Whether the model gets the value too (a model may carry the request id itself).
    pub also_to_model: bool,
}

/// The model decoded from one answer object, and the picked envelope values (in the
/// order of the [`Pick`]s; `None` when absent).
#[derive(Debug)]
pub struct Picked<T> {
    /// The model, or why it did not decode (an error answer lacks the model's fields).
    pub model: Result<T, String>,
    /// The picked values.
    pub values: Vec<Option<Value>>,
}

/// Decodes the map `map` into `T`, picking out `picks` as their keys go by. When the model
/// fails only because fields are missing (known at the end of the object), the object has
/// been read whole and the failure is kept in [`Picked::model`]; any other failure is
/// returned, as the answer then cannot be read on.
pub fn decode_picking<'de, A, T>(map: A, picks: &[Pick]) -> Result<Picked<T>, A::Error>
where
    A: MapAccess<'de>,
    T: DeserializeOwned,
{
    let mut picking = Picking {
        inner: map,
        picks,
        values: vec![None; picks.len()],
        pending: None,
        ended: false,
    };
    let model = match T::deserialize(MapAccessDeserializer::new(&mut picking)) {
        Ok(t) => Ok(t),
        Err(e) if picking.ended => Err(e.to_string()),
        Err(e) => return Err(e),
    };
    // Whatever the model left unread.
    if !picking.ended {
        while picking.inner.next_key::<IgnoredAny>()?.is_some() {
            picking.inner.next_value::<IgnoredAny>()?;
        }
    }
    Ok(Picked {
        model,
        values: picking.values,
    })
}

struct Picking<'p, A> {
    inner: A,
    picks: &'p [Pick],
    values: Vec<Option<Value>>,
    /// A picked value the model also gets, handed over by the next `next_value_seed`.
    pending: Option<Value>,
    /// The object has been read to its end.
    ended: bool,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for &mut Picking<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        loop {
            let Some(key) = self.inner.next_key::<String>()? else {
                self.ended = true;
                return Ok(None);
            };
            let Some(i) = self.picks.iter().position(|p| p.key == key) else {
                return seed
                    .deserialize(StringDeserializer::<A::Error>::new(key))
                    .map(Some);
            };
            let value: Value = self.inner.next_value()?;
            if self.picks[i].also_to_model && !value.is_null() {
                self.pending = Some(value.clone());
                self.values[i] = Some(value);
                return seed
                    .deserialize(StringDeserializer::<A::Error>::new(key))
                    .map(Some);
            }
            self.values[i] = Some(value);
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.pending.take() {
            Some(v) => seed.deserialize(v).map_err(serde::de::Error::custom),
            None => self.inner.next_value_seed(seed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Model {
        total: u32,
        request_id: Option<String>,
    }

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

    fn run(text: &str) -> Result<Picked<Model>, serde_json::Error> {
        struct Seed;
        impl<'de> DeserializeSeed<'de> for Seed {
            type Value = Picked<Model>;
            fn deserialize<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = Picked<Model>;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("an object")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                        decode_picking(map, PICKS)
                    }
                }
                d.deserialize_map(V)
            }
        }
        Seed.deserialize(&mut serde_json::Deserializer::from_str(text))
    }

    #[test]
    fn picks_envelope_keys_and_streams_the_rest_into_the_model() {
        let p = run(r#"{"Total":3,"RequestId":"r","Other":[1,{"a":2}]}"#).unwrap();
        assert_eq!(
            p.model.unwrap(),
            Model {
                total: 3,
                request_id: Some("r".into())
            }
        );
        assert_eq!(p.values[0], Some(Value::String("r".into())));
        assert_eq!(p.values[1], None);
    }

    #[test]
    fn an_error_answer_keeps_the_error_and_the_models_failure() {
        let p = run(r#"{"Error":{"Code":"X"},"RequestId":"r"}"#).unwrap();
        assert!(p.model.unwrap_err().contains("missing field"));
        assert_eq!(p.values[1].as_ref().unwrap()["Code"], "X");
        // A value of the wrong type stops the reading.
        assert!(run(r#"{"Total":"x","Error":{}}"#).is_err());
    }
}
