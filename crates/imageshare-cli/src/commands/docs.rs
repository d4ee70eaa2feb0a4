//! `imageshare completions SHELL` and `imageshare man`: the shell completion script and
//! the manual page, both generated from the command line's own definition (`cli::Cli`),
//! so they list every command and flag there is.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::exit::{Failure, FAILED};

/// The name the scripts complete and the page documents.
const BIN: &str = "imageshare";

/// Writes the completion script of `shell` (clap_complete).
pub fn completions(shell: Shell, out: &mut dyn Write) -> Result<(), Failure> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN, &mut script);
    out.write_all(&script).map_err(Failure::output)
}

/// The manual's name, in every page's title line.
const MANUAL: &str = "imageshare manual";

/// Writes the manual page, section 1, in roff (clap_mangen): synopsis, description,
/// options, the commands, and the exit statuses and audit trail (the `--help` text's
/// end). With `dir`, writes instead a page per command into it (`imageshare.1`,
/// `imageshare-share.1`, `imageshare-migrate-copy.1`, ...) and prints their paths.
pub fn man(dir: Option<&Path>, out: &mut dyn Write) -> Result<(), Failure> {
    let Some(dir) = dir else {
        let page = clap_mangen::Man::new(Cli::command()).manual(MANUAL);
        let mut roff = Vec::new();
        page.render(&mut roff).map_err(Failure::output)?;
        return out.write_all(&roff).map_err(Failure::output);
    };
    let cannot = |e: std::io::Error| {
        Failure::new(
            FAILED,
            format!("cannot write the manual pages into {}: {e}", dir.display()),
        )
        .kind("output")
    };
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut todo = vec![cmd];
    while let Some(cmd) = todo.pop() {
        todo.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
        let path = clap_mangen::Man::new(cmd)
            .manual(MANUAL)
            .generate_to(dir)
            .map_err(cannot)?;
        writeln!(out, "{}", path.display()).map_err(Failure::output)?;
    }
    Ok(())
}
