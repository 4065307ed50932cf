//! ESC/POS receipts in Chinese: GB18030 text, a QR code of the application number, a cut
//! (DOMAIN.md §6.d). The parser reads the same commands back, for the printer simulator.

use crate::DeviceError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left = 0,
    Centre = 1,
    Right = 2,
}

/// Columns of a 58 mm printer's line in its normal font (12×24 dots on 384): a Chinese
/// character takes two. Double width halves them.
pub const COLUMNS: usize = 32;

/// Builds the bytes of a receipt.
#[derive(Debug, Clone, Default)]
pub struct ReceiptBuilder {
    bytes: Vec<u8>,
    /// Double width is on: half the columns.
    double: bool,
}

/// The columns a character takes on the printer in Chinese mode: one for ASCII, two for any
/// other (a Chinese character, and `·`, `×`, `°`, which GB18030 prints full width).
fn columns(c: char) -> usize {
    if c.is_ascii() { 1 } else { 2 }
}

/// Chinese punctuation that closes a phrase: a line broken in Chinese text breaks after the
/// last of these in its second half, where there is one, rather than inside a word
/// ("…（一次有效）" / "首次申请", not "…首次申" / "请").
fn closes_phrase(c: char) -> bool {
    matches!(c, '）' | '，' | '、' | '：' | '；' | '。' | '！' | '？' | '」' | '』' | '》' | '〉' | '】' | '”')
}

/// `text` in lines of at most `width` columns, broken where a printer would not: between
/// words of Latin text (a word longer than the line is broken), in Chinese, which has no
/// spaces, after a phrase's closing punctuation in the line's second half, else anywhere. The
/// printer itself breaks at the column, mid-word.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    // Tokens: a word (a run of narrow characters without spaces), a space, or a wide character.
    let in_word = |c: char| c != ' ' && columns(c) == 1;
    let mut tokens: Vec<String> = Vec::new();
    for c in text.chars() {
        // A token is all one kind, so its last character says which.
        match tokens.last_mut() {
            Some(t) if in_word(c) && t.chars().last().is_some_and(in_word) => t.push(c),
            _ => tokens.push(c.to_string()),
        }
    }
    let mut lines = vec![String::new()];
    let mut used = 0;
    // A space not put on a full line: it still parts the word before it from the next, should
    // the break carry that word down.
    let mut space_dropped = false;
    // Spaces at the start of the text are kept (an indented list); a space where a line breaks
    // is dropped (a break happens only before a word, so no line but the first begins with one).
    for token in tokens {
        let w: usize = token.chars().map(columns).sum();
        if token == " " {
            if used < width {
                lines.last_mut().expect("a line").push(' ');
                used += 1;
            } else {
                space_dropped = true;
            }
            continue;
        }
        if used > 0 && used + w > width {
            let line = lines.last_mut().expect("a line");
            let first = token.chars().next().unwrap_or(' ');
            // Where Chinese runs on, the break goes after the phrase closed last, if that is in
            // the line's second half; closing punctuation that does not fit takes the character
            // before it down with it, never starting a line alone.
            let before = |i: usize| line[..i].chars().map(columns).sum::<usize>();
            let at = line.char_indices().filter(|&(_, c)| closes_phrase(c)).map(|(i, c)| i + c.len_utf8()).next_back();
            // The Chinese character before the closing marks at the line's end, if any.
            let before_marks =
                line.char_indices().rev().find(|&(_, c)| !closes_phrase(c)).filter(|&(i, c)| i > 0 && columns(c) == 2);
            let at = match at {
                _ if closes_phrase(first) => before_marks.map(|(i, _)| i),
                Some(i) if columns(first) == 2 && 2 * before(i) >= used => Some(i),
                _ => None,
            };
            let tail = at.map(|i| line.split_off(i)).unwrap_or_default();
            // A space the break fell after is dropped with it (an ideographic space is text).
            let mut tail = tail.trim_start_matches(' ').to_string();
            if space_dropped && !tail.is_empty() && !tail.ends_with(' ') {
                tail.push(' ');
            }
            *line = line.trim_end_matches(' ').to_string();
            used = tail.chars().map(columns).sum();
            lines.push(tail);
        }
        space_dropped = false;
        // A word longer than the line is broken where the line ends; a character wider than
        // the whole line goes on a line of its own (not after an empty one).
        for c in token.chars() {
            if used > 0 && used + columns(c) > width {
                lines.push(String::new());
                used = 0;
            }
            lines.last_mut().expect("a line").push(c);
            used += columns(c);
        }
    }
    lines.into_iter().map(|l| l.trim_end().to_string()).collect()
}

