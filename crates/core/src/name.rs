//! Names: the Chinese name as on the identity card, and its Hanyu Pinyin for the MRZ.
//!
//! Names may hold rare characters outside GB2312 (喆, 䶮) and, for some minority names,
//! a middle dot (买买提·艾力). doorstep accepts every CJK ideograph and tells the officer
//! which characters are outside GB2312/GBK, because a receipt printer or an older system
//! may not show them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest name accepted, in characters. The identity card's name field holds 15;
/// longer minority names are printed on two lines there, so the limit here is generous.
pub const MAX_NAME_CHARS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name is longer than {MAX_NAME_CHARS} characters")]
    TooLong,
    #[error("character {position} ({code}) is not a Chinese character or the separator ·")]
    InvalidCharacter { position: usize, code: String },
    #[error("the separator · may not start or end the name, or appear twice in a row")]
    MisplacedSeparator,
    #[error("the pinyin may hold only the letters A–Z, spaces and the umlaut ü")]
    InvalidPinyin,
    #[error("the surname is missing")]
    MissingSurname,
}

/// Which character set the name fits in: what a GBK-only printer or system can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Charset {
    Gb2312,
    Gbk,
    /// Needs GB18030's four-byte sequences (CJK Extension A and beyond).
    Gb18030,
}

/// A validated Chinese name. `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChineseName(String);

impl ChineseName {
    pub fn parse(input: &str) -> Result<ChineseName, NameError> {
        let name: String = input.trim().chars().map(|c| if is_separator(c) { '·' } else { c }).collect();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(NameError::TooLong);
        }
        for (i, c) in name.chars().enumerate() {
            if !(is_ideograph(c) || c == '·') {
                return Err(NameError::InvalidCharacter { position: i + 1, code: format!("U+{:04X}", c as u32) });
            }
        }
        if name.starts_with('·') || name.ends_with('·') || name.contains("··") {
            return Err(NameError::MisplacedSeparator);
        }
        Ok(ChineseName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The smallest character set that holds the whole name.
    pub fn charset(&self) -> Charset {
        self.0.chars().map(charset_of).max().unwrap_or(Charset::Gb2312)
    }

    /// The characters outside GB2312, for the officer to double-check.
    pub fn rare_characters(&self) -> Vec<char> {
        self.0.chars().filter(|&c| charset_of(c) > Charset::Gb2312).collect()
    }
}

impl fmt::Debug for ChineseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChineseName(<redacted>)")
    }
}

impl TryFrom<String> for ChineseName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ChineseName::parse(&value)
    }
}

impl From<ChineseName> for String {
    fn from(value: ChineseName) -> String {
        value.0
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, '·' | '•' | '・' | '．' | '‧' | '∙')
}

/// CJK Unified Ideographs (basic and Extensions A–I) and the compatibility blocks.
pub fn is_ideograph(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF      // Extension A
        | 0x4E00..=0x9FFF    // Unified
        | 0xF900..=0xFAFF    // Compatibility
        | 0x20000..=0x2A6DF  // Extension B
        | 0x2A700..=0x2EE5F  // Extensions C–F, I
        | 0x2F800..=0x2FA1F  // Compatibility Supplement
        | 0x30000..=0x323AF  // Extensions G–H
    )
}

fn charset_of(c: char) -> Charset {
    let mut buf = [0u8; 4];
    let s = c.encode_utf8(&mut buf);
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(s);
    if unmappable || bytes.len() != 2 {
        return Charset::Gb18030;
    }
    // GB2312 is the part of GBK whose lead and trail bytes are both 0xA1–0xFE.
    if (0xA1..=0xF7).contains(&bytes[0]) && (0xA1..=0xFE).contains(&bytes[1]) { Charset::Gb2312 } else { Charset::Gbk }
}

/// A name in Hanyu Pinyin as written in a passport: upper case, surname apart.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinyinName {
    surname: String,
    given: String,
}

impl fmt::Debug for PinyinName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinyinName(<redacted>)")
    }
}

