//! `imageshare emulator serve`: the multi-cloud emulator on 127.0.0.1 until Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use imageshare_emulator::{Emulator, World};

use crate::exit::{usage, Failure, FAILED};
use crate::files::{read_text, MAX_WORLD_BYTES};

/// `imageshare emulator serve [--port P] [--world FILE]`: prints `listening on URL`, then
/// serves until Ctrl-C.
pub async fn serve(port: u16, world: Option<&str>, out: &mut dyn Write) -> Result<(), Failure> {
    let world = match world {
        Some(path) => {
            let text = read_text(Path::new(path), "the world file", MAX_WORLD_BYTES)?;
            World::from_toml_str(&text).map_err(|e| usage(format!("{path}: {e}")))?
        }
        None => World::example(),
    };
    let emu = Emulator::bind(world, SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|e| Failure::new(FAILED, format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    writeln!(out, "listening on {}", emu.base_url()).map_err(Failure::output)?;
    out.flush().map_err(Failure::output)?;
    let _ = tokio::signal::ctrl_c().await;
    emu.shutdown().await;
    Ok(())
}
