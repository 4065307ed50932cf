//! Screen text in zh-CN and en, from `assets/locales/*.toml` (embedded).
//!
//! A text entity carries [`Tr`] with its key and placeholder values; when the language
//! changes, every such text is rewritten.

use bevy::prelude::*;

use doorstep_core::text::{Catalogue, Message};

use crate::settings::Lang;

/// Both languages' strings: the domain's catalogue of the locale files, which holds the
/// screens' texts as well as every error's.
#[derive(Resource, Debug, Clone, Copy)]
pub struct Strings(&'static Catalogue);

impl Strings {
    pub fn embedded() -> Strings {
        Strings(Catalogue::embedded())
    }

    pub fn keys(&self, lang: Lang) -> Vec<&str> {
        self.0.keys(lang.into())
    }

    /// The text for `key` with `{name}` placeholders filled in. A missing key shows itself.
    pub fn get(&self, lang: Lang, key: &str, args: &[(&str, String)]) -> String {
        // The English count's form first, from the values (never from what they filled in).
        let template = self.0.get(lang.into(), key);
        let value = |name: &str| args.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        let mut text = doorstep_core::text::fill_plurals(&template, value);
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// A domain message (an error, a warning) in `lang`.
    pub fn message(&self, lang: Lang, message: &Message) -> String {
        self.0.render(lang.into(), message)
    }
}

/// A locale key's words with its placeholders filled, in the language on screen (for what is
/// printed or saved, which is drawn outside the screen's text).
pub type Words<'a> = &'a dyn Fn(&'static str, &[(&str, String)]) -> String;

/// A translatable text: its key and placeholder values.
#[derive(Component, Debug, Clone, Default, PartialEq, Eq)]
pub struct Tr {
    pub key: &'static str,
    pub args: Vec<(&'static str, Arg)>,
    /// A domain message (a refusal, a service's name) shown instead of `key`.
    pub message: Option<Box<Message>>,
}

/// A placeholder's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    /// The text of another key (a finger's name), in the language in force.
    Key(&'static str),
    /// Data that comes in both languages (a policy's reason list): Chinese, English.
    Both(String, String),
}

impl Tr {
    pub fn new(key: &'static str) -> Tr {
        Tr { key, args: Vec::new(), message: None }
    }

    /// The text of a domain message, in the language in force.
    pub fn message(message: Message) -> Tr {
        Tr { key: "", args: Vec::new(), message: Some(Box::new(message)) }
    }

    pub fn with(mut self, name: &'static str, value: impl ToString) -> Tr {
        self.args.push((name, Arg::Text(value.to_string())));
        self
    }

    /// Fills `{name}` with the text of `key` in the language in force.
    pub fn with_key(mut self, name: &'static str, key: &'static str) -> Tr {
        self.args.push((name, Arg::Key(key)));
        self
    }

    /// Fills `{name}` with `arg`.
    pub fn with_arg(mut self, name: &'static str, arg: Arg) -> Tr {
        self.args.push((name, arg));
        self
    }

    /// Fills `{name}` with `zh` or `en`, whichever language is in force.
    pub fn with_texts(mut self, name: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Tr {
        self.args.push((name, Arg::Both(zh.into(), en.into())));
        self
    }

    pub fn render(&self, strings: &Strings, lang: Lang) -> String {
        if let Some(m) = &self.message {
            return strings.message(lang, m);
        }
        let args: Vec<(&str, String)> = self
            .args
            .iter()
            .map(|(name, arg)| {
                let value = match arg {
                    Arg::Text(t) => t.clone(),
                    Arg::Key(key) => strings.get(lang, key, &[]),
                    Arg::Both(zh, en) => if lang == Lang::Zh { zh } else { en }.clone(),
                };
                (*name, value)
            })
            .collect();
        strings.get(lang, self.key, &args)
    }
}

pub fn plugin(app: &mut App) {
    app.insert_resource(Strings::embedded());
    app.init_resource::<Lang>();
    app.add_systems(PostUpdate, apply_translations);
}

/// A text that starts with a capital in English (a button's words, a line's first word): the
/// same words inside a sentence do not ("Paid: ¥120.00 (cash)"; "right thumb" after "Next:").
#[derive(Component, Debug, Clone, Copy, Default)]
pub struct Capitalised;

/// `text` with its first letter a capital (Chinese has none: unchanged).
pub fn capitalised(text: String) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        _ => text,
    }
}

/// Rewrites every text whose key, values or language changed.
fn apply_translations(
    lang: Res<Lang>,
    strings: Res<Strings>,
    mut texts: Query<(Ref<Tr>, &mut Text, Option<&Capitalised>)>,
) {
    for (tr, mut text, capital) in &mut texts {
        if lang.is_changed() || tr.is_changed() {
            let wanted = tr.render(&strings, *lang);
            let wanted = if capital.is_some() { capitalised(wanted) } else { wanted };
            if text.0 != wanted {
                text.0 = wanted;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_missing_keys_show_themselves() {
        let s = Strings::embedded();
        assert_eq!(s.keys(Lang::Zh), s.keys(Lang::En));
        assert_eq!(s.get(Lang::Zh, "unlock.wrong", &[("n", "3".into())]), "PIN 码错误，还可尝试 3 次");
        assert_eq!(s.get(Lang::En, "no.such.key", &[]), "no.such.key");
    }

    #[test]
    fn a_capital_only_where_there_is_a_small_letter_first() {
        for (text, want) in [
            ("older person (60 or over)", "Older person (60 or over)"),
            ("Cash", "Cash"),
            ("现金", "现金"),
            ("", ""),
            ("★ very poor", "★ very poor"),
        ] {
            assert_eq!(capitalised(text.to_string()), want);
        }
    }

    /// A count's English word follows the count; Chinese has none to follow.
    #[test]
    fn a_count_is_said_in_the_singular_or_the_plural() {
        let s = Strings::embedded();
        let cases = [
            (Lang::En, "1", "Sync: 1 sealed application waiting for the hub"),
            (Lang::En, "3", "Sync: 3 sealed applications waiting for the hub"),
            (Lang::En, "0", "Sync: 0 sealed applications waiting for the hub"),
        ];
        for (lang, n, want) in cases {
            assert_eq!(s.get(lang, "home.sync.waiting", &[("n", n.into())]), want);
        }
        assert!(!s.get(Lang::Zh, "home.sync.waiting", &[("n", "1".into())]).contains(':'));
        // No English text is left with a count's word in "(s)" (a guardian or two is no
        // count), and every plural names a value the text shows.
        for key in s.keys(Lang::En) {
            let text = s.0.get(doorstep_core::Lang::En, key);
            assert!(!text.replace("guardian(s)", "").contains("(s)"), "{key}: {text}");
            for part in text.split('{').skip(1) {
                let Some((inside, _)) = part.split_once('}') else { continue };
                if let Some((name, forms)) = inside.split_once(':') {
                    assert!(forms.contains('|'), "{key}: {{{inside}}} is not one|other");
                    assert!(text.contains(&format!("{{{name}}}")), "{key}: a plural of {name} without {{{name}}}");
                }
            }
        }
    }
}
