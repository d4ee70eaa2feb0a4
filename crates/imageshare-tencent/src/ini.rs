//! A small INI parser, enough for Tencent's `~/.tencentcloud/credentials` profile file.
//!
//! Rules (a common subset of Go's `go-ini` and Python's `configparser`, which the official
//! SDKs use):
//! - `[section]` headers; names are trimmed and case-sensitive; a repeated section is merged.
//! - `key = value` or `key: value` (the first `=` or `:` splits); keys are trimmed and
//!   compared case-insensitively; values are trimmed; a repeated key keeps the last value.
//! - Whole-line comments start with `#` or `;`. An inline comment starts with whitespace
//!   followed by `#` or `;`. A value in matching double or single quotes is taken verbatim
//!   (quotes removed, comment characters kept).
//! - Blank lines, CRLF line endings and a leading UTF-8 BOM are accepted. Keys before the
//!   first section belong to the unnamed section `""`.
//!
//! Errors name the line number and the problem, never the line's content (it may hold a
//! secret). `Debug` of [`Ini`] shows section and key names, never values.

use std::fmt;

/// A parse error: the 1-based line and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct IniError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong (never the line's content).
    pub reason: &'static str,
}

/// A parsed INI document.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Ini {
    sections: Vec<(String, Vec<(String, String)>)>,
}

impl Ini {
    /// Parses an INI document.
    pub fn parse(text: &str) -> Result<Ini, IniError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut ini = Ini::default();
        let mut current = String::new();
        for (idx, raw) in text.lines().enumerate() {
            let line_no = idx + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let Some(close) = rest.find(']') else {
                    return Err(IniError {
                        line: line_no,
                        reason: "section header without closing `]`",
                    });
                };
                let after = rest[close + 1..].trim();
                if !(after.is_empty() || after.starts_with('#') || after.starts_with(';')) {
                    return Err(IniError {
                        line: line_no,
                        reason: "unexpected text after section header",
                    });
                }
                let name = rest[..close].trim();
                if name.is_empty() {
                    return Err(IniError {
                        line: line_no,
                        reason: "empty section name",
                    });
                }
                current = name.to_owned();
                ini.section_mut(&current);
                continue;
            }
            let Some(pos) = line.find(['=', ':']) else {
                return Err(IniError {
                    line: line_no,
                    reason: "expected `key = value`, a `[section]` header or a comment",
                });
            };
            let key = line[..pos].trim();
            if key.is_empty() {
                return Err(IniError {
                    line: line_no,
                    reason: "empty key",
                });
            }
            let value = clean_value(&line[pos + 1..]);
            let entries = ini.section_mut(&current);
            let key = key.to_ascii_lowercase();
            if let Some(slot) = entries.iter_mut().find(|(k, _)| *k == key) {
                slot.1 = value;
            } else {
                entries.push((key, value));
            }
        }
        Ok(ini)
    }

    fn section_mut(&mut self, name: &str) -> &mut Vec<(String, String)> {
        let idx = match self.sections.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.sections.push((name.to_owned(), Vec::new()));
                self.sections.len() - 1
            }
        };
        &mut self.sections[idx].1
    }

    /// Whether a section exists (even empty).
    #[must_use]
    pub fn has_section(&self, section: &str) -> bool {
        self.sections.iter().any(|(n, _)| n == section)
    }

    /// The value of `key` (case-insensitive) in `section` (case-sensitive). An empty value
    /// counts as present.
    #[must_use]
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        let key = key.to_ascii_lowercase();
        self.sections
            .iter()
            .find(|(n, _)| n == section)
            .and_then(|(_, entries)| entries.iter().find(|(k, _)| *k == key))
            .map(|(_, v)| v.as_str())
    }

    /// Section names in file order (the unnamed section `""` only if it has keys).
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections
            .iter()
            .filter(|(n, e)| !n.is_empty() || !e.is_empty())
            .map(|(n, _)| n.as_str())
    }
}

impl fmt::Debug for Ini {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (name, entries) in &self.sections {
            let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
            m.entry(name, &keys);
        }
        m.finish()
    }
}

