//! `imageshare-emulator serve [--port N] [--world FILE]`: runs the emulator until stopped.

use std::net::SocketAddr;
use std::process::ExitCode;

use imageshare_emulator::{Emulator, World};

const USAGE: &str = "usage: imageshare-emulator serve [--port N] [--world FILE]

Serves the Alibaba (ECS, SAS), Tencent (CVM, Lighthouse) and UCloud emulator on
127.0.0.1:N (an ephemeral port when N is 0 or absent) until stopped. Without --world it
loads the built-in default world (examples/world.toml).";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter().map(String::as_str);
    match it.next() {
        Some("serve") => {}
        Some("--help" | "-h" | "help") | None => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("imageshare-emulator: unknown command {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let mut port: u16 = 0;
    let mut world_path: Option<String> = None;
    while let Some(a) = it.next() {
        match (a, it.next()) {
            ("--port", Some(v)) => match v.parse() {
                Ok(p) => port = p,
                Err(_) => {
                    eprintln!("imageshare-emulator: --port {v:?} is not a port number");
                    return ExitCode::from(2);
                }
            },
            ("--world", Some(v)) => world_path = Some(v.to_owned()),
            (flag, _) => {
                eprintln!("imageshare-emulator: {flag} needs a value or is unknown\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let world = match &world_path {
        Some(p) => match World::from_toml_file(p) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("imageshare-emulator: {e}");
                return ExitCode::from(2);
            }
        },
        None => World::example(),
    };
    let emu = match Emulator::bind(world, SocketAddr::from(([127, 0, 0, 1], port))).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("imageshare-emulator: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", emu.base_url());
    let _ = tokio::signal::ctrl_c().await;
    emu.shutdown().await;
    ExitCode::SUCCESS
}
