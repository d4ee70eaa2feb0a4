//! The audit trail: every grant, revoke and cross-project copy the library performs,
//! appended as one JSON line per `(image, principal)` to a file, so that "who shared this
//! image with whom, and when" can be answered later.
//!
//! - [`AuditLog`] is the file: opened once ([`AuditLog::open`] creates it with mode `0600` on
//!   unix, and its directory with `0700`), appended by one writer at a time (clones share
//!   it; other processes append between whole batches: `O_APPEND`), each batch written in
//!   one `write` and synced to disk before the call that made it returns. A record cut
//!   short by a crash or a full disk is isolated: the next batch starts a new line, and
//!   [`AuditLog::read_trail`] skips that fragment and says which line it was. A record
//!   holds ids, codes and outcomes: never a key, token or signature.
//! - [`Audited`] is the layer, in the opendal style: it wraps any [`ImageSharing`] adapter
//!   and records each `share` / `unshare` report per principal (the granted part of an
//!   [`Error::Partial`] included, failures with their error code and request id) and each
//!   copy into another project. `imageshare::Connect::audit` puts it under the limit
//!   checker of every adapter it builds, so each call the checker sends is one set of
//!   lines with that call's own request id.
//! - A write that fails turns the operation into [`Error::Audit`], which says what was
//!   carried out but is missing from the trail: never silently.
//! - Publishing and unpublishing an Alibaba ECS community image are not trait calls: the
//!   caller records them with [`AuditLog::record_community`], one line with action
//!   `publish` / `unpublish` and principal `{"kind": "everyone"}` (every account of the
//!   image's region). The line format is otherwise unchanged, so older trails read as
//!   before; a reader older than these two actions skips such a line as not a record
//!   ([`AuditLog::read_trail`]).
//!
//! Layers that write to the same `AuditLog` may be nested (a migration flow wrapping an
//! adapter that is already audited): each call is recorded once, by the innermost layer.
//!
//! ```
//! use imageshare_core::audit::{AuditAction, AuditLog, AuditOutcome, Audited};
//! use imageshare_core::{
//!     Checked, Encryption, Image, ImageKind, ImageOrigin, ImageSharingExt, ImageState, Principal,
//!     memory::InMemorySharing,
//! };
//! # use imageshare_core::memory::EXAMPLE_LIMITS as LIMITS;
//! # let dir = std::env::temp_dir().join(format!("imageshare-audit-doc-{}", std::process::id()));
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let backend = InMemorySharing::new("cn-hangzhou", LIMITS);
//! backend.add_image(
//!     Image::new("m-golden", "cn-hangzhou")
//!         .with_name("golden")
//!         .with_owner(Some(Principal::account("1000000001")))
//!         .with_state(ImageState::Available)
//!         .with_origin(ImageOrigin::Custom)
//!         .with_encryption(Encryption::None)
//!         .with_kind(ImageKind::SystemDisk),
//! );
//! let path = dir.join("audit.jsonl");
//! let log = AuditLog::open(&path).unwrap();
//! // The checker in front, the audit layer under it: one record per principal sent.
//! let sharing = Checked::new(Audited::new(backend, log));
//! let id = "m-golden".into();
//! sharing.share(&id, &[Principal::account("1000000002")]).await.unwrap();
//! sharing.unshare(&id, &[Principal::account("1000000002")]).await.unwrap();
//!
//! let trail = AuditLog::read(&path).unwrap();
//! assert_eq!(trail.len(), 2);
//! assert_eq!((trail[0].action, trail[0].outcome), (AuditAction::Grant, AuditOutcome::Granted));
//! assert_eq!((trail[1].action, trail[1].outcome), (AuditAction::Revoke, AuditOutcome::Revoked));
//! assert_eq!(trail[1].principal.id(), "1000000002");
//! # });
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::context::CallContext;
use crate::error::{Error, Result};
use crate::model::{CopyTarget, ImageId, Principal, Provider, Region, ShareOutcome, ShareReport};
use crate::sharing::{ImageSharing, Layer};

