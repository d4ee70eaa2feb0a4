//! `imageshare demo`: the whole story on the embedded emulator, no credentials. In text
//! it prints as it goes; with `--output json`, one document at the end.

use imageshare::testing::ConnectEmulator;
use imageshare::ClientBuilder;
use imageshare::ImageSharingExt;
use std::fmt;
use std::io::Write;

use imageshare::core::{Principal, Provider};
use imageshare::{Connect, DynSharing};
use imageshare_emulator::{Emulator, World};

use serde::Serialize;

use crate::exit::{usage, Failure, FAILED};
use crate::output::{self, Format};
use crate::table::table;

/// Connects `provider` to the emulator as `account` (with its world keys), behind the
/// limit checker.
pub fn connect_as(emu: &Emulator, provider: Provider, region: &str, account: &str) -> DynSharing {
    options_as(emu, provider, region, account)
        .build()
        .expect("the example world's keys build every adapter")
}

/// The connection options for `account` on the emulator.
pub fn options_as(emu: &Emulator, provider: Provider, region: &str, account: &str) -> Connect {
    Connect::new(provider).region(region).emulator(emu, account)
}

fn step(message: impl Into<String>) -> impl FnOnce(imageshare::core::Error) -> Failure {
    let message = message.into();
    move |e| Failure::new(FAILED, format!("demo step failed: {message}: {e}"))
}

/// `imageshare demo`: in text, the story as it goes; with `--output json`, one
/// [`DemoDocument`] at the end.
pub async fn run(format: Format, out: &mut dyn Write) -> Result<(), Failure> {
    let emu = Emulator::start(World::example())
        .await
        .map_err(|e| Failure::new(FAILED, format!("cannot start the emulator: {e}")))?;
    match format {
        Format::Text => {
            writeln!(
                out,
                "emulator listening on {} (world: examples/world.toml)\n",
                emu.base_url()
            )
            .map_err(Failure::output)?;
            story(&emu, out).await?;
            writeln!(out, "\n== calls the emulator received").map_err(Failure::output)?;
            let rows: Vec<Vec<String>> = emu
                .action_counts()
                .into_iter()
                .map(|((p, a), n)| vec![p.name().to_owned(), a.to_string(), n.to_string()])
                .collect();
            let table = table(&["PROVIDER", "ACTION", "CALLS"], rows);
            for line in table.lines() {
                writeln!(out, "   {line}").map_err(Failure::output)?;
            }
            Ok(())
        }
        Format::Json => {
            let mut told = Vec::new();
            story(&emu, &mut told).await?;
            let doc = DemoDocument {
                emulator: emu.base_url(),
                sections: sections(&String::from_utf8_lossy(&told)),
                calls: emu
                    .action_counts()
                    .into_iter()
                    .map(|((provider, action), count)| Calls {
                        provider,
                        action,
                        count,
                    })
                    .collect(),
            };
            output::write(out, format, "demo", &doc)
        }
    }
}

/// What `demo --output json` prints: `{"emulator": URL, "sections": [{"title", "lines"}],
/// "calls": [{"provider", "action", "count"}]}`.
#[derive(Debug, Serialize)]
pub struct DemoDocument {
    /// The emulator's base URL.
    emulator: String,
    /// The story, one section per `== title` of the text.
    sections: Vec<Section>,
    /// The calls the emulator received, per provider and action.
    calls: Vec<Calls>,
}

impl fmt::Display for DemoDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "demo on {}", self.emulator)
    }
}

/// One part of the demo's story: its title and what it printed.
#[derive(Debug, Default, Serialize)]
pub struct Section {
    /// The title (`share img-... with account:...`).
    title: String,
    /// Its lines, without their indentation.
    lines: Vec<String>,
}

/// How many times the emulator received one action.
#[derive(Debug, Serialize)]
pub struct Calls {
    /// The provider.
    provider: Provider,
    /// The API action.
    action: String,
    /// The number of calls.
    count: usize,
}

/// The story's text cut into sections at its `== title` lines.
fn sections(text: &str) -> Vec<Section> {
    let mut all: Vec<Section> = Vec::new();
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("== ") {
            all.push(Section {
                title: title.to_owned(),
                lines: Vec::new(),
            });
        } else if !line.trim().is_empty() {
            if all.is_empty() {
                all.push(Section::default());
            }
            if let Some(last) = all.last_mut() {
                last.lines.push(crate::wording::cli(line.trim()));
            }
        }
    }
    all
}

