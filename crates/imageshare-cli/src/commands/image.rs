//! `imageshare image`: one image.

use imageshare::ImageSharingExt;
use std::fmt;

use imageshare::core::Image;
use serde::Serialize;

use crate::cli::{image_id, Global};
use crate::connect::connect;
use crate::exit::Failure;
use crate::output::{image_row, Document, IMAGE_HEADERS};
use crate::table::table;

/// `imageshare image ID` (public images too: the id needs no custom-image prefix).
pub async fn run(g: &Global, id: &str) -> Result<ImageDetails, Failure> {
    let p = g.provider()?;
    let id = image_id(p, id, false)?;
    let s = connect(g, p, None, None)?;
    Ok(ImageDetails(s.image(&id).await?))
}

/// One image as printed. Text: a table with one row. JSON: `{"image": Image}`.
#[derive(Debug)]
pub struct ImageDetails(Image);

impl Serialize for ImageDetails {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::output::keyed(s, "image", &self.0)
    }
}

impl fmt::Display for ImageDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows = vec![image_row(&self.0)];
        f.write_str(&table(IMAGE_HEADERS, rows))
    }
}

impl Document for ImageDetails {}
