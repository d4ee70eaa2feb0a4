//! Tencent request parameters: the request turned into one JSON object (a JSON body as
//! sent; a GET or form request's flattened `Name.N.Field` parameters rebuilt into the same
//! shape), read with the front-ends' shared reader ([`Params`]), plus what only Tencent
//! has: the unknown-parameter check, `Filters`, and Tencent's wording of a refused
//! parameter.

use serde_json::{json, Map, Value};

use super::{Ctx, Product, TcError, DEFAULT_LIMIT, MAX_LIMIT};
use crate::frontend::params::{OffsetLimit, Page, ParamError, Params};
use crate::server::WireRequest;

/// One `Filters` entry: a name and its values.
pub(super) type Filter = (String, Vec<String>);

/// The action's parameters as a JSON object: the JSON body of a POST, or the flattened
/// `Name.N.Field` parameters of a GET / form POST turned into the same shape (leaves stay
/// strings; the typed readers accept numeric and boolean strings there).
pub(super) fn request_params(wire: &WireRequest) -> Result<Value, TcError> {
    if wire.method == "GET" || wire.content_type() == "application/x-www-form-urlencoded" {
        let mut root = Value::Object(Map::new());
        for (k, v) in wire.params() {
            insert_flat(&mut root, k, v.clone())?;
        }
        return Ok(root);
    }
    if wire.body.is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(&wire.body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(TcError::new(
            "InvalidParameter",
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(TcError::new(
            "InvalidParameter",
            format!("The request body is not JSON: {e}"),
        )),
    }
}

fn insert_flat(root: &mut Value, key: &str, value: String) -> Result<(), TcError> {
    let bad = || {
        TcError::new(
            "InvalidParameter",
            format!("Malformed parameter name {key:?}."),
        )
    };
    let parts: Vec<&str> = key.split('.').collect();
    let mut cur = root;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if let Ok(idx) = part.parse::<usize>() {
            if idx > 1000 {
                return Err(bad());
            }
            if cur.is_null() {
                *cur = Value::Array(Vec::new());
            }
            let arr = cur.as_array_mut().ok_or_else(bad)?;
            while arr.len() <= idx {
                arr.push(Value::Null);
            }
            cur = &mut arr[idx];
        } else {
            if part.is_empty() {
                return Err(bad());
            }
            if cur.is_null() {
                *cur = Value::Object(Map::new());
            }
            let obj = cur.as_object_mut().ok_or_else(bad)?;
            cur = obj.entry((*part).to_owned()).or_insert(Value::Null);
        }
        if last {
            *cur = Value::String(value);
            return Ok(());
        }
    }
    Ok(())
}

impl Ctx<'_> {
    /// Refuses a parameter the action does not take (`UnknownParameter`).
    pub(super) fn allow(&self, names: &[&str]) -> Result<(), TcError> {
        if let Some(obj) = self.body.as_object() {
            for k in obj.keys() {
                if !names.contains(&k.as_str()) {
                    return Err(TcError::new(
                        "UnknownParameter",
                        format!("The parameter `{k}` is not recognized."),
                    ));
                }
            }
        }
        Ok(())
    }

    /// `Offset` / `Limit` with Tencent's defaults (0, 20) and maximum limit (100).
    pub(super) fn paging(&self) -> Result<Page, TcError> {
        self.params
            .page_offset(PAGING)
            .map_err(|e| param_error(e, self.product))
    }

    /// `Filters`, checked against the action's known names and its maxima.
    pub(super) fn filters(
        &self,
        known: &[&str],
        max_values: usize,
    ) -> Result<Vec<Filter>, TcError> {
        let lighthouse = self.product == Product::Lighthouse;
        let Some(v) = self.body.get("Filters").filter(|v| !v.is_null()) else {
            return Ok(Vec::new());
        };
        let invalid = |msg: String| {
            TcError::new(
                if lighthouse {
                    "InvalidParameter.InvalidFilter"
                } else {
                    "InvalidFilter"
                },
                msg,
            )
        };
        let Value::Array(items) = v else {
            return Err(invalid("`Filters` must be an array of Filter.".into()));
        };
        if items.len() > 10 {
            return Err(TcError::new(
                "InvalidParameterValue.LimitExceeded",
                "At most 10 filters are allowed per request.",
            ));
        }
        let mut out = Vec::new();
        for f in items {
            let filter = Params::Json(f);
            let name = filter
                .str("Name")
                .ok()
                .flatten()
                .ok_or_else(|| invalid("Every Filter needs a string `Name`.".into()))?;
            let values = filter.list("Values").ok().flatten().ok_or_else(|| {
                invalid(format!(
                    "Filter `{name}` needs an array of strings `Values`."
                ))
            })?;
            let is_known = known.contains(&name) || name.starts_with("tag:");
            if !is_known {
                return Err(TcError::new(
                    if lighthouse {
                        "InvalidParameter.InvalidFilterNotSupportedName"
                    } else {
                        "InvalidFilter"
                    },
                    format!("The filter name `{name}` is not supported."),
                ));
            }
            if values.len() > max_values {
                return Err(TcError::new(
                    if lighthouse {
                        "InvalidParameter.FilterValueLimitExceeded"
                    } else {
                        "InvalidFilterValue.LimitExceeded"
                    },
                    format!("Filter `{name}` has more than {max_values} values."),
                ));
            }
            out.push((name.to_owned(), values));
        }
        Ok(out)
    }

    /// Refuses a listing that names ids (`ids_name`) and `Filters` together.
    pub(super) fn ids_or_filters(&self, ids_name: &str, ids: bool) -> Result<(), TcError> {
        if ids && self.params.has("Filters") {
            return Err(TcError::new(
                match self.product {
                    Product::Cvm => "InvalidParameter.InvalidParameterCoexistImageIdsFilters",
                    Product::Cbs => "InvalidParameterValue",
                    Product::Lighthouse => "InvalidParameter.ParameterConflict",
                },
                format!("{ids_name} and Filters cannot be specified at the same time."),
            ));
        }
        Ok(())
    }
}

