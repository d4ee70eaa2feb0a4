//! The commands, one module each, and the dispatcher. A command returns a
//! [`Document`](crate::output::Document) that [`print()`](crate::output::print) writes as
//! text or as the command's JSON document (`"schema": "imageshare/COMMAND/v1"`); the
//! listings (`sharees`, `shared-with-me`), `demo` and `emulator serve` write through the
//! writer as they go instead.

use std::io::Write;

use crate::cli::{Cli, Command, EmulatorCommand, Global};
use crate::dryrun::DryRunReport;
use crate::exit::Failure;
use crate::output::{print, write, Document};

mod apply;
mod audit;
mod copy;
mod delete;
mod demo;
mod distribute;
mod docs;
mod emulator;
mod image;
mod limits;
mod migrate;
mod plan;
mod publish;
mod share;
mod shared_with_me;
mod sharees;
mod unshare;
mod whoami;

/// Runs the command of `cli`, writing its output to `out`.
pub async fn run(cli: Cli, out: &mut dyn Write) -> Result<(), Failure> {
    let g = &cli.global;
    let f = g.output;
    match cli.command {
        Command::Limits => print(out, f, "limits", &limits::run(g)?),
        Command::Whoami => print(out, f, "whoami", &whoami::run(g).await?),
        Command::Image { id } => print(out, f, "image", &image::run(g, &id).await?),
        Command::Share { ids, to } => writes(out, g, "share", &share::run(g, &ids, &to).await?),
        Command::Unshare { ids, from, all } => {
            writes(out, g, "unshare", &unshare::run(g, &ids, &from, all).await?)
        }
        Command::Sharees { id } => sharees::run(g, &id, out).await,
        Command::SharedWithMe => shared_with_me::run(g, out).await,
        Command::Copy {
            id,
            to_region,
            to_project,
            name,
        } => writes(
            out,
            g,
            "copy",
            &copy::run(g, &id, to_region, to_project, name).await?,
        ),
        Command::Delete {
            id,
            unshare_first,
            yes,
        } => writes(
            out,
            g,
            "delete",
            &delete::run(g, &id, unshare_first, yes).await?,
        ),
        Command::Migrate { flow } if g.dry_run => {
            migrate::dry_run(g, flow).await?;
            dry_run_report(out, g, "migrate")
        }
        Command::Publish {
            id,
            everyone_in_the_region,
        } => print(
            out,
            f,
            "publish",
            &publish::run(g, &id, true, everyone_in_the_region).await?,
        ),
        Command::Unpublish { id } => print(
            out,
            f,
            "unpublish",
            &publish::run(g, &id, false, false).await?,
        ),
        Command::Migrate { flow } => print(out, f, "migrate", &migrate::run(g, flow).await?),
        Command::Plan {
            file,
            detailed_exitcode,
        } => {
            let planned = async {
                let plans = plan::run(g, &file).await?;
                print(out, f, "plan", &plans)?;
                Ok::<bool, Failure>(plans.is_noop())
            };
            match (planned.await, detailed_exitcode) {
                (Ok(true), _) | (Ok(false), false) => Ok(()),
                (Ok(false), true) => Err(Failure::changes()),
                (Err(e), false) => Err(e),
                (Err(e), true) => Err(e.detailed()),
            }
        }
        Command::Apply {
            file,
            yes,
            copy_timeout,
            copy_poll,
        } => {
            let wait = distribute::CopyWait {
                timeout: copy_timeout,
                poll: copy_poll,
            };
            writes(out, g, "apply", &apply::run(g, &file, yes, wait).await?)
        }
        Command::Emulator {
            command:
                EmulatorCommand::Serve {
                    port,
                    world,
                    tls,
                    ca_out,
                },
        } => emulator::serve(port, world.as_deref(), tls, ca_out.as_deref(), f, out).await,
        Command::Demo => demo::run(f, out).await,
        Command::Completions { shell } => docs::completions(shell, out),
        Command::Man { dir } => docs::man(dir.as_deref(), out),
        Command::Audit {
            image,
            principal,
            action,
        } => print(out, f, "audit", &audit::run(g, image, principal, action)?),
    }
}

/// Prints the document of a command that writes, or on a dry run the writes it did not
/// send ([`DryRunReport`]) in its place; ends with the document's verdict either way.
fn writes(
    out: &mut dyn Write,
    g: &Global,
    command: &'static str,
    doc: &impl Document,
) -> Result<(), Failure> {
    if !g.dry_run {
        return print(out, g.output, command, doc);
    }
    dry_run_report(out, g, command)?;
    doc.verdict()
}

/// Prints the writes `command` did not send on a dry run (`imageshare/dry-run/v1`).
fn dry_run_report(out: &mut dyn Write, g: &Global, command: &'static str) -> Result<(), Failure> {
    write(
        out,
        g.output,
        "dry-run",
        &DryRunReport::new(command, &g.dry_run_calls),
    )
}
