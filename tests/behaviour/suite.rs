//! The behaviour suite: ONE body of tests, run against every adapter through the
//! emulator. A provider plugs in by implementing [`Target`]; it never adds tests of its
//! own here.
//!
//! Every test builds its own emulator world (accounts with deterministic keys, a project
//! each, images with the provider's id format), so tests are independent and can run in
//! parallel.

use imageshare::testing::ConnectEmulator;
use imageshare::ClientBuilder;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use imageshare::alibaba::AlibabaCredentials;
use imageshare::core::paging::{StreamExt, TryStreamExt};
use imageshare::core::transport::RetryConfig;
use imageshare::core::{
    CheckOptions, Checked, Error, Image, ImageId, ImageKind, ImageSharing, ImageSharingExt,
    LimitRule, Principal, PrincipalKind, Provider, ShareOutcome, Sharee, Site,
};
use imageshare::tencent::TencentCredentials;
use imageshare::ucloud::UCloudCredentials;
use imageshare::{Connect, Credentials};
use imageshare_emulator::world::{Encrypted, ImageSeed, Origin, State};
use imageshare_emulator::{Emulator, FaultPlan, FaultRule, World, WorldBuilder};

/// The owner of the test images.
pub const OWNER: &str = "100000000001";
/// The account that receives shares.
pub const RECIPIENT: &str = "100000000002";

/// How to build an adapter for a test.
#[derive(Debug, Clone)]
pub struct AdapterOptions {
    /// Sign with a wrong secret.
    pub wrong_secret: bool,
    /// Retry policy.
    pub retry: RetryConfig,
}

impl Default for AdapterOptions {
    fn default() -> Self {
        Self {
            wrong_secret: false,
            retry: RetryConfig {
                max_attempts: 6,
                initial_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_millis(1500),
                multiplier: 2.0,
                max_elapsed: Some(Duration::from_secs(20)),
            },
        }
    }
}

/// What a provider supplies to run the suite.
#[async_trait]
pub trait Target: Send + Sync {
    /// The provider.
    fn provider(&self) -> Provider;
    /// The region tests run in.
    fn region(&self) -> &'static str;
    /// Another region of the same cloud.
    fn other_region(&self) -> &'static str;
    /// A third region, on the same side of any copy border as the other two.
    fn third_region(&self) -> &'static str;
    /// An image id in the provider's format, unique per `n`.
    fn image_id(&self, n: usize) -> String;
    /// The provider's name of the action that shares (for call counting).
    fn share_action(&self) -> &'static str;
    /// The action that lists an image's sharees, and its page size (`None`: not paged).
    fn sharees_listing(&self) -> (&'static str, Option<usize>);
    /// The action that lists the images shared with the caller, and its page size.
    fn shared_listing(&self) -> (&'static str, usize);
    /// The image kinds that exist on this surface (a lightweight-host image cannot be an
    /// ECS image, nor a system-disk image a Lighthouse blueprint).
    fn kinds(&self) -> &'static [ImageKind] {
        &[
            ImageKind::SystemDisk,
            ImageKind::WholeMachine,
            ImageKind::LightweightHost,
        ]
    }
    /// Rules the adapter cannot see on the wire, so only the server enforces them.
    fn server_only_rules(&self) -> &'static [LimitRule] {
        &[]
    }
    /// An adapter acting as `account` (its keys are in `emu.world()`), in `region`, without
    /// the limit checker (tests wrap it, or bypass it to see what the server refuses).
    fn adapter(
        &self,
        emu: &Emulator,
        account: &str,
        region: &str,
        options: AdapterOptions,
    ) -> Arc<dyn ImageSharing> {
        let mut c = Connect::new(self.provider())
            .region(region)
            .emulator(emu, account)
            .retry(options.retry);
        if options.wrong_secret {
            c = c.credentials(wrong_secret(emu, self.provider(), account));
        }
        Arc::from(
            c.build_unchecked()
                .expect("the test world builds every adapter"),
        )
    }
}

