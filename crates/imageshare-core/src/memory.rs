//! `InMemorySharing`: an in-process [`ImageSharing`] test double for the tests of the
//! layers (the limit checker, the audit and trust layers) and of the bulk engine (the
//! role `object_store::memory::InMemory` plays there). Only with the `test-util` cargo
//! feature: it speaks no cloud's wire protocol, so it is not an adapter, is not in the
//! behaviour suite, and is never in a product build. It holds images and grants in memory,
//! counts every call, and can be told to fail the next calls. It applies no provider
//! rules itself: put it behind [`Checked`](crate::checker::Checked) to test the limit
//! checker, or use `imageshare-emulator` for server-side fidelity.
//!
//! Its listings are paged by offset, [`DEFAULT_PAGE_SIZE`] items per page unless
//! [`InMemorySharing::with_page_size`] says otherwise, so code on top of it goes through
//! the same [`paging`](crate::paging) loop as with a cloud. Every successful share and
//! unshare carries a request id (`mem-<n>`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::context::CallContext;
use crate::copy_limits::CopyLimits;
use crate::error::{Error, Result};
use crate::limits::{EncryptedPolicy, PrincipalForm, ShareLimits};
use crate::model::{
    CopyTarget, Image, ImageId, ImageKind, ImageState, Principal, PrincipalKind, Provider, Region,
    ShareOutcome, ShareReport, Sharee,
};
use crate::paging::{Page, PageCursor};
use crate::sharing::ImageSharing;

/// Items per page of the listings of an [`InMemorySharing`] unless set otherwise: small,
/// so that paging is exercised by tests with a handful of sharees.
pub const DEFAULT_PAGE_SIZE: usize = 5;

/// The limit table of an example cloud for an [`InMemorySharing`] in tests, shaped like
/// Alibaba ECS's: numeric account ids of 5 to 20 digits (RAM users refused), 10 per call,
/// 50 per image, the image's own region only, no onward share of a received or
/// marketplace-derived image, encrypted images refused, accounts of the other site
/// refused, system-disk images only, available images only, every share removed before a
/// delete. Adjust it with the `with_*` setters (they are `const`).
pub const EXAMPLE_LIMITS: ShareLimits = ShareLimits::new(
    Provider::new("example-cloud"),
    "m-",
    "cn-hangzhou",
    PrincipalKind::Account,
    PrincipalForm::NumericAccountId {
        min_len: 5,
        max_len: 20,
        sub_user_markers: &["@", "acs:ram:", ".onaliyun.com"],
        sub_user_name: "a RAM user or sub-account",
    },
)
.with_max_sharees_per_image(Some(50))
.with_max_principals_per_call(10)
.with_same_region_only(true)
.with_reshare_received(false)
.with_share_marketplace_derived(false)
.with_encrypted(EncryptedPolicy::Forbidden)
.with_cross_site(true)
.with_shareable_kinds(&[ImageKind::SystemDisk])
.with_require_available(true)
.with_delete_requires_unshare(true)
.with_source("imageshare_core::memory::EXAMPLE_LIMITS (a test table)");

/// Calls received by an [`InMemorySharing`], per operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCounts {
    /// `image` calls.
    pub image: usize,
    /// `share` calls.
    pub share: usize,
    /// `unshare` calls.
    pub unshare: usize,
    /// `sharees_page` calls (one per page listed).
    pub sharees: usize,
    /// `shared_with_me_page` calls (one per page listed).
    pub shared_with_me: usize,
    /// `copy` calls.
    pub copy: usize,
    /// `images_named` calls.
    pub named: usize,
    /// `delete` calls.
    pub delete: usize,
}

impl CallCounts {
    /// Calls that change state (share, unshare, copy, delete).
    #[must_use]
    pub fn mutations(&self) -> usize {
        self.share + self.unshare + self.copy + self.delete
    }
}

#[derive(Debug, Default)]
struct State {
    images: BTreeMap<ImageId, Image>,
    grants: BTreeMap<ImageId, Vec<Principal>>,
    received: Vec<Image>,
    calls: CallCounts,
    share_batches: Vec<Vec<Principal>>,
    fail_next: VecDeque<Error>,
    next_copy: u64,
    next_request: u64,
    copies_pending: bool,
}

impl State {
    fn request_id(&mut self) -> String {
        self.next_request += 1;
        format!("mem-{}", self.next_request)
    }
}

/// The page of `items` at `cursor` (offset paging), `size` per page.
fn page_of<T: Clone>(items: &[T], cursor: Option<&PageCursor>, size: usize) -> Result<Page<T>> {
    let offset = PageCursor::offset(cursor)?;
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(items.len());
    let end = start.saturating_add(size).min(items.len());
    let page = items[start..end].to_vec();
    let next = PageCursor::after_offset(offset, page.len(), size as u64, Some(items.len() as u64));
    Ok(Page::new(page, next))
}

