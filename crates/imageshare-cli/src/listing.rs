//! Listings printed as they arrive (`sharees`, `shared-with-me`): memory stays bounded
//! however long the list is.
//!
//! - text: a header, then one row per item, every column as wide as its widest value
//!   ([`crate::table`]). Rows are held until the listing ends or [`BLOCK_ROWS`] have come,
//!   then printed sized to the widest value so far; a longer listing prints in blocks
//!   whose columns only ever widen (a later, wider value moves the columns of the blocks
//!   after it, never cuts a value);
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
use crate::table::Widths;

/// The rows of a text listing held to measure their widths before they are printed.
pub const BLOCK_ROWS: usize = 1000;

/// A listing being written to stdout.
pub struct Listing<'o> {
    out: &'o mut dyn Write,
    format: Format,
    /// The text headers.
    headers: &'static [&'static str],
    /// The column widths so far (text).
    widths: Widths,
    /// Text rows not printed yet (at most `block`).
    held: Vec<Vec<String>>,
    /// How many rows are held before they are printed ([`BLOCK_ROWS`]).
    block: usize,
    /// The command (its JSON document's `schema`) and the key of the array.
    json: (&'static str, &'static str),
    /// Items written so far.
    count: usize,
}

impl<'o> Listing<'o> {
    /// A listing with these text headers, nothing written yet; in JSON, `command`'s
    /// document with the items under `key`.
    pub fn new(
        out: &'o mut dyn Write,
        format: Format,
        headers: &'static [&'static str],
        command: &'static str,
        key: &'static str,
    ) -> Self {
        Self {
            out,
            format,
            headers,
            widths: Widths::of(headers),
            held: Vec::new(),
            block: BLOCK_ROWS,
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

    /// Takes one item: `row` (one cell per column) in text, held until its block is full;
    /// the item itself in JSON, written at once.
    pub fn push(&mut self, row: Vec<String>, item: &impl Serialize) -> Result<(), Failure> {
        let first = self.count == 0;
        self.count += 1;
        match self.format {
            Format::Text => {
                self.held.push(row);
                if self.held.len() >= self.block {
                    self.print_held()?;
                }
                Ok(())
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

    /// Prints the held text rows, the columns widened to fit them; the header first when
    /// they are the first.
    fn print_held(&mut self) -> Result<(), Failure> {
        let rows = std::mem::take(&mut self.held);
        self.widths.fit(&rows);
        let mut text = String::new();
        if self.count == rows.len() {
            text.push_str(&self.widths.line(self.headers));
            text.push('\n');
        }
        for r in &rows {
            text.push_str(&self.widths.line(r));
            text.push('\n');
        }
        self.out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(Failure::output)
    }

    /// Ends the listing: the closing bracket in JSON; in text the rows still held, or the
    /// header and `(none)` when nothing was listed.
    pub fn finish(mut self) -> Result<(), Failure> {
        match (self.format, self.count) {
            (Format::Json, 0) => writeln!(self.out, "{}[]{}", self.json_open(), self.json_close()),
            (Format::Json, _) => writeln!(self.out, "\n  ]{}", self.json_close()),
            (Format::Text, 0) => writeln!(self.out, "{}\n(none)", self.widths.line(self.headers)),
            (Format::Text, _) => return self.print_held(),
        }
        .map_err(Failure::output)
    }

    /// Ends a listing whose stream failed: prints the text rows held, or closes the JSON
    /// started (so that it stays valid), then returns the error.
    pub fn fail(self, e: Error) -> Failure {
        if self.count > 0 {
            let _ = self.finish();
        }
        Failure::from(e)
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
            Ok(item) if keep(&item) => listing.push(row(&item), &item)?,
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

    const HEADERS: &[&str] = &["A", "B"];

    async fn run(
        format: Format,
        items: Vec<Result<u32, Error>>,
    ) -> (String, Result<usize, Failure>) {
        run_in_blocks(format, items, BLOCK_ROWS).await
    }

    /// [`run`], printing text in blocks of `block` rows.
    async fn run_in_blocks(
        format: Format,
        items: Vec<Result<u32, Error>>,
        block: usize,
    ) -> (String, Result<usize, Failure>) {
        let mut buf = Vec::new();
        let mut listing = Listing::new(&mut buf, format, HEADERS, "test", "items");
        listing.block = block;
        let result = print(
            listing,
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
        let listing = Listing::new(&mut buf, Format::Json, HEADERS, "test", "sharees");
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
    async fn text_columns_fit_their_widest_value() {
        let (out, _) = run(Format::Text, vec![Ok(1), Ok(12345)]).await;
        assert_eq!(out, "A      B\n1      x\n12345  x\n");
        let (out, _) = run(Format::Text, vec![Ok(2)]).await;
        assert_eq!(out, "A  B\n(none)\n");
        // Blocks of 2: the first block is sized to itself, the next widens.
        let items = vec![Ok(1), Ok(3), Ok(1234567), Ok(5)];
        let (out, n) = run_in_blocks(Format::Text, items, 2).await;
        assert_eq!(n.ok(), Some(4));
        assert_eq!(out, "A  B\n1  x\n3  x\n1234567  x\n5        x\n");
        // A failure part-way: the rows held are printed, then the error.
        let err = Error::invalid_input("page", "second page refused");
        let (out, n) = run(Format::Text, vec![Ok(1), Ok(333), Err(err)]).await;
        assert!(n.is_err());
        assert_eq!(out, "A    B\n1    x\n333  x\n");
    }
}
