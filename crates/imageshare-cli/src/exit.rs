//! Exit statuses: what each means (the `--help` text says the same), the mapping from the
//! library's errors to them, and how a failed command ends (what it did on stdout, its
//! message on stderr).

use std::process::ExitCode;

use imageshare::core::Error;

use serde::Serialize;

use crate::connect::call_bound_secs;
use crate::output::{json_line, Format};
use crate::wording;

/// The cloud refused or failed, or the audit trail or the output could not be opened,
/// written or read.
pub const FAILED: u8 = 1;
/// Bad usage or input (nothing was sent).
pub const USAGE: u8 = 2;
/// Refused before anything was sent, by the limit checker or by the trust policy.
pub const REFUSED: u8 = 3;
/// Credentials missing or rejected.
pub const CREDENTIALS: u8 = 4;
/// Partially applied or cancelled (the report says what was done).
pub const PARTIAL: u8 = 5;
/// Stdout was closed by its reader (`imageshare ... | head -1`): the command ends
/// quietly with the status a process killed by SIGPIPE has in a shell (128 + 13), as `gh`
/// and other tools that die of SIGPIPE do.
pub const BROKEN_PIPE: u8 = 141;

/// An error with its exit status.
pub struct Failure {
    /// The exit status.
    pub code: u8,
    /// What kind of failure (`usage`, `limit`, `api`, ...: [`kind_of`]), the `kind` of the
    /// JSON error.
    pub kind: &'static str,
    /// The provider's error code, or the limit rule's name; the `code` of the JSON error.
    pub error_code: Option<String>,
    /// What went wrong, printed on stderr after `imageshare: `.
    pub message: String,
    /// No answer came from the cloud (timeout, connection failure): [`Failure::exit`]
    /// names the endpoint and the timeout in force.
    pub transport: bool,
    /// End without a word (stdout was closed by its reader).
    pub quiet: bool,
}

/// The JSON error written on stderr with `--output json`.
#[derive(Debug, Serialize)]
pub struct ErrorDocument<'a> {
    /// The failure's kind.
    pub kind: &'a str,
    /// The provider's error code or the limit rule's name, if any.
    pub code: Option<&'a str>,
    /// The message (what `imageshare: ...` says in text).
    pub message: &'a str,
    /// The exit status.
    pub exit: u8,
}

impl Failure {
    /// A failure with this exit status and message; its kind follows from the status.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            kind: kind_of_status(code),
            error_code: None,
            message: message.into(),
            transport: false,
            quiet: false,
        }
    }

    /// `plan --detailed-exitcode` found changes: status 2, no message (not an error).
    pub fn changes() -> Self {
        let mut f = Failure::new(USAGE, "changes to apply").kind("changes");
        f.quiet = true;
        f
    }

    /// The failure under `plan --detailed-exitcode`: status 1 whatever it was (2 means
    /// changes there), except a closed stdout.
    pub fn detailed(mut self) -> Self {
        if self.code != BROKEN_PIPE {
            self.code = FAILED;
        }
        self
    }

    /// The same failure with this kind.
    pub fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    /// Stdout could not be written. A reader that went away (a broken pipe) ends the
    /// command quietly with [`BROKEN_PIPE`].
    pub fn output(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            let mut f = Failure::new(BROKEN_PIPE, "stdout closed").kind("output");
            f.quiet = true;
            return f;
        }
        Failure::new(FAILED, format!("cannot write output: {e}")).kind("output")
    }

    /// The failure with `place` (`manifest.toml:12`) before its message.
    pub fn with_context(mut self, place: &str) -> Self {
        self.message = format!("{place}: {}", self.message);
        self
    }

    /// Ends the command: the message on stderr (and, when no answer came, which endpoint
    /// did not answer and how long a call may take with `--timeout timeout_secs`), then the
    /// exit status. With `--output json` the message is one [`ErrorDocument`] line on
    /// stderr instead. Library wording is put in the CLI's words ([`wording::cli`]) and
    /// over-long echoed input is cut ([`wording::cut_long_words`]).
    pub fn exit(self, format: Format, endpoint: Option<&str>, timeout_secs: u64) -> ExitCode {
        if self.quiet {
            return ExitCode::from(self.code);
        }
        let mut message = wording::cut_long_words(&wording::cli(&self.message));
        if self.transport {
            let endpoint = endpoint
                .map(|e| format!("endpoint {e}"))
                .unwrap_or_else(|| "the provider's endpoint".to_owned());
            message.push_str(&format!(
                "\nno answer from {endpoint}: each attempt may take up to \
                 --timeout {timeout_secs} s; a call gives up after at most {} s",
                call_bound_secs(timeout_secs)
            ));
        }
        match format {
            Format::Text => {
                for line in message.lines() {
                    eprintln!("imageshare: {line}");
                }
            }
            Format::Json => eprintln!(
                "{}",
                json_line(&ErrorDocument {
                    kind: self.kind,
                    code: self.error_code.as_deref(),
                    message: &message,
                    exit: self.code,
                })
            ),
        }
        ExitCode::from(self.code)
    }
}

