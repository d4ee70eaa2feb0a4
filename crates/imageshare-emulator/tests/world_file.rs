//! The world file: unknown fields refused with file:line:column, per-provider defaults and
//! id forms checked at load, `accept_any_account`, and request ids random per process
//! unless the world's `seed` fixes them.

mod common;

use imageshare_core::ImageKind;
use imageshare_emulator::world::WorldError;
use imageshare_emulator::{Emulator, EngineError, ImageSeed, World};

const ACCOUNTS: &str = r#"
[[account]]
id = "100000000001"
projects = ["org-a1b2c3"]
keys.tencent = { id = "AKIDEMU0000000000000000000000001", secret = "emu-tencent-secret-1" }

[[account]]
id = "100000000002"
"#;

fn with_image(image: &str) -> String {
    format!("{ACCOUNTS}\n[[image]]\n{image}")
}

fn parse_error(text: &str) -> String {
    match World::from_toml_str(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unknown_fields_are_refused_with_their_line() {
    // Line numbers count from the start of ACCOUNTS (which begins with a newline).
    let image_line = ACCOUNTS.lines().count() + 2;
    let text = with_image(
        "provider = \"tencent-cvm\"\nid = \"img-abc12345\"\nowner = \"100000000001\"\n\
         region = \"ap-guangzhou\"\nencryption = \"cmk\"\n",
    );
    let e = World::from_toml_str(&text).unwrap_err();
    let WorldError::Parse { line, .. } = &e else {
        panic!("{e:?}")
    };
    let m = e.to_string();
    assert!(m.contains("unknown field `encryption`"), "{m}");
    assert!(m.contains("encrypted"), "names the known fields: {m}");
    assert!(line.is_some_and(|l| l >= image_line), "{m}");
    assert!(m.starts_with("invalid world <toml>:"), "{m}");

    for (text, field) in [
        (format!("{ACCOUNTS}\nsed = 3\n"), "sed"),
        (
            "[[account]]\nid = \"100000000001\"\nkeys.tencent = { id = \"a\", secret = \"b\", tokn = \"c\" }\n"
                .to_owned(),
            "tokn",
        ),
        (
            "[[account]]\nid = \"100000000001\"\nsites = \"china\"\n".to_owned(),
            "sites",
        ),
        ("[faults]\nsead = 1\n".to_owned(), "sead"),
        ("[[faults.rule]]\nerror_rat = 0.5\n".to_owned(), "error_rat"),
        ("[sts]\nttl = 5\n".to_owned(), "ttl"),
    ] {
        let m = parse_error(&text);
        assert!(m.contains(&format!("unknown field `{field}`")), "{m}");
    }
}

#[test]
fn a_world_file_names_its_path_line_and_column() {
    let dir = std::env::temp_dir().join(format!("imageshare-world-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("world.toml");
    std::fs::write(
        &path,
        "[[account]]\nid = \"100000000001\"\ncolour = \"blue\"\n",
    )
    .unwrap();
    let m = World::from_toml_file(&path).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    let expected = format!(
        "invalid world {}:3:1: unknown field `colour`",
        path.display()
    );
    assert!(m.starts_with(&expected), "{m}\nexpected {expected}");
}

#[test]
fn kinds_default_per_provider() {
    let text = format!(
        "{ACCOUNTS}
[[image]]
provider = \"alibaba-sas\"
id = \"m-sas00001\"
owner = \"100000000001\"
region = \"cn-hangzhou\"
[[image]]
provider = \"tencent-lighthouse\"
id = \"lhbp-abc123\"
owner = \"100000000001\"
region = \"ap-guangzhou\"
[[image]]
provider = \"tencent-cvm\"
id = \"img-abc12345\"
owner = \"100000000001\"
region = \"ap-guangzhou\"
[[image]]
provider = \"alibaba-sas\"
id = \"m-sas00002\"
owner = \"100000000001\"
region = \"cn-hangzhou\"
kind = \"system-disk\"
"
    );
    let w = World::from_toml_str(&text).unwrap();
    let kinds: Vec<ImageKind> = w.images.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            ImageKind::LightweightHost,
            ImageKind::LightweightHost,
            ImageKind::SystemDisk,
            ImageKind::SystemDisk
        ]
    );
    let seed = ImageSeed::new(
        imageshare_alibaba::SAS,
        "m-x1",
        "100000000001",
        "cn-hangzhou",
    );
    assert_eq!(seed.kind, ImageKind::LightweightHost);
    let seed = ImageSeed::new(
        imageshare_alibaba::ECS,
        "m-x1",
        "100000000001",
        "cn-hangzhou",
    );
    assert_eq!(seed.kind, ImageKind::SystemDisk);
}

#[test]
fn ids_of_the_wrong_form_are_refused_at_load() {
    let image = |provider: &str, id: &str, owner: &str, extra: &str| {
        with_image(&format!(
            "provider = \"{provider}\"\nid = \"{id}\"\nowner = \"{owner}\"\nregion = \"ap-guangzhou\"\n{extra}"
        ))
    };
    for (text, needle) in [
        (
            image("tencent-cvm", "m-bp18ygju", "100000000001", ""),
            "img-",
        ),
        (
            image("alibaba-ecs", "img-6pb6lrmy", "100000000001", ""),
            "m-",
        ),
        (
            image("tencent-lighthouse", "img-6pb6lrmy", "100000000001", ""),
            "lhbp-",
        ),
        (image("ucloud", "img-6pb6lrmy", "org-a1b2c3", ""), "uimage-"),
        (image("ucloud", "uimage-abc", "100000000001", ""), "org-"),
        (
            image(
                "tencent-cvm",
                "img-abc12345",
                "100000000001",
                "shared_with = [\"alice@example.com\"]\n",
            ),
            "shared_with",
        ),
        (
            image(
                "tencent-cvm",
                "img-abc12345",
                "100000000001",
                "region = \"ap guangzhou\"\n",
            )
            .replace("region = \"ap-guangzhou\"\n", ""),
            "region",
        ),
    ] {
        let m = parse_error(&text);
        assert!(m.contains(needle), "{needle}: {m}");
    }
    // A public image keeps the cloud's own id form.
    let text = with_image(
        "provider = \"alibaba-ecs\"\nid = \"ubuntu_22_04_x64_20G_alibase_20230907.vhd\"\n\
         owner = \"100000000001\"\nregion = \"cn-hangzhou\"\norigin = \"public\"\n",
    );
    World::from_toml_str(&text).unwrap();
    // The shipped example world is valid.
    World::example().validate_forms().unwrap();
}

fn share_to(emu: &Emulator, who: &str) -> Result<Vec<(String, bool)>, EngineError> {
    emu.with_engine(|e| {
        e.share(
            imageshare_tencent::CVM,
            "100000000001",
            "ap-guangzhou",
            "img-6pb6lrmy",
            &[who.to_owned()],
        )
    })
}

#[tokio::test]
async fn any_well_formed_account_is_accepted_only_when_the_world_says_so() {
    let emu = Emulator::start(World::example()).await.unwrap();
    assert_eq!(
        share_to(&emu, "123456789012"),
        Err(EngineError::PrincipalNotFound("123456789012".into()))
    );
    let mut world = World::example();
    world.accept_any_account = true;
    let emu = Emulator::start(world).await.unwrap();
    assert_eq!(
        share_to(&emu, "123456789012"),
        Ok(vec![("123456789012".to_owned(), true)])
    );
    assert!(
        share_to(&emu, "alice").is_err(),
        "still a well-formed id only"
    );
    // In a file, and for the world's own grants.
    let text = with_image(
        "provider = \"tencent-cvm\"\nid = \"img-abc12345\"\nowner = \"100000000001\"\n\
         region = \"ap-guangzhou\"\nshared_with = [\"999999999999\"]\n",
    );
    assert!(World::from_toml_str(&text).is_err());
    let w = World::from_toml_str(&format!("accept_any_account = true\n{text}")).unwrap();
    assert!(w.accept_any_account);
}

async fn first_request_ids(world: World) -> Vec<String> {
    let emu = Emulator::start(world).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let a = common::tencent(
            &emu,
            "AKIDEMU0000000000000000000000001",
            "emu-tencent-secret-1",
            imageshare_core::time::now_unix(),
            false,
        )
        .await;
        ids.push(a.body["Response"]["RequestId"].as_str().unwrap().to_owned());
    }
    emu.reset();
    let a = common::tencent(
        &emu,
        "AKIDEMU0000000000000000000000001",
        "emu-tencent-secret-1",
        imageshare_core::time::now_unix(),
        false,
    )
    .await;
    ids.push(a.body["Response"]["RequestId"].as_str().unwrap().to_owned());
    ids
}

#[tokio::test]
async fn request_ids_are_random_per_process_unless_seeded() {
    let a = first_request_ids(World::example()).await;
    let b = first_request_ids(World::example()).await;
    assert_ne!(a[0], b[0], "two unseeded emulators draw different ids");
    assert_ne!(a[0], a[1]);
    let mut seeded = World::example();
    seeded.seed = Some(42);
    let a = first_request_ids(seeded.clone()).await;
    let b = first_request_ids(seeded).await;
    assert_eq!(a, b, "the world's seed fixes the ids");
    assert_eq!(a[2], a[0], "and a reset starts them again");
    let text = format!(
        "seed = 42\n{}",
        include_str!("../../../examples/world.toml")
    );
    assert_eq!(World::from_toml_str(&text).unwrap().seed, Some(42));
}
