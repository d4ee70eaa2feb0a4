//! The `imageshare` command-line tool: share custom images across accounts and projects
//! on Alibaba Cloud, Tencent Cloud and UCloud, plan/apply a manifest, and run the
//! multi-cloud emulator.
//!
//! `cli` parses the command line, `commands` runs one command and `output` prints what it
//! returns (SCHEMA.md gives each command's `--output json` document); `exit` turns a
//! failure into its message and exit status.

use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;

use crate::output::Format;

mod bulk;
mod cli;
mod commands;
mod confirm;
mod connect;
mod dryrun;
mod exit;
mod files;
mod interrupt;
mod listing;
mod logging;
mod output;
mod progress;
mod stderr;
mod table;
mod trail;
mod wording;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    stderr::set_quiet(cli.global.quiet);
    logging::init(cli.global.log_level.clone());
    let endpoint = cli.global.endpoint.clone();
    let timeout = cli.global.timeout;
    let format = cli.global.output;
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
    let result = result.and_then(|()| out.flush().map_err(exit::Failure::output));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let _ = out.flush();
            f.exit(format, endpoint.as_deref(), timeout)
        }
    }
}

/// Ends on a command line clap refused: `--help` and `--version` as clap prints them;
/// an error as a usage failure (status 2), with an over-long echoed value cut, and as a
/// JSON error when JSON output was asked for (`--output json`, `IMAGESHARE_OUTPUT=json`).
fn usage_error(e: clap::Error) -> ExitCode {
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        e.exit();
    }
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let env = std::env::var("IMAGESHARE_OUTPUT").ok();
    let format = output::requested_format(&args, env.as_deref());
    let rendered = e.render().to_string();
    let text = wording::cut_long_words(&rendered);
    match format {
        Format::Text => {
            eprint!("{text}");
            ExitCode::from(exit::USAGE)
        }
        Format::Json => {
            // The error and its details, up to the usage lines after the first blank one.
            let message = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
                .trim_start_matches("error: ")
                .to_owned();
            let mut f = exit::usage(message);
            f.error_code = Some(kebab(&format!("{:?}", e.kind())));
            f.exit(Format::Json, None, 0)
        }
    }
}

/// `InvalidValue` -> `invalid-value`.
fn kebab(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
