//! Streaming pagination, written once for every adapter.
//!
//! Adapters implement one page of a listing ([`ImageSharing::sharees_page_in`],
//! [`ImageSharing::shared_with_me_page_in`]): they turn a [`PageCursor`] into their cloud's
//! paging parameters (`PageNumber`, `Offset`, a continuation token) and return a [`Page`]
//! with the cursor of the next page, if any. [`paginate`] turns those page calls into a
//! [`Stream`] of items, lazily: the next page is fetched only when the consumer polls past
//! the items of the current one, so memory stays flat whatever the number of pages.
//!
//! The guards live here, not in adapters: a listing stops with a typed [`Error::Decode`]
//! when a page's next cursor does not advance (a server that ignores the paging
//! parameters cannot loop a client forever), and when more than [`Listing::max_pages`]
//! pages are announced.
//!
//! ```
//! use imageshare_core::paging::{paginate, Listing, Page, PageCursor, TryStreamExt};
//! use imageshare_core::Provider;
//!
//! const CLOUD: Provider = Provider::new("example-cloud");
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // Offsets 0, 2, 4 of a five-item list, two items per page.
//! let all: Vec<u64> = (0..5).collect();
//! let stream = paginate(Listing::new(CLOUD, "example"), |cursor| {
//!     let all = all.clone();
//!     async move {
//!         let offset = PageCursor::offset(cursor.as_ref())?;
//!         let items: Vec<u64> = all.iter().copied().skip(offset as usize).take(2).collect();
//!         let next = PageCursor::after_offset(offset, items.len(), 2, Some(5));
//!         Ok(Page::new(items, next))
//!     }
//! });
//! let items: Vec<u64> = stream.try_collect().await.unwrap();
//! assert_eq!(items, all);
//! # });
//! ```

use std::collections::HashSet;
use std::fmt;
use std::future::Future;

use futures_util::stream;

use crate::context::CallContext;
use crate::error::{Error, Result};
use crate::model::{Image, ImageId, Provider, Sharee};
use crate::sharing::ImageSharing;

pub use futures_util::stream::{BoxStream, Stream, StreamExt, TryStreamExt};

/// Pages a listing may announce before the loop gives up with [`Error::Decode`]: 10,000
/// pages are a million sharees at 100 per page, far beyond any documented per-image cap.
pub const MAX_PAGES: usize = 10_000;

/// Where the next page of a listing starts, in the paging scheme of the cloud's API.
/// `None` in place of a cursor always means "the first page".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PageCursor {
    /// A 1-based page number (Alibaba `PageNumber`).
    Number(u64),
    /// A 0-based item offset (Tencent and UCloud `Offset`).
    Offset(u64),
    /// An opaque continuation token, sent back verbatim.
    Token(String),
}

impl PageCursor {
    /// The 1-based page number `cursor` asks for: 1 for the first page (`None`). A cursor
    /// of another kind is [`Error::InvalidInput`] (it came from another adapter).
    pub fn page_number(cursor: Option<&PageCursor>) -> Result<u64> {
        match cursor {
            None => Ok(1),
            Some(PageCursor::Number(n)) if *n >= 1 => Ok(*n),
            Some(other) => Err(wrong_kind(other, "a page number (1 or more)")),
        }
    }

    /// The 0-based offset `cursor` asks for: 0 for the first page (`None`). A cursor of
    /// another kind is [`Error::InvalidInput`].
    pub fn offset(cursor: Option<&PageCursor>) -> Result<u64> {
        match cursor {
            None => Ok(0),
            Some(PageCursor::Offset(n)) => Ok(*n),
            Some(other) => Err(wrong_kind(other, "an offset")),
        }
    }

    /// Checks that `cursor` asks for the first page of a listing that has only one page
    /// (an API that is not paged); any cursor is [`Error::InvalidInput`].
    pub fn first_only(cursor: Option<&PageCursor>, action: &str) -> Result<()> {
        match cursor {
            None => Ok(()),
            Some(c) => Err(Error::invalid_input(
                "cursor",
                format!("{action} is not paged: it has no page at {c}"),
            )),
        }
    }

    /// The cursor after page `page` (1-based) of `page_size` entries that held `got`
    /// entries, when the service reports `total` entries in all: the next page number
    /// while `page * page_size < total`, none after an empty page.
    #[must_use]
    pub fn after_number(page: u64, page_size: u64, total: u64, got: usize) -> Option<PageCursor> {
        (got > 0 && page.saturating_mul(page_size) < total).then(|| PageCursor::Number(page + 1))
    }

