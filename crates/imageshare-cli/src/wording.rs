//! The CLI's words for what the library says in Rust terms, and the cut of over-long
//! echoed input. The library's messages name its API (`CheckOptions::allow_encrypted`,
//! `CopyTarget::OwnCopy`, ...) for library users; a CLI user needs the flag or the
//! command instead, so every message the CLI prints goes through [`cli`] first.

/// The longest echoed value shown whole; longer ones are cut to this many characters and
/// `…` ([`shown`]).
pub const SHOWN_CHARS: usize = 64;

/// A word longer than this in a message is echoed input (an id, a value) and is cut by
/// [`cut_long_words`].
const LONG_WORD: usize = 100;

/// Library phrases and the CLI's words for them, applied in order (longer phrases first).
const PHRASES: &[(&str, &str)] = &[
    (
        "set CheckOptions::allow_encrypted (CLI: --allow-encrypted) once the rest is in place",
        "pass --allow-encrypted once the rest is in place",
    ),
    (
        "KMSKeyId=<your CMK>; imageshare: EcsBuilder::kms_key_id, then copy)",
        "KMSKeyId=<your CMK>, e.g. in the ECS console or with the aliyun CLI)",
    ),
    (
        "set CheckOptions::allow_encrypted (CLI: --allow-encrypted) once it is in place",
        "pass --allow-encrypted once it is in place",
    ),
    (
        "encrypted images need allow_encrypted",
        "encrypted images need --allow-encrypted",
    ),
    (
        "make an own copy first (copy with CopyTarget::OwnCopy) and share that",
        "make an own copy first (`imageshare copy ID`, without --to-region) and share that",
    ),
    (
        "everyone first (ImageSharingExt::unshare_all_and_delete, CLI: delete --unshare-first)",
        "everyone first (`imageshare delete --unshare-first ID`)",
    ),
    (
        "the most read (ClientOptions::max_response_bytes)",
        "the most imageshare reads",
    ),
    ("(TrustPolicy::allow_public(true))", "(--trust-public)"),
    (
        "Resource Sharing on: EcsBuilder::resource_sharing(true), the CLI's --resource-sharing)",
        "Resource Sharing on: --resource-sharing)",
    ),
    (
        "copy to a region (CopyTarget::Region) or make an own copy (CopyTarget::OwnCopy)",
        "copy to a region (--to-region) or make an own copy (neither --to-region nor \
         --to-project)",
    ),
    (
        "copy with CopyTarget::OwnCopy or CopyTarget::Region",
        "copy with --to-region, or with neither --to-region nor --to-project for an own copy",
    ),
    (
        "for an own copy of a received image use CopyTarget::OwnCopy",
        "for an own copy of a received image leave out --to-region",
    ),
    (
        "imageshare uses it only when asked, UCloudImageSharingBuilder::instance_role)",
        "imageshare uses it only when asked)",
    ),
    ("(builder .project_id(), ", "(--project, "),
];

