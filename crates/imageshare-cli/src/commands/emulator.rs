//! `imageshare emulator serve`: the multi-cloud emulator on 127.0.0.1 until Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use imageshare_emulator::{Emulator, World};

use serde::Serialize;

use crate::exit::{usage, Failure, FAILED};
use crate::files::{read_text, MAX_WORLD_BYTES};
use crate::output::{json_line, schema, Format};

/// `imageshare emulator serve [--port P] [--world FILE] [--tls [--ca-out PATH]]`: prints
/// `listening on URL` (`https://` with --tls, once the CA is written), then serves until
/// Ctrl-C. With `--output json` it prints one line instead, [`Listening`].
pub async fn serve(
    port: u16,
    world: Option<&str>,
    tls: bool,
    ca_out: Option<&Path>,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let world = match world {
        Some(path) => {
            let text = read_text(Path::new(path), "the world file", MAX_WORLD_BYTES)?;
            World::from_toml_str(&text).map_err(|e| usage(format!("{path}: {e}")))?
        }
        None => World::example(),
    };
    let options = imageshare_emulator::ServerOptions::default().tls(tls);
    let emu = Emulator::bind_with(world, SocketAddr::from(([127, 0, 0, 1], port)), options)
        .await
        .map_err(|e| Failure::new(FAILED, format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    if let (Some(path), Some(pem)) = (ca_out, emu.ca_pem()) {
        std::fs::write(path, pem).map_err(|e| {
            Failure::new(
                FAILED,
                format!("cannot write the CA certificate to {}: {e}", path.display()),
            )
        })?;
    }
    match format {
        Format::Text => writeln!(out, "listening on {}", emu.base_url()),
        Format::Json => writeln!(
            out,
            "{}",
            json_line(&Listening {
                schema: schema("emulator-serve"),
                listening: emu.base_url(),
                ca: ca_out.map(|p| p.display().to_string()),
            })
        ),
    }
    .map_err(Failure::output)?;
    out.flush().map_err(Failure::output)?;
    let _ = tokio::signal::ctrl_c().await;
    emu.shutdown().await;
    Ok(())
}

/// What `emulator serve --output json` prints, on one line so that it can be read while
/// the emulator runs: `{"ca", "listening", "schema"}`.
#[derive(Debug, Serialize)]
pub struct Listening {
    /// The CA certificate's path (`--ca-out`), or `null`.
    ca: Option<String>,
    /// The emulator's base URL.
    listening: String,
    /// `imageshare/emulator-serve/v1`.
    schema: String,
}
