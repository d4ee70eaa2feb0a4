//! `imageshare sharees`: who an image is shared with, printed as the pages arrive.

use std::io::Write;

use imageshare::core::ImageSharingExt;

use crate::cli::{image_id, Global};
use crate::connect::connect;
use crate::exit::Failure;
use crate::listing::{self, Listing};

/// The text headers of `sharees`.
const SHAREE_HEADERS: &[&str] = &["PRINCIPAL", "SHARED AT"];

/// `imageshare sharees ID`. Text: a `PRINCIPAL  SHARED AT` table. JSON: an array of
/// sharees, written element by element.
pub async fn run(g: &Global, id: &str, out: &mut dyn Write) -> Result<(), Failure> {
    let p = g.provider()?;
    let id = image_id(p, id, true)?;
    let s = connect(g, p, None, None)?;
    listing::print(
        Listing::new(out, g.output, SHAREE_HEADERS, "sharees", "sharees"),
        s.sharees_stream(&id),
        |_| true,
        |x| {
            vec![
                x.principal.to_string(),
                x.shared_at.map_or_else(|| "-".into(), |t| t.to_string()),
            ]
        },
    )
    .await
    .map(|_| ())
}
