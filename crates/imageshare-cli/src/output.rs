//! Rendering: the output format (`--output`), text tables, and the one place where a
//! command's result is written as text or as JSON.

use std::io::Write;

use clap::ValueEnum;
use imageshare::core::{Image, ShareReport};
use serde_json::{json, Value};

use crate::exit::Failure;

/// The output format (`--output`). Its variants have no doc comments: clap would show
/// them in `--help` (in long form), which the help text has never had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    // Text for people: tables, and one line per outcome.
    Text,
    // One JSON document, pretty-printed.
    Json,
}

/// Writes a command's result: `text` (trailing blank space trimmed) or `json`
/// (pretty-printed), then a newline.
pub fn emit(out: &mut dyn Write, output: Format, text: String, json: Value) -> Result<(), Failure> {
    let written = match output {
        Format::Text => writeln!(out, "{}", text.trim_end()),
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        ),
    };
    written.map_err(Failure::output)
}

/// A share or unshare report as JSON: `image`, and `results` with each principal's
/// `outcome` (with `error` and `code` when it failed).
pub fn report_json(r: &ShareReport) -> Value {
    json!({
        "image": r.image,
        "results": r.iter().map(|(p, o)| {
            let mut v = json!({"principal": p, "outcome": o.label()});
            if let imageshare::core::ShareOutcome::Failed(e) = o {
                v["error"] = json!(e.to_string());
                v["code"] = json!(e.code());
            }
            v
        }).collect::<Vec<_>>(),
    })
}

/// A share or unshare report as text: `principal: outcome` lines, then the summary.
pub fn report_text(r: &ShareReport) -> String {
    let mut s = String::new();
    for (p, o) in r.iter() {
        s.push_str(&format!("{p}: {o}\n"));
    }
    s.push_str(&format!("{r}\n"));
    s
}

/// The columns of an image table (`image`).
pub const IMAGE_COLUMNS: [&str; 8] = [
    "ID",
    "NAME",
    "REGION",
    "STATE",
    "ORIGIN",
    "KIND",
    "ENCRYPTION",
    "OWNER",
];

/// One row of an image table.
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
