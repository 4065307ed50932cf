//! What each position of an ICAO layout may hold, and the zone written accordingly.
//!
//! ICAO Doc 9303 (DOMAIN.md §4): in TD3 (2 × 44) and TD1 (3 × 30) dates and check digits are
//! digits, names, states, the document code and the sex are letters (or the filler), and
//! document numbers and optional data are either. The 往来港澳通行证's one line (DOMAIN.md §4.4,
//! [P]) is `CS`, a number with its check digit, then expiry and birth dates with theirs.

use doorstep_core::mrz::check_digit;

use crate::{Mark3, Row};

/// A mark whose digit and letter fit within this many percent of each other may be either.
const DOUBT: u16 = LEAN_DIGIT;
/// Within a document number, a mark this close to being a digit is one.
const LEAN_DIGIT: u16 = 150;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    Digit,
    Letter,
    Either,
}

/// A field: its row, first position and length, what it holds, and where its check digit is
/// (in the same row), if it has one.
struct Field(usize, usize, usize, Holds, Option<usize>);

use Holds::{Digit, Either, Letter};

const TD3: &[Field] = &[
    Field(0, 0, 44, Letter, None),
    Field(1, 0, 9, Either, Some(9)),
    Field(1, 9, 1, Digit, None),
    Field(1, 10, 3, Letter, None),
    Field(1, 13, 7, Digit, None),
    Field(1, 20, 1, Letter, None),
    Field(1, 21, 7, Digit, None),
    Field(1, 28, 14, Either, Some(42)),
    Field(1, 42, 2, Digit, None),
];

const TD1: &[Field] = &[
    Field(0, 0, 5, Letter, None),
    Field(0, 5, 9, Either, Some(14)),
    Field(0, 14, 1, Digit, None),
    Field(0, 15, 15, Either, None),
    Field(1, 0, 7, Digit, None),
    Field(1, 7, 1, Letter, None),
    Field(1, 8, 7, Digit, None),
    Field(1, 15, 3, Letter, None),
    Field(1, 18, 11, Either, None),
    Field(1, 29, 1, Digit, None),
    Field(2, 0, 30, Letter, None),
];

const PERMIT: &[Field] = &[
    Field(0, 0, 2, Letter, None),
    Field(0, 2, 9, Either, Some(11)),
    Field(0, 11, 1, Digit, None),
    Field(0, 12, 1, Either, None),
    Field(0, 13, 7, Digit, None),
    Field(0, 20, 1, Either, None),
    Field(0, 21, 7, Digit, None),
    Field(0, 28, 1, Either, None),
    Field(0, 29, 1, Digit, None),
];

/// The zones the rows may hold, each written position by position as its layout says: every
/// run of three, two or one rows (top to bottom) whose lengths are a layout's, longest first.
pub fn zones(rows: &[Row]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for n in [3, 2, 1] {
        for run in rows.windows(n) {
            let lengths: Vec<usize> = run.iter().map(Vec::len).collect();
            let layout = match lengths.as_slice() {
                [44, 44] => TD3,
                [30, 30, 30] => TD1,
                // One row of 30 is a permit's only when it starts as one (CS, or CD).
                [30] if run[0][0].letter == 'C' && matches!(run[0][1].letter, 'S' | 'D') => PERMIT,
                _ => continue,
            };
            out.push(write(run, layout));
        }
    }
    out
}

fn write(run: &[Row], layout: &[Field]) -> Vec<String> {
    let mut lines: Vec<Vec<char>> = run.iter().map(|r| r.iter().map(|m| m.best).collect()).collect();
    for &Field(row, start, len, holds, check) in layout {
        for (i, m) in run[row][start..start + len].iter().enumerate() {
            // In a document number (nine characters in every layout), after its first
            // character (a series letter), digits are the rule: a mark nearly as much a digit
            // as a letter (OCR-B's 0 and O) is read a digit. Optional data has no such rule.
            let number = check.is_some() && len == 9 && i > 0 && m.margin < LEAN_DIGIT && caught(m);
            lines[row][start + i] = if number { m.digit } else { pick(m, holds) };
        }
    }
    for &Field(row, start, len, _, check) in layout {
        let marks = &run[row][start..start + len];
        // A number whose check digit fails: the marks that could be a digit or a letter are
        // tried the other way, until the check digit agrees (at most 2^8 tries).
        if let Some(at) = check {
            let wanted = lines[row][at];
            let field: String = lines[row][start..start + len].iter().collect();
            if check_digit(&field) == Some(wanted) {
                continue;
            }
            // One mark turned the other way, the least certain first: every try is a chance
            // (one in ten) for a wrong number to satisfy the digit, so there are few, and the
            // caller takes a zone only when two frames agree on it.
            let mut unsure: Vec<usize> = (0..len)
                .filter(|&i| marks[i].digit != marks[i].letter && marks[i].margin < DOUBT && caught(&marks[i]))
                .collect();
            unsure.sort_by_key(|&i| marks[i].margin);
            unsure.truncate(3);
            for &i in &unsure {
                let mut tried: Vec<char> = field.chars().collect();
                let m = &marks[i];
                tried[i] = if tried[i] == m.digit { m.letter } else { m.digit };
                let tried: String = tried.into_iter().collect();
                if check_digit(&tried) == Some(wanted) {
                    for (i, c) in tried.chars().enumerate() {
                        lines[row][start + i] = c;
                    }
                    break;
                }
            }
        }
    }
    lines.into_iter().map(|l| l.into_iter().collect()).collect()
}

/// Whether reading this mark as its digit rather than its letter (or the other way) always
/// changes a check digit: the two characters' values (0–9, A = 10 … Z = 35) must differ by other
/// than a multiple of ten, for the weights 7, 3 and 1 have no factor in common with ten. O and 0
/// (24, 0) qualify; G and 6 (16, 6), L and 1, U and 0 do not, and are never guessed between:
/// such a misread, would it pass, would pass every check digit.
fn caught(m: &Mark3) -> bool {
    let value = |c: char| c.to_digit(36).map_or(0, |v| v as i64);
    (value(m.letter) - value(m.digit)).rem_euclid(10) != 0
}

fn pick(m: &Mark3, holds: Holds) -> char {
    match holds {
        Digit => m.digit,
        Letter => m.letter,
        Either => m.best,
    }
}

/// Takes the zones read frame after frame and gives one once two frames in a row read it alike
/// and it is valid: a misread that happens to pass its check digits is not read twice.
#[derive(Debug, Default)]
pub struct Agreement {
    last: Vec<Vec<String>>,
}

impl Agreement {
    pub fn feed(&mut self, zones: Vec<Vec<String>>, valid: impl Fn(&[String]) -> bool) -> Option<Vec<String>> {
        let valid: Vec<Vec<String>> = zones.into_iter().filter(|z| valid(z)).collect();
        let agreed = valid.iter().find(|z| self.last.contains(z)).cloned();
        self.last = valid;
        agreed
    }
}