impl PinyinName {
    /// Validates typed pinyin. `ü` (or `v`, as typed on a keyboard) becomes `YU`, as in
    /// passports (吕 → LYU) [P].
    pub fn parse(surname: &str, given: &str) -> Result<PinyinName, NameError> {
        let surname = normalise_pinyin(surname)?;
        let given = normalise_pinyin(given)?;
        if surname.is_empty() {
            return Err(NameError::MissingSurname);
        }
        Ok(PinyinName { surname, given })
    }

    pub fn surname(&self) -> &str {
        &self.surname
    }

    pub fn given(&self) -> &str {
        &self.given
    }

    /// The MRZ name field of `width` characters: `SURNAME<<GIVEN<NAMES`, padded with `<`.
    /// When too long, the given names are cut first, then the surname (ICAO 9303 Part 3).
    pub fn mrz_field(&self, width: usize) -> String {
        let surname = self.surname.replace(' ', "<");
        let given = self.given.replace(' ', "<");
        let mut field = if given.is_empty() { surname.clone() } else { format!("{surname}<<{given}") };
        if field.len() > width {
            let room = width.saturating_sub(surname.len() + 2);
            field = if room >= 1 && !given.is_empty() {
                format!("{surname}<<{}", &given[..room.min(given.len())])
            } else {
                surname[..width.min(surname.len())].to_string()
            };
        }
        format!("{field:<<width$}")
    }
}

fn normalise_pinyin(s: &str) -> Result<String, NameError> {
    let mut out = String::new();
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            match c {
                'ü' | 'Ü' | 'v' | 'V' => out.push_str("YU"),
                c if c.is_ascii_alphabetic() => out.push(c.to_ascii_uppercase()),
                _ => return Err(NameError::InvalidPinyin),
            }
        }
    }
    Ok(out)
}

/// Two-character surnames, so that a suggestion splits 欧阳娜娜 as 欧阳 + 娜娜.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "轩辕",
    "令狐", "端木", "独孤", "南宫", "西门", "百里", "呼延", "万俟", "闻人", "澹台", "公羊", "申屠", "太史", "淳于",
    "单于", "钟离", "赫连", "濮阳", "宗政", "拓跋",
];

/// Surname readings that differ from the character's most common reading.
const SURNAME_READINGS: &[(char, &str)] = &[
    ('单', "SHAN"),
    ('曾', "ZENG"),
    ('解', "XIE"),
    ('查', "ZHA"),
    ('仇', "QIU"),
    ('区', "OU"),
    ('朴', "PIAO"),
    ('繁', "PO"),
    ('覃', "QIN"),
    ('召', "SHAO"),
    ('缪', "MIAO"),
    ('尉', "YU"),
    ('乐', "YUE"),
    ('盖', "GE"),
    ('种', "CHONG"),
    ('员', "YUN"),
    ('长', "CHANG"),
];

/// Compound surnames whose reading differs from reading each character.
const COMPOUND_READINGS: &[(&str, &str)] = &[("单于", "CHANYU"), ("尉迟", "YUCHI"), ("万俟", "MOQI")];

