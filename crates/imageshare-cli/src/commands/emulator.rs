//! `imageshare emulator serve`: the multi-cloud emulator on 127.0.0.1 until Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;

use imageshare_emulator::{Emulator, World};

use crate::exit::{usage, Failure, FAILED};

/// `imageshare emulator serve [--port P] [--world FILE]`: prints `listening on URL`, then
/// serves until Ctrl-C.
pub async fn serve(port: u16, world: Option<&str>, out: &mut dyn Write) -> Result<(), Failure> {
    let world = match world {
        Some(path) => World::from_toml_file(path).map_err(|e| usage(e.to_string()))?,
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
