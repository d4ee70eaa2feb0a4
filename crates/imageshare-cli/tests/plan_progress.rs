//! `plan` reports its progress on stderr, through the binary: with stderr not a terminal,
//! one line per period (`plan: 3/12 images (25%), ...`), never on stdout (whose JSON
//! still parses); `IMAGESHARE_PROGRESS=off` silences it; `IMAGESHARE_PROGRESS=200ms`
//! sets the period. The emulator holds every sharee listing (`DescribeImageSharePermission`,
//! all 12 in flight at once) for [`SLOW_LISTING_MS`], longer than the default period
//! (5 s), so the default run must print a line and the silenced one would have.

mod common;

use common::{fresh_dir, owner_env, run_async, stderr, stdout, strings, OWNER};
use imageshare::core::Site;
use imageshare_emulator::world::ImageSeed;
use imageshare_emulator::{Emulator, FaultPlan, FaultRule, World};

const IMAGES: usize = 12;
/// Latency of each listing: above the default period of 5 s.
const SLOW_LISTING_MS: u64 = 5_600;

fn ids() -> Vec<String> {
    (0..IMAGES).map(|i| format!("m-progress{i:07}")).collect()
}

fn world() -> World {
    let mut b = World::builder()
        .account(OWNER, Site::China)
        .account("500000000001", Site::China);
    for id in ids() {
        b = b.image(ImageSeed::new(
            imageshare::alibaba::ECS,
            &id,
            OWNER,
            "cn-hangzhou",
        ));
    }
    b.faults(
        FaultPlan::seeded(15).rule(
            FaultRule::new()
                .with_provider(imageshare::alibaba::ECS)
                .with_action("DescribeImageSharePermission")
                .with_latency_ms(SLOW_LISTING_MS, SLOW_LISTING_MS),
        ),
    )
    .build()
    .unwrap()
}

fn manifest(dir: &std::path::Path) -> String {
    let mut text = String::new();
    for id in ids() {
        text.push_str(&format!(
            "[[image]]\nprovider = \"alibaba-ecs\"\nregion = \"cn-hangzhou\"\nid = \"{id}\"\n\
             share_with = [\"500000000001\"]\n\n"
        ));
    }
    let path = dir.join("images.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The progress lines of a run's stderr.
fn progress_lines(err: &str) -> Vec<&str> {
    err.lines().filter(|l| l.starts_with("plan: ")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_prints_progress_lines_on_stderr_unless_turned_off() {
    let emu = Emulator::start(world()).await.unwrap();
    let home = fresh_dir("plan-progress");
    let file = manifest(&home);
    let run = |progress: Option<&str>, quiet: bool| {
        let mut env = owner_env(&emu);
        if let Some(p) = progress {
            env.push(("IMAGESHARE_PROGRESS".into(), p.into()));
        }
        let mut args = strings(&["--no-audit", "-o", "json", "plan", "-f", &file]);
        if quiet {
            args.insert(0, "--quiet".into());
        }
        run_async(home.clone(), args, env)
    };
    // The four runs at once: each takes the listings' latency.
    let (default, fast, off, quiet) = tokio::join!(
        run(None, false),
        run(Some("200ms"), false),
        run(Some("off"), false),
        // --quiet wins over a period asked for.
        run(Some("200ms"), true)
    );

    for (name, out) in [
        ("default", &default),
        ("200ms", &fast),
        ("off", &off),
        ("quiet", &quiet),
    ] {
        assert!(out.status.success(), "{name}: {}", stderr(out));
        // stdout is the plan's JSON and nothing else.
        let doc: serde_json::Value = serde_json::from_str(&stdout(out))
            .unwrap_or_else(|e| panic!("{name}: stdout is not JSON ({e}): {}", stdout(out)));
        assert_eq!(doc["changes"], IMAGES, "{name}: {doc}");
        assert!(!stdout(out).contains("plan: "), "{name}");
    }

    // Default: a line after 5 s, while the listings are still held.
    let err = stderr(&default);
    let lines = progress_lines(&err);
    assert!(!lines.is_empty(), "no progress line by default: {err}");
    assert!(
        lines[0].starts_with(&format!("plan: 0/{IMAGES} images (0%), ")),
        "{err}"
    );

    // 200 ms: a line every period, about 28 over the listings' 5.6 s.
    let err = stderr(&fast);
    let lines = progress_lines(&err);
    assert!(lines.len() >= 10, "{} lines: {err}", lines.len());
    for l in &lines {
        assert!(
            l.contains(&format!("/{IMAGES} images (")) && l.contains("/s"),
            "{l}"
        );
    }

    // Off: nothing on stderr at all.
    assert_eq!(stderr(&off), "", "IMAGESHARE_PROGRESS=off still printed");
    // --quiet: no progress line either.
    assert_eq!(stderr(&quiet), "", "--quiet still printed progress");
}