/// `account`'s key id for `provider`'s cloud with a secret that is not its own.
fn wrong_secret(emu: &Emulator, provider: Provider, account: &str) -> Credentials {
    let a = emu.account(account).expect("account in the world");
    match provider {
        imageshare::alibaba::ECS | imageshare::alibaba::SAS => {
            let k = a.alibaba_credentials().expect("alibaba key");
            AlibabaCredentials::new(k.access_key_id, "not-the-secret").into()
        }
        imageshare::tencent::CVM | imageshare::tencent::LIGHTHOUSE => {
            let k = a.tencent_credentials().expect("tencent key");
            TencentCredentials::new(k.secret_id, "not-the-secret").into()
        }
        imageshare::ucloud::UHOST => {
            let k = a.ucloud_credentials().expect("ucloud key");
            UCloudCredentials::new(k.public_key, "not-the-secret").into()
        }
        other => panic!("no target for {other}"),
    }
}

/// The project id the world gives `account`.
pub fn project_of(account: &str) -> String {
    format!("org-p{account}")
}

/// The principal id of `account` for this target (itself, or its project on UCloud).
pub fn principal_id(t: &dyn Target, account: &str) -> String {
    if t.provider() == imageshare::ucloud::UHOST {
        project_of(account)
    } else {
        account.to_owned()
    }
}

/// The principal of `account` for this target.
pub fn principal(t: &dyn Target, account: &str) -> Principal {
    let id = principal_id(t, account);
    Principal::of_kind(limits(t).principal_kind, id)
}

fn limits(t: &dyn Target) -> &'static imageshare::ShareLimits {
    imageshare_emulator::engine::limits_for(t.provider())
}

/// Account ids `n` of the extra principals.
pub fn extra_account(n: usize) -> String {
    format!("3{n:011}")
}

/// A world with OWNER, RECIPIENT, an international account and `extra` more accounts,
/// each with its own project.
pub fn base_world(extra: usize) -> WorldBuilder {
    let mut b = World::builder();
    for (id, site) in [
        (OWNER, Site::China),
        (RECIPIENT, Site::China),
        ("200000000001", Site::International),
    ] {
        b = b.account(id, site).project(&project_of(id));
    }
    b = b.role(imageshare_emulator::engine::ECS_ENCRYPTED_SHARE_ROLE);
    for i in 0..extra {
        let id = extra_account(i);
        b = b.account(&id, Site::China).project(&project_of(&id));
    }
    b
}

/// An available, shareable image of the owner in the target's region.
pub fn owned_image(t: &dyn Target, n: usize) -> ImageSeed {
    ImageSeed::new(
        t.provider(),
        &t.image_id(n),
        &principal_id(t, OWNER),
        t.region(),
    )
    .kind(limits(t).shareable_kinds[0])
}

struct Env {
    emu: Emulator,
    owner: Arc<dyn ImageSharing>,
    image: ImageId,
}

async fn env(t: &dyn Target, world: World) -> Env {
    let emu = Emulator::start(world).await.expect("start emulator");
    let owner = t.adapter(&emu, OWNER, t.region(), AdapterOptions::default());
    Env {
        emu,
        owner,
        image: t.image_id(0).into(),
    }
}

fn checked(a: &Arc<dyn ImageSharing>) -> Checked<Arc<dyn ImageSharing>> {
    Checked::with_options(a.clone(), CheckOptions::default())
}

fn share_calls(e: &Env, t: &dyn Target) -> usize {
    e.emu.action_count(t.provider(), t.share_action())
}

fn extras(t: &dyn Target, n: usize) -> Vec<Principal> {
    (0..n).map(|i| principal(t, &extra_account(i))).collect()
}

fn grant_ids(e: &Env) -> Vec<String> {
    let mut v: Vec<String> = e
        .emu
        .grants(e.image.as_str())
        .into_iter()
        .map(|g| g.principal)
        .collect();
    v.sort();
    v
}

