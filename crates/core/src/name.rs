//! Names: the Chinese name as on the identity card, and its Hanyu Pinyin for the MRZ.
//!
//! Names may hold rare characters outside GB2312 (喆, 䶮) and, for some minority names,
//! a middle dot (买买提·艾力). doorstep accepts every CJK ideograph and tells the officer
//! which characters are outside GB2312/GBK, because a receipt printer or an older system
//! may not show them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::{Localize, Message};

/// The longest name accepted, in characters. The identity card's name field holds 15;
/// longer minority names are printed on two lines there, so the limit here is generous.
pub const MAX_NAME_CHARS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    Empty,
    TooLong,
    InvalidCharacter { position: usize, code: String },
    MisplacedSeparator,
    InvalidPinyin,
    MissingSurname,
}

impl Localize for NameError {
    fn message(&self) -> Message {
        match self {
            NameError::Empty => Message::new("error.name.empty"),
            NameError::TooLong => Message::new("error.name.too-long").with("max", MAX_NAME_CHARS),
            NameError::InvalidCharacter { position, code } => {
                Message::new("error.name.invalid-character").with("position", *position).with("code", code.as_str())
            }
            NameError::MisplacedSeparator => Message::new("error.name.misplaced-separator"),
            NameError::InvalidPinyin => Message::new("error.name.invalid-pinyin"),
            NameError::MissingSurname => Message::new("error.name.missing-surname"),
        }
    }
}

crate::localized_error!(NameError);

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

/// Surnames whose reading is not the character's most common one, or that a family may
/// read more than one way. Each row: the surname, its usual surname reading, and the other
/// readings some families use (empty when the reading is fixed). Checked against published
/// surname lists (DOMAIN.md §5.3a; pinyin-pro `surname.ts`, hotoo/pinyin `surname.js` and
/// `compound_surname.js`, overtrue/pinyin `surnames.php`) [P]. A person's own reading wins:
/// the household register, not this table, is the authority.
const SURNAMES: &[(&str, &str, &[&str])] = &[
    // Single surnames, one reading.
    ("单", "SHAN", &[]),
    ("曾", "ZENG", &[]),
    ("解", "XIE", &[]),
    ("区", "OU", &[]),
    ("仇", "QIU", &[]),
    ("朴", "PIAO", &[]),
    ("查", "ZHA", &[]),
    ("翟", "ZHAI", &[]),
    ("阚", "KAN", &[]),
    ("尉", "WEI", &[]),
    ("秘", "BI", &[]),
    ("折", "SHE", &[]),
    ("句", "GOU", &[]),
    ("能", "NAI", &[]),
    ("乜", "NIE", &[]),
    ("繁", "PO", &[]),
    ("缪", "MIAO", &[]),
    ("种", "CHONG", &[]),
    ("重", "CHONG", &[]),
    ("员", "YUN", &[]),
    ("黑", "HE", &[]),
    ("洗", "XIAN", &[]),
    ("冼", "XIAN", &[]),
    ("祭", "ZHAI", &[]),
    ("逄", "PANG", &[]),
    ("亓", "QI", &[]),
    ("仉", "ZHANG", &[]),
    ("訾", "ZI", &[]),
    ("薄", "BO", &[]),
    ("厍", "SHE", &[]),
    ("隽", "JUAN", &[]),
    ("啜", "CHUAI", &[]),
    ("柏", "BAI", &[]),
    ("粘", "NIAN", &[]),
    ("莘", "SHEN", &[]),
    ("恽", "YUN", &[]),
    ("车", "CHE", &[]),
    ("都", "DU", &[]),
    ("佴", "NAI", &[]),
    ("隆", "LONG", &[]),
    ("相", "XIANG", &[]),
    ("华", "HUA", &[]),
    ("任", "REN", &[]),
    ("燕", "YAN", &[]),
    ("纪", "JI", &[]),
    ("应", "YING", &[]),
    ("过", "GUO", &[]),
    ("哈", "HA", &[]),
    ("要", "YAO", &[]),
    ("卜", "BU", &[]),
    ("藏", "ZANG", &[]),
    ("臧", "ZANG", &[]),
    // Single surnames whose reading varies by family or branch: ask the applicant.
    ("乐", "YUE", &["LE"]),
    ("盖", "GE", &["GAI"]),
    ("覃", "QIN", &["TAN"]),
    ("宓", "MI", &["FU"]),
    ("召", "SHAO", &["ZHAO"]),
    ("隗", "WEI", &["KUI"]),
    ("郇", "HUAN", &["XUN"]),
    ("谌", "CHEN", &["SHEN"]),
    ("费", "FEI", &["BI"]),
    ("朝", "CHAO", &["ZHAO"]),
    ("长", "CHANG", &["ZHANG"]),
    ("禚", "ZHUO", &["ZHAO"]),
    ("蕃", "PI", &["FAN"]),
    // Compound surnames with a special reading.
    ("尉迟", "YUCHI", &[]),
    ("单于", "CHANYU", &[]),
    ("万俟", "MOQI", &[]),
    ("澹台", "TANTAI", &[]),
    ("长孙", "ZHANGSUN", &[]),
    ("令狐", "LINGHU", &[]),
    ("闾丘", "LYUQIU", &[]),
    ("子车", "ZIJU", &[]),
    ("乐正", "YUEZHENG", &[]),
    ("仉督", "ZHANGDU", &[]),
];

