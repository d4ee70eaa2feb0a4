//! Rendering: the output format (`--output`), the [`Document`] every command returns and
//! the one place that writes it ([`print()`]), and the pieces several documents share (the
//! report of a share or unshare, image rows, text tables).

use std::fmt;
use std::io::Write;

use clap::ValueEnum;
use imageshare::core::{Error, Image, ImageId, Principal, ShareOutcome, ShareReport};
use serde::{Serialize, Serializer};

use crate::exit::{code_of, Failure, FAILED};
use crate::wording;

/// The version of every command's JSON document: `"schema": "imageshare/COMMAND/v1"`.
pub const SCHEMA_VERSION: u32 = 1;

/// The `schema` of `command`'s JSON document: `imageshare/COMMAND/v1`.
pub fn schema(command: &str) -> String {
    format!("imageshare/{command}/v{SCHEMA_VERSION}")
}

/// The output format (`--output`). Its variants have no doc comments: clap would show
/// them in `--help` (in long form), which the help text has never had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    // Text for people: tables, and one line per outcome.
    Text,
    // One JSON document, pretty-printed.
    Json,
}

/// The output format asked for on a command line clap could not parse: `--output json`,
/// `--output=json`, `-o json`, `-ojson`, else `IMAGESHARE_OUTPUT` (`env`), else text.
pub fn requested_format(args: &[String], env: Option<&str>) -> Format {
    let mut asked = env.map(str::to_owned);
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if a == "--output" || a == "-o" {
            asked = it.next().cloned();
        } else if let Some(v) = a.strip_prefix("--output=").or_else(|| a.strip_prefix("-o")) {
            asked = Some(v.trim_start_matches('=').to_owned());
        }
    }
    match asked.as_deref() {
        Some("json") => Format::Json,
        _ => Format::Text,
    }
}

/// What a command prints: its text ([`fmt::Display`]) and its `--output json` document
/// ([`Serialize`]; SCHEMA.md gives each command's), then how it ends.
pub trait Document: Serialize + fmt::Display {
    /// How the command ends once this is printed: success, unless the document reports
    /// work that failed or was left undone (a bulk job's failures, a plan not applied).
    fn verdict(&self) -> Result<(), Failure> {
        Ok(())
    }
}

/// Prints `doc` as `command`'s output ([`write()`]), then ends the command with its
/// [`Document::verdict`].
pub fn print(
    out: &mut dyn Write,
    format: Format,
    command: &str,
    doc: &impl Document,
) -> Result<(), Failure> {
    write(out, format, command, doc)?;
    doc.verdict()
}

/// Writes `doc` in `format`, then a newline: its text with trailing blank space trimmed
/// (in the CLI's words, [`wording::cli`]), or its JSON document ([`json_document`]).
pub fn write<D: Serialize + fmt::Display>(
    out: &mut dyn Write,
    format: Format,
    command: &str,
    doc: &D,
) -> Result<(), Failure> {
    let written = match format {
        Format::Text => writeln!(out, "{}", wording::cli(doc.to_string().trim_end())),
        Format::Json => writeln!(out, "{}", json_document(command, doc)?),
    };
    written.map_err(Failure::output)
}

/// `doc` as `command`'s JSON document: its object, with `"schema":
/// "imageshare/COMMAND/v1"` added ([`schema`]), pretty-printed with sorted keys. A
/// document that is not an object is a bug: it is put under `"value"`.
pub fn json_document<D: Serialize + ?Sized>(command: &str, doc: &D) -> Result<String, Failure> {
    let value = serde_json::to_value(doc)
        .map_err(|e| Failure::new(FAILED, format!("cannot render the output: {e}")))?;
    let mut object = match value {
        serde_json::Value::Object(m) => m,
        other => {
            debug_assert!(false, "{command}'s document is not an object");
            let mut m = serde_json::Map::new();
            m.insert("value".into(), other);
            m
        }
    };
    object.insert("schema".into(), schema(command).into());
    Ok(serde_json::to_string_pretty(&object).unwrap_or_default())
}

/// Serializes `value` as an object with one key: a command's document whose content is
/// a list (`{"limits": [...]}`), so that the document is an object and can carry its
/// `schema`.
pub fn keyed<S: Serializer, T: Serialize + ?Sized>(
    s: S,
    key: &'static str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(1))?;
    m.serialize_entry(key, value)?;
    m.end()
}

/// `doc` as compact JSON on one line (the JSON error on stderr, `emulator serve`'s
/// address).
pub fn json_line<D: Serialize + ?Sized>(doc: &D) -> String {
    serde_json::to_value(doc)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// `doc` as pretty-printed JSON. It goes through a `serde_json::Value`, whose objects keep
/// their keys sorted: every object of every document prints its keys in alphabetical
/// order, whatever order the Rust type declares them in.
pub fn json_text<D: Serialize + ?Sized>(doc: &D) -> Result<String, Failure> {
    let value = serde_json::to_value(doc)
        .map_err(|e| Failure::new(FAILED, format!("cannot render the output: {e}")))?;
    Ok(serde_json::to_string_pretty(&value).unwrap_or_default())
}

/// A share or unshare report as printed (`share`, `unshare`, `delete --unshare-first`,
/// `migrate`, and a failure that carries what was done). Text: `principal: outcome` per
/// principal, then the summary. JSON: `{"image", "results": [`[`PrincipalResult`]`]}`.
#[derive(Debug, Clone)]
pub struct ShareResults(pub ShareReport);

impl fmt::Display for ShareResults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (p, o) in self.0.iter() {
            writeln!(f, "{p}: {o}")?;
        }
        writeln!(f, "{}", self.0)
    }
}