// ------------------------------------------------------------------------------ the tests

/// Share with three principals, list them, unshare one.
pub async fn share_list_unshare(t: &dyn Target) {
    let e = env(t, base_world(3).image(owned_image(t, 0)).build().unwrap()).await;
    let c = checked(&e.owner);
    let to = extras(t, 3);
    let report = c.share(&e.image, &to).await.expect("share");
    assert_eq!(
        report.count(imageshare::core::OutcomeKind::Granted),
        3,
        "{report}"
    );
    assert!(
        report.request_id().is_some_and(|r| !r.is_empty()),
        "the report carries the request id of the share call"
    );
    let mut listed: Vec<Principal> = c
        .sharees(&e.image)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.principal)
        .collect();
    listed.sort();
    let mut want = to.clone();
    want.sort();
    assert_eq!(listed, want);
    assert_eq!(grant_ids(&e).len(), 3);

    let un = c.unshare(&e.image, &to[..1]).await.expect("unshare");
    assert!(
        matches!(un.outcome(&to[0]), Some(ShareOutcome::Revoked)),
        "{un}"
    );
    assert_ne!(
        un.request_id(),
        report.request_id(),
        "each call has its own request id"
    );
    assert!(un.request_id().is_some());
    assert_eq!(c.sharees(&e.image).await.unwrap().len(), 2);
    assert_eq!(grant_ids(&e).len(), 2);
}

/// Sharing again changes nothing and sends no share call.
pub async fn idempotent_reshare(t: &dyn Target) {
    let e = env(t, base_world(2).image(owned_image(t, 0)).build().unwrap()).await;
    let c = checked(&e.owner);
    let to = extras(t, 2);
    c.share(&e.image, &to).await.unwrap();
    let calls = share_calls(&e, t);
    assert!(calls >= 1);
    let again = c.share(&e.image, &to).await.unwrap();
    assert_eq!(
        again.count(imageshare::core::OutcomeKind::AlreadyGranted),
        2,
        "{again}"
    );
    assert_eq!(
        share_calls(&e, t),
        calls,
        "no share call for already-granted principals"
    );
    // Unsharing a principal without a grant sends nothing either.
    let none = c.unshare(&e.image, &extras(t, 3)[2..]).await.unwrap();
    assert_eq!(none.count(imageshare::core::OutcomeKind::NotGranted), 1);
}

/// The recipient sees the image in `shared_with_me`, and stops seeing it after unshare.
pub async fn recipient_sees_shared_images(t: &dyn Target) {
    let e = env(t, base_world(0).image(owned_image(t, 0)).build().unwrap()).await;
    let c = checked(&e.owner);
    let recipient = t.adapter(&e.emu, RECIPIENT, t.region(), AdapterOptions::default());
    let me = principal(t, RECIPIENT);
    assert!(!recipient
        .shared_with_me()
        .await
        .unwrap()
        .iter()
        .any(|i| i.id == e.image));
    c.share(&e.image, std::slice::from_ref(&me)).await.unwrap();
    let seen = recipient.shared_with_me().await.unwrap();
    let img = seen
        .iter()
        .find(|i| i.id == e.image)
        .expect("shared image listed");
    assert_eq!(img.origin, imageshare::core::ImageOrigin::Received);
    // The recipient cannot share it onward: refused before sending.
    let onward = checked(&recipient)
        .share(&e.image, &[principal(t, OWNER)])
        .await
        .unwrap_err();
    assert!(onward.as_limit().is_some(), "{onward}");
    c.unshare(&e.image, &[me]).await.unwrap();
    assert!(!recipient
        .shared_with_me()
        .await
        .unwrap()
        .iter()
        .any(|i| i.id == e.image));
}

