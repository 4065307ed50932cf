//! Words a person reads: keys into the locale files, with typed arguments.
//!
//! Every error and every label the domain hands to a person is a [`Message`]: a key into
//! `assets/locales/{zh-CN,en}.toml` and the values its placeholders take. The texts live in
//! those two files once; this module only embeds them (no IO) and fills placeholders in. An
//! error's `Display` is its English text, so logs and `anyhow` chains read well, while screens
//! and the command line ask for the language the person chose.
//!
//! Tests assert on error values, never on these words.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;

const ZH: &str = include_str!("../../../assets/locales/zh-CN.toml");
const EN: &str = include_str!("../../../assets/locales/en.toml");

/// The two languages of the unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub enum Lang {
    /// 简体中文, the default.
    #[default]
    Zh,
    En,
}

/// A placeholder's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Arg {
    /// Shown as it is (a number, a code, a date).
    Plain(String),
    /// Another key, shown in the same language (a document's or a step's name).
    Key(&'static str),
    /// A whole message, shown in the same language.
    Message(Box<Message>),
    /// Several values, joined as the language joins a list (、 or ", ").
    List(Vec<Arg>),
    /// Words from a policy file, which carries both languages itself: (zh, en).
    Bilingual(String, String),
    /// A name kept in a record (a photo check's), shown by its key `prefix` + `name` where
    /// the locale files have one, else as it is.
    Named { prefix: &'static str, name: String },
}

impl Arg {
    /// Photo checks by name (`face_width`), as a list of their names in the language shown.
    pub fn photo_checks(names: &[String]) -> Arg {
        Arg::List(names.iter().map(|n| Arg::Named { prefix: "photo.check.", name: n.clone() }).collect())
    }
}

impl From<&str> for Arg {
    fn from(value: &str) -> Arg {
        Arg::Plain(value.to_string())
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Arg {
        Arg::Plain(value)
    }
}

impl From<Message> for Arg {
    fn from(value: Message) -> Arg {
        Arg::Message(Box::new(value))
    }
}

macro_rules! arg_from_number {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(value: $t) -> Arg {
                Arg::Plain(value.to_string())
            }
        }
    )*};
}
arg_from_number!(u8, u16, u32, u64, usize, i32, i64, char);

impl From<time::Date> for Arg {
    fn from(value: time::Date) -> Arg {
        Arg::Plain(crate::format_date(value))
    }
}

/// A text for a person: a key and its placeholders' values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub key: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

impl Message {
    pub fn new(key: &'static str) -> Message {
        Message { key, args: Vec::new() }
    }

    /// Adds the value of placeholder `{name}`.
    pub fn with(mut self, name: &'static str, value: impl Into<Arg>) -> Message {
        self.args.push((name, value.into()));
        self
    }

    /// Adds a placeholder whose value is another key (a name from the locale files).
    pub fn with_key(mut self, name: &'static str, key: &'static str) -> Message {
        self.args.push((name, Arg::Key(key)));
        self
    }

    /// The text in `lang`.
    pub fn render(&self, lang: Lang) -> String {
        Catalogue::embedded().render(lang, self)
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

/// Something with a text for a person: errors, refusals, warnings.
pub trait Localize {
    fn message(&self) -> Message;

    fn render(&self, lang: Lang) -> String {
        self.message().render(lang)
    }
}

impl Localize for Message {
    fn message(&self) -> Message {
        self.clone()
    }
}

/// Implements `Display` (the English text) and `std::error::Error` for a [`Localize`] type.
#[macro_export]
macro_rules! localized_error {
    ($($t:ty),* $(,)?) => {$(
        impl ::std::fmt::Display for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&$crate::text::Localize::render(self, $crate::text::Lang::En))
            }
        }
        impl ::std::error::Error for $t {}
    )*};
}

/// The texts of both languages, by key.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    zh: HashMap<String, String>,
    en: HashMap<String, String>,
}

/// A locale file that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueError {
    pub file: &'static str,
    pub detail: String,
}