/// A pinyin suggestion for a Chinese name, for the officer to confirm against the
/// household register (the register is the authority, not this guess). `None` if a
/// character has no known reading or the name has a separator (minority names are
/// transcribed from their own language, not read character by character).
pub fn suggest_pinyin(name: &ChineseName) -> Option<PinyinName> {
    use pinyin::ToPinyin;
    let s = name.as_str();
    if s.contains('·') {
        return None;
    }
    let surname_len = if COMPOUND_SURNAMES.iter().any(|c| s.starts_with(c)) { 2 } else { 1 };
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= surname_len {
        return None;
    }
    let read = |c: char| -> Option<String> {
        let p = c.to_pinyin()?;
        Some(p.plain().replace(['ü', 'v'], "yu").to_ascii_uppercase())
    };
    let written: String = chars[..surname_len].iter().collect();
    let special = if surname_len == 1 {
        SURNAME_READINGS.iter().find(|(k, _)| *k == chars[0]).map(|(_, r)| *r)
    } else {
        COMPOUND_READINGS.iter().find(|(k, _)| *k == written).map(|(_, r)| *r)
    };
    let surname = match special {
        Some(r) => r.to_string(),
        None => written.chars().map(read).collect::<Option<String>>()?,
    };
    let mut given = String::new();
    for &c in &chars[surname_len..] {
        given.push_str(&read(c)?);
    }
    Some(PinyinName { surname, given })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_rare_and_minority_names() {
        assert_eq!(ChineseName::parse("测试").unwrap().charset(), Charset::Gb2312);
        let rare = ChineseName::parse("测试喆").unwrap();
        assert_eq!(rare.charset(), Charset::Gbk);
        assert_eq!(rare.rare_characters(), vec!['喆']);
        let ext_a = ChineseName::parse("测试㐀").unwrap();
        assert_eq!(ext_a.charset(), Charset::Gb18030);
        let ext_b = ChineseName::parse("测试𠀀").unwrap();
        assert_eq!(ext_b.charset(), Charset::Gb18030);
        let minority = ChineseName::parse("测试•名字").unwrap();
        assert_eq!(minority.as_str(), "测试·名字");
    }

    #[test]
    fn refuses_what_is_not_a_name() {
        assert_eq!(ChineseName::parse("  "), Err(NameError::Empty));
        assert!(matches!(ChineseName::parse("测试A"), Err(NameError::InvalidCharacter { position: 3, .. })));
        assert!(matches!(ChineseName::parse("测 试"), Err(NameError::InvalidCharacter { .. })));
        assert_eq!(ChineseName::parse("·测试"), Err(NameError::MisplacedSeparator));
        assert_eq!(ChineseName::parse("测··试"), Err(NameError::MisplacedSeparator));
        assert_eq!(ChineseName::parse(&"测".repeat(41)), Err(NameError::TooLong));
    }

    #[test]
    fn pinyin_normalises_and_builds_the_mrz_field() {
        let n = PinyinName::parse("lü", "xiao ming").unwrap();
        assert_eq!(n.surname(), "LYU");
        assert_eq!(n.given(), "XIAO MING");
        assert_eq!(n.mrz_field(20), "LYU<<XIAO<MING<<<<<<");
        let long = PinyinName::parse("OUYANG", "ABCDEFGHIJKLMNOP").unwrap();
        assert_eq!(long.mrz_field(16), "OUYANG<<ABCDEFGH");
        let no_given = PinyinName::parse("CESHI", "").unwrap();
        assert_eq!(no_given.mrz_field(8), "CESHI<<<");
        assert_eq!(PinyinName::parse("", "SAN"), Err(NameError::MissingSurname));
        assert_eq!(PinyinName::parse("ZHANG3", "SAN"), Err(NameError::InvalidPinyin));
    }

    #[test]
    fn suggestions_handle_compound_and_special_surnames() {
        let s = suggest_pinyin(&ChineseName::parse("测试").unwrap()).unwrap();
        assert_eq!((s.surname(), s.given()), ("CE", "SHI"));
        let s = suggest_pinyin(&ChineseName::parse("单测试").unwrap()).unwrap();
        assert_eq!(s.surname(), "SHAN");
        let s = suggest_pinyin(&ChineseName::parse("欧阳测试").unwrap()).unwrap();
        assert_eq!((s.surname(), s.given()), ("OUYANG", "CESHI"));
        let s = suggest_pinyin(&ChineseName::parse("尉迟测试").unwrap()).unwrap();
        assert_eq!(s.surname(), "YUCHI");
        let s = suggest_pinyin(&ChineseName::parse("吕测").unwrap()).unwrap();
        assert_eq!(s.surname(), "LYU");
        assert!(suggest_pinyin(&ChineseName::parse("测试·名字").unwrap()).is_none());
        assert!(suggest_pinyin(&ChineseName::parse("测").unwrap()).is_none());
    }

    #[test]
    fn debug_is_redacted() {
        let n = ChineseName::parse("测试").unwrap();
        assert!(!format!("{n:?}").contains("测试"));
    }
}