/// Offset/Limit paging of the Describe actions: a `Limit` above the maximum is refused.
const PAGING: OffsetLimit = OffsetLimit {
    default: DEFAULT_LIMIT,
    max: MAX_LIMIT,
    clamp: false,
};

/// Words a refused parameter. Negative and out-of-range values (paging only) have
/// Lighthouse sub-codes; CVM uses the generic ones (and its own for a range), CBS the
/// generic ones.
fn param_error(e: ParamError, product: Product) -> TcError {
    let lighthouse = product == Product::Lighthouse;
    match e {
        ParamError::Missing { name } => missing(&name),
        ParamError::Malformed { name, expected, .. } => TcError::new(
            "InvalidParameter",
            format!("The value of parameter `{name}` must be {expected}."),
        ),
        ParamError::Negative { name, .. } => TcError::new(
            if lighthouse {
                "InvalidParameterValue.Negative"
            } else {
                "InvalidParameterValue"
            },
            format!("The value of parameter `{name}` cannot be negative."),
        ),
        ParamError::OutOfRange { name, min, max, .. } => TcError::new(
            match product {
                Product::Lighthouse => "InvalidParameterValue.OutOfRange",
                Product::Cvm => "InvalidParameterValue.InvalidParameterValueLimit",
                // CBS lists only the generic code for DescribeSnapshots.
                Product::Cbs => "InvalidParameterValue",
            },
            format!(
                "The value of parameter `{name}` must be between {min} and {}.",
                max.unwrap_or(u64::MAX)
            ),
        ),
        ParamError::BadIndex { key, .. } => TcError::new(
            "InvalidParameter",
            format!("Malformed parameter name {key:?}."),
        ),
    }
}

/// The generic wording of a refused parameter (`param_error` gives Lighthouse its paging
/// sub-codes).
impl From<ParamError> for TcError {
    fn from(e: ParamError) -> Self {
        param_error(e, Product::Cvm)
    }
}

/// `MissingParameter`.
pub(super) fn missing(name: &str) -> TcError {
    TcError::new(
        "MissingParameter",
        format!("The request is missing a required parameter `{name}`."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_parameters_become_json() {
        let mut root = Value::Object(Map::new());
        for (k, v) in [
            ("ImageIds.0", "img-a"),
            ("ImageIds.1", "img-b"),
            ("Filters.0.Name", "image-type"),
            ("Filters.0.Values.0", "SHARED_IMAGE"),
            ("Limit", "5"),
        ] {
            insert_flat(&mut root, k, v.to_owned()).unwrap();
        }
        assert_eq!(
            root,
            json!({"ImageIds": ["img-a", "img-b"],
                   "Filters": [{"Name": "image-type", "Values": ["SHARED_IMAGE"]}],
                   "Limit": "5"})
        );
        assert!(insert_flat(&mut root, "ImageIds.x", "1".into()).is_err());
    }
}