/// What the library did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditAction {
    /// Granted access (a share, a SAS -> ECS or CVM -> Lighthouse share).
    Grant,
    /// Revoked access.
    Revoke,
    /// Copied the image into another project (UCloud's cross-project route).
    Copy,
    /// Published the image as a community image (Alibaba ECS): every account of its
    /// region may use it. The principal is [`AuditPrincipal::Everyone`].
    Publish,
    /// Unpublished a community image (its direct shares stay).
    Unpublish,
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuditAction::Grant => "grant",
            AuditAction::Revoke => "revoke",
            AuditAction::Copy => "copy",
            AuditAction::Publish => "publish",
            AuditAction::Unpublish => "unpublish",
        })
    }
}

/// What came of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditOutcome {
    /// The grant was created.
    Granted,
    /// The principal already had a grant.
    AlreadyGranted,
    /// The grant was removed.
    Revoked,
    /// The principal had no grant to remove.
    NotGranted,
    /// The copy was made (its id is [`AuditRecord::new_image`]).
    Copied,
    /// The call failed ([`AuditRecord::error_code`] says how).
    Failed,
}

impl AuditOutcome {
    fn of(outcome: &ShareOutcome) -> Self {
        match outcome {
            ShareOutcome::Granted => AuditOutcome::Granted,
            ShareOutcome::AlreadyGranted => AuditOutcome::AlreadyGranted,
            ShareOutcome::Revoked => AuditOutcome::Revoked,
            ShareOutcome::NotGranted => AuditOutcome::NotGranted,
            ShareOutcome::Failed(_) => AuditOutcome::Failed,
        }
    }
}

/// Who received (or lost) access: `{"kind": "account", "id": "..."}`, or
/// `{"kind": "everyone"}` for a community image.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum AuditPrincipal {
    /// An account.
    Account(String),
    /// A project (UCloud).
    Project(String),
    /// The caller's own account in another service (SAS -> ECS, CVM -> Lighthouse).
    Service(Provider),
    /// Every account in the image's region: a community image ([`AuditAction::Publish`],
    /// [`AuditAction::Unpublish`]). Its [`id`](AuditPrincipal::id) is `everyone`.
    Everyone,
}

impl AuditPrincipal {
    /// The id (account id, project id, or the service's provider name).
    #[must_use]
    pub fn id(&self) -> &str {
        match self {
            AuditPrincipal::Account(id) | AuditPrincipal::Project(id) => id,
            AuditPrincipal::Service(p) => p.name(),
            AuditPrincipal::Everyone => "everyone",
        }
    }
}

impl From<&Principal> for AuditPrincipal {
    fn from(p: &Principal) -> Self {
        match p {
            Principal::Account(a) => AuditPrincipal::Account(a.to_string()),
            Principal::Project(p) => AuditPrincipal::Project(p.to_string()),
            // The organisation kinds keep their printed form (`folder:fd-1`), so a trail
            // line never confuses a folder with an account.
            other => AuditPrincipal::Account(other.to_string()),
        }
    }
}

/// One line of the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When the outcome was known, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// The provider API that did it.
    pub provider: Provider,
    /// The region of the adapter.
    pub region: Region,
    /// The image.
    pub image: ImageId,
    /// Who.
    pub principal: AuditPrincipal,
    /// What.
    pub action: AuditAction,
    /// What came of it.
    pub outcome: AuditOutcome,
    /// The provider's request id of the call, when it answered with one.
    pub request_id: Option<String>,
    /// The provider's error code (or imageshare's error kind) of a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The error of a failure, as text (errors never carry secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The image the action produced (the copy, the blueprint), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_image: Option<ImageId>,
    /// Who acted: where the credentials of the call came from (`role ... assumed with
    /// ...`, `profile [prod] of ...`), when the trail was told
    /// ([`AuditLog::with_identity`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
}