/// Many sharees on one image (all pages), and many images shared with one recipient.
pub async fn paging(t: &dyn Target, sharees: usize, received_images: usize) {
    let mut b = base_world(sharees);
    b = b.image(owned_image(t, 0));
    for n in 1..=received_images {
        b = b.image(owned_image(t, n).shared_with(&[&principal_id(t, RECIPIENT)]));
    }
    let e = env(t, b.build().unwrap()).await;
    let c = checked(&e.owner);
    let to = extras(t, sharees);
    let report = c.share(&e.image, &to).await.expect("share many");
    assert_eq!(
        report.count(imageshare::core::OutcomeKind::Granted),
        sharees
    );
    assert_eq!(c.sharees(&e.image).await.unwrap().len(), sharees);
    let recipient = t.adapter(&e.emu, RECIPIENT, t.region(), AdapterOptions::default());
    let seen = recipient.shared_with_me().await.unwrap();
    assert_eq!(seen.len(), received_images);
    let mut ids: Vec<&str> = seen.iter().map(|i| i.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), received_images, "no image listed twice");
}

/// The streams and the collected lists agree, item for item, and the streams are lazy: the
/// first item costs one listing call, the next page is fetched only past the current one.
pub async fn streams_are_lazy_and_agree_with_lists(t: &dyn Target) {
    let (sharees_action, sharees_page) = t.sharees_listing();
    let (shared_action, shared_page) = t.shared_listing();
    // Two and a half pages of sharees (120 where the listing is not paged), two pages of
    // received images.
    let sharees = sharees_page.map_or(120, |n| 2 * n + n / 2);
    let received = shared_page + 5;
    let grantees: Vec<String> = (0..sharees)
        .map(|i| principal_id(t, &extra_account(i)))
        .collect();
    let grantees: Vec<&str> = grantees.iter().map(String::as_str).collect();
    let mut b = base_world(sharees).image(owned_image(t, 0).shared_with(&grantees));
    for n in 1..=received {
        b = b.image(owned_image(t, n).shared_with(&[&principal_id(t, RECIPIENT)]));
    }
    let e = env(t, b.build().unwrap()).await;
    let p = t.provider();
    let listed = |action: &str| e.emu.action_count(p, action);

    // Sharees: nothing is sent before the first poll; one page per page consumed.
    let mut stream = e.owner.sharees_stream(&e.image);
    assert_eq!(
        listed(sharees_action),
        0,
        "{p}: nothing before the first poll"
    );
    let first = stream.next().await.expect("a sharee").expect("no error");
    assert_eq!(
        listed(sharees_action),
        1,
        "{p}: the first sharee costs one call"
    );
    let page = sharees_page.unwrap_or(sharees);
    for _ in 1..page {
        stream.next().await.expect("a sharee").expect("no error");
    }
    assert_eq!(
        listed(sharees_action),
        1,
        "{p}: the rest of page one costs nothing"
    );
    if sharees_page.is_some() {
        stream.next().await.expect("a sharee").expect("no error");
        assert_eq!(
            listed(sharees_action),
            2,
            "{p}: past page one, the second page"
        );
    } else {
        assert!(
            stream.next().await.is_none(),
            "{p}: one page holds them all"
        );
    }
    drop(stream);

    let before = listed(sharees_action);
    let streamed: Vec<Sharee> = e
        .owner
        .sharees_stream(&e.image)
        .try_collect()
        .await
        .unwrap();
    let pages = sharees.div_ceil(page);
    assert_eq!(listed(sharees_action) - before, pages, "{p}: {pages} pages");
    let collected = e.owner.sharees(&e.image).await.unwrap();
    assert_eq!(streamed, collected, "{p}: the stream and the Vec agree");
    assert_eq!(streamed[0], first);
    let mut ids: Vec<String> = streamed
        .iter()
        .map(|s| s.principal.id().to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids, grant_ids(&e), "{p}: every grant, once");

    // Images shared with the recipient, the same way.
    let recipient = t.adapter(&e.emu, RECIPIENT, t.region(), AdapterOptions::default());
    let before = listed(shared_action);
    let mut stream = recipient.shared_with_me_stream();
    stream.next().await.expect("an image").expect("no error");
    assert_eq!(
        listed(shared_action) - before,
        1,
        "{p}: one call for the first image"
    );
    drop(stream);
    let before = listed(shared_action);
    let streamed: Vec<Image> = recipient
        .shared_with_me_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        listed(shared_action) - before,
        2,
        "{p}: two pages of images"
    );
    let collected = recipient.shared_with_me().await.unwrap();
    assert_eq!(streamed, collected, "{p}: the stream and the Vec agree");
    assert_eq!(streamed.len(), received);
}

