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

/// Issue #17 (JSON output): one image prints the shape of several, `not_attempted`
/// included: the principals a refused batch left unsent are listed there, not dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_image_json_lists_what_was_not_attempted_as_several_images_do() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let home = fresh_dir("batch-refusal-json");
    let unknown: Vec<String> = (0..30).map(|i| format!("3{i:011}")).collect();
    let run = |images: &[&str]| {
        let mut args = vec![
            "--provider",
            "tencent-cvm",
            "--region",
            "ap-guangzhou",
            "--output",
            "json",
            "share",
        ];
        args.extend(images);
        let to = unknown.join(",");
        let mut args = strings(&args);
        args.extend(["--to".to_owned(), to]);
        run_async(home.clone(), args, owner_env(&emu))
    };
    let one = run(&["img-6pb6lrmy"]).await;
    assert_eq!(one.status.code(), Some(1), "{}", stderr(&one));
    let v: serde_json::Value = serde_json::from_str(&stdout(&one)).unwrap();
    assert_eq!(v["schema"], "imageshare/share/v1", "{v}");
    let steps = v["results"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{v}");
    let step = &steps[0];
    assert_eq!(step["image"], "img-6pb6lrmy", "{step}");
    assert_eq!(step["results"].as_array().unwrap().len(), 10, "{step}");
    let left: Vec<&str> = step["not_attempted"]
        .as_array()
        .unwrap_or_else(|| panic!("no not_attempted: {step}"))
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = unknown[10..].iter().map(String::as_str).collect();
    assert_eq!(left, expected);
    assert_eq!(step["code"], "InvalidAccountId.NotFound", "{step}");
    // The same keys as a step of a two-image share that was stopped the same way.
    let two = run(&["img-6pb6lrmy", "img-whole001"]).await;
    let w: serde_json::Value = serde_json::from_str(&stdout(&two)).unwrap();
    let keys = |s: &serde_json::Value| {
        s.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<String>>()
    };
    let many = w["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["image"] == "img-6pb6lrmy")
        .unwrap_or_else(|| panic!("{w}"));
    assert_eq!(keys(step), keys(many), "{step}\n{many}");
    assert_eq!(keys(&v), keys(&w));
}