impl AuditRecord {
    /// A record stamped now, with no request id, error or new image.
    #[must_use]
    pub fn now(
        provider: Provider,
        region: Region,
        image: ImageId,
        principal: AuditPrincipal,
        action: AuditAction,
        outcome: AuditOutcome,
    ) -> Self {
        Self {
            time: rfc3339_now(),
            provider,
            region,
            image,
            principal,
            action,
            outcome,
            request_id: None,
            error_code: None,
            error: None,
            new_image: None,
            identity: None,
        }
    }

    /// Marks the record failed with `error` (its code, text and request id).
    #[must_use]
    pub fn failed_with(mut self, error: &Error) -> Self {
        self.outcome = AuditOutcome::Failed;
        self.error_code = Some(error_code(error));
        self.error = Some(error.to_string());
        if let Some(id) = error.request_id() {
            self.request_id = Some(id.to_owned());
        }
        self
    }

    /// One record per entry of `report` (failures carry their error), with the report's
    /// request id.
    #[must_use]
    pub fn from_report(
        provider: Provider,
        region: &Region,
        action: AuditAction,
        report: &ShareReport,
    ) -> Vec<AuditRecord> {
        report
            .iter()
            .map(|(principal, outcome)| {
                let mut r = AuditRecord::now(
                    provider,
                    region.clone(),
                    report.image.clone(),
                    principal.into(),
                    action,
                    AuditOutcome::of(outcome),
                );
                r.request_id = report.request_id().map(str::to_owned);
                match outcome {
                    ShareOutcome::Failed(e) => r.failed_with(e),
                    _ => r,
                }
            })
            .collect()
    }
}

/// The provider's code of an error, else a stable kebab-case name of its kind.
fn error_code(e: &Error) -> String {
    if let Some(code) = e.code() {
        return code.to_owned();
    }
    match e {
        Error::Transport { .. } => "transport",
        Error::Decode { .. } => "decode",
        Error::NotFound { .. } => "not-found",
        Error::Unsupported { .. } => "unsupported",
        Error::Timeout { .. } => "timeout",
        Error::Partial(_) => "partial",
        Error::Limit(_) => "limit",
        Error::InvalidInput { .. } => "invalid-input",
        Error::Untrusted { .. } => "untrusted",
        Error::Audit { .. } => "audit",
        Error::CredentialsNotFound { .. } => "credentials-not-found",
        _ => "error",
    }
    .to_owned()
}

/// Whether a failed call may have reached the provider. Errors raised before anything is
/// sent (limits, bad input, trust, missing credentials) change nothing and are not
/// recorded.
fn may_have_been_sent(e: &Error) -> bool {
    !matches!(
        e,
        Error::Limit(_)
            | Error::InvalidInput { .. }
            | Error::Untrusted { .. }
            | Error::Audit { .. }
            | Error::CredentialsNotFound { .. }
    )
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, now.
fn rfc3339_now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = crate::time::format_iso8601(now.as_secs());
    let whole = secs.strip_suffix('Z').unwrap_or(&secs);
    format!("{whole}.{:03}Z", now.subsec_millis())
}

/// The longest line [`AuditLog::read_trail`] accepts as a record, in bytes (a record is a few
/// hundred bytes; an error message makes it longer, never this long).
pub const MAX_RECORD_BYTES: u64 = 64 * 1024;

/// A trail as read back: its records, and the lines that were not records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditTrail {
    /// The records, oldest first.
    pub records: Vec<AuditRecord>,
    /// The lines skipped because they are not records, in file order.
    pub skipped: Vec<SkippedLine>,
}

/// A line of a trail that is not a record (a torn record, a hand edit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    /// Its 1-based line number.
    pub line: usize,
    /// Its length in bytes.
    pub bytes: usize,
    /// Why it is not a record (the JSON parser's message).
    pub reason: String,
}

/// Whether `file` (a regular file) is non-empty and does not end with a newline: the last
/// record written was cut short.
fn torn_tail(file: &File) -> std::io::Result<bool> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(false);
    }
    let mut last = [0u8; 1];
    #[cfg(unix)]
    std::os::unix::fs::FileExt::read_exact_at(file, &mut last, len - 1)?;
    #[cfg(windows)]
    std::os::windows::fs::FileExt::seek_read(file, &mut last, len - 1)?;
    Ok(last[0] != b'\n')
}

