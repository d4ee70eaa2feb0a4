//! Plan / apply through the limit checker: converges, and a second apply is a no-op.

use imageshare_core::memory::InMemorySharing;
use imageshare_core::memory::EXAMPLE_LIMITS;
use imageshare_core::plan::{apply, plan};
use imageshare_core::{Checked, Encryption, Image, LimitRule, Principal, Provider, ShareLimits};

const TABLE: ShareLimits = EXAMPLE_LIMITS
    .with_provider(Provider::new("alibaba-ecs"))
    .with_max_sharees_per_image(Some(4))
    .with_max_principals_per_call(2);

fn acct(n: u32) -> Principal {
    Principal::account(format!("20000{n:05}"))
}

fn checked() -> Checked<InMemorySharing> {
    let b = InMemorySharing::new("cn-hangzhou", TABLE);
    b.add_image(
        Image::new("m-1", "cn-hangzhou")
            .with_name("g")
            .with_owner(Some(Principal::account("1000000001")))
            .with_encryption(Encryption::None),
    );
    Checked::new(b)
}

#[tokio::test]
async fn apply_converges_and_second_apply_is_a_noop() {
    let c = checked();
    let id = "m-1".into();
    c.inner().seed_grants(&id, [acct(1), acct(2), acct(3)]);
    let desired = [acct(3), acct(4), acct(5), acct(6)];
    // Pruning frees room first: 3 current - 2 removed + 3 added = 4 = the maximum.
    let p = plan(&c, &id, &desired, true).await.unwrap();
    assert_eq!(p.add.len(), 3);
    assert_eq!(p.remove.len(), 2);
    let r = apply(&c, &p).await.unwrap();
    assert_eq!(
        r.shared
            .unwrap()
            .count(imageshare_core::OutcomeKind::Granted),
        3
    );
    assert_eq!(
        r.unshared
            .unwrap()
            .count(imageshare_core::OutcomeKind::Revoked),
        2
    );
    let mut now = c.inner().grants(&id);
    now.sort();
    let mut want = desired.to_vec();
    want.sort();
    assert_eq!(now, want);
    let calls = c.inner().calls();
    let again = plan(&c, &id, &desired, true).await.unwrap();
    assert!(again.is_noop(), "{again:?}");
    apply(&c, &again).await.unwrap();
    assert_eq!(c.inner().calls().mutations(), calls.mutations());
}

#[tokio::test]
async fn apply_without_prune_respects_the_per_image_limit() {
    let c = checked();
    let id = "m-1".into();
    c.inner().seed_grants(&id, [acct(1), acct(2), acct(3)]);
    let p = plan(&c, &id, &[acct(4), acct(5)], false).await.unwrap();
    assert_eq!(p.kept.len(), 3);
    let err = apply(&c, &p).await.unwrap_err();
    assert_eq!(
        err.as_limit().map(|v| v.rule),
        Some(LimitRule::MaxShareesPerImage)
    );
    assert_eq!(c.inner().calls().mutations(), 0);
}