impl Catalogue {
    /// The embedded locale files, parsed once. They are checked by the test suite; should
    /// one ever fail to parse, keys show in place of texts rather than the unit stopping.
    pub fn embedded() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| Catalogue::parse(ZH, EN).unwrap_or_default())
    }

    pub fn parse(zh: &str, en: &str) -> Result<Catalogue, CatalogueError> {
        let table = |file: &'static str, text: &str| {
            toml::from_str::<HashMap<String, String>>(text)
                .map_err(|e| CatalogueError { file, detail: e.message().to_string() })
        };
        Ok(Catalogue { zh: table("zh-CN.toml", zh)?, en: table("en.toml", en)? })
    }

    /// The embedded locale files as text, for the tests that check them.
    pub fn embedded_sources() -> (&'static str, &'static str) {
        (ZH, EN)
    }

    pub fn keys(&self, lang: Lang) -> Vec<&str> {
        let mut keys: Vec<&str> = self.table(lang).keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }

    pub fn contains(&self, lang: Lang, key: &str) -> bool {
        self.table(lang).contains_key(key)
    }

    fn table(&self, lang: Lang) -> &HashMap<String, String> {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// The raw text of `key`, or the key itself when it is missing.
    pub fn get(&self, lang: Lang, key: &str) -> String {
        self.table(lang).get(key).cloned().unwrap_or_else(|| key.to_string())
    }

    /// Fills the placeholders in one pass over the text: a value that itself holds `{x}`
    /// is shown as it is, never filled in again.
    pub fn render(&self, lang: Lang, message: &Message) -> String {
        let value = |name: &str| message.args.iter().find(|(n, _)| *n == name).map(|(_, v)| self.render_arg(lang, v));
        fill_braces(&self.get(lang, message.key), |inside| value(inside).or_else(|| plural(inside, value)))
    }

    fn render_arg(&self, lang: Lang, arg: &Arg) -> String {
        match arg {
            Arg::Plain(s) => s.clone(),
            Arg::Key(k) => self.get(lang, k),
            Arg::Named { prefix, name } => {
                self.table(lang).get(&format!("{prefix}{name}")).cloned().unwrap_or_else(|| name.clone())
            }
            Arg::Message(m) => self.render(lang, m),
            Arg::Bilingual(zh, en) => {
                if lang == Lang::Zh {
                    zh.clone()
                } else {
                    en.clone()
                }
            }
            Arg::List(items) => {
                let sep = if lang == Lang::Zh { "、" } else { ", " };
                items.iter().map(|a| self.render_arg(lang, a)).collect::<Vec<_>>().join(sep)
            }
        }
    }
}

/// A count's word in English, `{n:application|applications}`: the first form when the value
/// of `n` is 1, the second otherwise (Chinese has no plural and never writes one). `None`
/// when `spec` is not that shape or names no value.
pub fn plural(spec: &str, value: impl Fn(&str) -> Option<String>) -> Option<String> {
    let (name, forms) = spec.split_once(':')?;
    let (one, other) = forms.split_once('|')?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some(if value(name)?.trim() == "1" { one } else { other }.to_string())
}

/// A count and its English word, for the command line's own English lines (the screens' and
/// the messages' words are in the locale files): "1 application", "3 applications".
pub fn counted(n: impl Into<u64>, one: &str, other: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { other })
}

/// Every `{n:one|other}` in `template` replaced by its form (see [`plural`]); everything else
/// as it is. For a renderer that fills plain placeholders by itself (the screens').
pub fn fill_plurals(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    fill_braces(template, |inside| plural(inside, &value))
}

