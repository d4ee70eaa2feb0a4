//! Rendering: the output format (`--output`), the [`Document`] every command returns and
//! the one place that writes it ([`print`]), and the pieces several documents share (the
//! report of a share or unshare, image rows, text tables).

use std::fmt;
use std::io::Write;

use clap::ValueEnum;
use imageshare::core::{Error, Image, ImageId, Principal, ShareOutcome, ShareReport};
use serde::{Serialize, Serializer};

use crate::exit::{Failure, FAILED};
use crate::listing::Column;

/// The output format (`--output`). Its variants have no doc comments: clap would show
/// them in `--help` (in long form), which the help text has never had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    // Text for people: tables, and one line per outcome.
    Text,
    // One JSON document, pretty-printed.
    Json,
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

/// Prints `doc` ([`write`]), then ends the command with its [`Document::verdict`].
pub fn print(out: &mut dyn Write, format: Format, doc: &impl Document) -> Result<(), Failure> {
    write(out, format, doc)?;
    doc.verdict()
}

/// Writes `doc` in `format`, then a newline: its text with trailing blank space trimmed,
/// or its JSON document ([`json_text`]).
pub fn write<D: Serialize + fmt::Display>(
    out: &mut dyn Write,
    format: Format,
    doc: &D,
) -> Result<(), Failure> {
    let written = match format {
        Format::Text => writeln!(out, "{}", doc.to_string().trim_end()),
        Format::Json => writeln!(out, "{}", json_text(doc)?),
    };
    written.map_err(Failure::output)
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

/// An error as JSON fields: `error` (its message) and `code` (the provider's error code,
/// `null` when the error has none).
#[derive(Debug, Serialize)]
pub struct ErrorFields {
    /// The message.
    pub error: String,
    /// The provider's error code.
    pub code: Option<String>,
}

impl ErrorFields {
    /// The fields of `e`.
    pub fn of(e: &Error) -> Self {
        ErrorFields {
            error: e.to_string(),
            code: e.code().map(str::to_owned),
        }
    }
}

/// The columns of an image: fixed widths where images are listed as they arrive
/// (`shared-with-me`); an `image` table sizes them to its row.
pub const IMAGE_COLUMNS: &[Column] = &[
    ("ID", 22),
    ("NAME", 20),
    ("REGION", 14),
    ("STATE", 11),
    ("ORIGIN", 10),
    ("KIND", 11),
    ("ENCRYPTION", 12),
    ("OWNER", 0),
];

/// The headers of `columns`.
pub fn headers(columns: &[Column]) -> Vec<&'static str> {
    columns.iter().map(|(h, _)| *h).collect()
}

/// One image as a row of [`IMAGE_COLUMNS`].
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

/// A plain text table: a header row, then aligned columns.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = vec![line(header.iter().map(|h| h.to_string()).collect())];
    if rows.is_empty() {
        out.push("(none)".to_owned());
    }
    out.extend(rows.into_iter().map(line));
    out.join("\n")
}
