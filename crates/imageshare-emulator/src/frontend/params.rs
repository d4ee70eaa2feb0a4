//! The one parameter reader and the one pager of the front-ends.
//!
//! A request's parameters come flat (`Name=value` pairs: Alibaba RPC, UCloud; a list is the
//! entries `Name.N`) or as a JSON object (Tencent API 3.0, whose GET and form requests are
//! turned into the same object first). [`Params`] reads both alike and reports a problem
//! as a typed [`ParamError`]; each front-end words that in its cloud's own code and
//! message, as it does for the engine's refusals. [`Page`] is the one pager: Alibaba's
//! `PageNumber` / `PageSize` and the `Offset` / `Limit` of Tencent and UCloud both become
//! an offset and a limit over the same listing.

use std::collections::BTreeMap;

use serde_json::Value;

/// Why a parameter was refused, before a cloud words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    /// A required parameter is absent or empty.
    Missing {
        /// The parameter.
        name: String,
    },
    /// A value is not of the kind the parameter takes.
    Malformed {
        /// The parameter.
        name: String,
        /// The value as sent (JSON text for a JSON value).
        value: String,
        /// What it should have been.
        expected: Expected,
    },
    /// An integer is negative.
    Negative {
        /// The parameter.
        name: String,
        /// The value as sent.
        value: String,
    },
    /// An integer is outside the accepted range.
    OutOfRange {
        /// The parameter.
        name: String,
        /// The value as sent.
        value: String,
        /// Smallest accepted.
        min: u64,
        /// Largest accepted, if there is a largest.
        max: Option<u64>,
    },
    /// A flat list entry whose key is not `Name.N` with a valid index N.
    BadIndex {
        /// The key as sent.
        key: String,
        /// Its value.
        value: String,
    },
}

/// The kind of value a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// A string.
    String,
    /// `true` or `false`.
    Boolean,
    /// A whole number.
    Integer,
    /// A list of strings.
    StringList,
    /// A list of objects with string fields.
    ObjectList,
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Expected::String => "a string",
            Expected::Boolean => "a boolean",
            Expected::Integer => "a whole number",
            Expected::StringList => "a list of strings",
            Expected::ObjectList => "a list of objects with string fields",
        })
    }
}

/// How a cloud numbers the entries of a flat list `Name.N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlatLists {
    /// The first index (Alibaba's SDKs count from 1, UCloud's from 0).
    pub first_index: usize,
    /// Whether an entry with an empty value is a list item (Alibaba) or skipped (UCloud).
    pub keep_empty: bool,
}

/// A request's parameters.
#[derive(Debug, Clone, Copy)]
pub enum Params<'a> {
    /// `Name=value` pairs: every value is a string, an empty one counts as absent, a list
    /// is the entries `Name.N` in index order.
    Flat {
        /// The pairs, in request order (the first of a repeated name counts).
        pairs: &'a [(String, String)],
        /// How lists are numbered.
        lists: FlatLists,
    },
    /// A JSON object: values are typed, `null` counts as absent, a list is an array.
    /// Numbers and booleans may also come as strings (a flattened GET request).
    Json(&'a Value),
}

/// A value as read, before it is checked against its kind.
enum Raw<'a> {
    Text(&'a str),
    Json(&'a Value),
}

impl<'a> Raw<'a> {
    /// The value when it is text: a flat value or a JSON string.
    fn text(&self) -> Option<&'a str> {
        match *self {
            Raw::Text(s) => Some(s),
            Raw::Json(Value::String(s)) => Some(s),
            Raw::Json(_) => None,
        }
    }
    /// The value as sent, for messages.
    fn sent(&self) -> String {
        match self {
            Raw::Text(s) => (*s).to_owned(),
            Raw::Json(v) => v.to_string(),
        }
    }
}

/// The first value of `name` among flat pairs, as sent (even empty): for the markers a
/// front-end looks at before it reads the action's parameters.
pub fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

impl<'a> Params<'a> {
    /// Flat parameters with lists numbered as `lists` says.
    pub fn flat(pairs: &'a [(String, String)], lists: FlatLists) -> Self {
        Params::Flat { pairs, lists }
    }

