//! `--quiet` and colour (#17): `--quiet` leaves out notes (and progress) but not errors;
//! imageshare's own output has no colour, and clap's styled `--help` is styled only on a
//! terminal and never with `NO_COLOR` (the terminal is util-linux `script`'s pty; that
//! half is skipped, saying so, where `script` is missing).

mod common;

use std::process::{Command, Stdio};

use common::{fresh_dir, owner_env, run_async, run_in, stderr, stdout, strings};
use imageshare_emulator::{Emulator, World};

const CVM: [&str; 4] = ["--provider", "tencent-cvm", "--region", "ap-guangzhou"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_leaves_out_notes_but_not_errors() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let env = owner_env(&emu);
    let home = fresh_dir("quiet");
    // A trust policy that hides the image shared by 100000000002: a note on stderr (JSON).
    let hide = [&CVM[..], &["--trust-owner", "100000000009", "-o", "json"]].concat();
    let o = run_async(
        home.clone(),
        strings(&[&hide[..], &["shared-with-me"]].concat()),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("hidden by the trust policy"),
        "{}",
        stderr(&o)
    );
    let o = run_async(
        home.clone(),
        strings(&[&hide[..], &["--quiet", "shared-with-me"]].concat()),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "--quiet leaves the note out");
    assert!(stdout(&o).contains("\"images\""), "{}", stdout(&o));
    // An error is still printed.
    let o = run_async(
        home.clone(),
        strings(
            &[
                &CVM[..],
                &[
                    "-q",
                    "--no-audit",
                    "share",
                    "img-enc00001",
                    "--to",
                    "100000000002",
                ],
            ]
            .concat(),
        ),
        env.clone(),
    )
    .await;
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).starts_with("imageshare: "), "{}", stderr(&o));
    assert!(stderr(&o).contains("img-enc00001"), "{}", stderr(&o));
}

#[test]
fn output_has_no_colour_and_help_honours_no_color() {
    let home = fresh_dir("colour");
    // Not a terminal: no escape sequence anywhere.
    for args in [&["--help"][..], &["limits"], &["share", "--help"]] {
        let o = run_in(&home, &strings(args), &[]);
        assert!(!stdout(&o).contains('\u{1b}'), "{args:?}");
        assert!(!stderr(&o).contains('\u{1b}'), "{args:?}");
    }
    let have_script = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_script {
        eprintln!("skipped the terminal half: util-linux `script` is not installed");
        return;
    }
    let on_terminal = |line: &str, no_color: bool| {
        let mut cmd = Command::new("script");
        cmd.args(["-qec", line, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("TERM", "xterm")
            .stdin(Stdio::null());
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned()
    };
    let bin = env!("CARGO_BIN_EXE_imageshare");
    let help = on_terminal(&format!("{bin} --help"), false);
    assert!(
        help.contains("\u{1b}["),
        "clap styles --help on a terminal: {help:?}"
    );
    let plain = on_terminal(&format!("{bin} --help"), true);
    assert!(plain.contains("Commands:"), "{plain}");
    assert!(!plain.contains("\u{1b}["), "NO_COLOR: {plain:?}");
    // imageshare's own output is plain on a terminal too.
    let limits = on_terminal(&format!("{bin} limits"), false);
    assert!(limits.contains("tencent-cvm"), "{limits}");
    assert!(!limits.contains("\u{1b}["), "{limits:?}");
}