    /// The cursor after the page at `offset` that held `got` entries (asked for with
    /// `limit`): the offset advanced by `got` (so a server that caps the page size below
    /// `limit` is still read to the end), none after an empty page, none once `total`
    /// entries are reached, and, when the service reports no total (`None`), none after a
    /// short page.
    #[must_use]
    pub fn after_offset(
        offset: u64,
        got: usize,
        limit: u64,
        total: Option<u64>,
    ) -> Option<PageCursor> {
        if got == 0 {
            return None;
        }
        let next = offset.saturating_add(got as u64);
        let more = match total {
            Some(total) => next < total,
            None => got as u64 >= limit,
        };
        more.then_some(PageCursor::Offset(next))
    }
}

fn wrong_kind(cursor: &PageCursor, wanted: &str) -> Error {
    Error::invalid_input(
        "cursor",
        format!("this listing pages by {wanted}; got a cursor at {cursor} from another listing"),
    )
}

impl fmt::Display for PageCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageCursor::Number(n) => write!(f, "page {n}"),
            PageCursor::Offset(n) => write!(f, "offset {n}"),
            PageCursor::Token(t) => write!(f, "token {t:?}"),
        }
    }
}

/// One page of a listing: its items and where the next page starts (`None` on the last).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page, in the service's order.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` when this is the last one.
    pub next: Option<PageCursor>,
}

impl<T> Page<T> {
    /// A page of `items` followed by the page at `next` (if any).
    #[must_use]
    pub fn new(items: Vec<T>, next: Option<PageCursor>) -> Self {
        Self { items, next }
    }
    /// The last (or only) page.
    #[must_use]
    pub fn last(items: Vec<T>) -> Self {
        Self { items, next: None }
    }
    /// The same page with every item mapped through `f`.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// What a paged listing is, for the loop's guards and errors: the provider, the operation
/// (an API action or a trait call), the resource it is about, and the page cap.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listing {
    /// The provider listed.
    pub provider: Provider,
    /// The operation: an API action (`DescribeImages`) or a trait call (`sharees`).
    pub operation: String,
    /// What is listed, for messages (`sharees of image m-1`); `None`: the operation says it.
    pub subject: Option<String>,
    /// Pages the listing may have; more is [`Error::Decode`]. Default [`MAX_PAGES`].
    pub max_pages: usize,
}

impl Listing {
    /// A listing of `operation` on `provider`, capped at [`MAX_PAGES`] pages.
    pub fn new(provider: Provider, operation: impl Into<String>) -> Self {
        Self {
            provider,
            operation: operation.into(),
            subject: None,
            max_pages: MAX_PAGES,
        }
    }
    /// The listing of the principals `image` is shared with.
    #[must_use]
    pub fn sharees(provider: Provider, image: &ImageId) -> Self {
        Self::new(provider, "sharees").subject(format!("the sharees of image {image}"))
    }
    /// The listing of the images shared with the caller.
    #[must_use]
    pub fn shared_with_me(provider: Provider) -> Self {
        Self::new(provider, "shared_with_me").subject("the images shared with the caller")
    }
    /// Says what is listed (for messages).
    #[must_use]
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }
    /// Sets the page cap (at least 1).
    #[must_use]
    pub fn max_pages(mut self, max_pages: usize) -> Self {
        self.max_pages = max_pages.max(1);
        self
    }

    fn what(&self) -> &str {
        self.subject.as_deref().unwrap_or(&self.operation)
    }

    fn decode_error(&self, message: String) -> Error {
        Error::Decode {
            provider: self.provider,
            action: self.operation.clone(),
            message,
            request_id: None,
        }
    }

    fn too_many_pages(&self) -> Error {
        self.decode_error(format!(
            "gave up listing {} after {} pages: the service keeps announcing another page",
            self.what(),
            self.max_pages
        ))
    }

    fn stuck(&self, at: Option<&PageCursor>, next: &PageCursor) -> Error {
        let at = at.map_or_else(|| "the first page".to_owned(), |c| c.to_string());
        self.decode_error(format!(
            "the listing of {} does not advance: the page at {at} points to {next} next",
            self.what()
        ))
    }
}