struct LogFile {
    path: PathBuf,
    file: Mutex<File>,
    /// Regular files are synced after each batch; devices and pipes cannot be.
    sync: bool,
}

/// An append-only JSON-lines audit trail. Cheap to clone; clones share one file handle and
/// one lock, so lines are never interleaved.
#[derive(Clone)]
pub struct AuditLog {
    file: Arc<LogFile>,
    identity: Option<Arc<str>>,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.file.path)
            .field("identity", &self.identity)
            .finish()
    }
}

impl AuditLog {
    /// Opens `path` for appending, creating it (mode `0600` on unix) and its directory
    /// (mode `0700`) if needed. Fails with [`Error::Audit`] when the path cannot be
    /// written, so a job fails before anything is sent. An existing trail readable by
    /// others is used as is, with a warning.
    pub fn open(path: impl AsRef<Path>) -> Result<AuditLog> {
        let path = path.as_ref().to_path_buf();
        let fail = |what: &str, e: std::io::Error| Error::Audit {
            path: path.display().to_string(),
            message: format!("{what}: {e}; nothing was sent"),
            unrecorded: None,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                let mut builder = std::fs::DirBuilder::new();
                builder.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                builder.create(dir).map_err(|e| {
                    fail(&format!("cannot create its directory {}", dir.display()), e)
                })?;
            }
        }
        let mut options = OpenOptions::new();
        // Read too: an append first looks at the last byte (a torn tail, see `append`).
        options.create(true).read(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .map_err(|e| fail("cannot open it for appending", e))?;
        let meta = file
            .metadata()
            .map_err(|e| fail("cannot read its metadata", e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if meta.is_file() && mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{mode:o}"),
                    "the audit trail is readable or writable by others; chmod 600 it"
                );
            }
        }
        Ok(AuditLog {
            file: Arc::new(LogFile {
                path,
                file: Mutex::new(file),
                sync: meta.is_file(),
            }),
            identity: None,
        })
    }

    /// The same trail (records still go to the one file, and a layer writing to a clone
    /// counts as the same trail), stamping `identity` on every record that names none:
    /// who acted, e.g. the adapter's
    /// [`credentials_source`](crate::ImageSharing::credentials_source).
    #[must_use]
    pub fn with_identity(&self, identity: Option<String>) -> AuditLog {
        AuditLog {
            file: self.file.clone(),
            identity: identity.map(Arc::from),
        }
    }

    /// The trail's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// Appends `records` as one write, then syncs the file (blocking). Fails with
    /// [`Error::Audit`] (`unrecorded: None`; callers that changed something say what).
    pub fn append(&self, records: &[AuditRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(records.len() * 256);
        for r in records {
            serde_json::to_writer(&mut buf, r).map_err(|e| self.write_error(e.to_string()))?;
            buf.push(b'\n');
        }
        let file = self.file.file.lock().unwrap_or_else(|e| e.into_inner());
        if !self.file.sync {
            // A device or pipe: no lock, no tail to look at.
            let mut f: &File = &file;
            return f
                .write_all(&buf)
                .and_then(|()| f.flush())
                .map_err(|e| self.write_error(e.to_string()));
        }
        // Other processes append to the same file. It is opened with O_APPEND and each
        // batch goes in one `write`, which the kernel appends whole, after whatever another
        // process appended: records never interleave. A short write (a full disk) leaves
        // a torn record, which the next batch isolates.
        let written = torn_tail(&file).and_then(|torn| {
            if torn {
                // A record cut short (a crash, a full disk): end its line, so that the
                // reader skips exactly that fragment and this batch starts a line. (Two
                // processes doing so at once leave a blank line, which the reader skips.)
                buf.insert(0, b'\n');
            }
            let mut f: &File = &file;
            let n = f.write(&buf)?;
            if n < buf.len() {
                return Err(std::io::Error::other(format!(
                    "only {n} of {} bytes were written (is the disk full?)",
                    buf.len()
                )));
            }
            f.flush()?;
            file.sync_data()
        });
        written.map_err(|e| self.write_error(e.to_string()))
    }

    /// [`append`](Self::append) on tokio's blocking pool, for async callers.
    pub async fn append_async(&self, mut records: Vec<AuditRecord>) -> Result<()> {
        if let Some(identity) = &self.identity {
            for r in records.iter_mut().filter(|r| r.identity.is_none()) {
                r.identity = Some(identity.to_string());
            }
        }
        let log = self.clone();
        tokio::task::spawn_blocking(move || log.append(&records))
            .await
            .map_err(|e| self.write_error(format!("the writer task failed: {e}")))?
    }

    fn write_error(&self, message: String) -> Error {
        Error::Audit {
            path: self.file.path.display().to_string(),
            message: format!("cannot append to it: {message}"),
            unrecorded: None,
        }
    }

    /// Reads a whole trail back, skipping the lines that are not records (see
    /// [`AuditLog::read_trail`], which also says which lines were skipped).
    pub fn read(path: impl AsRef<Path>) -> Result<Vec<AuditRecord>> {
        Ok(Self::read_trail(path)?.records)
    }

    /// Reads a whole trail back: its records, and each line that is not one (a torn
    /// record after a crash or a full disk, a hand edit), skipped and reported by line
    /// number. Only a regular file is read (a device or FIFO is refused before it is
    /// opened), and no line longer than [`MAX_RECORD_BYTES`] is held in memory: such a
    /// line fails the read, as a file that is not a trail.
    pub fn read_trail(path: impl AsRef<Path>) -> Result<AuditTrail> {
        let path = path.as_ref();
        let fail = |message: String| Error::Audit {
            path: path.display().to_string(),
            message,
            unrecorded: None,
        };
        let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot open it: {e}")))?;
        if !meta.is_file() {
            return Err(fail(
                "it is not a regular file (a device, FIFO or directory); give the trail's \
                 file with --audit-log PATH"
                    .to_owned(),
            ));
        }
        let file = File::open(path).map_err(|e| fail(format!("cannot open it: {e}")))?;
        let mut reader = BufReader::new(file);
        let mut trail = AuditTrail::default();
        let mut line = Vec::new();
        for n in 1.. {
            line.clear();
            let read = (&mut reader)
                .take(MAX_RECORD_BYTES + 1)
                .read_until(b'\n', &mut line)
                .map_err(|e| fail(format!("cannot read line {n}: {e}")))?;
            if read == 0 {
                break;
            }
            if line.len() as u64 > MAX_RECORD_BYTES {
                return Err(fail(format!(
                    "line {n} is longer than {MAX_RECORD_BYTES} bytes: not an audit record"
                )));
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            match serde_json::from_str(text) {
                Ok(record) => trail.records.push(record),
                Err(e) => trail.skipped.push(SkippedLine {
                    line: n,
                    bytes: text.len(),
                    reason: e.to_string(),
                }),
            }
        }
        Ok(trail)
    }

    fn id(&self) -> usize {
        Arc::as_ptr(&self.file) as usize
    }
}

impl AuditLog {
    /// Appends `records` made by a change made in `cx`, and marks `cx` recorded for this
    /// trail, so that an enclosing audit layer writing to the same trail does not record
    /// the change again.
    pub async fn record(&self, cx: &CallContext, records: Vec<AuditRecord>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        cx.mark_audited(self.id());
        self.append_async(records).await
    }

    /// Records the outcome of a share or unshare call on `image` with `principals` that
    /// returned `result`, and returns `result`; if the trail cannot be written, returns
    /// [`Error::Audit`] carrying what was done. Errors raised before anything was sent are
    /// passed through unrecorded.
    pub async fn record_share_result(
        &self,
        cx: &CallContext,
        (provider, region): (Provider, &Region),
        action: AuditAction,
        image: &ImageId,
        principals: &[Principal],
        result: Result<ShareReport>,
    ) -> Result<ShareReport> {
        let records = match &result {
            Ok(report) => AuditRecord::from_report(provider, region, action, report),
            // The granted part of a partial failure; a change another trail failed to record.
            Err(Error::Partial(report))
            | Err(Error::Audit {
                unrecorded: Some(report),
                ..
            }) => AuditRecord::from_report(provider, region, action, report),
            Err(e) if may_have_been_sent(e) => principals
                .iter()
                .map(|p| {
                    AuditRecord::now(
                        provider,
                        region.clone(),
                        image.clone(),
                        p.into(),
                        action,
                        AuditOutcome::Failed,
                    )
                    .failed_with(e)
                })
                .collect(),
            Err(_) => return result,
        };
        match self.record(cx, records).await {
            Ok(()) => result,
            Err(write) => Err(self.unrecorded(action, image, result, &write)),
        }
    }

    /// Records the outcome of an operation that hands an image to `record.principal` and
    /// returns `result` (the image it produced): `record` as given, with the new image, on
    /// success; failed with the error when the call may have been sent; nothing when it was
    /// refused before sending. [`Error::Audit`] when the trail cannot be written.
    pub async fn record_produced(
        &self,
        cx: &CallContext,
        record: AuditRecord,
        result: Result<ImageId>,
    ) -> Result<ImageId> {
        let record = match &result {
            Ok(new) => AuditRecord {
                new_image: Some(new.clone()),
                ..record
            },
            Err(e) if may_have_been_sent(e) => record.failed_with(e),
            Err(_) => return result,
        };
        self.record_one(cx, record, result).await
    }

    /// Records the publishing (`public`) or unpublishing of community image `image`, made
    /// outside the trait (Alibaba ECS `publish` / `unpublish`), whose `result` is the
    /// provider's request id, and returns `result`: one record for
    /// [`AuditPrincipal::Everyone`], outcome `granted` (published) or `revoked`
    /// (unpublished), failed with the error when the call may have been sent, nothing when
    /// it was refused before sending. [`Error::Audit`] when the trail cannot be written.
    pub async fn record_community(
        &self,
        cx: &CallContext,
        (provider, region): (Provider, &Region),
        image: &ImageId,
        public: bool,
        result: Result<String>,
    ) -> Result<String> {
        let (action, outcome) = if public {
            (AuditAction::Publish, AuditOutcome::Granted)
        } else {
            (AuditAction::Unpublish, AuditOutcome::Revoked)
        };
        let record = AuditRecord::now(
            provider,
            region.clone(),
            image.clone(),
            AuditPrincipal::Everyone,
            action,
            outcome,
        );
        let record = match &result {
            Ok(request_id) => AuditRecord {
                request_id: Some(request_id.clone()),
                ..record
            },
            Err(e) if may_have_been_sent(e) => record.failed_with(e),
            Err(_) => return result,
        };
        self.record_one(cx, record, result).await
    }

    /// Records a single outcome produced outside the trait (a migration step) and returns
    /// `result`, or [`Error::Audit`] when the trail cannot be written.
    pub async fn record_one<T>(
        &self,
        cx: &CallContext,
        record: AuditRecord,
        result: Result<T>,
    ) -> Result<T> {
        let (action, image) = (record.action, record.image.clone());
        let changed = record.outcome != AuditOutcome::Failed;
        match self.record(cx, vec![record]).await {
            Ok(()) => result,
            Err(write) => Err(Error::Audit {
                path: self.file.path.display().to_string(),
                message: if changed {
                    format!(
                        "the {action} on {image} was carried out but is missing from the \
                         trail ({write})"
                    )
                } else {
                    format!("a failed {action} on {image} is missing from the trail ({write})")
                },
                unrecorded: None,
            }),
        }
    }

    fn unrecorded(
        &self,
        action: AuditAction,
        image: &ImageId,
        result: Result<ShareReport>,
        write: &Error,
    ) -> Error {
        let path = self.file.path.display().to_string();
        let changed = match result {
            Ok(report) => Ok(report),
            Err(Error::Partial(report))
            | Err(Error::Audit {
                unrecorded: Some(report),
                ..
            }) => Ok(*report),
            Err(e) => Err(e),
        };
        match changed {
            Ok(report) => Error::Audit {
                path,
                message: format!(
                    "the {action} on {image} was carried out ({}) but is missing from the \
                     trail ({write}); check the image's sharees",
                    report.summary()
                ),
                unrecorded: Some(Box::new(report)),
            },
            Err(e) => Error::Audit {
                path,
                message: format!(
                    "a failed {action} on {image} ({e}) is missing from the trail ({write})"
                ),
                unrecorded: None,
            },
        }
    }
}

/// An [`ImageSharing`] adapter whose grants, revokes and cross-project copies are recorded
/// in an [`AuditLog`] before each call returns. Itself an `ImageSharing`; put it under
/// [`Checked`](crate::Checked) so each provider call is recorded with its own request id.
#[derive(Debug, Clone)]
pub struct Audited<A> {
    inner: A,
    log: AuditLog,
}

impl<A: ImageSharing> Audited<A> {
    /// Wraps `inner`, recording to `log`.
    pub fn new(inner: A, log: AuditLog) -> Self {
        Self { inner, log }
    }
    /// The wrapped adapter.
    pub fn inner(&self) -> &A {
        &self.inner
    }
    /// The trail.
    pub fn log(&self) -> &AuditLog {
        &self.log
    }
    /// Unwraps the adapter.
    pub fn into_inner(self) -> A {
        self.inner
    }

    /// Makes a share or unshare (`call`, given the context to make it in) under this
    /// layer and records its outcome, unless a layer under this one writing to the same
    /// trail already did.
    async fn change<'a, F, Fut>(
        &'a self,
        cx: &'a CallContext,
        action: AuditAction,
        id: &'a ImageId,
        principals: &'a [Principal],
        call: F,
    ) -> Result<ShareReport>
    where
        F: FnOnce(CallContext) -> Fut,
        Fut: std::future::Future<Output = Result<ShareReport>> + Send + 'a,
    {
        let (child, recorded) = cx.under_audit(self.log.id());
        let result = call(child).await;
        if recorded.load(Ordering::SeqCst) {
            return result;
        }
        self.log
            .record_share_result(
                cx,
                (self.inner.provider(), self.inner.region()),
                action,
                id,
                principals,
                result,
            )
            .await
    }
}