impl ReceiptBuilder {
    /// Initialise and switch to Chinese mode.
    pub fn new() -> ReceiptBuilder {
        ReceiptBuilder { bytes: vec![0x1B, 0x40, 0x1C, 0x26], double: false }
    }

    pub fn align(mut self, a: Align) -> Self {
        self.bytes.extend_from_slice(&[0x1B, 0x61, a as u8]);
        self
    }

    /// Double width and height (titles), or normal.
    pub fn double(mut self, on: bool) -> Self {
        self.bytes.extend_from_slice(&[0x1B, 0x21, if on { 0x30 } else { 0x00 }]);
        self.bytes.extend_from_slice(&[0x1C, 0x57, u8::from(on)]);
        self.double = on;
        self
    }

    /// A line of text in GB18030 (rare characters take four bytes; a GBK-only printer shows
    /// them as "?"), followed by a line feed; longer than the paper, it goes on in more lines,
    /// broken between words ([`wrap`]).
    pub fn line(mut self, text: &str) -> Self {
        let clean: String = text.chars().filter(|c| !c.is_control()).collect();
        let width = if self.double { COLUMNS / 2 } else { COLUMNS };
        for part in wrap(&clean, width) {
            let (encoded, _, _) = encoding_rs::GB18030.encode(&part);
            self.bytes.extend_from_slice(&encoded);
            self.bytes.push(0x0A);
        }
        self
    }

    pub fn feed(mut self, lines: u8) -> Self {
        for _ in 0..lines {
            self.bytes.push(0x0A);
        }
        self
    }

    /// A QR code (model 2, module size 6, error correction M) of `data`. Put only an
    /// application or receipt number in it, never personal data.
    pub fn qr(mut self, data: &str) -> Self {
        let d = data.as_bytes();
        self.bytes.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]);
        self.bytes.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06]);
        self.bytes.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31]);
        let len = (d.len() + 3) as u16;
        self.bytes.extend_from_slice(&[0x1D, 0x28, 0x6B, (len & 0xFF) as u8, (len >> 8) as u8, 0x31, 0x50, 0x30]);
        self.bytes.extend_from_slice(d);
        self.bytes.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
        self
    }

    /// Feed and a full cut.
    pub fn cut(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&[0x0A, 0x0A, 0x0A, 0x1D, 0x56, 0x00]);
        self.bytes
    }
}

/// What a printer makes of the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintItem {
    Text { text: String, align: Align, double: bool },
    Qr(String),
    Cut,
}