/// An in-memory image-sharing backend; see the module docs.
#[derive(Debug)]
pub struct InMemorySharing {
    region: Region,
    limits: ShareLimits,
    copy_limits: Option<CopyLimits>,
    page_size: usize,
    state: Arc<Mutex<State>>,
}

impl InMemorySharing {
    /// An empty backend in `region` that reports `limits` (and `limits.provider`).
    pub fn new(region: impl Into<Region>, limits: ShareLimits) -> Self {
        Self {
            region: region.into(),
            limits,
            copy_limits: None,
            page_size: DEFAULT_PAGE_SIZE,
            state: Arc::new(Mutex::new(State::default())),
        }
    }
    /// The same backend copying across regions by `limits` ([`ImageSharing::copy_limits`]);
    /// without, it has no cross-region copy.
    #[must_use]
    pub fn with_copy_limits(mut self, limits: CopyLimits) -> Self {
        self.copy_limits = Some(limits);
        self
    }
    /// A view of the same images, grants and call counts bound to `region` (as a cloud's
    /// adapter for another region of the same account): for tests of flows across regions.
    #[must_use]
    pub fn in_region(&self, region: impl Into<Region>) -> Self {
        Self {
            region: region.into(),
            limits: self.limits.clone(),
            copy_limits: self.copy_limits.clone(),
            page_size: self.page_size,
            state: Arc::clone(&self.state),
        }
    }
    /// Sets the state (and copy progress) of image `id`, if it exists: a copy is made
    /// available by default; tests make it pending or failed.
    pub fn set_state(&self, id: &ImageId, state: ImageState, progress: Option<u8>) {
        if let Some(image) = self.state().images.get_mut(id) {
            image.state = state;
            image.progress = progress;
        }
    }
    /// Whether new copies start pending (0%) instead of available, until
    /// [`set_state`](Self::set_state) says otherwise.
    pub fn set_copies_pending(&self, pending: bool) {
        self.state().copies_pending = pending;
    }
    /// Every image in `region`.
    #[must_use]
    pub fn images_in_region(&self, region: &Region) -> Vec<Image> {
        self.state()
            .images
            .values()
            .filter(|i| &i.region == region)
            .cloned()
            .collect()
    }
    /// The same backend listing `page_size` items per page (at least 1).
    #[must_use]
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }
    /// Items per page of the listings.
    #[must_use]
    pub fn page_size(&self) -> usize {
        self.page_size
    }
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// Adds (or replaces) an image.
    pub fn add_image(&self, image: Image) {
        self.state().images.insert(image.id.clone(), image);
    }
    /// Adds an image that `shared_with_me` lists.
    pub fn add_received(&self, image: Image) {
        self.state().received.push(image.clone());
        self.add_image(image);
    }
    /// Grants `principals` on `id` directly (seeding).
    pub fn seed_grants(&self, id: &ImageId, principals: impl IntoIterator<Item = Principal>) {
        self.state()
            .grants
            .entry(id.clone())
            .or_default()
            .extend(principals);
    }
    /// The current grants of `id`.
    #[must_use]
    pub fn grants(&self, id: &ImageId) -> Vec<Principal> {
        self.state().grants.get(id).cloned().unwrap_or_default()
    }
    /// Calls received so far.
    #[must_use]
    pub fn calls(&self) -> CallCounts {
        self.state().calls.clone()
    }
    /// The principal lists of every `share` call, in order.
    #[must_use]
    pub fn share_batches(&self) -> Vec<Vec<Principal>> {
        self.state().share_batches.clone()
    }
    /// Makes the next mutating call (share, unshare, copy, delete) fail with `error`;
    /// queued errors are used in order.
    pub fn fail_next(&self, error: Error) {
        self.state().fail_next.push_back(error);
    }
    fn not_found(&self, id: &ImageId) -> Error {
        Error::NotFound {
            provider: self.limits.provider,
            what: "image",
            id: id.to_string(),
        }
    }
}