/// `message` in the CLI's words: every library phrase of [`PHRASES`] replaced, and a
/// parenthesis that gives a library call then the CLI's way (`(TrustPolicy::allow for
/// ..., "ID"; CLI: --trust-owner P:ID)`) reduced to the CLI's way.
pub fn cli(message: &str) -> String {
    let mut s = message.to_owned();
    for (from, to) in PHRASES {
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    // `(Api::call ...; CLI: --flag ...)` -> `(--flag ...)`.
    while let Some(cli_at) = s.find("; CLI: ").or_else(|| s.find(", CLI: ")) {
        let Some(open) = s[..cli_at].rfind('(') else {
            break;
        };
        if !s[open..cli_at].contains("::") {
            break;
        }
        s.replace_range(open + 1..cli_at + "; CLI: ".len(), "");
    }
    s
}

/// `raw` as echoed in a message: quoted, and cut to [`SHOWN_CHARS`] characters and `…`
/// when longer.
pub fn shown(raw: &str) -> String {
    if raw.chars().count() <= SHOWN_CHARS {
        return format!("{raw:?}");
    }
    let head: String = raw.chars().take(SHOWN_CHARS).collect();
    format!("{head:?}…")
}

/// `message` with every word (a run without white space) longer than [`LONG_WORD`]
/// characters cut to [`SHOWN_CHARS`] and `…` (and the punctuation it ended with): echoed input that a library message
/// quotes whole.
pub fn cut_long_words(message: &str) -> String {
    if !message
        .split_whitespace()
        .any(|w| w.chars().count() > LONG_WORD)
    {
        return message.to_owned();
    }
    let mut out = String::with_capacity(message.len().min(4096));
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.chars().count() > LONG_WORD {
            out.extend(word.chars().take(SHOWN_CHARS));
            out.push('…');
            // Keep the punctuation that ends it (`":`).
            let tail: Vec<char> = word
                .chars()
                .rev()
                .take(3)
                .take_while(|c| c.is_ascii_punctuation())
                .collect();
            out.extend(tail.into_iter().rev());
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in message.chars() {
        if c.is_whitespace() {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The library's messages that name its API, as it writes them (checker, transport,
    /// trust policy, ECS, CVM, UCloud): none keeps a Rust path in the CLI's words.
    #[test]
    fn library_api_names_become_flags() {
        for (library, cli_says) in [
            (
                "sharing an encrypted image on alibaba-ecs needs a key; set \
                 CheckOptions::allow_encrypted (CLI: --allow-encrypted) once it is in place",
                "pass --allow-encrypted",
            ),
            ("encrypted images need allow_encrypted", "--allow-encrypted"),
            (
                "alibaba-ecs does not let a recipient share a received image onward; make an \
                 own copy first (copy with CopyTarget::OwnCopy) and share that",
                "`imageshare copy ID`",
            ),
            (
                "alibaba-ecs refuses to delete an image that is still shared; unshare it from \
                 everyone first (ImageSharingExt::unshare_all_and_delete, CLI: delete \
                 --unshare-first)",
                "`imageshare delete --unshare-first ID`",
            ),
            (
                "the answer from h is larger than 9 bytes, the most read \
                 (ClientOptions::max_response_bytes); is the endpoint right?",
                "the most imageshare reads; is",
            ),
            (
                "allow public images in the trust policy (TrustPolicy::allow_public(true))",
                "(--trust-public)",
            ),
            (
                "add the owner to the trust policy if you trust it (TrustPolicy::allow for \
                 alibaba-ecs, \"1\"; CLI: --trust-owner alibaba-ecs:1)",
                "if you trust it (--trust-owner alibaba-ecs:1)",
            ),
            (
                "ECS images belong to accounts, not projects; copy to a region \
                 (CopyTarget::Region) or make an own copy (CopyTarget::OwnCopy)",
                "(--to-region)",
            ),
            (
                "CVM custom images belong to an account, not a project; copy with \
                 CopyTarget::OwnCopy or CopyTarget::Region",
                "copy with --to-region",
            ),
            (
                "only (the source region is refused); for an own copy of a received image \
                 use CopyTarget::OwnCopy",
                "leave out --to-region",
            ),
            (
                "UHost instance role from the metadata server (not asked for: like the UCloud \
                 SDK, imageshare uses it only when asked, UCloudImageSharingBuilder::instance_role)",
                "only when asked)",
            ),
            (
                "set the adapter's project id (builder .project_id(), UCLOUD_PROJECT_ID or \
                 project_id in ~/.ucloud/config.json)",
                "(--project, UCLOUD_PROJECT_ID",
            ),
        ] {
            let said = cli(library);
            assert!(said.contains(cli_says), "{said:?} lacks {cli_says:?}");
            for api in ["::", "allow_encrypted", "builder", "max_response_bytes"] {
                assert!(!said.contains(api), "{said:?} still has {api:?}");
            }
        }
    }

    #[test]
    fn long_input_is_cut() {
        assert_eq!(shown("abc"), "\"abc\"");
        let long = "x".repeat(5000);
        let s = shown(&long);
        assert!(
            s.ends_with('…') && s.chars().count() == SHOWN_CHARS + 3,
            "{s}"
        );
        let m = cut_long_words(&format!("invalid id {long}: too long\nnext line"));
        assert_eq!(
            m,
            format!(
                "invalid id {}…: too long\nnext line",
                "x".repeat(SHOWN_CHARS)
            )
        );
        assert_eq!(cut_long_words("short words stay"), "short words stay");
    }
}
