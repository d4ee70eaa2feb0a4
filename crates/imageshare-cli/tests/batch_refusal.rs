//! Issue #17 bug 6: sharing one image with 490 unknown ids sent 49 calls, all failing,
//! printed nothing on stdout and showed only the first error. A batch refused with an
//! error that is not retried now stops the image's remaining batches: one call is sent,
//! stdout lists every failure and says which principals were not attempted and why, and
//! the exit status is 5 (partially applied or stopped).

mod common;

use common::{fresh_dir, owner_env, run_async, stderr, stdout, strings, writes};
use imageshare_emulator::{Emulator, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_batch_stops_the_rest_and_everything_is_reported() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let home = fresh_dir("batch-refusal");
    // 490 well-formed account ids that are nobody in the example world.
    let unknown: Vec<String> = (0..490).map(|i| format!("3{i:011}")).collect();
    let args = strings(&[
        "--provider",
        "tencent-cvm",
        "--region",
        "ap-guangzhou",
        "share",
        "img-6pb6lrmy",
        "--to",
        &unknown.join(","),
    ]);
    let o = run_async(home, args, owner_env(&emu)).await;
    let (out, err) = (stdout(&o), stderr(&o));
    // Nothing was granted: the refusal's own status (1), as `apply` ends a step stopped
    // before it changed anything; the report still says what was not attempted.
    assert_eq!(o.status.code(), Some(1), "stdout: {out}\nstderr: {err}");
    // The emulator's call log: one ModifyImageSharePermission, not 49.
    let sent = writes(&emu.calls());
    assert_eq!(sent, ["tencent-cvm ModifyImageSharePermission"], "{sent:?}");
    // Every principal of the refused call is listed with the cloud's refusal.
    for id in &unknown[..10] {
        let line = format!("account:{id}: failed: ");
        assert!(out.contains(&line), "{line:?} not in stdout:\n{out}");
    }
    assert!(out.contains("InvalidAccountId.NotFound"), "{out}");
    for says in [
        "img-6pb6lrmy: 10 failed, 480 not-attempted",
        "not sent after a refusal that is not retried (InvalidAccountId.NotFound)",
        "account:300000000010, account:300000000011, account:300000000012, and 477 more",
        "fix the failed principals and run again",
    ] {
        assert!(out.contains(says), "{says:?} not in stdout:\n{out}");
    }
    // The command ends with the refusal that stopped it.
    assert!(err.contains("InvalidAccountId.NotFound"), "{err}");
}