/// A missing image is `Error::NotFound`, for every call that names one.
pub async fn not_found(t: &dyn Target) {
    let e = env(t, base_world(1).image(owned_image(t, 0)).build().unwrap()).await;
    let missing: ImageId = t.image_id(999).into();
    let err = e.owner.image(&missing).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    let err = checked(&e.owner)
        .share(&missing, &extras(t, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert_eq!(share_calls(&e, t), 0);
}

/// A wrong secret is `Error::Auth` with the provider's code.
pub async fn auth_failure(t: &dyn Target) {
    let e = env(t, base_world(1).image(owned_image(t, 0)).build().unwrap()).await;
    let bad = t.adapter(
        &e.emu,
        OWNER,
        t.region(),
        AdapterOptions {
            wrong_secret: true,
            ..Default::default()
        },
    );
    let err = bad.image(&e.image).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err}");
    assert!(err.code().is_some());
    let text = format!("{err} {err:?}");
    assert!(!text.contains("secret-"), "no secret in error text: {text}");
}

/// Throttling answered by the emulator is retried until it succeeds, with no grant lost
/// or duplicated.
pub async fn throttling_is_retried(t: &dyn Target) {
    let e = env(t, base_world(2).image(owned_image(t, 0)).build().unwrap()).await;
    e.emu.set_faults(
        FaultPlan::seeded(5).rule(
            FaultRule::new()
                .with_provider(t.provider())
                .with_action(t.share_action().to_owned())
                .with_qps(1),
        ),
    );
    let c = checked(&e.owner);
    // Two share calls within one second: the quota of 1/s throttles the second.
    for p in extras(t, 2) {
        let report = c.share(&e.image, &[p]).await.expect("retried to success");
        assert_eq!(report.count(imageshare::core::OutcomeKind::Granted), 1);
    }
    assert!(
        !e.emu.faults_served().is_empty(),
        "the emulator must have throttled at least once"
    );
    assert_eq!(grant_ids(&e).len(), 2, "no duplicate or lost grant");
}

/// A failure in one batch is reported per principal; other batches stand.
pub async fn partial_batch_failure(t: &dyn Target) {
    let per_call = limits(t).max_principals_per_call;
    let ghost = principal(t, "399999999999");
    if limits(t)
        .max_sharees_per_image
        .is_some_and(|max| max <= per_call)
    {
        // One call can carry every sharee the image may have (SAS: 10 and 10): there is
        // no second batch, and the provider refuses the whole call.
        let e = env(t, base_world(2).image(owned_image(t, 0)).build().unwrap()).await;
        let mut to = extras(t, 2);
        to.push(ghost);
        let err = checked(&e.owner).share(&e.image, &to).await.unwrap_err();
        assert!(matches!(err, Error::Api(_)), "{err}");
        assert!(err.code().is_some());
        assert!(grant_ids(&e).is_empty(), "nothing granted");
        return;
    }
    let e = env(
        t,
        base_world(per_call)
            .image(owned_image(t, 0))
            .build()
            .unwrap(),
    )
    .await;
    let c = checked(&e.owner);
    let mut to = extras(t, per_call); // batch 1: real principals
                                      // batch 2: a well-formed principal that does not exist.
    to.push(ghost.clone());
    let err = c.share(&e.image, &to).await.unwrap_err();
    let Error::Partial(report) = err else {
        panic!("expected Error::Partial, got {err}")
    };
    assert_eq!(
        report.count(imageshare::core::OutcomeKind::Granted),
        per_call,
        "{report}"
    );
    assert!(matches!(
        report.outcome(&ghost),
        Some(ShareOutcome::Failed(_))
    ));
    let (_, cause) = report.failures().next().unwrap();
    assert!(
        cause.code().is_some(),
        "the provider's code is kept: {cause}"
    );
    assert_eq!(grant_ids(&e).len(), per_call);
}

/// One image per rule of the provider's table; each is refused before any share call,
/// and the server refuses it too when the checker is bypassed.
pub async fn limit_rules(t: &dyn Target) {
    let l = limits(t);
    let p = t.provider();
    let other = principal_id(t, "100000000002");
    let mut cases: Vec<(LimitRule, ImageSeed)> = Vec::new();
    let img = |n: usize| owned_image(t, n);
    let mut received = img(10);
    received.owner = principal_id(t, RECIPIENT);
    received.shared_with = vec![principal_id(t, OWNER)];
    if !l.reshare_received {
        cases.push((LimitRule::ReceivedImage, received));
    }
    if !l.share_marketplace_derived {
        cases.push((
            LimitRule::MarketplaceDerived,
            img(11).origin(Origin::Marketplace),
        ));
    }
    match l.encrypted {
        imageshare::core::limits::EncryptedPolicy::Allowed => {}
        imageshare::core::limits::EncryptedPolicy::Forbidden => {
            cases.push((LimitRule::EncryptedImage, img(12).encrypted(Encrypted::Cmk)))
        }
        imageshare::core::limits::EncryptedPolicy::CustomerKeyWithAcknowledgement { .. } => cases
            .push((
                LimitRule::EncryptedImage,
                img(12).encrypted(Encrypted::ServiceKey),
            )),
        other => panic!("no rule case for the encrypted policy {other:?}: write one here"),
    }
    if let Some(kind) = t
        .kinds()
        .iter()
        .copied()
        .find(|k| !l.shareable_kinds.contains(k))
    {
        cases.push((LimitRule::ImageKind, img(13).kind(kind)));
    }
    if l.require_available {
        cases.push((LimitRule::ImageState, img(14).state(State::Creating)));
    }
    let mut b = base_world(0);
    for (_, seed) in &cases {
        b = b.image(seed.clone());
    }
    let e = env(t, b.image(owned_image(t, 0)).build().unwrap()).await;
    let c = checked(&e.owner);
    let target = [principal(t, "200000000001")];
    for (rule, seed) in &cases {
        let id: ImageId = seed.id.as_str().into();
        let before = share_calls(&e, t);
        let err = c.share(&id, &target).await.unwrap_err();
        if t.server_only_rules().contains(rule) {
            // The API does not expose what the rule needs: the server refuses it.
            assert!(matches!(err, Error::Api(_)), "{p} {rule}: {err}");
        } else {
            assert_eq!(
                err.as_limit().map(|v| v.rule),
                Some(*rule),
                "{p} {rule}: {err}"
            );
            assert_eq!(share_calls(&e, t), before, "{p} {rule}: nothing sent");
            // Bypassing the checker, the server refuses it as well.
            let raw = e.owner.share(&id, &target).await;
            assert!(raw.is_err(), "{p} {rule}: server accepted {raw:?}");
        }
        assert!(e
            .emu
            .grants(&seed.id)
            .iter()
            .all(|g| g.principal != target[0].id()));
    }
    // Kind and form of principals.
    let wrong_kind = if l.principal_kind == PrincipalKind::Account {
        Principal::project(project_of(&other))
    } else {
        Principal::account(other.clone())
    };
    let err = c.share(&e.image, &[wrong_kind]).await.unwrap_err();
    assert_eq!(
        err.as_limit().map(|v| v.rule),
        Some(LimitRule::PrincipalKind),
        "{err}"
    );
    let bad_form = match l.principal_kind {
        PrincipalKind::Project => Principal::project("project-x"),
        _ => Principal::account("alice@123456.onaliyun.com"),
    };
    let err = c.share(&e.image, &[bad_form]).await.unwrap_err();
    assert_eq!(
        err.as_limit().map(|v| v.rule),
        Some(LimitRule::PrincipalForm),
        "{err}"
    );
    // Another region: the client in region B cannot share the image of region A.
    let elsewhere = t.adapter(&e.emu, OWNER, t.other_region(), AdapterOptions::default());
    let err = checked(&elsewhere)
        .share(&e.image, &target)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotFound { .. }) || err.as_limit().is_some(),
        "{err}"
    );
    // Too many sharees for one image.
    if let Some(max) = l.max_sharees_per_image {
        let too_many: Vec<Principal> = (0..=max).map(|i| principal(t, &extra_account(i))).collect();
        let err = c.share(&e.image, &too_many).await.unwrap_err();
        assert_eq!(
            err.as_limit().map(|v| v.rule),
            Some(LimitRule::MaxShareesPerImage),
            "{err}"
        );
    }
    assert_eq!(grant_ids(&e).len(), 0);
}

