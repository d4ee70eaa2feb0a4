//! Listings printed as they arrive (`sharees`, `shared-with-me`): each item is written
//! when the stream yields it, so memory stays flat however long the list is.
//!
//! - text: a header, then one row per item with fixed column widths (a longer cell pushes
//!   the rest of its row to the right; nothing is buffered to measure the widest);
//! - `--output json`: one JSON document, `{"schema": "imageshare/COMMAND/v1", KEY: [...]}`,
//!   whose array is written one element at a time and closed at the end, also when the
//!   listing fails part-way (the items received so far stay valid JSON; the error goes to
//!   stderr and the status says it failed).

use std::io::Write;

use futures_util::stream::{BoxStream, StreamExt};
use imageshare::core::Error;
use serde::Serialize;

use crate::exit::Failure;
use crate::output::{json_text, schema, Format};

/// One column of a streamed table: its header and its width.
pub type Column = (&'static str, usize);

/// A listing being written to stdout.
pub struct Listing<'o> {
    out: &'o mut dyn Write,
    format: Format,
    columns: &'static [Column],
    /// The command (its JSON document's `schema`) and the key of the array.
    json: (&'static str, &'static str),
    /// Items written so far.
    count: usize,
}

impl<'o> Listing<'o> {
    /// A listing with these text columns, nothing written yet; in JSON, `command`'s
    /// document with the items under `key`.
    pub fn new(
        out: &'o mut dyn Write,
        format: Format,
        columns: &'static [Column],
        command: &'static str,
        key: &'static str,
    ) -> Self {
        Self {
            out,
            format,
            columns,
            json: (command, key),
            count: 0,
        }
    }

    /// The JSON before the first item: the object opened, `schema` first when it sorts
    /// before the key, the array's key.
    fn json_open(&self) -> String {
        let (command, key) = self.json;
        if "schema" < key {
            format!("{{\n  \"schema\": \"{}\",\n  \"{key}\": ", schema(command))
        } else {
            format!("{{\n  \"{key}\": ")
        }
    }

    /// The JSON after the array: `schema` when it sorts after the key, the object closed.
    fn json_close(&self) -> String {
        let (command, key) = self.json;
        if "schema" < key {
            "\n}".to_owned()
        } else {
            format!(",\n  \"schema\": \"{}\"\n}}", schema(command))
        }
    }

    /// Items written so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Writes one item: `row` (one cell per column) in text, the item itself in JSON.
    pub fn push(&mut self, row: &[String], item: &impl Serialize) -> Result<(), Failure> {
        let first = self.count == 0;
        self.count += 1;
        match self.format {
            Format::Text => {
                if first {
                    let header = self.header();
                    writeln!(self.out, "{header}").map_err(Failure::output)?;
                }
                let line = self.row(row);
                writeln!(self.out, "{line}").map_err(Failure::output)
            }
            Format::Json => {
                let element = json_text(item)?;
                let indented = element.replace('\n', "\n    ");
                let sep = if first {
                    format!("{}[\n", self.json_open())
                } else {
                    ",\n".to_owned()
                };
                write!(self.out, "{sep}    {indented}").map_err(Failure::output)?;
                self.out.flush().map_err(Failure::output)
            }
        }
    }

    /// Ends the listing: the closing bracket in JSON; the header and `(none)` in text
    /// when nothing was listed.
    pub fn finish(self) -> Result<(), Failure> {
        match (self.format, self.count) {
            (Format::Json, 0) => writeln!(self.out, "{}[]{}", self.json_open(), self.json_close()),
            (Format::Json, _) => writeln!(self.out, "\n  ]{}", self.json_close()),
            (Format::Text, 0) => writeln!(self.out, "{}\n(none)", self.header()),
            (Format::Text, _) => Ok(()),
        }
        .map_err(Failure::output)
    }

    /// Ends a listing whose stream failed: closes what was started (so JSON output stays
    /// valid), then returns the error.
    pub fn fail(self, e: Error) -> Failure {
        if self.count > 0 {
            let _ = self.finish();
        }
        Failure::from(e)
    }

    /// The header line.
    fn header(&self) -> String {
        let header: Vec<String> = self.columns.iter().map(|(h, _)| (*h).to_owned()).collect();
        self.row(&header)
    }

