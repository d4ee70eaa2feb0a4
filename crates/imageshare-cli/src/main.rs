//! The `imageshare` command-line tool: share custom images across accounts and projects
//! on Alibaba Cloud, Tencent Cloud and UCloud, plan/apply a manifest, and run the
//! multi-cloud emulator.
//!
//! `cli` parses the command line, `commands` runs one command and `output` prints what it
//! returns (SCHEMA.md gives each command's `--output json` document); `exit` turns a
//! failure into its message and exit status.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

mod bulk;
mod cli;
mod commands;
mod connect;
mod exit;
mod files;
mod interrupt;
mod listing;
mod logging;
mod output;
mod progress;
mod trail;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init(cli.global.log_level.clone());
    let endpoint = cli.global.endpoint.clone();
    let timeout = cli.global.timeout;
    let serving = matches!(cli.command, cli::Command::Emulator { .. });
    if !serving {
        // `emulator serve` ends on Ctrl-C itself.
        interrupt::install();
    }
    let mut out = std::io::stdout().lock();
    let result = tokio::select! {
        r = commands::run(cli, &mut out) => r,
        () = interrupt::gave_up() => Err(interrupt::failure()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let _ = out.flush();
            f.exit(endpoint.as_deref(), timeout)
        }
    }
}