#[async_trait]
impl<A: ImageSharing> Layer for Audited<A> {
    type Inner = A;
    fn inner(&self) -> &A {
        &self.inner
    }
    async fn share_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        to: &[Principal],
    ) -> Result<ShareReport> {
        let inner = &self.inner;
        self.change(cx, AuditAction::Grant, id, to, |cx| async move {
            inner.share_in(&cx, id, to).await
        })
        .await
    }
    async fn unshare_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        from: &[Principal],
    ) -> Result<ShareReport> {
        let inner = &self.inner;
        self.change(cx, AuditAction::Revoke, id, from, |cx| async move {
            inner.unshare_in(&cx, id, from).await
        })
        .await
    }
    async fn copy_in(&self, cx: &CallContext, id: &ImageId, to: CopyTarget) -> Result<ImageId> {
        // Only a copy into another project hands the image to someone else.
        let CopyTarget::Project { project, .. } = &to else {
            return self.inner.copy_in(cx, id, to).await;
        };
        let principal = AuditPrincipal::Project(project.to_string());
        let (child, recorded) = cx.under_audit(self.log.id());
        let result = self.inner.copy_in(&child, id, to.clone()).await;
        if recorded.load(Ordering::SeqCst) {
            return result;
        }
        let record = AuditRecord::now(
            self.inner.provider(),
            self.inner.region().clone(),
            id.clone(),
            principal,
            AuditAction::Copy,
            AuditOutcome::Copied,
        );
        self.log.record_produced(cx, record, result).await
    }
    /// Copies into other regions of the same account hand the image to no one: not
    /// recorded, sent in the inner adapter's calls.
    async fn copy_to_regions_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        regions: &[Region],
        name: Option<&str>,
    ) -> Result<Vec<Result<ImageId>>> {
        self.inner.copy_to_regions_in(cx, id, regions, name).await
    }
}