/// One pass over `template`: each `{…}` that `fill` gives words for is replaced by them, the
/// rest left as it is (so a value holding braces is never filled in again).
fn fill_braces(template: &str, fill: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| fill(&after[..close]).map(|text| (close, text))) {
            Some((close, text)) => {
                out.push_str(&text);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholders of a text, sorted: `{n}` and `{date}` in "{n} days from {date}".
pub fn placeholders(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .split('{')
        .skip(1)
        .filter_map(|p| p.split_once('}').map(|(h, _)| h.to_string()))
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys_and_placeholders() {
        let c = Catalogue::parse(ZH, EN).expect("the locale files parse");
        let zh = c.keys(Lang::Zh);
        assert!(zh.len() > 100, "{} keys", zh.len());
        assert_eq!(zh, c.keys(Lang::En));
        for key in zh {
            assert_eq!(placeholders(&c.get(Lang::Zh, key)), placeholders(&c.get(Lang::En, key)), "{key}");
        }
    }

    /// Every key the crate names (a string literal starting with a known namespace) is in
    /// both locale files, so no person ever reads a bare key.
    #[test]
    fn every_key_in_the_source_has_both_texts() {
        const NAMESPACES: &[&str] = &[
            "error.",
            "warning.",
            "flag.",
            "step.",
            "event.",
            "document.",
            "doc.",
            "reason.",
            "entries.",
            "validity.",
            "service.",
            "form.",
            "region.",
            "endorsement.",
            "condition.",
            "mrz.field.",
            "field.",
            "payment.",
            "delivery.",
            "mode.",
            "relation.",
            "id-document.",
            "finger.",
            "no-print.",
            "fingerprint.",
            "feedback.kind.",
            "rule.",
        ];
        let c = Catalogue::parse(ZH, EN).unwrap();
        let mut files = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")];
        let mut checked = 0;
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for literal in text.split('"').skip(1).step_by(2) {
                let is_key = NAMESPACES.iter().any(|n| literal.starts_with(n))
                    && literal.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                    && !literal.ends_with(".toml")
                    && !literal.ends_with('.');
                if is_key {
                    checked += 1;
                    for lang in [Lang::Zh, Lang::En] {
                        assert!(c.contains(lang, literal), "{literal} ({}) has no {lang:?} text", path.display());
                    }
                }
            }
        }
        assert!(checked > 250, "only {checked} keys found: is the scan broken?");
    }

    #[test]
    fn placeholders_are_filled_nested_and_listed() {
        let c = Catalogue::parse(
            "a = \"{x} 与 {y}\"\nb = \"护照\"\nl = \"缺少：{items}\"",
            "a = \"{x} and {y}\"\nb = \"passport\"\nl = \"missing: {items}\"",
        )
        .unwrap();
        let m = Message { key: "a", args: vec![("x", Arg::Key("b")), ("y", 3u32.into())] };
        assert_eq!(c.render(Lang::Zh, &m), "护照 与 3");
        assert_eq!(c.render(Lang::En, &m), "passport and 3");
        let l = Message::new("l").with("items", Arg::List(vec![Arg::Key("b"), "x".into()]));
        assert_eq!(c.render(Lang::Zh, &l), "缺少：护照、x");
        assert_eq!(c.render(Lang::En, &l), "missing: passport, x");
        assert_eq!(c.render(Lang::En, &Message::new("nope")), "nope");
        // A value holding a placeholder's spelling is shown as it is.
        let m = Message { key: "a", args: vec![("x", "{y}".into()), ("y", "2".into())] };
        assert_eq!(c.render(Lang::En, &m), "{y} and 2");
    }

    #[test]
    fn a_count_takes_its_english_form() {
        let c =
            Catalogue::parse("a = \"{n} 件\"", "a = \"{n} {n:application|applications} ({n:is|are} {m:x})\"").unwrap();
        let cases =
            [(0u32, "0 applications (are {m:x})"), (1, "1 application (is {m:x})"), (2, "2 applications (are {m:x})")];
        for (n, want) in cases {
            assert_eq!(c.render(Lang::En, &Message::new("a").with("n", n)), want, "{n}");
        }
        assert_eq!(c.render(Lang::Zh, &Message::new("a").with("n", 1u32)), "1 件");
        // The screens' renderer: the same choice, nothing else touched.
        let value = |n: &str| (n == "n").then(|| "1".to_string());
        let table = [
            ("{n} {n:visit|visits}", "{n} visit"),
            ("{n:a|b}{n:c|d}", "ac"),
            ("{x:a|b} {n:a} {n:|s} {:a|b} {n", "{x:a|b} {n:a}  {:a|b} {n"),
        ];
        for (template, want) in table {
            assert_eq!(fill_plurals(template, value), want, "{template}");
        }
        assert_eq!(placeholders("{n} {n:a|b}"), vec!["n"], "a plural is not a placeholder of its own");
        let said: Vec<String> = [0u32, 1, 2].iter().map(|&n| counted(n, "face", "faces")).collect();
        assert_eq!(said, ["0 faces", "1 face", "2 faces"]);
    }
}
