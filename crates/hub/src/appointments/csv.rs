//! The appointments' import file: CSV (RFC 4180: commas, fields in double quotes when they
//! hold a comma, a quote or a line break, a quote inside doubled), UTF-8 with or without a
//! byte-order mark, LF or CRLF. The first line names the columns, in any order:
//!
//! | column | required | what |
//! |---|---|---|
//! | `id` | no | the appointment's id (letters, digits, `-`, `_`; at most 64); empty: the hub makes one |
//! | `device` | yes | the enrolled tablet that serves it |
//! | `name` | yes | the applicant's name in Chinese characters |
//! | `id_number` | yes | the 18-character citizen ID number |
//! | `phone` | yes | a mobile or landline number |
//! | `services` | yes | one or more, separated by spaces or `;`: `passport`, `hk-macao-permit`, `hk-macao-endorsement:g:1x:3m`, … |
//! | `from`, `to` | yes | the window, RFC 3339 (`2026-12-05T09:00:00+08:00`) |
//! | `mode` | yes | `home:age`, `home:disability`, `home:bedbound`, `home:other:TEXT`, `outreach[:POINT]`, `hall` |
//! | `address` | for a home visit | where |
//! | `note` | no | for the officer |
//!
//! An import is all or nothing: every line is checked, and when any is refused nothing is
//! added and each refused line is named by its number in the file with the reason.

use time::Date;

use super::{BookError, Written, check};
use crate::pki::Devices;
use crate::store::Booked;

/// The columns, as the header line names them.
pub const COLUMNS: [&str; 11] =
    ["id", "device", "name", "id_number", "phone", "services", "from", "to", "mode", "address", "note"];
const REQUIRED: [&str; 8] = ["device", "name", "id_number", "phone", "services", "from", "to", "mode"];

/// The largest import file read (about 20,000 appointments).
pub const MAX_FILE: usize = 8 * 1024 * 1024;

/// Why the file as a whole cannot be read (a bad line is a [`BookError::Lines`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("the file is empty: its first line names the columns ({})", COLUMNS.join(","))]
    Empty,
    #[error("the file is not UTF-8 text (save it as CSV UTF-8)")]
    NotUtf8,
    #[error("the file is over {} bytes: import it in parts", MAX_FILE)]
    TooLarge,
    #[error("the header names no column {0:?} (columns: {all})", all = COLUMNS.join(","))]
    MissingColumn(&'static str),
    #[error("the header names an unknown column {0:?} (columns: {all})", all = COLUMNS.join(","))]
    UnknownColumn(String),
    #[error("the header names column {0:?} twice")]
    RepeatedColumn(String),
    #[error("line {0}: a quoted field is not closed")]
    Unclosed(usize),
    #[error("line {0}: a quote in the middle of an unquoted field, or text after a closing quote")]
    StrayQuote(usize),
}

/// The records of a CSV text, each with the number of the line it starts on.
pub fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut closed = false;
        loop {
            let Some(c) = chars.next() else {
                if quoted && !closed {
                    return Err(CsvError::Unclosed(start));
                }
                fields.push(std::mem::take(&mut field));
                break;
            };
            if quoted && !closed {
                match c {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => closed = true,
                    '\n' => {
                        line += 1;
                        field.push('\n');
                    }
                    c => field.push(c),
                }
                continue;
            }
            match c {
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    (quoted, closed) = (false, false);
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    line += 1;
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                '"' if field.is_empty() && !quoted => quoted = true,
                _ if closed => return Err(CsvError::StrayQuote(line)),
                '"' => return Err(CsvError::StrayQuote(line)),
                c => field.push(c),
            }
        }
        // A blank line is no record.
        if !(fields.len() == 1 && fields[0].trim().is_empty()) {
            out.push((start, fields));
        }
    }
    Ok(out)
}

/// Reads an import file's bytes into appointments, every line checked ([`check`]): all of
/// them, or every refused line with its number.
pub fn import(bytes: &[u8], devices: &Devices, today: Date, now_unix: i64) -> Result<Vec<Booked>, BookError> {
    if bytes.len() > MAX_FILE {
        return Err(CsvError::TooLarge.into());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| CsvError::NotUtf8)?;
    let mut rows = records(text)?.into_iter();
    let (_, header) = rows.next().ok_or(CsvError::Empty)?;
    let mut at = Vec::new();
    for name in &header {
        let name = name.trim();
        let column = COLUMNS.iter().position(|c| *c == name).ok_or_else(|| CsvError::UnknownColumn(name.into()))?;
        if at.contains(&column) {
            return Err(CsvError::RepeatedColumn(name.into()).into());
        }
        at.push(column);
    }
    if let Some(missing) = REQUIRED.iter().find(|r| !at.iter().any(|&c| COLUMNS[c] == **r)) {
        return Err(CsvError::MissingColumn(missing).into());
    }
    let (mut taken, mut refused) = (Vec::new(), Vec::new());
    for (line, fields) in rows {
        if fields.len() != header.len() {
            refused.push((line, BookError::Columns { found: fields.len(), expected: header.len() }));
            continue;
        }
        let mut w = Written::default();
        for (column, value) in at.iter().zip(fields) {
            let slot = match COLUMNS[*column] {
                "id" => &mut w.id,
                "device" => &mut w.device,
                "name" => &mut w.name,
                "id_number" => &mut w.id_number,
                "phone" => &mut w.phone,
                "services" => {
                    w.services = value.split([';', ' ']).filter(|s| !s.trim().is_empty()).map(str::to_string).collect();
                    continue;
                }
                "from" => &mut w.from,
                "to" => &mut w.to,
                "mode" => &mut w.mode,
                "address" => &mut w.address,
                _ => &mut w.note,
            };
            *slot = value;
        }
        match check(&w, devices, today, now_unix) {
            Ok(b) => taken.push((line, b)),
            Err(e) => refused.push((line, e)),
        }
    }
    // The same id on two lines: the second is refused by name.
    let mut seen = std::collections::BTreeMap::new();
    for (line, b) in &taken {
        if let Some(first) = seen.insert(b.appointment.id.clone(), *line) {
            refused.push((*line, BookError::Repeated { id: b.appointment.id.clone(), first }));
        }
    }
    if !refused.is_empty() {
        refused.sort_by_key(|(line, _)| *line);
        return Err(BookError::Lines(refused));
    }
    Ok(taken.into_iter().map(|(_, b)| b).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_follow_rfc_4180() {
        type Lines<'a> = Vec<(usize, Vec<&'a str>)>;
        let cases: [(&str, Result<Lines, CsvError>); 7] = [
            ("a,b\n1,2\n", Ok(vec![(1, vec!["a", "b"]), (2, vec!["1", "2"])])),
            ("\u{feff}a,b\r\n1,2", Ok(vec![(1, vec!["a", "b"]), (2, vec!["1", "2"])])),
            ("a\n\"x,\"\"y\"\"\nz\",\n\nq", Ok(vec![(1, vec!["a"]), (2, vec!["x,\"y\"\nz", ""]), (5, vec!["q"])])),
            ("a,\"b\n", Err(CsvError::Unclosed(1))),
            ("a,b\"c\n", Err(CsvError::StrayQuote(1))),
            ("a\n\"b\"c\n", Err(CsvError::StrayQuote(2))),
            ("测试,\"\"\n", Ok(vec![(1, vec!["测试", ""])])),
        ];
        for (text, want) in cases {
            let want = want.map(|v| {
                v.into_iter().map(|(n, f)| (n, f.into_iter().map(String::from).collect())).collect::<Vec<_>>()
            });
            assert_eq!(records(text), want, "{text:?}");
        }
    }
}