/// The story, written to `out` as it goes.
async fn story(emu: &Emulator, out: &mut dyn Write) -> Result<(), Failure> {
    let owner = "100000000001";
    let recipient = "100000000002";
    let cases = [
        (
            imageshare::alibaba::ECS,
            "cn-hangzhou",
            "m-bp18ygjuqnwhechc",
            Principal::account(recipient),
        ),
        (
            imageshare::alibaba::SAS,
            "cn-hangzhou",
            "m-sas000000001",
            Principal::account(recipient),
        ),
        (
            imageshare::tencent::CVM,
            "ap-guangzhou",
            "img-6pb6lrmy",
            Principal::account(recipient),
        ),
        (
            imageshare::tencent::LIGHTHOUSE,
            "ap-guangzhou",
            "lhbp-6jc6l8yb",
            Principal::account(recipient),
        ),
        (
            imageshare::ucloud::UHOST,
            "cn-bj2",
            "uimage-golden01",
            Principal::project("org-d4e5f6"),
        ),
    ];
    for (provider, region, image, to) in &cases {
        let s = connect_as(emu, *provider, region, owner);
        let id = (*image).into();
        writeln!(out, "== {provider} ({region}): share {image} with {to}")
            .map_err(Failure::output)?;
        let report = s
            .share(&id, std::slice::from_ref(to))
            .await
            .map_err(step(format!("{provider} share")))?;
        for (p, o) in report.iter() {
            writeln!(out, "   {p}: {o}").map_err(Failure::output)?;
        }
        let again = s
            .share(&id, std::slice::from_ref(to))
            .await
            .map_err(step(format!("{provider} share again")))?;
        writeln!(out, "   again: {}", again.summary()).map_err(Failure::output)?;
        let sharees = s
            .sharees(&id)
            .await
            .map_err(step(format!("{provider} sharees")))?;
        writeln!(
            out,
            "   sharees: {}",
            sharees
                .iter()
                .map(|x| x.principal.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
        .map_err(Failure::output)?;
        let as_recipient = connect_as(emu, *provider, region, recipient);
        let seen = as_recipient
            .shared_with_me()
            .await
            .map_err(step(format!("{provider} shared_with_me")))?;
        let listed = seen.iter().any(|i| i.id.as_str() == *image);
        writeln!(out, "   {recipient} sees it in shared-with-me: {listed}")
            .map_err(Failure::output)?;
        if !listed {
            return Err(step(format!("{provider} recipient view"))(
                imageshare::core::Error::invalid_input(
                    "demo",
                    "the shared image is not listed for the recipient",
                ),
            ));
        }
    }

    writeln!(
        out,
        "\n== the limit checker refuses before anything is sent"
    )
    .map_err(Failure::output)?;
    let ecs = connect_as(emu, imageshare::alibaba::ECS, "cn-hangzhou", owner);
    let before = emu.action_count(imageshare::alibaba::ECS, "ModifyImageSharePermission");
    for (image, what) in [
        ("m-bpmarket00001", "an image built from a marketplace image"),
        ("m-bpservicekey1", "an image encrypted with the service key"),
        ("m-bprecv000001", "an image another account shared with us"),
    ] {
        match ecs
            .share(&image.into(), &[Principal::account(recipient)])
            .await
        {
            Err(e) if e.as_limit().is_some() => {
                writeln!(out, "   {what}: {}", crate::wording::cli(&e.to_string()))
                    .map_err(Failure::output)?
            }
            other => {
                return Err(Failure::new(
                    FAILED,
                    format!("demo: {what} was not refused by the checker: {other:?}"),
                ))
            }
        }
    }
    let after = emu.action_count(imageshare::alibaba::ECS, "ModifyImageSharePermission");
    writeln!(
        out,
        "   ModifyImageSharePermission calls sent for them: {}",
        after - before
    )
    .map_err(Failure::output)?;

    writeln!(out, "\n== unshare everything").map_err(Failure::output)?;
    for (provider, region, image, to) in &cases {
        let s = connect_as(emu, *provider, region, owner);
        let r = s
            .unshare(&(*image).into(), std::slice::from_ref(to))
            .await
            .map_err(step(format!("{provider} unshare")))?;
        writeln!(out, "   {provider} {image}: {}", r.summary()).map_err(Failure::output)?;
    }
    migrations(emu, out).await?;
    plan_apply_twice(emu, out).await
}

async fn migrations(emu: &Emulator, out: &mut dyn Write) -> Result<(), Failure> {
    use imageshare::migrate::{self, Wait};
    let wait = Wait {
        timeout: std::time::Duration::from_secs(30),
        poll: std::time::Duration::from_millis(100),
    };
    let owner = "100000000001";
    let to = [Principal::account("100000000002")];

    writeln!(
        out,
        "\n== migrate a Simple Application Server image to ECS, share it onward"
    )
    .map_err(Failure::output)?;
    let sas = options_as(emu, imageshare::alibaba::SAS, "cn-hangzhou", owner)
        .sas()
        .map_err(step("build the SAS adapter"))?;
    let ecs = connect_as(emu, imageshare::alibaba::ECS, "cn-hangzhou", owner);
    let r = migrate::sas_to_ecs(&sas, &ecs, &"m-sas000000001".into(), &to, wait)
        .await
        .map_err(step("SAS -> ECS"))?;
    for s in &r.steps {
        writeln!(out, "   {}: {}", s.action, s.result).map_err(Failure::output)?;
    }

    writeln!(
        out,
        "\n== migrate a CVM image to a Lighthouse blueprint, share it"
    )
    .map_err(Failure::output)?;
    let lh = options_as(emu, imageshare::tencent::LIGHTHOUSE, "ap-guangzhou", owner)
        .lighthouse()
        .map_err(step("build the Lighthouse adapter"))?;
    let r = migrate::cvm_to_lighthouse(&lh, &"img-6pb6lrmy".into(), &to, wait)
        .await
        .map_err(step("CVM -> Lighthouse"))?;
    for s in &r.steps {
        writeln!(out, "   {}: {}", s.action, s.result).map_err(Failure::output)?;
    }
    match migrate::lighthouse_to_cvm(&lh, &r.image).await {
        Err(e @ imageshare::core::Error::Unsupported { .. }) => {
            writeln!(out, "   and back? {e}").map_err(Failure::output)?
        }
        other => {
            return Err(Failure::new(
                FAILED,
                format!("demo: Lighthouse -> CVM must be refused, got {other:?}"),
            ))
        }
    }
    Ok(())
}

const DEMO_MANIFEST: &str = r#"
[[image]]
provider = "tencent-cvm"
region = "ap-guangzhou"
id = "img-6pb6lrmy"
share_with = ["100000000002", "200000000001"]
prune = true

[[image]]
provider = "ucloud"
region = "cn-bj2"
id = "uimage-golden01"
share_with = ["org-d4e5f6", "org-g7h8i9"]
"#;

const WRITE_ACTIONS: [&str; 6] = [
    "ModifyImageSharePermission",
    "ShareBlueprintAcrossAccounts",
    "CancelShareBlueprintAcrossAccounts",
    "ShareCustomImage",
    "CancelShareCustomImage",
    "AddCustomImageShareAccount",
];

fn writes(emu: &Emulator) -> usize {
    emu.action_counts()
        .into_iter()
        .filter(|((_, a), _)| WRITE_ACTIONS.contains(&a.as_str()))
        .map(|(_, n)| n)
        .sum()
}

async fn plan_apply_twice(emu: &Emulator, out: &mut dyn Write) -> Result<(), Failure> {
    use imageshare::core::plan;
    writeln!(out, "\n== plan and apply a manifest, twice").map_err(Failure::output)?;
    let manifest = imageshare::manifest::Manifest::parse(DEMO_MANIFEST, "demo.toml")
        .map_err(|e| usage(e.to_string()))?;
    for round in 1..=2 {
        let before = writes(emu);
        for img in &manifest.images {
            let s = connect_as(emu, img.provider, img.region.as_str(), "100000000001");
            let p = plan::plan(&s, &img.id.as_str().into(), &img.share_with, img.prune)
                .await
                .map_err(step("plan"))?;
            writeln!(
                out,
                "   round {round}: {} {}: +{} -{} ={}",
                img.provider,
                img.id,
                p.add.len(),
                p.remove.len(),
                p.unchanged.len()
            )
            .map_err(Failure::output)?;
            plan::apply(&s, &p).await.map_err(step("apply"))?;
        }
        let sent = writes(emu) - before;
        writeln!(out, "   round {round}: {sent} write calls sent").map_err(Failure::output)?;
        if round == 2 && sent != 0 {
            return Err(Failure::new(
                FAILED,
                format!("demo: the second apply sent {sent} write calls"),
            ));
        }
    }
    Ok(())
}