impl Serialize for ShareResults {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// The JSON shape of a [`ShareResults`].
        #[derive(Serialize)]
        struct Shape<'a> {
            image: &'a ImageId,
            results: Vec<PrincipalResult<'a>>,
        }
        Shape {
            image: &self.0.image,
            results: PrincipalResult::all(&self.0),
        }
        .serialize(s)
    }
}

impl Document for ShareResults {}

/// One principal of a share or unshare report, as JSON: `principal`, `outcome` (its
/// label: `granted`, `already-granted`, `revoked`, `not-granted`, `failed`), and `error`
/// and `code` when it failed.
#[derive(Debug, Serialize)]
pub struct PrincipalResult<'a> {
    /// The principal.
    pub principal: &'a Principal,
    /// The outcome's label.
    pub outcome: &'static str,
    /// The error, when it failed.
    #[serde(flatten)]
    pub error: Option<ErrorFields>,
}

impl<'a> PrincipalResult<'a> {
    /// Every principal of `report`, in its order.
    pub fn all(report: &'a ShareReport) -> Vec<Self> {
        report
            .iter()
            .map(|(principal, o)| PrincipalResult {
                principal,
                outcome: o.label(),
                error: match o {
                    ShareOutcome::Failed(e) => Some(ErrorFields::of(e)),
                    _ => None,
                },
            })
            .collect()
    }
}

/// An error as JSON fields: `error` (its message, in the CLI's words) and `code` (the
/// provider's error code, or the limit rule's name; `null` when the error has none).
#[derive(Debug, Serialize)]
pub struct ErrorFields {
    /// The message.
    pub error: String,
    /// The provider's error code or the limit rule's name.
    pub code: Option<String>,
}

impl ErrorFields {
    /// The fields of `e`.
    pub fn of(e: &Error) -> Self {
        ErrorFields {
            error: wording::cut_long_words(&wording::cli(&e.to_string())),
            code: code_of(e),
        }
    }
}

/// The headers of an image's columns (`image`, `shared-with-me`).
pub const IMAGE_HEADERS: &[&str] = &[
    "ID",
    "NAME",
    "REGION",
    "STATE",
    "ORIGIN",
    "KIND",
    "ENCRYPTION",
    "OWNER",
];

/// One image as a row under [`IMAGE_HEADERS`].
pub fn image_row(i: &Image) -> Vec<String> {
    vec![
        i.id.to_string(),
        i.name.clone(),
        i.region.to_string(),
        i.state.to_string(),
        i.origin.to_string(),
        i.kind.to_string(),
        format!("{:?}", i.encryption).to_lowercase(),
        i.owner.as_ref().map_or("-".to_owned(), |o| o.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{json, Value};

    use super::*;

    /// A document whose fields are declared out of alphabetical order.
    #[derive(Serialize)]
    struct Unsorted {
        zebra: u8,
        apple: Inner,
    }

    #[derive(Serialize)]
    struct Inner {
        b: u8,
        a: u8,
    }

    impl fmt::Display for Unsorted {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("line one\nline two  \n\n")
        }
    }

    impl Document for Unsorted {}

    fn printed(format: Format, doc: &impl Document) -> String {
        let mut buf = Vec::new();
        print(&mut buf, format, "test", doc).unwrap_or_else(|f| panic!("{}", f.message));
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn json_keys_are_sorted_and_text_is_trimmed() {
        let doc = Unsorted {
            zebra: 0,
            apple: Inner { b: 1, a: 2 },
        };
        assert_eq!(
            printed(Format::Json, &doc),
            "{\n  \"apple\": {\n    \"a\": 2,\n    \"b\": 1\n  },\n  \"schema\": \"imageshare/test/v1\",\n  \"zebra\": 0\n}\n"
        );
        assert_eq!(printed(Format::Text, &doc), "line one\nline two\n");
    }

    #[test]
    fn a_share_report_lists_each_principal_then_the_summary() {
        let refused = Arc::new(Error::invalid_input("to", "refused"));
        let mut report = ShareReport::new("img-1".into());
        report.push(Principal::account("100000000002"), ShareOutcome::Granted);
        report.push(
            Principal::account("100000000003"),
            ShareOutcome::Failed(refused.clone()),
        );
        let doc = ShareResults(report.clone());
        assert_eq!(
            printed(Format::Text, &doc),
            format!(
                "account:100000000002: granted\naccount:100000000003: failed: {refused}\n{report}\n"
            )
        );
        let v: Value = serde_json::from_str(&printed(Format::Json, &doc)).unwrap();
        assert_eq!(
            v,
            json!({
                "schema": "imageshare/test/v1",
                "image": "img-1",
                "results": [
                    {"principal": {"kind": "account", "id": "100000000002"}, "outcome": "granted"},
                    {
                        "principal": {"kind": "account", "id": "100000000003"},
                        "outcome": "failed",
                        "error": refused.to_string(),
                        "code": null
                    }
                ]
            })
        );
    }
}
