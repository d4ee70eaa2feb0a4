//! Batched image lookups, written once for every adapter whose cloud describes many images
//! in one call ([`ImageSharing::images_in`]).
//!
//! [`in_batches`] splits the ids into batches of at most the cloud's per-call maximum
//! (distinct ids only: some actions refuse an id given twice), sends one call per batch
//! through the adapter's `fetch`, and answers one result per id asked, in the order asked:
//! the image, or [`Error::NotFound`] for an id the cloud did not return.
//! [`one_by_one`] is the default for clouds without such a call. A missing id is
//! never a failure of the batch; a failed call is (the whole lookup fails with its error,
//! as `image_in` would).

use std::collections::HashMap;
use std::future::Future;

use tracing::Instrument;

use crate::context::CallContext;
use crate::error::{Error, Result};
use crate::model::{Image, ImageId, Provider};
use crate::sharing::ImageSharing;

/// What every adapter's [`ImageSharing::images_named_in`] does around its own listing:
/// refuses an empty (or blank) `name`, which as the cloud's name filter (`filter`, named in
/// the error) would match every image; runs `list` (the cloud's listing by that name, all
/// pages) in an `images_named` span; and keeps the images named exactly `name`, since the
/// clouds' name filters match fuzzily (or, on UCloud, not at all).
pub async fn named_exactly<F, Fut>(
    provider: Provider,
    name: &str,
    filter: &str,
    list: F,
) -> Result<Vec<Image>>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Vec<Image>>>,
{
    non_empty_name(name, filter)?;
    let span = tracing::info_span!("images_named", provider = %provider, name = %name);
    let found = list().instrument(span).await?;
    Ok(found.into_iter().filter(|i| i.name == name).collect())
}

fn non_empty_name<'a>(name: &'a str, filter: &str) -> Result<&'a str> {
    if name.trim().is_empty() {
        return Err(Error::invalid_input(
            "image name",
            format!("give a name: an empty {filter} would match every image"),
        ));
    }
    Ok(name)
}

/// The default of [`ImageSharing::images_in`]: one [`ImageSharing::image_in`] per distinct
/// id, in order; a [`Error::NotFound`] is that id's answer, any other error fails the
/// lookup (as a failed batch call would).
pub async fn one_by_one<S: ImageSharing + ?Sized>(
    sharing: &S,
    cx: &CallContext,
    ids: &[ImageId],
) -> Result<Vec<Result<Image>>> {
    in_batches(sharing.provider(), ids, 1, |batch| async move {
        match sharing.image_in(cx, &batch[0]).await {
            Ok(image) => Ok(vec![image]),
            Err(Error::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    })
    .await
}

/// Looks `ids` up in batches of at most `max_per_call` distinct ids, one `fetch` per batch
/// (sequentially: the rate limiter paces the calls, and a failure stops the rest). `fetch`
/// gets the batch and answers the images the cloud returned for it (in any order; images
/// of other ids are ignored). The answer has one entry per id of `ids`, in order.
pub async fn in_batches<F, Fut>(
    provider: Provider,
    ids: &[ImageId],
    max_per_call: usize,
    mut fetch: F,
) -> Result<Vec<Result<Image>>>
where
    F: FnMut(Vec<ImageId>) -> Fut,
    Fut: Future<Output = Result<Vec<Image>>>,
{
    let mut distinct: Vec<ImageId> = Vec::with_capacity(ids.len());
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    for id in ids {
        if seen.insert(id) {
            distinct.push(id.clone());
        }
    }
    let mut found: HashMap<ImageId, Image> = HashMap::with_capacity(distinct.len());
    for batch in distinct.chunks(max_per_call.max(1)) {
        let wanted: std::collections::HashSet<&ImageId> = batch.iter().collect();
        for image in fetch(batch.to_vec()).await? {
            if wanted.contains(&image.id) {
                found.insert(image.id.clone(), image);
            }
        }
    }
    Ok(ids
        .iter()
        .map(|id| {
            found.get(id).cloned().ok_or_else(|| Error::NotFound {
                provider,
                what: "image",
                id: id.to_string(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Encryption, ImageKind, ImageOrigin, ImageState, Region};
    use std::sync::Mutex;

    const P: Provider = Provider::new("example-cloud");

    fn image(id: &str) -> Image {
        Image {
            id: id.into(),
            name: String::new(),
            owner: None,
            owner_site: None,
            region: Region::from("r1"),
            state: ImageState::Available,
            origin: ImageOrigin::Custom,
            encryption: Encryption::None,
            kind: ImageKind::SystemDisk,
            created_at: None,
            progress: None,
        }
    }

    #[test]
    fn a_lookup_by_name_needs_a_name() {
        assert_eq!(
            non_empty_name("golden-img-1", "ImageName").unwrap(),
            "golden-img-1"
        );
        for blank in ["", "  ", "\t"] {
            let err = non_empty_name(blank, "ImageName").unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
            assert!(
                err.to_string()
                    .contains("an empty ImageName would match every image"),
                "{err}"
            );
        }
    }

    #[tokio::test]
    async fn batches_distinct_ids_and_answers_each_id_in_order() {
        let ids: Vec<ImageId> = ["a", "b", "a", "c", "gone", "d", "e"]
            .iter()
            .map(|s| ImageId::from(*s))
            .collect();
        let calls = Mutex::new(Vec::new());
        let got = in_batches(P, &ids, 2, |batch| {
            calls.lock().unwrap().push(batch.clone());
            async move {
                // The cloud answers in its own order, and never the unknown id.
                Ok(batch
                    .iter()
                    .rev()
                    .filter(|id| id.as_str() != "gone")
                    .map(|id| image(id.as_str()))
                    .collect())
            }
        })
        .await
        .unwrap();
        let batches: Vec<Vec<String>> = calls
            .into_inner()
            .unwrap()
            .into_iter()
            .map(|b| b.iter().map(|i| i.to_string()).collect())
            .collect();
        assert_eq!(
            batches,
            [vec!["a", "b"], vec!["c", "gone"], vec!["d", "e"]],
            "6 distinct ids, 3 calls of at most 2"
        );
        assert_eq!(got.len(), 7);
        for (id, r) in ids.iter().zip(&got) {
            match r {
                Ok(img) => assert_eq!(&img.id, id),
                Err(Error::NotFound { id: missing, .. }) => assert_eq!(missing, "gone"),
                Err(e) => panic!("{e:?}"),
            }
        }
        assert!(got[4].is_err());
    }

    #[tokio::test]
    async fn a_failed_call_fails_the_lookup() {
        let ids = [ImageId::from("a")];
        let e = in_batches(P, &ids, 100, |_| async {
            Err::<Vec<Image>, _>(Error::invalid_input("x", "refused"))
        })
        .await
        .unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    }
}
