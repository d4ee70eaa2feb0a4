//! `imageshare shared-with-me`: the images other owners shared with the caller, printed
//! as the pages arrive.

use std::collections::BTreeMap;
use std::io::Write;

use imageshare::core::{Image, ImageOrigin, ImageSharingExt, TrustPolicy};

use crate::cli::Global;
use crate::connect::options;
use crate::exit::Failure;
use crate::listing::{self, Listing};
use crate::output::{image_row, Format, IMAGE_HEADERS};

/// `imageshare shared-with-me`. Text: an image table. JSON: an array of images, written
/// element by element. With --trust-owner, the images of owners outside the policy are
/// left out and counted per owner at the end (stdout in text, stderr with --output json,
/// so the JSON stays one array of images).
pub async fn run(g: &Global, out: &mut dyn Write) -> Result<(), Failure> {
    let p = g.provider()?;
    let policy = g.trust_policy();
    // The unfiltered listing: the policy is applied here, so the left-out images can be
    // counted.
    let s = options(g, p, None, None)
        .trust(TrustPolicy::new())
        .build()?;
    let mut hidden: BTreeMap<String, usize> = BTreeMap::new();
    listing::print(
        Listing::new(
            &mut *out,
            g.output,
            IMAGE_HEADERS,
            "shared-with-me",
            "images",
        ),
        s.shared_with_me_stream(),
        |img| {
            if !policy.restricts(p) {
                return true;
            }
            let split = policy.partition(p, vec![img.clone()]);
            for (refused, _) in &split.refused {
                *hidden.entry(owner_label(refused)).or_insert(0) += 1;
            }
            split.refused.is_empty()
        },
        image_row,
    )
    .await?;
    if hidden.is_empty() {
        return Ok(());
    }
    let n: usize = hidden.values().sum();
    let owners: Vec<String> = hidden.iter().map(|(o, k)| format!("{o}: {k}")).collect();
    let note = format!(
        "{n} image{} hidden by the trust policy ({}); --trust-owner ID shows an owner's images",
        if n == 1 { "" } else { "s" },
        owners.join(", ")
    );
    match g.output {
        Format::Text => writeln!(out, "{note}").map_err(Failure::output),
        Format::Json => {
            crate::stderr::note(&note);
            Ok(())
        }
    }
}

/// Who an image left out by the trust policy belongs to, for the count.
fn owner_label(img: &Image) -> String {
    match (&img.owner, img.origin) {
        (Some(owner), _) => format!("owner {}", owner.id()),
        (None, ImageOrigin::Public) => "public or marketplace".to_owned(),
        (None, _) => "owner not reported".to_owned(),
    }
}
