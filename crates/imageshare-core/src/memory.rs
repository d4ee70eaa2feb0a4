//! `InMemorySharing`: an in-process [`ImageSharing`] backend for unit tests (the role
//! `object_store::memory::InMemory` plays there). It holds images and grants in memory,
//! counts every call, and can be told to fail the next calls. It applies no provider
//! rules itself: put it behind [`Checked`](crate::checker::Checked) to test the limit
//! checker, or use `imageshare-emulator` for server-side fidelity.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::limits::ShareLimits;
use crate::model::{
    CopyTarget, Image, ImageId, Principal, Provider, Region, ShareOutcome, ShareReport, Sharee,
};
use crate::sharing::ImageSharing;

/// Calls received by an [`InMemorySharing`], per operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCounts {
    /// `image` calls.
    pub image: usize,
    /// `share` calls.
    pub share: usize,
    /// `unshare` calls.
    pub unshare: usize,
    /// `sharees` calls.
    pub sharees: usize,
    /// `shared_with_me` calls.
    pub shared_with_me: usize,
    /// `copy` calls.
    pub copy: usize,
    /// `delete` calls.
    pub delete: usize,
}

impl CallCounts {
    /// Calls that change state (share, unshare, copy, delete).
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
}

/// An in-memory image-sharing backend; see the module docs.
#[derive(Debug)]
pub struct InMemorySharing {
    region: Region,
    limits: ShareLimits,
    state: Mutex<State>,
}

impl InMemorySharing {
    /// An empty backend in `region` that reports `limits` (and `limits.provider`).
    pub fn new(region: impl Into<Region>, limits: ShareLimits) -> Self {
        Self {
            region: region.into(),
            limits,
            state: Mutex::new(State::default()),
        }
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
    pub fn grants(&self, id: &ImageId) -> Vec<Principal> {
        self.state().grants.get(id).cloned().unwrap_or_default()
    }
    /// Calls received so far.
    pub fn calls(&self) -> CallCounts {
        self.state().calls.clone()
    }
    /// The principal lists of every `share` call, in order.
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
    async fn image(&self, id: &ImageId) -> Result<Image> {
        let mut st = self.state();
        st.calls.image += 1;
        st.images.get(id).cloned().ok_or_else(|| self.not_found(id))
    }
    async fn share(&self, id: &ImageId, to: &[Principal]) -> Result<ShareReport> {
        let mut st = self.state();
        st.calls.share += 1;
        st.share_batches.push(to.to_vec());
        if let Some(e) = st.fail_next.pop_front() {
            return Err(e);
        }
        if !st.images.contains_key(id) {
            return Err(self.not_found(id));
        }
        let grants = st.grants.entry(id.clone()).or_default();
        let mut report = ShareReport::new(id.clone());
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
    async fn unshare(&self, id: &ImageId, from: &[Principal]) -> Result<ShareReport> {
        let mut st = self.state();
        st.calls.unshare += 1;
        if let Some(e) = st.fail_next.pop_front() {
            return Err(e);
        }
        if !st.images.contains_key(id) {
            return Err(self.not_found(id));
        }
        let grants = st.grants.entry(id.clone()).or_default();
        let mut report = ShareReport::new(id.clone());
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
    async fn sharees(&self, id: &ImageId) -> Result<Vec<Sharee>> {
        let mut st = self.state();
        st.calls.sharees += 1;
        if !st.images.contains_key(id) {
            return Err(self.not_found(id));
        }
        Ok(st
            .grants
            .get(id)
            .map(|g| {
                g.iter()
                    .map(|p| Sharee {
                        principal: p.clone(),
                        shared_at: None,
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
    async fn shared_with_me(&self) -> Result<Vec<Image>> {
        let mut st = self.state();
        st.calls.shared_with_me += 1;
        Ok(st.received.clone())
    }
    async fn copy(&self, id: &ImageId, to: CopyTarget) -> Result<ImageId> {
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
        let new_id = ImageId::new(format!("{}-copy{}", id, st.next_copy));
        image.id = new_id.clone();
        image.origin = crate::model::ImageOrigin::Custom;
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
    async fn delete(&self, id: &ImageId) -> Result<()> {
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