fn clean_value(raw: &str) -> String {
    let v = raw.trim();
    let bytes = v.as_bytes();
    if bytes.len() >= 2 {
        let (first, last) = (bytes[0], bytes[bytes.len() - 1]);
        if (first == b'"' || first == b'\'') && first == last {
            return v[1..v.len() - 1].to_owned();
        }
    }
    // Inline comment: whitespace followed by `#` or `;`.
    let mut prev_ws = false;
    for (i, c) in v.char_indices() {
        if prev_ws && (c == '#' || c == ';') {
            return v[..i].trim_end().to_owned();
        }
        prev_ws = c.is_whitespace();
    }
    v.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_keys_comments_and_whitespace() {
        let text = "\u{feff}# leading comment\r\n; another\r\n\r\n  [default]  \r\n\
                    secret_id = AKIDabc\r\n\tsecret_key=xyz  # trailing\r\n\
                    [prod] ; comment after header\nSecret_ID : AKIDprod\nsecret_key = 'q#;q'\n\
                    empty =\n";
        let ini = Ini::parse(text).unwrap();
        assert_eq!(ini.get("default", "secret_id"), Some("AKIDabc"));
        assert_eq!(ini.get("default", "secret_key"), Some("xyz"));
        assert_eq!(ini.get("prod", "secret_id"), Some("AKIDprod"));
        assert_eq!(ini.get("prod", "SECRET_ID"), Some("AKIDprod"));
        assert_eq!(ini.get("prod", "secret_key"), Some("q#;q"));
        assert_eq!(ini.get("prod", "empty"), Some(""));
        assert_eq!(
            ini.get("Default", "secret_id"),
            None,
            "sections are case-sensitive"
        );
        assert_eq!(ini.section_names().collect::<Vec<_>>(), ["default", "prod"]);
    }

    #[test]
    fn value_characters_are_kept() {
        let ini = Ini::parse("[s]\nk = a=b:c#d;e\nq = \"  spaced  \"\nurl = http://x/y\n").unwrap();
        assert_eq!(
            ini.get("s", "k"),
            Some("a=b:c#d;e"),
            "no whitespace before #: not a comment"
        );
        assert_eq!(ini.get("s", "q"), Some("  spaced  "));
        assert_eq!(ini.get("s", "url"), Some("http://x/y"));
    }

    #[test]
    fn repeated_sections_merge_and_last_key_wins() {
        let ini = Ini::parse("[a]\nx=1\ny=2\n[b]\nx=9\n[a]\nx=3\n").unwrap();
        assert_eq!(ini.get("a", "x"), Some("3"));
        assert_eq!(ini.get("a", "y"), Some("2"));
        assert_eq!(ini.get("b", "x"), Some("9"));
    }

    #[test]
    fn keys_before_any_section_are_global() {
        let ini = Ini::parse("secret_id = g\n[default]\n").unwrap();
        assert_eq!(ini.get("", "secret_id"), Some("g"));
        assert!(ini.has_section("default"));
        assert_eq!(ini.get("default", "secret_id"), None);
    }

    #[test]
    fn errors_name_the_line_but_not_its_content() {
        let e = Ini::parse("[default]\nsecret_id = a\nTOPSECRETVALUE\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(!e.to_string().contains("TOPSECRET"), "{e}");
        assert_eq!(Ini::parse("[default\n").unwrap_err().line, 1);
        assert_eq!(Ini::parse("[]\n").unwrap_err().line, 1);
        assert_eq!(Ini::parse("[a] junk\n").unwrap_err().line, 1);
        assert_eq!(Ini::parse("[a]\n = v\n").unwrap_err().line, 2);
    }

    #[test]
    fn debug_shows_keys_not_values() {
        let ini = Ini::parse("[default]\nsecret_key = TOPSECRET\n").unwrap();
        let dbg = format!("{ini:?}");
        assert!(dbg.contains("secret_key"), "{dbg}");
        assert!(!dbg.contains("TOPSECRET"), "{dbg}");
    }

    #[test]
    fn empty_document_is_fine() {
        let ini = Ini::parse("").unwrap();
        assert_eq!(ini.section_names().count(), 0);
        assert!(!ini.has_section("default"));
    }
}