/// Delete is refused while shared where the provider says so; unshare-all-then-delete works.
pub async fn delete_rules(t: &dyn Target) {
    let e = env(t, base_world(2).image(owned_image(t, 0)).build().unwrap()).await;
    let c = checked(&e.owner);
    c.share(&e.image, &extras(t, 2)).await.unwrap();
    if limits(t).delete_requires_unshare {
        let err = c.delete(&e.image).await.unwrap_err();
        assert_eq!(
            err.as_limit().map(|v| v.rule),
            Some(LimitRule::DeleteWhileShared),
            "{err}"
        );
        // The server refuses as well when the checker is bypassed.
        assert!(e.owner.delete(&e.image).await.is_err());
    }
    let report = imageshare::core::ImageSharingExt::unshare_all_and_delete(&c, &e.image)
        .await
        .unwrap();
    assert_eq!(report.count(imageshare::core::OutcomeKind::Revoked), 2);
    assert!(matches!(
        c.image(&e.image).await,
        Err(Error::NotFound { .. })
    ));
}

/// Distribution into two other regions (issue #15 §1), by capability: an adapter with
/// `copy_limits()` copies with its cloud's own action, in as few calls as the action takes
/// regions, waits for each copy and shares it; a second run finds every copy again by its
/// name, makes no copy and no grant, and a plan then has nothing to do. An adapter without
/// cross-region copy (SAS) is refused with `cross-region-copy` before anything is sent.
pub async fn distribute_to_other_regions(t: &dyn Target) {
    use imageshare::core::distribute::{self, Adapters, CopyStep, Distribution, RunOptions, Wait};
    use imageshare::core::{CallContext, Region};
    use std::collections::BTreeMap;

    let world = base_world(3)
        .copy_ready_after_ms(200)
        .image(owned_image(t, 0))
        .build()
        .unwrap();
    let e = env(t, world).await;
    let source = checked(&e.owner);
    let regions = [t.other_region(), t.third_region()];
    let targets: BTreeMap<Region, _> = regions
        .iter()
        .map(|r| {
            let adapter = t.adapter(&e.emu, OWNER, r, AdapterOptions::default());
            (Region::from(*r), checked(&adapter))
        })
        .collect();
    let to = extras(t, 3);
    let d = Distribution::new(
        e.image.clone(),
        regions.iter().map(|r| Region::from(*r)),
        to.clone(),
    );
    let options = RunOptions::default().wait(Wait {
        timeout: Duration::from_secs(20),
        poll: Duration::from_millis(50),
    });
    let cx = CallContext::new();
    let run = || distribute::run_in(&cx, Adapters::new(&source, &targets), &d, options, None);

    let Some(copy) = e.owner.copy_limits() else {
        let calls = e.emu.calls().len();
        let err = run().await.unwrap_err();
        assert_eq!(
            err.as_limit().map(|v| v.rule),
            Some(LimitRule::CrossRegionCopy),
            "{err}"
        );
        assert_eq!(
            e.emu.calls().len(),
            calls,
            "refused before anything is sent"
        );
        return;
    };
    let copy_calls = || e.emu.action_count(t.provider(), copy.action);

    let report = run().await.unwrap();
    assert!(report.is_complete(), "{report:?}");
    let steps: Vec<_> = report.regions.iter().map(|r| r.copy.clone()).collect();
    assert_eq!(steps, [CopyStep::Made, CopyStep::Made]);
    assert_eq!(
        copy_calls(),
        regions.len().div_ceil(copy.max_regions_per_call),
        "every region copied, in as few calls as the action allows"
    );
    let mut want: Vec<String> = to.iter().map(|p| p.id().to_owned()).collect();
    want.sort();
    for (region, r) in regions.iter().zip(&report.regions) {
        let copies: Vec<String> = e.emu.with_engine(|engine| {
            engine.refresh_all();
            engine
                .images()
                .filter(|i| {
                    i.provider == t.provider()
                        && i.region == *region
                        && i.copied_from.as_deref() == Some(e.image.as_str())
                })
                .map(|i| i.id.clone())
                .collect()
        });
        assert_eq!(copies.len(), 1, "one copy in {region}: {copies:?}");
        assert_eq!(
            r.image.as_ref().map(|i| i.as_str()),
            Some(copies[0].as_str())
        );
        let mut granted: Vec<String> = e
            .emu
            .grants(&copies[0])
            .into_iter()
            .map(|g| g.principal)
            .collect();
        granted.sort();
        assert_eq!(
            granted, want,
            "the copy in {region} is shared with everyone listed"
        );
    }
    let (copies, shares) = (copy_calls(), share_calls(&e, t));

    let again = run().await.unwrap();
    assert!(again.is_complete(), "{again:?}");
    let steps: Vec<_> = again.regions.iter().map(|r| r.copy.clone()).collect();
    assert_eq!(steps, [CopyStep::Found, CopyStep::Found]);
    assert!(
        again.regions.iter().all(|r| r.shared.is_none()),
        "{again:?}"
    );
    assert_eq!(copy_calls(), copies, "no second copy");
    assert_eq!(share_calls(&e, t), shares, "nothing granted twice");
    let plan = distribute::plan_in(&cx, Adapters::new(&source, &targets), &d)
        .await
        .unwrap();
    assert!(plan.is_noop(), "{plan:?}");
}

/// Runs every test of the suite for one target.
#[macro_export]
macro_rules! behaviour_suite {
    ($target:expr, sharees = $sharees:expr, received = $received:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn share_list_unshare() {
            $crate::suite::share_list_unshare(&$target).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn idempotent_reshare() {
            $crate::suite::idempotent_reshare(&$target).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn recipient_sees_shared_images() {
            $crate::suite::recipient_sees_shared_images(&$target).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn paging() {
            $crate::suite::paging(&$target, $sharees, $received).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn streams_are_lazy_and_agree_with_lists() {
            $crate::suite::streams_are_lazy_and_agree_with_lists(&$target).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn not_found() {
            $crate::suite::not_found(&$target).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn auth_failure() {
            $crate::suite::auth_failure(&$target).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn throttling_is_retried() {
            $crate::suite::throttling_is_retried(&$target).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn partial_batch_failure() {
            $crate::suite::partial_batch_failure(&$target).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn limit_rules() {
            $crate::suite::limit_rules(&$target).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn delete_rules() {
            $crate::suite::delete_rules(&$target).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn distribute_to_other_regions() {
            $crate::suite::distribute_to_other_regions(&$target).await
        }
    };
}