/// Two-character surnames, so that a suggestion splits 欧阳娜娜 as 欧阳 + 娜娜: the compound
/// surnames of the published lists (百家姓 and pinyin-pro's `surname.ts`) [P].
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "轩辕",
    "令狐", "端木", "独孤", "南宫", "西门", "百里", "呼延", "万俟", "闻人", "澹台", "公羊", "申屠", "太史", "淳于",
    "单于", "钟离", "赫连", "濮阳", "宗政", "拓跋", "司空", "东郭", "公冶", "左丘", "谷梁", "榖梁", "第五", "仲孙",
    "亓官", "太叔", "鲜于", "闾丘", "司寇", "仉督", "子车", "颛孙", "巫马", "公西", "漆雕", "乐正", "壤驷", "公良",
    "夹谷", "宰父", "段干", "南门", "羊舌", "梁丘", "东门",
];

/// Compound surnames whose first character is also a common surname, so that a name like
/// 单于飞 may as well be 单 + 于飞: the split is suggested both ways and flagged.
const SPLIT_AMBIGUOUS: &[&str] = &["单于"];

/// Characters common in given names whose reading in a name varies (长 in 长青 or 长生…):
/// the usual reading in names, then the others. [P]: a curated list; the `pinyin` crate's own
/// polyphone data lists rare readings for most characters and would flag nearly every name.
const GIVEN_NAME_READINGS: &[(char, &str, &[&str])] = &[
    ('长', "CHANG", &["ZHANG"]),
    ('乐', "LE", &["YUE"]),
    ('行', "XING", &["HANG"]),
    ('重', "ZHONG", &["CHONG"]),
    ('朝', "ZHAO", &["CHAO"]),
    ('传', "CHUAN", &["ZHUAN"]),
    ('觉', "JUE", &["JIAO"]),
    ('奇', "QI", &["JI"]),
    ('茜', "QIAN", &["XI"]),
    ('参', "SHEN", &["CAN"]),
    ('莎', "SHA", &["SUO"]),
    ('柏', "BAI", &["BO"]),
    ('蔚', "WEI", &["YU"]),
    ('会', "HUI", &["KUAI"]),
    ('单', "DAN", &["SHAN"]),
    ('曾', "ZENG", &["CENG"]),
    ('还', "HUAN", &["HAI"]),
    ('降', "JIANG", &["XIANG"]),
    ('栎', "LI", &["YUE"]),
    ('解', "JIE", &["XIE"]),
    ('调', "TIAO", &["DIAO"]),
    ('和', "HE", &["HUO"]),
];

/// A name split into surname and given name, with the pinyin suggested for each, for the
/// officer to confirm against the household register.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameSuggestion {
    /// The surname and given name as written.
    pub surname: String,
    pub given: String,
    /// The usual reading.
    pub pinyin: PinyinName,
    /// True when families read the surname differently: the officer asks the applicant.
    pub ambiguous: bool,
    /// The other readings, most usual first.
    pub alternatives: Vec<PinyinName>,
}

impl fmt::Debug for NameSuggestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NameSuggestion(ambiguous: {}, <redacted>)", self.ambiguous)
    }
}

/// Splits a Chinese name into surname and given name: a known compound surname when the
/// name has at least three characters (a two-character 单于 is 单 + 于), else the first
/// character. `None` for names with the separator ·, which are not split this way.
pub fn split_name(name: &ChineseName) -> Option<(String, String)> {
    let s = name.as_str();
    if s.contains('·') {
        return None;
    }
    let chars: Vec<char> = s.chars().collect();
    let compound = chars.len() >= 3 && COMPOUND_SURNAMES.iter().any(|c| s.starts_with(c));
    let n = if compound { 2 } else { 1 };
    Some((chars[..n].iter().collect(), chars[n..].iter().collect()))
}

