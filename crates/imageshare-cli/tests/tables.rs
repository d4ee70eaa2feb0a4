//! Text tables fit their widest value (#17): `shared-with-me` and `sharees` (streamed
//! listings) and `image` size each column to its widest cell, so a long image name or
//! principal is printed whole and the columns after it stay aligned, two spaces apart.

mod common;

use common::{fresh_dir, owner_env, run_async, stderr, stdout, strings, OWNER};
use imageshare::core::Site;
use imageshare_emulator::world::ImageSeed;
use imageshare_emulator::{Emulator, World};

const FRIEND: &str = "100000000002";
const ECS: [&str; 4] = ["--provider", "alibaba-ecs", "--region", "cn-hangzhou"];
const LONG_NAME: &str = "golden-base-image-with-a-rather-long-name-v2";

/// A friend shares two images with the caller, one with a long name; the caller owns one
/// shared with the friend.
fn world() -> World {
    World::builder()
        .account(OWNER, Site::China)
        .account(FRIEND, Site::China)
        .image(
            ImageSeed::new(imageshare::alibaba::ECS, "m-long0", FRIEND, "cn-hangzhou")
                .name(LONG_NAME)
                .shared_with(&[OWNER]),
        )
        .image(
            ImageSeed::new(imageshare::alibaba::ECS, "m-short0", FRIEND, "cn-hangzhou")
                .name("b")
                .shared_with(&[OWNER]),
        )
        .image(
            ImageSeed::new(imageshare::alibaba::ECS, "m-mine0", OWNER, "cn-hangzhou")
                .shared_with(&[FRIEND]),
        )
        .build()
        .unwrap()
}

/// Where each header starts (the headers are single words or two words with one space).
fn starts(header: &str) -> Vec<usize> {
    let mut out = vec![0];
    let b = header.as_bytes();
    for i in 2..b.len() {
        if b[i - 2] == b' ' && b[i - 1] == b' ' && b[i] != b' ' {
            out.push(i);
        }
    }
    out
}

/// Asserts that every row of `table` has a cell starting at each header's column, right
/// after at least two spaces, and that some row's cell ends exactly two spaces before
/// the next column (each column as wide as its widest cell, no wider).
fn assert_fits(table: &str) {
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    let cols = starts(header);
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty(), "{table}");
    for row in &rows {
        for &c in &cols[1..] {
            let b = row.as_bytes();
            assert!(
                b.len() > c && b[c - 1] == b' ' && b[c - 2] == b' ' && b[c] != b' ',
                "column at {c} misaligned in {row:?}\n{table}"
            );
        }
    }
    for &c in &cols[1..] {
        let tight = std::iter::once(header)
            .chain(rows.iter().copied())
            .any(|l| l.as_bytes()[c - 3] != b' ');
        assert!(
            tight,
            "column before {c} wider than its widest cell\n{table}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_and_tables_fit_their_widest_value() {
    let emu = Emulator::start(world()).await.unwrap();
    let home = fresh_dir("tables");
    let env = owner_env(&emu);
    let run = |extra: &[&str]| {
        run_async(
            home.clone(),
            strings(&[&ECS[..], extra].concat()),
            env.clone(),
        )
    };

    let o = run(&["shared-with-me"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains(LONG_NAME), "the long name is cut:\n{text}");
    assert_eq!(text.lines().count(), 3, "{text}");
    assert_fits(&text);

    let o = run(&["sharees", "m-mine0"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains(&format!("account:{FRIEND}")), "{text}");
    assert_fits(&text);

    let o = run(&["image", "m-long0"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains(LONG_NAME), "{text}");
    assert_fits(&text);
}
