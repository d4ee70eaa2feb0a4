//! Text tables sized to their widest value: a column is as wide as its widest cell
//! (header included, in terminal columns: [`width`]), columns are two spaces apart, and
//! the last column is not padded. Nothing is cut and no fixed width misaligns a long
//! value.
//!
//! [`table`] lays out a whole table at once (`image`, `whoami`, `audit`, `demo`'s call
//! counts); the streamed listings ([`crate::listing`]) measure each block of rows with
//! [`Widths::fit`] and lay out its lines with [`Widths::line`].

/// The widths of a table's columns, in characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Widths(Vec<usize>);

impl Widths {
    /// The widths of `header`'s cells.
    pub fn of(header: &[&str]) -> Self {
        Widths(header.iter().map(|h| width(h)).collect())
    }

    /// Widens every column to the widest of its cells in `rows` (never narrows one).
    pub fn fit<'a>(&mut self, rows: impl IntoIterator<Item = &'a Vec<String>>) {
        for row in rows {
            for (w, cell) in self.0.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
    }

    /// One line of `cells`: each padded to its column's width but the last, two spaces
    /// apart, trailing blanks trimmed.
    pub fn line<S: AsRef<str>>(&self, cells: &[S]) -> String {
        let mut line = String::new();
        for (i, (cell, w)) in cells.iter().zip(&self.0).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let cell = cell.as_ref();
            line.push_str(cell);
            let pad = w.saturating_sub(width(cell));
            line.extend(std::iter::repeat_n(' ', pad));
        }
        line.trim_end().to_owned()
    }
}

/// The terminal columns `text` takes: two for an East Asian wide or full-width character
/// (CJK ideographs, Hangul, kana, full-width forms: image names may be Chinese), none
/// for a combining mark or a control character, one for any other.
pub fn width(text: &str) -> usize {
    text.chars()
        .map(|c| match u32::from(c) {
            0x0300..=0x036F | 0x200B..=0x200F | 0xFE00..=0xFE0F => 0,
            _ if c.is_control() => 0,
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1F64F
            | 0x1F900..=0x1F9FF
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

/// A whole table: the header row, then `rows`, every column as wide as its widest cell;
/// `(none)` under the header when there are no rows.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths = Widths::of(header);
    widths.fit(&rows);
    let mut out = vec![widths.line(header)];
    if rows.is_empty() {
        out.push("(none)".to_owned());
    }
    out.extend(rows.iter().map(|r| widths.line(r)));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_their_widest_cell() {
        let rows = vec![
            vec![
                "a-very-long-identifier-0001".to_owned(),
                "x".into(),
                "end".into(),
            ],
            vec!["b".into(), "wide cell here".into(), "é".into()],
        ];
        assert_eq!(
            table(&["ID", "NAME", "LAST"], rows),
            "ID                           NAME            LAST\n\
             a-very-long-identifier-0001  x               end\n\
             b                            wide cell here  é"
        );
        assert_eq!(table(&["A", "B"], vec![]), "A  B\n(none)");
        // Terminal columns, not bytes or characters: a Chinese name takes two a character.
        let rows = vec![
            vec!["镜像".to_owned(), "1".into()],
            vec!["ab".into(), "2".into()],
            vec!["é".into(), "3".into()],
        ];
        assert_eq!(
            table(&["N", "V"], rows),
            "N     V\n镜像  1\nab    2\né     3"
        );
        assert_eq!(width("ｆｕｌｌ"), 8);
        assert_eq!(width("e\u{301}"), 1);
    }
}