    fn raw(&self, name: &str) -> Option<Raw<'a>> {
        match *self {
            Params::Flat { pairs, .. } => {
                first(pairs, name).filter(|v| !v.is_empty()).map(Raw::Text)
            }
            Params::Json(body) => body.get(name).filter(|v| !v.is_null()).map(Raw::Json),
        }
    }

    /// Whether the parameter is present (not empty, not `null`).
    pub fn has(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    /// A string parameter. A JSON string may be empty; a flat empty value is absent.
    pub fn str(&self, name: &str) -> Result<Option<&'a str>, ParamError> {
        match self.raw(name) {
            None => Ok(None),
            Some(raw) => raw
                .text()
                .map(Some)
                .ok_or_else(|| malformed(name, raw.sent(), Expected::String)),
        }
    }

    /// A string parameter that must be present and not empty.
    pub fn required(&self, name: &str) -> Result<&'a str, ParamError> {
        match self.str(name)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ParamError::Missing { name: name.into() }),
        }
    }

    /// A boolean: a JSON boolean or the string `true` / `false` (a flat value in any case:
    /// the Python SDKs send `True`).
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ParamError> {
        let Some(raw) = self.raw(name) else {
            return Ok(None);
        };
        let any_case = matches!(raw, Raw::Text(_));
        let parsed = match (&raw, raw.text()) {
            (Raw::Json(Value::Bool(b)), _) => Some(*b),
            (_, Some(t)) if any_case && t.eq_ignore_ascii_case("true") => Some(true),
            (_, Some(t)) if any_case && t.eq_ignore_ascii_case("false") => Some(false),
            (_, Some("true")) => Some(true),
            (_, Some("false")) => Some(false),
            _ => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| malformed(name, raw.sent(), Expected::Boolean))
    }

    /// An integer: a JSON integer or a decimal string (surrounding spaces ignored).
    pub fn int(&self, name: &str) -> Result<Option<i64>, ParamError> {
        let Some(raw) = self.raw(name) else {
            return Ok(None);
        };
        let parsed = match (&raw, raw.text()) {
            (Raw::Json(Value::Number(n)), _) => n.as_i64(),
            (_, Some(t)) => t.trim().parse::<i64>().ok(),
            _ => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| malformed(name, raw.sent(), Expected::Integer))
    }

    /// A whole number in `min..=max` (no maximum when `None`), `default` when absent.
    pub fn whole(
        &self,
        name: &str,
        default: u64,
        min: u64,
        max: Option<u64>,
    ) -> Result<u64, ParamError> {
        let Some(n) = self.int(name)? else {
            return Ok(default);
        };
        let value = || n.to_string();
        let n = u64::try_from(n).map_err(|_| ParamError::Negative {
            name: name.into(),
            value: value(),
        })?;
        if n < min || max.is_some_and(|m| n > m) {
            return Err(ParamError::OutOfRange {
                name: name.into(),
                value: value(),
                min,
                max,
            });
        }
        Ok(n)
    }

    /// A list of strings: a JSON array, or the flat entries `Name.N` in index order.
    /// `None` when the parameter is absent (a JSON `[]` is an empty list).
    pub fn list(&self, name: &str) -> Result<Option<Vec<String>>, ParamError> {
        match *self {
            Params::Json(_) => match self.raw(name) {
                None => Ok(None),
                Some(Raw::Json(Value::Array(items))) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .map(Some)
                    .ok_or_else(|| {
                        let sent = Value::Array(items.clone()).to_string();
                        malformed(name, sent, Expected::StringList)
                    }),
                Some(raw) => Err(malformed(name, raw.sent(), Expected::StringList)),
            },
            Params::Flat { pairs, lists } => {
                let prefix = format!("{name}.");
                let mut items: Vec<(usize, String)> = Vec::new();
                for (k, v) in pairs {
                    let Some(n) = k.strip_prefix(&prefix) else {
                        continue;
                    };
                    let n = n
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n >= lists.first_index)
                        .ok_or_else(|| ParamError::BadIndex {
                            key: k.clone(),
                            value: v.clone(),
                        })?;
                    if lists.keep_empty || !v.is_empty() {
                        items.push((n, v.clone()));
                    }
                }
                if items.is_empty() {
                    return Ok(None);
                }
                items.sort_by_key(|(n, _)| *n);
                Ok(Some(items.into_iter().map(|(_, v)| v).collect()))
            }
        }
    }

    /// A list of objects with string `fields`: a JSON array of objects, or the flat
    /// entries `Name.N.Field` (Alibaba's `Resources.1.ResourceId`) in index order. Each
    /// object comes back as its fields' values in the order of `fields` (`None`: not
    /// sent). A flat key `Name.N` or `Name.N.Other` with a field not in `fields` is
    /// refused ([`ParamError::BadIndex`]); empty when the parameter is absent.
    pub fn objects(
        &self,
        name: &str,
        fields: &[&str],
    ) -> Result<Vec<Vec<Option<String>>>, ParamError> {
        let slot = |field: &str| fields.iter().position(|f| *f == field);
        match *self {
            Params::Json(_) => match self.raw(name) {
                None => Ok(Vec::new()),
                Some(Raw::Json(Value::Array(items))) => items
                    .iter()
                    .map(|item| {
                        let bad = || malformed(name, item.to_string(), Expected::ObjectList);
                        let obj = item.as_object().ok_or_else(bad)?;
                        let mut out = vec![None; fields.len()];
                        for (k, v) in obj {
                            let i = slot(k).ok_or_else(bad)?;
                            out[i] = Some(v.as_str().ok_or_else(bad)?.to_owned());
                        }
                        Ok(out)
                    })
                    .collect(),
                Some(raw) => Err(malformed(name, raw.sent(), Expected::ObjectList)),
            },
            Params::Flat { pairs, lists } => {
                let prefix = format!("{name}.");
                let mut items: BTreeMap<usize, Vec<Option<String>>> = BTreeMap::new();
                for (k, v) in pairs {
                    let Some(rest) = k.strip_prefix(&prefix) else {
                        continue;
                    };
                    let bad = || ParamError::BadIndex {
                        key: k.clone(),
                        value: v.clone(),
                    };
                    let (n, field) = rest.split_once('.').ok_or_else(bad)?;
                    let n = n
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n >= lists.first_index)
                        .ok_or_else(bad)?;
                    let i = slot(field).ok_or_else(bad)?;
                    if lists.keep_empty || !v.is_empty() {
                        items.entry(n).or_insert_with(|| vec![None; fields.len()])[i] =
                            Some(v.clone());
                    }
                }
                Ok(items.into_values().collect())
            }
        }
    }

    /// A list that must be present and not empty.
    pub fn required_list(&self, name: &str) -> Result<Vec<String>, ParamError> {
        match self.list(name)? {
            Some(l) if !l.is_empty() => Ok(l),
            _ => Err(ParamError::Missing { name: name.into() }),
        }
    }

    /// `PageNumber` (from 1, default 1) and `PageSize` (1 to `max_size`, default
    /// `default_size`).
    pub fn page_number(&self, default_size: u64, max_size: u64) -> Result<PageNumber, ParamError> {
        Ok(PageNumber {
            number: self.whole("PageNumber", 1, 1, None)?,
            size: self.whole("PageSize", default_size, 1, Some(max_size))?,
        })
    }

    /// `Offset` (default 0) and `Limit`, as `rule` says.
    pub fn page_offset(&self, rule: OffsetLimit) -> Result<Page, ParamError> {
        let offset = self.whole("Offset", 0, 0, None)?;
        let max = (!rule.clamp).then_some(rule.max);
        let limit = match self.whole("Limit", rule.default, 0, max)? {
            0 if rule.clamp => rule.default,
            n => n.min(rule.max),
        };
        Ok(Page {
            offset: usize::try_from(offset).unwrap_or(usize::MAX),
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        })
    }
}