/// Whether `next` is past `at` (`None`: the first page, which is page 1 and offset 0). A
/// cursor of another kind than the previous one never advances.
fn advances(at: Option<&PageCursor>, next: &PageCursor) -> bool {
    match (at, next) {
        (None, PageCursor::Number(n)) => *n > 1,
        (None, PageCursor::Offset(n)) => *n > 0,
        (None, PageCursor::Token(t)) => !t.is_empty(),
        (Some(PageCursor::Number(a)), PageCursor::Number(b)) => b > a,
        (Some(PageCursor::Offset(a)), PageCursor::Offset(b)) => b > a,
        (Some(PageCursor::Token(a)), PageCursor::Token(b)) => !b.is_empty() && a != b,
        _ => false,
    }
}

/// What the loop does once the buffered items are consumed.
enum Next {
    /// Fetch the first page.
    First,
    /// Fetch the page at this cursor.
    At(PageCursor),
    /// Yield this error, then end.
    Fail(Error),
    /// End.
    Done,
}

struct State<T, F> {
    listing: Listing,
    fetch: F,
    buffer: std::vec::IntoIter<T>,
    next: Next,
    pages: usize,
}

/// Turns page calls into a stream of items. `fetch(cursor)` returns one page (`None`: the
/// first); it is called only when the consumer has taken every item of the previous page
/// and polls for more, never ahead. An error from `fetch` is yielded once and ends the
/// stream; so does a next cursor that does not advance ([`Error::Decode`], after the items
/// of the page that announced it) and a listing longer than `listing.max_pages` pages
/// ([`Error::Decode`] naming the provider and what was listed).
pub fn paginate<'a, T, F, Fut>(listing: Listing, fetch: F) -> BoxStream<'a, Result<T>>
where
    T: Send + 'a,
    F: FnMut(Option<PageCursor>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Page<T>>> + Send + 'a,
{
    let state = State {
        listing,
        fetch,
        buffer: Vec::new().into_iter(),
        next: Next::First,
        pages: 0,
    };
    stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.buffer.next() {
                return Some((Ok(item), st));
            }
            let cursor = match std::mem::replace(&mut st.next, Next::Done) {
                Next::Done => return None,
                Next::Fail(e) => return Some((Err(e), st)),
                Next::First => None,
                Next::At(c) => Some(c),
            };
            st.pages += 1;
            let page = match (st.fetch)(cursor.clone()).await {
                Ok(page) => page,
                Err(e) => return Some((Err(e), st)),
            };
            tracing::trace!(
                provider = %st.listing.provider,
                operation = %st.listing.operation,
                page = st.pages,
                items = page.items.len(),
                more = page.next.is_some(),
                "listing page"
            );
            st.next = match page.next {
                None => Next::Done,
                Some(next) if !advances(cursor.as_ref(), &next) => {
                    Next::Fail(st.listing.stuck(cursor.as_ref(), &next))
                }
                Some(_) if st.pages >= st.listing.max_pages => {
                    Next::Fail(st.listing.too_many_pages())
                }
                Some(next) => Next::At(next),
            };
            st.buffer = page.items.into_iter();
        }
    })
    .boxed()
}

/// Every principal `id` is shared with, as a lazy stream over
/// [`ImageSharing::sharees_page_in`], each page fetched in `cx` (what
/// [`ImageSharingExt::sharees_stream`](crate::ImageSharingExt::sharees_stream) returns).
///
/// The stream owns `sharing` (and a copy of `id`), as `object_store`'s listings own an
/// `Arc` of their client: pass an adapter that is cheap to clone (every built-in one, an
/// `Arc<dyn ImageSharing>`, [`DynSharing`](crate::Checked)) to get a
/// `BoxStream<'static, _>` that outlives the caller's reference, or `&adapter` to borrow
/// it for `'a`. Each page call uses a clone of `sharing` (a reference copy or an `Arc`
/// increment).
pub fn sharees<'a, S>(sharing: S, cx: CallContext, id: ImageId) -> BoxStream<'a, Result<Sharee>>
where
    S: ImageSharing + Clone + 'a,
{
    paginate(Listing::sharees(sharing.provider(), &id), move |cursor| {
        let (sharing, cx, id) = (sharing.clone(), cx.clone(), id.clone());
        async move { sharing.sharees_page_in(&cx, &id, cursor).await }
    })
}

