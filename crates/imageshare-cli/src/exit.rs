//! Exit statuses: what each means (the `--help` text says the same), the mapping from the
//! library's errors to them, and how a failed command ends (what it did on stdout, its
//! message on stderr).

use std::process::ExitCode;

use imageshare::core::Error;

use crate::connect::call_bound_secs;
use crate::output::ShareResults;

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

/// An error with its exit status.
pub struct Failure {
    /// The exit status.
    pub code: u8,
    /// What went wrong, printed on stderr after `imageshare: `.
    pub message: String,
    /// No answer came from the cloud (timeout, connection failure): [`Failure::exit`]
    /// names the endpoint and the timeout in force.
    pub transport: bool,
    /// What was done before the failure (a share or unshare that partly failed), printed
    /// on stdout before the message.
    pub report: Option<ShareResults>,
}

impl Failure {
    /// A failure with this exit status and message.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            transport: false,
            report: None,
        }
    }

    /// The failure of `e`, carrying the per-principal report when `e` is a share or
    /// unshare that partly failed ([`Error::Partial`]), so that what was done is printed.
    pub fn with_report(e: Error) -> Self {
        let mut f = Failure::from(&e);
        if let Error::Partial(report) = e {
            f.report = Some(ShareResults(*report));
        }
        f
    }

    /// Stdout could not be written.
    pub fn output(e: std::io::Error) -> Self {
        Failure::new(FAILED, format!("cannot write output: {e}"))
    }

    /// The failure with `place` (`manifest.toml:12`) before its message.
    pub fn with_context(mut self, place: &str) -> Self {
        self.message = format!("{place}: {}", self.message);
        self
    }

    /// Ends the command: the message on stderr (and, when no answer came, which endpoint
    /// did not answer and how long a call may take with `--timeout timeout_secs`), then the
    /// exit status.
    pub fn exit(self, endpoint: Option<&str>, timeout_secs: u64) -> ExitCode {
        eprintln!("imageshare: {}", self.message);
        if self.transport {
            let endpoint = endpoint
                .map(|e| format!("endpoint {e}"))
                .unwrap_or_else(|| "the provider's endpoint".to_owned());
            eprintln!(
                "imageshare: no answer from {endpoint}: each attempt may take up to \
                 --timeout {timeout_secs} s; a call gives up after at most {} s",
                call_bound_secs(timeout_secs)
            );
        }
        ExitCode::from(self.code)
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
            message: imageshare::core::error::report(e),
            transport: matches!(e, Error::Transport { .. }),
            report: None,
        }
    }
}