/// Reads ESC/POS bytes into printed items. Unknown commands are skipped; text is decoded
/// as GB18030 in Chinese mode.
pub fn parse(bytes: &[u8]) -> Result<Vec<PrintItem>, DeviceError> {
    let mut items = Vec::new();
    let (mut align, mut double) = (Align::Left, false);
    let mut qr_data = String::new();
    let mut text: Vec<u8> = Vec::new();
    let mut i = 0;
    let need = |i: usize, n: usize| {
        if i + n <= bytes.len() { Ok(()) } else { Err(DeviceError::Malformed("ESC/POS command cut short")) }
    };
    let flush = |text: &mut Vec<u8>, items: &mut Vec<PrintItem>, align: Align, double: bool| {
        let (decoded, _, _) = encoding_rs::GB18030.decode(text);
        items.push(PrintItem::Text { text: decoded.into_owned(), align, double });
        text.clear();
    };
    while i < bytes.len() {
        match bytes[i] {
            0x0A => {
                flush(&mut text, &mut items, align, double);
                i += 1;
            }
            0x1B => {
                need(i, 2)?;
                match bytes[i + 1] {
                    0x40 => i += 2,
                    0x61 => {
                        need(i, 3)?;
                        align = match bytes[i + 2] {
                            1 | b'1' => Align::Centre,
                            2 | b'2' => Align::Right,
                            _ => Align::Left,
                        };
                        i += 3;
                    }
                    0x21 => {
                        need(i, 3)?;
                        double = bytes[i + 2] & 0x30 != 0;
                        i += 3;
                    }
                    _ => i += 3.min(bytes.len() - i),
                }
            }
            // A real-time status request (DLE EOT n) prints nothing.
            0x10 => {
                need(i, 3)?;
                i += 3;
            }
            0x1C => {
                need(i, 2)?;
                i += if bytes[i + 1] == 0x57 { 3 } else { 2 };
            }
            0x1D => {
                need(i, 2)?;
                match bytes[i + 1] {
                    0x56 => {
                        need(i, 3)?;
                        items.push(PrintItem::Cut);
                        i += if bytes[i + 2] >= 0x41 { 4 } else { 3 };
                    }
                    0x28 => {
                        need(i, 5)?;
                        let len = usize::from(bytes[i + 3]) | (usize::from(bytes[i + 4]) << 8);
                        need(i, 5 + len)?;
                        let body = &bytes[i + 5..i + 5 + len];
                        if body.len() >= 3 && body[0] == 0x31 && body[1] == 0x50 {
                            qr_data = String::from_utf8_lossy(&body[3..]).into_owned();
                        } else if body.len() >= 2 && body[0] == 0x31 && body[1] == 0x51 {
                            items.push(PrintItem::Qr(std::mem::take(&mut qr_data)));
                        }
                        i += 5 + len;
                    }
                    0x21 => {
                        need(i, 3)?;
                        i += 3;
                    }
                    _ => i += 2,
                }
            }
            b => {
                text.push(b);
                i += 1;
            }
        }
    }
    if !text.is_empty() {
        flush(&mut text, &mut items, align, double);
    }
    Ok(items)
}

/// Real-time status requests (DLE EOT n), answered at once with one byte even mid-receipt:
/// the printer's (n = 1: online or not) and the paper roll sensor's (n = 4). Standard Epson
/// ESC/POS, as python-escpos and escpos-php send them; not in DOMAIN.md §6.d, so a printer
/// that ignores them is taken for one that does not answer.
pub const STATUS_REQUEST: [u8; 6] = [0x10, 0x04, 0x01, 0x10, 0x04, 0x04];

/// Every status byte has bit 1 and bit 4 set and bits 0 and 7 clear.
const STATUS_FIXED_MASK: u8 = 0b1001_0011;
const STATUS_FIXED: u8 = 0b0001_0010;
/// Printer status (n = 1), bit 3: offline (cover open, paper out, an error).
const OFFLINE: u8 = 0b0000_1000;
/// Paper roll sensor (n = 4), bits 2–3: near its end; bits 5–6: out.
const PAPER_NEAR_END: u8 = 0b0000_1100;
const PAPER_OUT: u8 = 0b0110_0000;

/// What the printer said of itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterStatus {
    pub online: bool,
    pub paper: Paper,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    #[default]
    Loaded,
    NearEnd,
    Out,
}

impl PrinterStatus {
    /// Whether `b` can be a status byte (its fixed bits): a printer also sends XON/XOFF and
    /// other bytes, which are not answers.
    pub fn is_status_byte(b: u8) -> bool {
        b & STATUS_FIXED_MASK == STATUS_FIXED
    }

    /// Reads the two answers to [`STATUS_REQUEST`]: the printer's byte, then the paper's.
    pub fn parse(answer: [u8; 2]) -> Result<PrinterStatus, DeviceError> {
        if answer.iter().any(|b| b & STATUS_FIXED_MASK != STATUS_FIXED) {
            return Err(DeviceError::Malformed("a printer status byte without its fixed bits"));
        }
        let paper = match answer[1] {
            b if b & PAPER_OUT != 0 => Paper::Out,
            b if b & PAPER_NEAR_END != 0 => Paper::NearEnd,
            _ => Paper::Loaded,
        };
        Ok(PrinterStatus { online: answer[0] & OFFLINE == 0, paper })
    }