/// Every image shared with the caller, as a lazy stream over
/// [`ImageSharing::shared_with_me_page_in`], each page fetched in `cx`. An image listed
/// again on a later page (offset paging over a list that changed between two calls) is
/// yielded once; the ids seen are kept for that. Owns `sharing` as [`sharees`] does.
pub fn shared_with_me<'a, S>(sharing: S, cx: CallContext) -> BoxStream<'a, Result<Image>>
where
    S: ImageSharing + Clone + 'a,
{
    let mut seen: HashSet<ImageId> = HashSet::new();
    paginate(Listing::shared_with_me(sharing.provider()), move |cursor| {
        let (sharing, cx) = (sharing.clone(), cx.clone());
        async move { sharing.shared_with_me_page_in(&cx, cursor).await }
    })
    .try_filter(move |image| std::future::ready(seen.insert(image.id.clone())))
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOUD: Provider = Provider::new("example-cloud");
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A listing of `total` numbers served `size` per page by offset, counting the calls.
    fn numbers(
        total: u64,
        size: u64,
        calls: Arc<AtomicUsize>,
    ) -> impl FnMut(Option<PageCursor>) -> std::future::Ready<Result<Page<u64>>> + Send {
        move |cursor| {
            calls.fetch_add(1, Ordering::SeqCst);
            std::future::ready(PageCursor::offset(cursor.as_ref()).map(|offset| {
                let items: Vec<u64> = (offset..total.min(offset + size)).collect();
                let next = PageCursor::after_offset(offset, items.len(), size, Some(total));
                Page::new(items, next)
            }))
        }
    }

    fn listing() -> Listing {
        Listing::sharees(CLOUD, &ImageId::from("m-test"))
    }

    #[tokio::test]
    async fn yields_every_item_of_every_page_in_order() {
        let calls = Arc::new(AtomicUsize::new(0));
        let items: Vec<u64> = paginate(listing(), numbers(250, 100, calls.clone()))
            .try_collect()
            .await
            .unwrap();
        assert_eq!(items, (0..250).collect::<Vec<_>>());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn is_lazy_one_page_at_a_time() {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut s = paginate(listing(), numbers(1_000, 10, calls.clone()));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "nothing before the first poll"
        );
        assert_eq!(s.next().await.unwrap().unwrap(), 0);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the first item: one page");
        for want in 1..10 {
            assert_eq!(s.next().await.unwrap().unwrap(), want);
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "the rest of page one: no call"
        );
        assert_eq!(s.next().await.unwrap().unwrap(), 10);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "past page one: the second page"
        );
        drop(s);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_error_mid_stream_is_yielded_then_the_stream_ends() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let s = paginate(listing(), move |cursor: Option<PageCursor>| {
            counter.fetch_add(1, Ordering::SeqCst);
            std::future::ready(match cursor {
                None => Ok(Page::new(vec![1, 2], Some(PageCursor::Number(2)))),
                Some(_) => Err(Error::invalid_input("page", "second page refused")),
            })
        });
        let got: Vec<Result<u32>> = s.collect().await;
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].as_ref().unwrap(), &1);
        assert_eq!(got[1].as_ref().unwrap(), &2);
        assert!(
            matches!(&got[2], Err(Error::InvalidInput { message, .. }) if message.contains("second page")),
            "{:?}",
            got[2]
        );
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "nothing fetched after the error"
        );
    }

    #[tokio::test]
    async fn a_cursor_that_does_not_advance_is_a_decode_error() {
        for (first_next, second_next) in [
            (PageCursor::Number(2), PageCursor::Number(2)),
            (PageCursor::Offset(10), PageCursor::Offset(5)),
            (PageCursor::Token("a".into()), PageCursor::Token("a".into())),
            (PageCursor::Number(2), PageCursor::Offset(20)),
        ] {
            let calls = Arc::new(AtomicUsize::new(0));
            let counter = calls.clone();
            let (a, b) = (first_next.clone(), second_next.clone());
            let s = paginate(listing(), move |cursor: Option<PageCursor>| {
                counter.fetch_add(1, Ordering::SeqCst);
                let next = if cursor.is_none() {
                    a.clone()
                } else {
                    b.clone()
                };
                std::future::ready(Ok(Page::new(vec![0u8], Some(next))))
            });
            let got: Vec<Result<u8>> = s.collect().await;
            assert_eq!(
                got.len(),
                3,
                "{first_next} -> {second_next}: two items, one error"
            );
            let err = got[2].as_ref().unwrap_err();
            let Error::Decode {
                provider, message, ..
            } = err
            else {
                panic!("expected Error::Decode, got {err}");
            };
            assert_eq!(*provider, CLOUD);
            assert!(message.contains("does not advance"), "{message}");
            assert!(message.contains("image m-test"), "{message}");
            assert_eq!(calls.load(Ordering::SeqCst), 2);
        }
        // The first page pointing at itself (page 1, offset 0, empty token).
        for stuck in [
            PageCursor::Number(1),
            PageCursor::Offset(0),
            PageCursor::Token(String::new()),
        ] {
            let s = paginate(listing(), move |_| {
                std::future::ready(Ok(Page::new(Vec::<u8>::new(), Some(stuck.clone()))))
            });
            let got: Vec<Result<u8>> = s.collect().await;
            assert!(
                matches!(got.as_slice(), [Err(Error::Decode { .. })]),
                "{got:?}"
            );
        }
    }

    #[tokio::test]
    async fn the_page_cap_is_a_decode_error_naming_provider_and_image() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        // A server that always announces one more page.
        let s = paginate(listing().max_pages(5), move |cursor: Option<PageCursor>| {
            counter.fetch_add(1, Ordering::SeqCst);
            let n = PageCursor::page_number(cursor.as_ref()).unwrap();
            std::future::ready(Ok(Page::new(vec![n], Some(PageCursor::Number(n + 1)))))
        });
        let got: Vec<Result<u64>> = s.collect().await;
        assert_eq!(got.len(), 6, "five pages of one item, then the error");
        assert_eq!(calls.load(Ordering::SeqCst), 5, "no sixth call");
        let err = got[5].as_ref().unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("example-cloud"), "{text}");
        assert!(text.contains("m-test"), "{text}");
        assert!(text.contains("after 5 pages"), "{text}");

        // Exactly at the cap, the listing completes.
        let calls = Arc::new(AtomicUsize::new(0));
        let items: Vec<u64> = paginate(listing().max_pages(3), numbers(30, 10, calls.clone()))
            .try_collect()
            .await
            .unwrap();
        assert_eq!(items.len(), 30);
    }

    #[test]
    fn cursors_from_numbers_and_offsets() {
        assert_eq!(PageCursor::page_number(None).unwrap(), 1);
        assert_eq!(
            PageCursor::page_number(Some(&PageCursor::Number(3))).unwrap(),
            3
        );
        assert!(PageCursor::page_number(Some(&PageCursor::Number(0))).is_err());
        assert!(PageCursor::page_number(Some(&PageCursor::Offset(3))).is_err());
        assert_eq!(PageCursor::offset(None).unwrap(), 0);
        assert_eq!(PageCursor::offset(Some(&PageCursor::Offset(7))).unwrap(), 7);
        let err = PageCursor::offset(Some(&PageCursor::Token("t".into()))).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        assert!(PageCursor::first_only(None, "X").is_ok());
        assert!(PageCursor::first_only(Some(&PageCursor::Offset(1)), "X").is_err());

        // Page numbers: until page * size reaches the total, never after an empty page.
        assert_eq!(
            PageCursor::after_number(1, 10, 25, 10),
            Some(PageCursor::Number(2))
        );
        assert_eq!(
            PageCursor::after_number(2, 10, 25, 10),
            Some(PageCursor::Number(3))
        );
        assert_eq!(PageCursor::after_number(3, 10, 25, 5), None);
        assert_eq!(PageCursor::after_number(1, 10, 10, 10), None);
        assert_eq!(PageCursor::after_number(1, 10, 50, 0), None);

        // Offsets: advance by what came, stop at the total, or at a short page without one.
        assert_eq!(
            PageCursor::after_offset(0, 100, 100, Some(250)),
            Some(PageCursor::Offset(100))
        );
        assert_eq!(PageCursor::after_offset(200, 50, 100, Some(250)), None);
        assert_eq!(
            PageCursor::after_offset(0, 50, 100, Some(250)),
            Some(PageCursor::Offset(50)),
            "a server that caps the page size is read to the end"
        );
        assert_eq!(PageCursor::after_offset(0, 0, 100, Some(250)), None);
        assert_eq!(
            PageCursor::after_offset(0, 100, 100, None),
            Some(PageCursor::Offset(100))
        );
        assert_eq!(PageCursor::after_offset(100, 99, 100, None), None);
    }
}
