//! `imageshare-emulator serve [--port N] [--world FILE] [--tls [--ca-out PATH]] [limits]`:
//! runs the emulator until stopped; `imageshare-emulator example-world` prints the default
//! world (the Python package reads its account keys from it).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use imageshare_emulator::{Emulator, ServerOptions, World};

const USAGE: &str = "usage: imageshare-emulator serve [--port N] [--world FILE]
         [--tls [--ca-out PATH]]
         [--header-timeout-ms MS] [--idle-timeout-ms MS] [--max-connections N]
       imageshare-emulator example-world

Serves the Alibaba (ECS, SAS), Tencent (CVM, Lighthouse) and UCloud emulator on
127.0.0.1:N (an ephemeral port when N is 0 or absent) until stopped. Without --world it
loads the built-in default world (examples/world.toml). A client has 10 s to send a
request head (--header-timeout-ms), an idle connection is closed after 60 s
(--idle-timeout-ms), and at most 1024 connections are served at once (--max-connections).
With --tls it serves https with a certificate for 127.0.0.1, ::1 and localhost signed by a
CA generated at start, whose PEM certificate --ca-out writes to PATH (point clients at it:
REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE).

example-world prints the built-in default world (TOML, test keys included).";

fn number(flag: &str, v: &str) -> Result<u64, ExitCode> {
    v.parse().map_err(|_| {
        eprintln!("imageshare-emulator: {flag} {v:?} is not a number");
        ExitCode::from(2)
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter().map(String::as_str);
    match it.next() {
        Some("serve") => {}
        Some("example-world") => {
            print!("{}", World::EXAMPLE_TOML);
            return ExitCode::SUCCESS;
        }
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
    let mut options = ServerOptions::default();
    let mut ca_out: Option<String> = None;
    while let Some(a) = it.next() {
        if a == "--tls" {
            options.tls = true;
            continue;
        }
        match (a, it.next()) {
            ("--ca-out", Some(v)) => ca_out = Some(v.to_owned()),
            ("--header-timeout-ms", Some(v)) => match number(a, v) {
                Ok(ms) => options.header_timeout = Duration::from_millis(ms),
                Err(code) => return code,
            },
            ("--idle-timeout-ms", Some(v)) => match number(a, v) {
                Ok(ms) => options.idle_timeout = Duration::from_millis(ms),
                Err(code) => return code,
            },
            ("--max-connections", Some(v)) => match number(a, v) {
                Ok(n) => options.max_connections = n as usize,
                Err(code) => return code,
            },
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
    if ca_out.is_some() && !options.tls {
        eprintln!("imageshare-emulator: --ca-out needs --tls\n\n{USAGE}");
        return ExitCode::from(2);
    }
    if let Err(e) = options.validate() {
        eprintln!("imageshare-emulator: {e}");
        return ExitCode::from(2);
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let emu = match Emulator::bind_with(world, addr, options).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("imageshare-emulator: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let (Some(path), Some(pem)) = (&ca_out, emu.ca_pem()) {
        if let Err(e) = std::fs::write(path, pem) {
            eprintln!("imageshare-emulator: cannot write the CA certificate to {path}: {e}");
            return ExitCode::FAILURE;
        }
    }
    println!("listening on {}", emu.base_url());
    let _ = tokio::signal::ctrl_c().await;
    emu.shutdown().await;
    ExitCode::SUCCESS
}
