//! The `imageshare` command-line tool.
//!
//! Today it prints the documented sharing limits of every provider (`imageshare limits`).
//! Sharing commands arrive with the provider adapters; until then they say so and exit 2.

use std::process::ExitCode;

use imageshare::core::limits::{EncryptedPolicy, PrincipalForm};
use imageshare::{Provider, ShareLimits};

const USAGE: &str = "\
usage: imageshare <command> [options]

commands:
  limits [--provider NAME]   print the documented sharing limits (all providers, or one)
  help                       this text
  --version                  the version

providers: alibaba-ecs, alibaba-sas, ucloud, tencent-cvm, tencent-lighthouse

share, unshare, sharees, plan, apply and demo are not built yet (they need the provider
adapters and the emulator); they exit with status 2.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err((code, msg)) => {
            eprintln!("imageshare: {msg}");
            ExitCode::from(code)
        }
    }
}

fn run(args: &[String]) -> Result<String, (u8, String)> {
    let mut it = args.iter().map(String::as_str);
    match it.next() {
        None | Some("help" | "--help" | "-h") => Ok(format!("{USAGE}\n")),
        Some("--version" | "-V") => Ok(format!("imageshare {}\n", env!("CARGO_PKG_VERSION"))),
        Some("limits") => {
            let mut provider: Option<Provider> = None;
            while let Some(a) = it.next() {
                match a {
                    "--provider" | "-p" => {
                        let name = it
                            .next()
                            .ok_or((2, "--provider needs a value".to_owned()))?;
                        provider = Some(name.parse().map_err(|e| (2, format!("{e}")))?);
                    }
                    other => return Err((2, format!("unknown option {other:?} for limits"))),
                }
            }
            let tables: Vec<&ShareLimits> = imageshare::limit_tables()
                .into_iter()
                .filter(|t| provider.is_none_or(|p| p == t.provider))
                .collect();
            Ok(tables
                .iter()
                .map(|t| render(t))
                .collect::<Vec<_>>()
                .join("\n"))
        }
        Some(
            cmd @ ("share" | "unshare" | "sharees" | "plan" | "apply" | "demo" | "copy" | "delete"
            | "emulator"),
        ) => Err((
            2,
            format!("`{cmd}` is not built yet: it needs the provider adapters and the emulator"),
        )),
        Some(other) => Err((2, format!("unknown command {other:?}\n\n{USAGE}"))),
    }
}

fn render(t: &ShareLimits) -> String {
    let per_image = t
        .max_sharees_per_image
        .map_or("unpublished".to_owned(), |n| n.to_string());
    let form = match t.principal_form {
        PrincipalForm::NumericAccountId { min_len, max_len } => {
            format!("numeric main-account id, {min_len}-{max_len} digits")
        }
        PrincipalForm::PrefixedId { prefix } => format!("{prefix}..."),
    };
    let encrypted = match t.encrypted {
        EncryptedPolicy::Allowed => "allowed".to_owned(),
        EncryptedPolicy::Forbidden => "refused".to_owned(),
        EncryptedPolicy::CustomerKeyWithAcknowledgement { prerequisite } => {
            format!("customer key only, needs {prerequisite}")
        }
    };
    let kinds: Vec<String> = t.shareable_kinds.iter().map(|k| k.to_string()).collect();
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    format!(
        "{provider}\n  principals:                {kind}s ({form})\n  per image:                 {per_image}\n  per call:                  {per_call}\n  same region only:          {region}\n  re-share received images:  {reshare}\n  marketplace-derived:       {market}\n  encrypted images:          {encrypted}\n  China/international sites: {cross}\n  image kinds:               {kinds}\n  must be available:         {avail}\n  unshare before delete:     {del}\n  source:                    {source}\n",
        provider = t.provider,
        kind = t.principal_kind,
        per_call = t.max_principals_per_call,
        region = yes_no(t.same_region_only),
        reshare = yes_no(t.reshare_received),
        market = yes_no(t.share_marketplace_derived),
        cross = if t.cross_site { "may share" } else { "may not share" },
        kinds = kinds.join(", "),
        avail = yes_no(t.require_available),
        del = yes_no(t.delete_requires_unshare),
        source = t.source,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn limits_prints_every_provider() {
        let out = run(&args(&["limits"])).unwrap();
        for p in Provider::ALL {
            assert!(out.contains(p.name()), "{p} missing from\n{out}");
        }
    }

    #[test]
    fn limits_for_one_provider() {
        let out = run(&args(&["limits", "--provider", "alibaba-ecs"])).unwrap();
        assert!(out.contains("per call:                  10"), "{out}");
        assert!(!out.contains("tencent-cvm"));
    }

    #[test]
    fn unknown_provider_and_unbuilt_commands_fail_with_status_2() {
        let (code, msg) = run(&args(&["limits", "--provider", "aws"])).unwrap_err();
        assert_eq!(code, 2);
        assert!(
            msg.contains("unknown provider") && msg.contains("alibaba-ecs"),
            "{msg}"
        );
        let (code, msg) = run(&args(&["share", "m-1"])).unwrap_err();
        assert_eq!(code, 2);
        assert!(msg.contains("not built yet"), "{msg}");
    }
}
