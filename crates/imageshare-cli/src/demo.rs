//! `imageshare demo` (the whole story on the embedded emulator, no credentials) and
//! `imageshare emulator serve`.

use std::io::Write;
use std::net::SocketAddr;

use imageshare::alibaba::AlibabaCredentials;
use imageshare::core::{ImageSharing, Principal, Provider};
use imageshare::tencent::TencentCredentials;
use imageshare::ucloud::UCloudCredentials;
use imageshare::{Connect, Credentials, DynSharing};
use imageshare_emulator::{Emulator, World};

use crate::Failure;

fn io(e: std::io::Error) -> Failure {
    Failure {
        code: 1,
        message: format!("cannot write output: {e}"),
    }
}

/// `imageshare emulator serve`: runs until Ctrl-C.
pub async fn serve(port: u16, world: Option<&str>, out: &mut dyn Write) -> Result<(), Failure> {
    let world = match world {
        Some(path) => World::from_toml_file(path).map_err(|e| crate::usage(e.to_string()))?,
        None => World::example(),
    };
    let emu = Emulator::bind(world, SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|e| Failure {
            code: 1,
            message: format!("cannot listen on 127.0.0.1:{port}: {e}"),
        })?;
    writeln!(out, "listening on {}", emu.base_url()).map_err(io)?;
    out.flush().map_err(io)?;
    let _ = tokio::signal::ctrl_c().await;
    emu.shutdown().await;
    Ok(())
}

/// Connects `provider` to the emulator as `account` (with its world keys).
pub fn connect_as(emu: &Emulator, provider: Provider, region: &str, account: &str) -> DynSharing {
    let keys = emu.account(account).expect("account in the world").keys;
    let (credentials, project) = match provider {
        Provider::AlibabaEcs | Provider::AlibabaSas => {
            let k = keys.alibaba.expect("alibaba key");
            (
                Credentials::Alibaba(AlibabaCredentials::new(k.id, k.secret)),
                None,
            )
        }
        Provider::TencentCvm | Provider::TencentLighthouse => {
            let k = keys.tencent.expect("tencent key");
            (
                Credentials::Tencent(TencentCredentials::new(k.id, k.secret)),
                None,
            )
        }
        _ => {
            let k = keys.ucloud.expect("ucloud key");
            let project = emu
                .account(account)
                .and_then(|a| a.projects.first().cloned());
            (
                Credentials::UCloud(UCloudCredentials::new(k.public, k.private)),
                project,
            )
        }
    };
    let mut c = Connect::new(provider)
        .region(region)
        .endpoint(emu.base_url())
        .credentials(credentials);
    if let Some(p) = project {
        c = c.project_id(p);
    }
    c.build()
        .expect("the example world's keys build every adapter")
}

fn step(message: impl Into<String>) -> impl FnOnce(imageshare::core::Error) -> Failure {
    let message = message.into();
    move |e| Failure {
        code: 1,
        message: format!("demo step failed: {message}: {e}"),
    }
}

/// `imageshare demo`.
pub async fn run(out: &mut dyn Write) -> Result<(), Failure> {
    let emu = Emulator::start(World::example())
        .await
        .map_err(|e| Failure {
            code: 1,
            message: format!("cannot start the emulator: {e}"),
        })?;
    writeln!(
        out,
        "emulator listening on {} (world: examples/world.toml)\n",
        emu.base_url()
    )
    .map_err(io)?;
    let owner = "100000000001";
    let recipient = "100000000002";
    let cases = [
        (
            Provider::AlibabaEcs,
            "cn-hangzhou",
            "m-bp18ygjuqnwhechc",
            Principal::account(recipient),
        ),
        (
            Provider::AlibabaSas,
            "cn-hangzhou",
            "m-sas000000001",
            Principal::account(recipient),
        ),
        (
            Provider::TencentCvm,
            "ap-guangzhou",
            "img-6pb6lrmy",
            Principal::account(recipient),
        ),
        (
            Provider::TencentLighthouse,
            "ap-guangzhou",
            "lhbp-6jc6l8yb",
            Principal::account(recipient),
        ),
        (
            Provider::UCloud,
            "cn-bj2",
            "uimage-golden01",
            Principal::project("org-d4e5f6"),
        ),
    ];
    for (provider, region, image, to) in &cases {
        let s = connect_as(&emu, *provider, region, owner);
        let id = (*image).into();
        writeln!(out, "== {provider} ({region}): share {image} with {to}").map_err(io)?;
        let report = s
            .share(&id, std::slice::from_ref(to))
            .await
            .map_err(step(format!("{provider} share")))?;
        for (p, o) in report.iter() {
            writeln!(out, "   {p}: {o}").map_err(io)?;
        }
        let again = s
            .share(&id, std::slice::from_ref(to))
            .await
            .map_err(step(format!("{provider} share again")))?;
        writeln!(out, "   again: {}", again.summary()).map_err(io)?;
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
        .map_err(io)?;
        let as_recipient = connect_as(&emu, *provider, region, recipient);
        let seen = as_recipient
            .shared_with_me()
            .await
            .map_err(step(format!("{provider} shared_with_me")))?;
        let listed = seen.iter().any(|i| i.id.as_str() == *image);
        writeln!(out, "   {recipient} sees it in shared-with-me: {listed}").map_err(io)?;
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
    .map_err(io)?;
    let ecs = connect_as(&emu, Provider::AlibabaEcs, "cn-hangzhou", owner);
    let before = emu.action_count(Provider::AlibabaEcs, "ModifyImageSharePermission");
    for (image, what) in [
        ("m-bpmarket00001", "an image built from a marketplace image"),
        ("m-bpservicekey1", "an image encrypted with the service key"),
        ("m-bprecv000001", "an image another account shared with us"),
    ] {
        match ecs
            .share(&image.into(), &[Principal::account(recipient)])
            .await
        {
            Err(e) if e.as_limit().is_some() => writeln!(out, "   {what}: {e}").map_err(io)?,
            other => {
                return Err(Failure {
                    code: 1,
                    message: format!("demo: {what} was not refused by the checker: {other:?}"),
                })
            }
        }
    }
    let after = emu.action_count(Provider::AlibabaEcs, "ModifyImageSharePermission");
    writeln!(
        out,
        "   ModifyImageSharePermission calls sent for them: {}",
        after - before
    )
    .map_err(io)?;

    writeln!(out, "\n== unshare everything").map_err(io)?;
    for (provider, region, image, to) in &cases {
        let s = connect_as(&emu, *provider, region, owner);
        let r = s
            .unshare(&(*image).into(), std::slice::from_ref(to))
            .await
            .map_err(step(format!("{provider} unshare")))?;
        writeln!(out, "   {provider} {image}: {}", r.summary()).map_err(io)?;
    }
    writeln!(out, "\n== calls the emulator received").map_err(io)?;
    for ((p, a), n) in emu.action_counts() {
        writeln!(out, "   {:<20} {a:<45} {n}", p.name()).map_err(io)?;
    }
    Ok(())
}
