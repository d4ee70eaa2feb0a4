//! `-f -` (#17): `plan` and `apply` read the manifest from standard input, with the same
//! checks and cap as a file (a bad entry is named `<stdin>:LINE:COL`, an empty input has no
//! entries, more than 4 MiB is refused), and nothing is sent for a manifest that is
//! refused.

mod common;

use common::{fresh_dir, owner_env, run_piped, stderr, stdout, strings, writes};
use imageshare_emulator::{Emulator, World};

const MANIFEST: &str = "[[image]]\nprovider = \"tencent-cvm\"\nregion = \"ap-guangzhou\"\n\
                        id = \"img-6pb6lrmy\"\nshare_with = [\"100000000002\"]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_apply_read_the_manifest_from_stdin() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let home = fresh_dir("stdin-manifest");
    let env = owner_env(&emu);
    let run = |args: &[&str], input: &[u8]| {
        run_piped(home.clone(), strings(args), env.clone(), input.to_vec())
    };

    let o = run(&["-o", "json", "plan", "-f", "-"], MANIFEST.as_bytes()).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["changes"], 1, "{v}");
    assert_eq!(v["plans"][0]["plan"]["image"], "img-6pb6lrmy", "{v}");
    // --detailed-exitcode reads it the same way: 2, changes to apply.
    let o = run(
        &["plan", "--detailed-exitcode", "-f", "-"],
        MANIFEST.as_bytes(),
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(emu.grants("img-6pb6lrmy").is_empty(), "plan sent a grant");

    let o = run(
        &["apply", "--yes", "--no-audit", "-f", "-"],
        MANIFEST.as_bytes(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(emu.grants("img-6pb6lrmy").len(), 1);
    let o = run(
        &["plan", "--detailed-exitcode", "-f", "-"],
        MANIFEST.as_bytes(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // A bad entry on stdin is named by its place; nothing is sent.
    let before = emu.calls().len();
    let bad = MANIFEST.replace("100000000002", "not-an-account");
    let o = run(&["apply", "--yes", "-f", "-"], bad.as_bytes()).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("<stdin>:5:15"), "{}", stderr(&o));
    // An empty stdin is a manifest without entries: refused, naming it.
    let o = run(&["plan", "-f", "-"], b"").await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("<stdin>: no [[image]] entries"),
        "{}",
        stderr(&o)
    );
    // More than 4 MiB on stdin: refused, fast, naming standard input.
    let huge = vec![b'#'; 5 << 20];
    let o = run(&["plan", "-f", "-"], &huge).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("standard input"), "{}", stderr(&o));
    assert_eq!(writes(&emu.calls()[before..]), Vec::<String>::new());
}