/// The readings of a surname: the table's, or the characters' usual ones.
fn surname_readings(surname: &str) -> Option<(String, Vec<String>)> {
    if let Some((_, usual, others)) = SURNAMES.iter().find(|(k, _, _)| *k == surname) {
        return Some((usual.to_string(), others.iter().map(|o| o.to_string()).collect()));
    }
    surname.chars().map(read_char).collect::<Option<String>>().map(|r| (r, Vec::new()))
}

/// The readings of a character in a given name: the usual one first.
fn given_readings(c: char) -> Option<Vec<String>> {
    if let Some((_, usual, others)) = GIVEN_NAME_READINGS.iter().find(|(k, _, _)| *k == c) {
        return Some(std::iter::once(*usual).chain(others.iter().copied()).map(String::from).collect());
    }
    read_char(c).map(|r| vec![r])
}

fn read_char(c: char) -> Option<String> {
    use pinyin::ToPinyin;
    let p = c.to_pinyin()?;
    Some(p.plain().replace(['ü', 'v'], "yu").to_ascii_uppercase())
}

/// A pinyin suggestion for a Chinese name. `None` if a character has no known reading or the
/// name has a separator (minority names are transcribed from their own language, not read
/// character by character). The name is `ambiguous` when the surname's reading varies by
/// family, a character of the given name reads differently in different names, or the name
/// splits two ways (单于飞); `alternatives` then lists the other readings, one difference each.
pub fn suggest(name: &ChineseName) -> Option<NameSuggestion> {
    let (surname, given) = split_name(name)?;
    let (usual, other_surnames) = surname_readings(&surname)?;
    let readings: Vec<Vec<String>> = given.chars().map(given_readings).collect::<Option<_>>()?;
    let usual_given: String = readings.iter().map(|r| r[0].as_str()).collect();
    let mut alternatives: Vec<PinyinName> =
        other_surnames.iter().map(|s| PinyinName { surname: s.clone(), given: usual_given.clone() }).collect();
    for (i, r) in readings.iter().enumerate() {
        for other in &r[1..] {
            let given = readings
                .iter()
                .enumerate()
                .map(|(j, rj)| if j == i { other.as_str() } else { rj[0].as_str() })
                .collect();
            alternatives.push(PinyinName { surname: usual.clone(), given });
        }
    }
    if SPLIT_AMBIGUOUS.contains(&surname.as_str()) {
        let mut chars = surname.chars().chain(given.chars());
        let first = chars.next()?;
        let single = surname_readings(&first.to_string())?.0;
        let rest: String = chars.map(|c| given_readings(c).map(|r| r[0].clone())).collect::<Option<_>>()?;
        alternatives.push(PinyinName { surname: single, given: rest });
    }
    Some(NameSuggestion {
        pinyin: PinyinName { surname: usual, given: usual_given },
        ambiguous: !alternatives.is_empty(),
        alternatives,
        surname,
        given,
    })
}