    /// The two bytes a printer in this state answers with.
    pub fn to_bytes(self) -> [u8; 2] {
        let printer = STATUS_FIXED | if self.online { 0 } else { OFFLINE };
        let paper = STATUS_FIXED
            | match self.paper {
                Paper::Loaded => 0,
                Paper::NearEnd => PAPER_NEAR_END,
                Paper::Out => PAPER_NEAR_END | PAPER_OUT,
            };
        [printer, paper]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_command_bytes() {
        let r = ReceiptBuilder::new().line("你好").qr("ABC123").cut();
        assert_eq!(&r[..4], &[0x1B, 0x40, 0x1C, 0x26]);
        let find = |needle: &[u8]| r.windows(needle.len()).any(|w| w == needle);
        assert!(find(&[0xC4, 0xE3, 0xBA, 0xC3, 0x0A]), "你好 in GB18030");
        assert!(find(&[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]));
        assert!(find(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06]));
        assert!(find(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31]));
        assert!(find(&[0x1D, 0x28, 0x6B, 0x09, 0x00, 0x31, 0x50, 0x30, b'A', b'B', b'C', b'1', b'2', b'3']));
        assert!(find(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]));
        assert!(r.ends_with(&[0x1D, 0x56, 0x00]));
    }

    #[test]
    fn receipts_parse_back_including_rare_characters() {
        let r = ReceiptBuilder::new()
            .align(Align::Centre)
            .double(true)
            .line("受理回执")
            .double(false)
            .align(Align::Left)
            .line("申请人：测试㐀")
            .qr("APP-0001")
            .cut();
        let items = parse(&r).unwrap();
        assert_eq!(items[0], PrintItem::Text { text: "受理回执".into(), align: Align::Centre, double: true });
        assert_eq!(items[1], PrintItem::Text { text: "申请人：测试㐀".into(), align: Align::Left, double: false });
        assert!(items.contains(&PrintItem::Qr("APP-0001".into())));
        assert_eq!(items.last(), Some(&PrintItem::Cut));
        assert!(matches!(parse(&[0x1D, 0x28, 0x6B, 0xFF, 0x00, 0x31]), Err(DeviceError::Malformed(_))));
    }

    proptest::proptest! {
        /// R19: any bytes from the device, never a panic.
        #[test]
        fn noise_never_panics(noise in proptest::collection::vec(proptest::num::u8::ANY, 0..500)) {
            let _ = parse(&noise);
        }

        /// Any text of Latin words, Chinese, closing punctuation and spaces, at any width of
        /// two columns or more: no line is wider, nothing is lost or reordered (but spaces), and
        /// no line but the first starts with a space.
        #[test]
        fn wrapped_text_fits_and_keeps_every_character(
            text in "[a-z 中文申请（）、，：。！]{0,80}",
            width in 2usize..40,
        ) {
            let lines = wrap(&text, width);
            for l in &lines {
                proptest::prop_assert!(l.chars().map(columns).sum::<usize>() <= width, "{lines:?}");
            }
            for l in lines.iter().skip(1) {
                proptest::prop_assert!(!l.starts_with(' '), "{lines:?}");
            }
            let kept: String = lines.concat().chars().filter(|c| *c != ' ').collect();
            let given: String = text.chars().filter(|c| *c != ' ').collect();
            proptest::prop_assert_eq!(kept, given);
        }

        /// Where every Latin word fits a line, each is printed whole and apart from the next:
        /// a break never joins two words, nor splits one.
        #[test]
        fn words_that_fit_are_kept_whole_and_apart(
            text in "[a-z 中文申请（）、，：。！]{0,80}",
            width in 2usize..40,
        ) {
            let words = |t: &str| -> Vec<String> {
                t.split(|c: char| c == ' ' || c == '\n' || columns(c) == 2).filter(|w| !w.is_empty()).map(String::from).collect()
            };
            proptest::prop_assume!(words(&text).iter().all(|w| w.len() <= width));
            let lines = wrap(&text, width);
            proptest::prop_assert_eq!(words(&lines.join("\n")), words(&text), "{:?}", lines);
        }
    }

    /// The edges: a Chinese character wider than a line of one column goes on its own line
    /// (no empty line before it), and a space dropped at a full line still parts the word the
    /// break carries down from the next.
    #[test]
    fn wrapping_at_the_edges() {
        for (text, width, want) in [
            ("中文", 1, vec!["中", "文"]),
            ("a中", 1, vec!["a", "中"]),
            // The line full at "ab"; the space is dropped; "申" breaks after the bracket.
            ("中（文）ab 申", 10, vec!["中（文）", "ab 申"]),
            ("申请（一次）abc defgh", 14, vec!["申请（一次）", "abc defgh"]),
            ("", 5, vec![""]),
        ] {
            assert_eq!(wrap(text, width), want, "{text:?} at {width}");
        }
    }

    /// The status bytes, table-driven: the fixed bits, offline, and the paper sensor's two
    /// levels; a byte without the fixed bits is not a status.
    #[test]
    fn printer_status_bytes() {
        type Case = ([u8; 2], Option<(bool, Paper)>);
        let cases: [Case; 7] = [
            ([0x12, 0x12], Some((true, Paper::Loaded))),
            ([0x1A, 0x12], Some((false, Paper::Loaded))),
            ([0x12, 0x1E], Some((true, Paper::NearEnd))),
            ([0x1A, 0x72], Some((false, Paper::Out))),
            ([0x12, 0x7E], Some((true, Paper::Out))),
            ([0x00, 0x12], None),
            ([0x12, 0x93], None),
        ];
        for (bytes, want) in cases {
            let got = PrinterStatus::parse(bytes).ok().map(|s| (s.online, s.paper));
            assert_eq!(got, want, "{bytes:02X?}");
        }
        for online in [true, false] {
            for paper in [Paper::Loaded, Paper::NearEnd, Paper::Out] {
                let s = PrinterStatus { online, paper };
                assert_eq!(PrinterStatus::parse(s.to_bytes()).unwrap(), s);
            }
        }
        // A status request inside a receipt prints nothing.
        let mut bytes = STATUS_REQUEST.to_vec();
        bytes.extend(ReceiptBuilder::new().line("测试").cut());
        assert_eq!(parse(&bytes).unwrap(), parse(&ReceiptBuilder::new().line("测试").cut()).unwrap());
    }

    /// Lines longer than the paper break between words in English, anywhere in Chinese, and
    /// a word longer than a line where the line ends; nothing is lost but the spaces at breaks.
    #[test]
    fn lines_break_between_words() {
        let table: [(&str, usize, &[&str]); 13] = [
            ("Exit-entry application receipt", 16, &["Exit-entry", "application", "receipt"]),
            ("will be posted to the address given", 32, &["will be posted to the address", "given"]),
            ("受理回执请妥善保管领证时出示", 16, &["受理回执请妥善保", "管领证时出示"]),
            ("申请编号 DS0123456789AB01", 16, &["申请编号", "DS0123456789AB01"]),
            ("abcdefghijklmnopqrstuvwxyz", 10, &["abcdefghij", "klmnopqrst", "uvwxyz"]),
            ("short", 32, &["short"]),
            ("  护照  3", 32, &["  护照  3"]),
            // After the phrase's bracket, not inside the word after it.
            ("往来台湾通行证（一次有效）首次申请", 32, &["往来台湾通行证（一次有效）", "首次申请"]),
            // A bracket early in the line is no place to break: the line is filled.
            ("（新）往来台湾通行证首次申请", 16, &["（新）往来台湾通", "行证首次申请"]),
            // Closing punctuation never starts a line: the character before it goes down too.
            ("往来台湾通行证（一次有效）", 24, &["往来台湾通行证（一次有", "效）"]),
            // The space after the punctuation the line broke at is not carried down.
            (" ） 中", 4, &[" ）", "中"]),
            // Two closing marks take the character before them down together.
            ("中中中中））", 10, &["中中中", "中））"]),
            // A Latin word is not broken to carry a bracket: the bracket goes down alone.
            ("abc）", 4, &["abc", "）"]),
        ];
        for (text, width, want) in table {
            let got = wrap(text, width);
            assert_eq!(got, want, "{text:?} at {width}");
            assert!(got.iter().all(|l| l.chars().map(columns).sum::<usize>() <= width), "{got:?}");
        }
        // The builder wraps at the paper's width, half at double width.
        let items = parse(&ReceiptBuilder::new().double(true).line("Exit-entry application receipt").cut()).unwrap();
        let texts: Vec<_> = items
            .iter()
            .filter_map(|i| match i {
                PrintItem::Text { text, .. } if !text.is_empty() => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, ["Exit-entry", "application", "receipt"]);
    }
}