/// The kind of a failure made by the CLI itself, from its exit status.
fn kind_of_status(code: u8) -> &'static str {
    match code {
        USAGE => "usage",
        REFUSED => "refused",
        CREDENTIALS => "credentials",
        PARTIAL => "partial",
        _ => "failed",
    }
}

/// The kind of a library error: `limit`, `untrusted`, `api`, `credentials`,
/// `transport`, `decode`, `usage`, `not-found`, `unsupported`, `timeout`, `copy-failed`,
/// `partial`, `audit`.
pub fn kind_of(e: &Error) -> &'static str {
    match e {
        Error::Limit(_) => "limit",
        Error::Untrusted { .. } => "untrusted",
        Error::Api(_) => "api",
        Error::Auth { .. }
        | Error::CredentialsExpired { .. }
        | Error::CredentialSource { .. }
        | Error::CredentialsNotFound { .. } => "credentials",
        Error::Transport { .. } => "transport",
        Error::Decode { .. } => "decode",
        Error::InvalidInput { .. } => "usage",
        Error::NotFound { .. } => "not-found",
        Error::Unsupported { .. } => "unsupported",
        Error::Timeout { .. } => "timeout",
        Error::CopyFailed { .. } => "copy-failed",
        Error::Partial(_) => "partial",
        Error::Audit { .. } => "audit",
        _ => "failed",
    }
}

/// The code of a library error: the provider's error code, the limit rule's stable name
/// (`max-sharees-per-image`, ...), or `untrusted-owner`; `None` when it has none.
pub fn code_of(e: &Error) -> Option<String> {
    match e {
        Error::Limit(v) => Some(v.rule.name().to_owned()),
        Error::Untrusted { .. } => Some("untrusted-owner".to_owned()),
        _ => e.code().map(str::to_owned),
    }
}

/// Bad usage or input: status [`USAGE`].
pub fn usage(message: impl Into<String>) -> Failure {
    Failure::new(USAGE, message)
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::from(&e)
    }
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Self {
        let code = match e {
            Error::Limit(_) | Error::Untrusted { .. } => REFUSED,
            Error::Audit { .. } => FAILED,
            Error::Auth { .. }
            | Error::CredentialsExpired { .. }
            | Error::CredentialSource { .. }
            | Error::CredentialsNotFound { .. } => CREDENTIALS,
            Error::Partial(_) => PARTIAL,
            Error::InvalidInput { .. } => USAGE,
            _ => FAILED,
        };
        Failure {
            code,
            kind: kind_of(e),
            error_code: code_of(e),
            message: imageshare::core::error::report(e),
            transport: matches!(e, Error::Transport { .. }),
            quiet: false,
        }
    }
}