/// The usual pinyin of a name with a given name, when its reading is not in doubt: an
/// ambiguous name (see [`suggest`]) needs the officer to confirm the reading with the
/// applicant, so no pinyin is suggested silently for it.
pub fn suggest_pinyin(name: &ChineseName) -> Option<PinyinName> {
    suggest(name).filter(|s| !s.given.is_empty() && !s.ambiguous).map(|s| s.pinyin)
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
        let s = suggest_pinyin(&ChineseName::parse("欧阳测试").unwrap()).unwrap();
        assert_eq!((s.surname(), s.given()), ("OUYANG", "CESHI"));
        let s = suggest_pinyin(&ChineseName::parse("吕测").unwrap()).unwrap();
        assert_eq!(s.surname(), "LYU");
        // An ambiguous name gets no silent suggestion.
        assert!(suggest_pinyin(&ChineseName::parse("乐测试").unwrap()).is_none());
        assert!(suggest_pinyin(&ChineseName::parse("测试·名字").unwrap()).is_none());
        assert!(suggest_pinyin(&ChineseName::parse("测").unwrap()).is_none());
    }

    /// The published surname readings (DOMAIN.md §5.3a and the examples), each
    /// followed by 测试 as the given name. (name, surname, reading, other readings)
    const READINGS: &[(&str, &str, &str, &[&str])] = &[
        ("翟测试", "翟", "ZHAI", &[]),
        ("阚测试", "阚", "KAN", &[]),
        ("澹台测试", "澹台", "TANTAI", &[]),
        ("尉测试", "尉", "WEI", &[]),
        ("尉迟测试", "尉迟", "YUCHI", &[]),
        ("秘测试", "秘", "BI", &[]),
        ("折测试", "折", "SHE", &[]),
        ("句测试", "句", "GOU", &[]),
        ("能测试", "能", "NAI", &[]),
        ("乜测试", "乜", "NIE", &[]),
        ("曾测试", "曾", "ZENG", &[]),
        ("单测试", "单", "SHAN", &[]),
        ("解测试", "解", "XIE", &[]),
        ("区测试", "区", "OU", &[]),
        ("仇测试", "仇", "QIU", &[]),
        ("朴测试", "朴", "PIAO", &[]),
        ("查测试", "查", "ZHA", &[]),
        ("万俟测试", "万俟", "MOQI", &[]),
        ("长孙测试", "长孙", "ZHANGSUN", &[]),
        ("令狐测试", "令狐", "LINGHU", &[]),
        ("单于测试", "单于", "CHANYU", &["SHAN"]),
        ("黑测试", "黑", "HE", &[]),
        ("冼测试", "冼", "XIAN", &[]),
        ("乐测试", "乐", "YUE", &["LE"]),
        ("盖测试", "盖", "GE", &["GAI"]),
        ("覃测试", "覃", "QIN", &["TAN"]),
        ("宓测试", "宓", "MI", &["FU"]),
        ("长测试", "长", "CHANG", &["ZHANG"]),
        ("卜测试", "卜", "BU", &[]),
        ("藏测试", "藏", "ZANG", &[]),
        ("闾丘测试", "闾丘", "LYUQIU", &[]),
        // A two-character name is one surname and one given name.
        ("单于", "单", "SHAN", &[]),
        // 单于飞 may be 单 + 于飞: both are suggested.
        ("单于测", "单于", "CHANYU", &["SHAN"]),
    ];

    #[test]
    fn published_surname_readings() {
        for &(name, surname, reading, others) in READINGS {
            let s = suggest(&ChineseName::parse(name).unwrap()).unwrap();
            assert_eq!(s.surname, surname, "{name}");
            assert_eq!(s.pinyin.surname(), reading, "{name}");
            assert_eq!(s.ambiguous, !others.is_empty(), "{name}");
            let alts: Vec<&str> = s.alternatives.iter().map(|a| a.surname()).collect();
            assert_eq!(alts, others, "{name}");
            if name.ends_with("测试") {
                assert_eq!(s.pinyin.given(), "CESHI", "{name}");
            }
        }
    }

    /// Given-name characters whose reading varies: the usual one, and each alternative
    /// changes one character.
    #[test]
    fn polyphonic_given_names_are_flagged() {
        let s = suggest(&ChineseName::parse("测长乐").unwrap()).unwrap();
        assert_eq!((s.pinyin.surname(), s.pinyin.given()), ("CE", "CHANGLE"));
        assert!(s.ambiguous);
        let alts: Vec<&str> = s.alternatives.iter().map(|a| a.given()).collect();
        assert_eq!(alts, ["ZHANGLE", "CHANGYUE"]);
        let plain = suggest(&ChineseName::parse("测试").unwrap()).unwrap();
        assert!(!plain.ambiguous && plain.alternatives.is_empty());
    }

    #[test]
    fn every_table_reading_is_plain_capitals_and_listed_once() {
        for (i, (surname, usual, others)) in SURNAMES.iter().enumerate() {
            assert!(SURNAMES[..i].iter().all(|(k, _, _)| k != surname), "{surname} twice");
            for r in std::iter::once(usual).chain(others.iter()) {
                assert!(!r.is_empty() && r.bytes().all(|b| b.is_ascii_uppercase()), "{surname}: {r}");
            }
            if surname.chars().count() == 2 {
                assert!(COMPOUND_SURNAMES.contains(surname), "{surname} is not in COMPOUND_SURNAMES");
            }
        }
    }

    #[test]
    fn debug_is_redacted() {
        let n = ChineseName::parse("测试").unwrap();
        assert!(!format!("{n:?}").contains("测试"));
    }
}