    /// One line of cells, each padded to its column's width but the last.
    fn row(&self, cells: &[String]) -> String {
        let last = self.columns.len().saturating_sub(1);
        let mut line = String::new();
        for (i, ((_, width), cell)) in self.columns.iter().zip(cells).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            if i == last {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}"));
            }
        }
        line.trim_end().to_owned()
    }
}

/// Writes every item of `items` as it arrives (in JSON, the item itself), `row` giving
/// its text row and `keep` choosing which to list (the others are the caller's to count).
/// Returns the number listed.
pub async fn print<T: Serialize>(
    mut listing: Listing<'_>,
    mut items: BoxStream<'_, Result<T, Error>>,
    mut keep: impl FnMut(&T) -> bool,
    row: impl Fn(&T) -> Vec<String>,
) -> Result<usize, Failure> {
    while let Some(item) = items.next().await {
        match item {
            Ok(item) if keep(&item) => listing.push(&row(&item), &item)?,
            Ok(_) => {}
            Err(e) => return Err(listing.fail(e)),
        }
    }
    let n = listing.count();
    listing.finish()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use serde_json::{json, Value};

    /// A listed item: `{"n": ..}` in JSON.
    #[derive(Serialize)]
    struct Item {
        n: u32,
    }

    const COLUMNS: &[Column] = &[("A", 4), ("B", 3)];

    async fn run(
        format: Format,
        items: Vec<Result<u32, Error>>,
    ) -> (String, Result<usize, Failure>) {
        let mut buf = Vec::new();
        let result = print(
            Listing::new(&mut buf, format, COLUMNS, "test", "items"),
            stream::iter(items).map(|r| r.map(|n| Item { n })).boxed(),
            |item| item.n % 2 == 1,
            |item| vec![item.n.to_string(), "x".into()],
        )
        .await;
        (String::from_utf8(buf).unwrap(), result)
    }

    #[tokio::test]
    async fn json_is_one_valid_array_whatever_happens() {
        let (out, n) = run(Format::Json, vec![Ok(1), Ok(2), Ok(3)]).await;
        assert_eq!(n.ok(), Some(2));
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v,
            json!({"items": [{ "n": 1 }, { "n": 3 }], "schema": "imageshare/test/v1"})
        );
        // Pretty-printed like a whole document would be.
        assert_eq!(out, serde_json::to_string_pretty(&v).unwrap() + "\n");

        let (out, n) = run(Format::Json, vec![]).await;
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v, json!({"items": [], "schema": "imageshare/test/v1"}));
        assert_eq!(out, serde_json::to_string_pretty(&v).unwrap() + "\n");
        assert_eq!(n.ok(), Some(0));
        // A key after "schema" puts it first, as the sorted keys of a document do.
        let mut buf = Vec::new();
        let listing = Listing::new(&mut buf, Format::Json, COLUMNS, "test", "sharees");
        print(
            listing,
            stream::iter(vec![Ok(Item { n: 1 })]).boxed(),
            |_| true,
            |_| vec![],
        )
        .await
        .unwrap_or_else(|f| panic!("{}", f.message));
        let out = String::from_utf8(buf).unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(out, serde_json::to_string_pretty(&v).unwrap() + "\n");

        // A failure part-way: what came is still one valid document, and the error is
        // returned.
        let err = Error::invalid_input("page", "second page refused");
        let (out, n) = run(Format::Json, vec![Ok(1), Err(err)]).await;
        assert_eq!(n.err().map(|f| f.code), Some(2));
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap()["items"],
            json!([{ "n": 1 }])
        );
        // A failure before any item: nothing at all on stdout.
        let err = Error::invalid_input("page", "first page refused");
        let (out, n) = run(Format::Json, vec![Ok(2), Err(err)]).await;
        assert!(n.is_err());
        assert_eq!(out, "");
    }

    #[tokio::test]
    async fn text_rows_have_fixed_columns() {
        let (out, _) = run(Format::Text, vec![Ok(1), Ok(12345)]).await;
        assert_eq!(out, "A     B\n1     x\n12345  x\n");
        let (out, _) = run(Format::Text, vec![Ok(2)]).await;
        assert_eq!(out, "A     B\n(none)\n");
    }
}