crate::impl_image_sharing_for_layer!([A: ImageSharing] Audited<A>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_tail_is_ended_and_skipped_by_the_reader() {
        let dir =
            std::env::temp_dir().join(format!("imageshare-audit-torn-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("audit.jsonl");
        let record = |image: &str| {
            AuditRecord::now(
                Provider::new("tencent-cvm"),
                "ap-guangzhou".into(),
                image.into(),
                AuditPrincipal::Account("100000000002".into()),
                AuditAction::Grant,
                AuditOutcome::Granted,
            )
        };
        let log = AuditLog::open(&path).unwrap();
        log.append(&[record("img-1")]).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"time\":\"2026")
            .unwrap();
        log.append(&[record("img-2"), record("img-3")]).unwrap();
        let trail = AuditLog::read_trail(&path).unwrap();
        let images: Vec<&str> = trail.records.iter().map(|r| r.image.as_str()).collect();
        assert_eq!(images, ["img-1", "img-2", "img-3"]);
        assert_eq!(trail.skipped.len(), 1);
        assert_eq!((trail.skipped[0].line, trail.skipped[0].bytes), (2, 13));
        // A whole trail is left as it is.
        let before = std::fs::read(&path).unwrap();
        log.append(&[record("img-4")]).unwrap();
        let after = std::fs::read(&path).unwrap();
        assert_eq!(&after[..before.len()], &before[..]);
        assert_eq!(AuditLog::read(&path).unwrap().len(), 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn time_is_rfc3339_utc_with_millis() {
        let t = rfc3339_now();
        assert_eq!(t.len(), "2025-01-01T00:00:00.000Z".len(), "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T' && t.as_bytes()[19] == b'.');
    }

    #[test]
    fn records_round_trip_as_one_json_line_each() {
        let mut r = AuditRecord::now(
            Provider::new("tencent-cvm"),
            "ap-guangzhou".into(),
            "img-1".into(),
            AuditPrincipal::Account("100000000002".into()),
            AuditAction::Grant,
            AuditOutcome::Granted,
        );
        r.request_id = Some("req-1".into());
        let line = serde_json::to_string(&r).unwrap();
        assert!(!line.contains('\n'));
        assert!(
            line.contains(r#""principal":{"kind":"account","id":"100000000002"}"#),
            "{line}"
        );
        assert!(
            line.contains(r#""action":"grant","outcome":"granted""#),
            "{line}"
        );
        assert_eq!(serde_json::from_str::<AuditRecord>(&line).unwrap(), r);
        let service =
            serde_json::to_string(&AuditPrincipal::Service(Provider::new("alibaba-ecs"))).unwrap();
        assert_eq!(service, r#"{"kind":"service","id":"alibaba-ecs"}"#);
    }

    #[test]
    fn failures_carry_code_text_and_request_id() {
        let e = Error::from(crate::ApiError {
            provider: Provider::new("alibaba-ecs"),
            action: "ModifyImageSharePermission".into(),
            status: 503,
            code: "ServiceUnavailable".into(),
            message: "try later".into(),
            request_id: Some("rid-9".into()),
            retry: Some(crate::transport::RetryReason::ServerError),
            retry_after: None,
        });
        let r = AuditRecord::now(
            Provider::new("alibaba-ecs"),
            "cn-hangzhou".into(),
            "m-1".into(),
            AuditPrincipal::Account("1".into()),
            AuditAction::Revoke,
            AuditOutcome::Revoked,
        )
        .failed_with(&e);
        assert_eq!(r.outcome, AuditOutcome::Failed);
        assert_eq!(r.error_code.as_deref(), Some("ServiceUnavailable"));
        assert_eq!(r.request_id.as_deref(), Some("rid-9"));
        assert!(!may_have_been_sent(&Error::invalid_input("x", "y")));
        assert!(may_have_been_sent(&e));
    }
}