fn malformed(name: &str, value: String, expected: Expected) -> ParamError {
    ParamError::Malformed {
        name: name.into(),
        value,
        expected,
    }
}

/// How a cloud reads `Offset` / `Limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetLimit {
    /// `Limit` when none is sent.
    pub default: u64,
    /// The largest `Limit`.
    pub max: u64,
    /// `true`: a larger `Limit` is cut to `max` and `0` means the default (UCloud);
    /// `false`: a larger `Limit` is refused and `0` is an empty page (Tencent).
    pub clamp: bool,
}

/// Alibaba's page: `PageNumber` (from 1) of `PageSize` entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumber {
    /// The page, from 1.
    pub number: u64,
    /// Entries per page.
    pub size: u64,
}

impl PageNumber {
    /// The same page as an offset and a limit.
    pub fn page(&self) -> Page {
        let offset = (self.number - 1).saturating_mul(self.size);
        Page {
            offset: usize::try_from(offset).unwrap_or(usize::MAX),
            limit: usize::try_from(self.size).unwrap_or(usize::MAX),
        }
    }
}

/// One page of a listing: `offset` entries skipped, at most `limit` kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Entries skipped.
    pub offset: usize,
    /// Entries kept at most.
    pub limit: usize,
}

impl Page {
    /// The entries of this page, borrowed.
    pub fn of<'t, T>(&self, items: &'t [T]) -> &'t [T] {
        let start = self.offset.min(items.len());
        let end = start.saturating_add(self.limit).min(items.len());
        &items[start..end]
    }

    /// Whether entry `index` of the whole listing is on this page (for listings counted
    /// while they are built).
    pub fn holds(&self, index: usize) -> bool {
        index >= self.offset && index - self.offset < self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ALIBABA: FlatLists = FlatLists {
        first_index: 1,
        keep_empty: true,
    };
    const UCLOUD: FlatLists = FlatLists {
        first_index: 0,
        keep_empty: false,
    };

    fn pairs(kv: &[(&str, &str)]) -> Vec<(String, String)> {
        kv.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn flat_and_json_read_alike() {
        let flat = pairs(&[("Name", "a"), ("Empty", ""), ("On", "True"), ("N", " 7 ")]);
        let f = Params::flat(&flat, ALIBABA);
        let body = json!({"Name": "a", "Empty": "", "On": true, "N": 7, "Null": null});
        let j = Params::Json(&body);
        for p in [f, j] {
            assert_eq!(p.str("Name"), Ok(Some("a")));
            assert_eq!(p.required("Name"), Ok("a"));
            assert_eq!(p.bool("On"), Ok(Some(true)));
            assert_eq!(p.int("N"), Ok(Some(7)));
            assert!(matches!(
                p.required("Empty"),
                Err(ParamError::Missing { .. })
            ));
            assert_eq!(p.str("Null"), Ok(None));
        }
        // A JSON empty string is a value; a flat one is absent.
        assert_eq!(j.str("Empty"), Ok(Some("")));
        assert_eq!(f.str("Empty"), Ok(None));
        // JSON types are checked; JSON strings are exact booleans, flat ones any case.
        assert!(matches!(
            j.str("N"),
            Err(ParamError::Malformed {
                expected: Expected::String,
                ..
            })
        ));
        let b = json!({"On": "True"});
        assert!(Params::Json(&b).bool("On").is_err());
    }

    #[test]
    fn flat_lists_follow_the_clouds_numbering() {
        let flat = pairs(&[("A.2", "b"), ("A.1", "a"), ("A.3", "")]);
        assert_eq!(
            Params::flat(&flat, ALIBABA).list("A"),
            Ok(Some(vec!["a".into(), "b".into(), "".into()]))
        );
        assert_eq!(
            Params::flat(&flat, UCLOUD).list("A"),
            Ok(Some(vec!["a".into(), "b".into()]))
        );
        let zero = pairs(&[("A.0", "z")]);
        assert!(matches!(
            Params::flat(&zero, ALIBABA).list("A"),
            Err(ParamError::BadIndex { .. })
        ));
        assert_eq!(
            Params::flat(&zero, UCLOUD).list("A"),
            Ok(Some(vec!["z".into()]))
        );
        assert_eq!(Params::flat(&zero, UCLOUD).list("B"), Ok(None));
        let body = json!({"A": ["x"], "B": [], "C": [1]});
        let j = Params::Json(&body);
        assert_eq!(j.list("A"), Ok(Some(vec!["x".into()])));
        assert_eq!(j.list("B"), Ok(Some(vec![])));
        assert!(matches!(
            j.required_list("B"),
            Err(ParamError::Missing { .. })
        ));
        assert!(j.list("C").is_err());
    }

    #[test]
    fn pages() {
        let items: Vec<u32> = (0..25).collect();
        let none = pairs(&[]);
        let p = Params::flat(&none, UCLOUD);
        let n = p.page_number(10, 100).unwrap();
        assert_eq!((n.number, n.size), (1, 10));
        assert_eq!(n.page().of(&items).len(), 10);
        let third = pairs(&[("PageNumber", "3"), ("PageSize", "10")]);
        let n = Params::flat(&third, UCLOUD).page_number(10, 100).unwrap();
        assert_eq!(n.page().of(&items), &items[20..]);
        for bad in ["0", "-1", "x"] {
            let q = pairs(&[("PageNumber", bad)]);
            assert!(Params::flat(&q, UCLOUD).page_number(10, 100).is_err());
        }
        let tencent = OffsetLimit {
            default: 20,
            max: 100,
            clamp: false,
        };
        let ucloud = OffsetLimit {
            clamp: true,
            ..tencent
        };
        let big = json!({"Offset": 5, "Limit": 500});
        assert!(matches!(
            Params::Json(&big).page_offset(tencent),
            Err(ParamError::OutOfRange { .. })
        ));
        let big = pairs(&[("Offset", "5"), ("Limit", "500")]);
        assert_eq!(
            Params::flat(&big, UCLOUD).page_offset(ucloud),
            Ok(Page {
                offset: 5,
                limit: 100
            })
        );
        let zero = pairs(&[("Limit", "0")]);
        assert_eq!(
            Params::flat(&zero, UCLOUD)
                .page_offset(ucloud)
                .unwrap()
                .limit,
            20
        );
        let zero = json!({"Limit": 0});
        assert_eq!(Params::Json(&zero).page_offset(tencent).unwrap().limit, 0);
        let negative = json!({"Offset": -1});
        assert!(matches!(
            Params::Json(&negative).page_offset(tencent),
            Err(ParamError::Negative { .. })
        ));
        let page = Page {
            offset: 20,
            limit: 10,
        };
        assert_eq!(page.of(&items), &items[20..]);
        assert!(page.holds(20) && page.holds(29) && !page.holds(30) && !page.holds(19));
        assert!(Page {
            offset: usize::MAX,
            limit: usize::MAX
        }
        .of(&items)
        .is_empty());
    }
}