#[async_trait]
impl ImageSharing for InMemorySharing {
    fn provider(&self) -> Provider {
        self.limits.provider
    }
    fn region(&self) -> &Region {
        &self.region
    }
    fn limits(&self) -> &ShareLimits {
        &self.limits
    }
    fn copy_limits(&self) -> Option<&CopyLimits> {
        self.copy_limits.as_ref()
    }
    async fn images_named_in(&self, _cx: &CallContext, name: &str) -> Result<Vec<Image>> {
        let mut st = self.state();
        st.calls.named += 1;
        Ok(st
            .images
            .values()
            .filter(|i| i.region == self.region && i.name == name)
            .cloned()
            .collect())
    }
    async fn image_in(&self, _cx: &CallContext, id: &ImageId) -> Result<Image> {
        let mut st = self.state();
        st.calls.image += 1;
        st.images.get(id).cloned().ok_or_else(|| self.not_found(id))
    }
    async fn share_in(
        &self,
        _cx: &CallContext,
        id: &ImageId,
        to: &[Principal],
    ) -> Result<ShareReport> {
        let mut st = self.state();
        st.calls.share += 1;
        st.share_batches.push(to.to_vec());
        if let Some(e) = st.fail_next.pop_front() {
            return Err(e);
        }
        if !st.images.contains_key(id) {
            return Err(self.not_found(id));
        }
        let mut report = ShareReport::new(id.clone()).with_request_id(st.request_id());
        let grants = st.grants.entry(id.clone()).or_default();
        for p in to {
            if grants.contains(p) {
                report.push(p.clone(), ShareOutcome::AlreadyGranted);
            } else {
                grants.push(p.clone());
                report.push(p.clone(), ShareOutcome::Granted);
            }
        }
        Ok(report)
    }
    async fn unshare_in(
        &self,
        _cx: &CallContext,
        id: &ImageId,
        from: &[Principal],
    ) -> Result<ShareReport> {
        let mut st = self.state();
        st.calls.unshare += 1;
        if let Some(e) = st.fail_next.pop_front() {
            return Err(e);
        }
        if !st.images.contains_key(id) {
            return Err(self.not_found(id));
        }
        let mut report = ShareReport::new(id.clone()).with_request_id(st.request_id());
        let grants = st.grants.entry(id.clone()).or_default();
        for p in from {
            if let Some(pos) = grants.iter().position(|g| g == p) {
                grants.remove(pos);
                report.push(p.clone(), ShareOutcome::Revoked);
            } else {
                report.push(p.clone(), ShareOutcome::NotGranted);
            }
        }
        Ok(report)
    }
    async fn sharees_page_in(
        &self,
        _cx: &CallContext,
        id: &ImageId,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Sharee>> {
        let mut st = self.state();
        st.calls.sharees += 1;
        if !st.images.contains_key(id) {
            return Err(self.not_found(id));
        }
        let grants = st.grants.get(id).map(Vec::as_slice).unwrap_or_default();
        Ok(
            page_of(grants, cursor.as_ref(), self.page_size)?.map(|p| Sharee {
                principal: p,
                shared_at: None,
            }),
        )
    }
    async fn shared_with_me_page_in(
        &self,
        _cx: &CallContext,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Image>> {
        let mut st = self.state();
        st.calls.shared_with_me += 1;
        page_of(&st.received, cursor.as_ref(), self.page_size)
    }
    async fn copy_in(&self, _cx: &CallContext, id: &ImageId, to: CopyTarget) -> Result<ImageId> {
        let mut st = self.state();
        st.calls.copy += 1;
        if let Some(e) = st.fail_next.pop_front() {
            return Err(e);
        }
        let mut image = st
            .images
            .get(id)
            .cloned()
            .ok_or_else(|| self.not_found(id))?;
        st.next_copy += 1;
        let new_id = ImageId::new(format!("{}copy{}", id, st.next_copy));
        image.id = new_id.clone();
        image.origin = crate::model::ImageOrigin::Custom;
        if st.copies_pending {
            image.state = ImageState::Pending;
            image.progress = Some(0);
        }
        match to {
            CopyTarget::OwnCopy { name } => image.name = name.unwrap_or(image.name),
            CopyTarget::Region { region, name } => {
                image.region = region;
                image.name = name.unwrap_or(image.name);
            }
            CopyTarget::Project {
                project,
                region,
                name,
            } => {
                image.owner = Some(Principal::Project(project));
                image.region = region.unwrap_or(image.region);
                image.name = name.unwrap_or(image.name);
            }
        }
        st.images.insert(new_id.clone(), image);
        Ok(new_id)
    }
    async fn delete_in(&self, _cx: &CallContext, id: &ImageId) -> Result<()> {
        let mut st = self.state();
        st.calls.delete += 1;
        if let Some(e) = st.fail_next.pop_front() {
            return Err(e);
        }
        st.images.remove(id).ok_or_else(|| self.not_found(id))?;
        st.grants.remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{EncryptedPolicy, PrincipalForm};
    use crate::model::{Encryption, ImageKind, ImageOrigin, ImageState, PrincipalKind};
    use crate::paging::{BoxStream, StreamExt, TryStreamExt};
    use crate::sharing::ImageSharingExt;
    use std::sync::Arc;

    const LIMITS: ShareLimits = ShareLimits {
        provider: Provider::new("alibaba-ecs"),
        image_id_prefix: "m-",
        example_region: "cn-hangzhou",
        principal_kind: PrincipalKind::Account,
        principal_form: PrincipalForm::NumericAccountId {
            min_len: 1,
            max_len: 20,
            sub_user_markers: &["@", "acs:ram:", ".onaliyun.com"],
            sub_user_name: "a RAM user or sub-account",
        },
        max_sharees_per_image: None,
        max_principals_per_call: 10,
        same_region_only: true,
        reshare_received: false,
        share_marketplace_derived: false,
        encrypted: EncryptedPolicy::Forbidden,
        cross_site: true,
        shareable_kinds: &[ImageKind::SystemDisk],
        require_available: true,
        delete_requires_unshare: true,
        source: "test",
    };

    fn image(id: &str) -> Image {
        Image {
            id: id.into(),
            name: id.into(),
            owner: Some(Principal::account("1")),
            owner_site: None,
            region: "r".into(),
            state: ImageState::Available,
            origin: ImageOrigin::Custom,
            encryption: Encryption::None,
            kind: ImageKind::SystemDisk,
            created_at: None,
            progress: None,
        }
    }

    #[tokio::test]
    async fn listings_are_paged_and_streamed_lazily() {
        let b = InMemorySharing::new("r", LIMITS).with_page_size(3);
        let id = ImageId::from("m-1");
        b.add_image(image("m-1"));
        b.seed_grants(&id, (0..8).map(|i| Principal::account(format!("{i}"))));
        for i in 0..4 {
            b.add_received(image(&format!("m-r{i}")));
        }

        let first = b.sharees_page(&id, None).await.unwrap();
        assert_eq!(first.items.len(), 3);
        assert_eq!(first.next, Some(PageCursor::Offset(3)));
        let last = b
            .sharees_page(&id, Some(PageCursor::Offset(6)))
            .await
            .unwrap();
        assert_eq!(last.items.len(), 2);
        assert_eq!(last.next, None);

        let before = b.calls().sharees;
        let mut s = crate::paging::sharees(&b, CallContext::new(), id.clone());
        assert_eq!(s.next().await.unwrap().unwrap().principal.id(), "0");
        assert_eq!(b.calls().sharees, before + 1, "one page for the first item");
        drop(s);

        let all = b.sharees(&id).await.unwrap();
        assert_eq!(all.len(), 8);
        assert_eq!(b.calls().sharees, before + 1 + 3, "8 sharees, 3 per page");
        assert_eq!(b.shared_with_me().await.unwrap().len(), 4);
        assert_eq!(b.calls().shared_with_me, 2);
    }

    /// Makes the stream from a client it takes by value and drops, with an id it drops:
    /// the stream borrows neither (#18 item 4).
    fn sharees_after_drop<S>(client: S, id: &str) -> BoxStream<'static, Result<Sharee>>
    where
        S: ImageSharing + Clone + 'static,
    {
        let id = ImageId::from(id);
        let stream = client.sharees_stream(&id);
        drop((client, id));
        stream
    }

    #[tokio::test]
    async fn streams_are_static_and_outlive_the_client() {
        let b = Arc::new(InMemorySharing::new("r", LIMITS).with_page_size(3));
        let id = ImageId::from("m-1");
        b.add_image(image("m-1"));
        b.seed_grants(&id, (0..8).map(|i| Principal::account(format!("{i}"))));
        for i in 0..4 {
            b.add_received(image(&format!("m-r{i}")));
        }
        let weak = Arc::downgrade(&b);
        let sharees = sharees_after_drop(crate::Checked::new(b.clone()), "m-1");
        let received = crate::Checked::new(b.clone()).shared_with_me_stream();
        drop(b);
        assert!(weak.upgrade().is_some(), "the streams own the client");

        // Read on another task, after every reference the caller had is gone.
        let (sharees, received) = tokio::spawn(async move {
            let sharees: Result<Vec<Sharee>> = sharees.try_collect().await;
            let received: Result<Vec<Image>> = received.try_collect().await;
            (sharees, received)
        })
        .await
        .unwrap();
        let ids: Vec<String> = sharees
            .unwrap()
            .iter()
            .map(|s| s.principal.id().to_owned())
            .collect();
        assert_eq!(ids, (0..8).map(|i| i.to_string()).collect::<Vec<_>>());
        assert_eq!(received.unwrap().len(), 4);
        assert!(
            weak.upgrade().is_none(),
            "dropping the streams frees the client"
        );
    }

    #[tokio::test]
    async fn share_and_unshare_carry_a_request_id() {
        let b = InMemorySharing::new("r", LIMITS);
        let id = ImageId::from("m-1");
        b.add_image(image("m-1"));
        let r = b.share(&id, &[Principal::account("2")]).await.unwrap();
        assert_eq!(r.request_id(), Some("mem-1"));
        let r = b.unshare(&id, &[Principal::account("2")]).await.unwrap();
        assert_eq!(r.request_id(), Some("mem-2"));
    }
}
