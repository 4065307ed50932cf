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
        let mut text = self.0.get(lang.into(), key);
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

/// A translatable text: its key and placeholder values.
#[derive(Component, Debug, Clone, Default, PartialEq, Eq)]
pub struct Tr {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
    /// A domain message (a refusal, a service's name) shown instead of `key`.
    pub message: Option<Message>,
    /// Placeholders filled with the text of another key (a finger's name).
    pub keyed: Vec<(&'static str, &'static str)>,
    /// Placeholders filled with data that comes in both languages (a policy's reason list).
    pub bilingual: Vec<(&'static str, String, String)>,
}

impl Tr {
    pub fn new(key: &'static str) -> Tr {
        Tr { key, args: Vec::new(), message: None, keyed: Vec::new(), bilingual: Vec::new() }
    }

    /// The text of a domain message, in the language in force.
    pub fn message(message: Message) -> Tr {
        Tr { key: "", args: Vec::new(), message: Some(message), keyed: Vec::new(), bilingual: Vec::new() }
    }

    pub fn with(mut self, name: &'static str, value: impl ToString) -> Tr {
        self.args.push((name, value.to_string()));
        self
    }

    /// Fills `{name}` with the text of `key` in the language in force.
    pub fn with_key(mut self, name: &'static str, key: &'static str) -> Tr {
        self.keyed.push((name, key));
        self
    }

    /// Fills `{name}` with `zh` or `en`, whichever language is in force.
    pub fn with_texts(mut self, name: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Tr {
        self.bilingual.push((name, zh.into(), en.into()));
        self
    }

    pub fn render(&self, strings: &Strings, lang: Lang) -> String {
        if let Some(m) = &self.message {
            return strings.message(lang, m);
        }
        let mut args: Vec<(&str, String)> = self.args.iter().map(|(k, v)| (*k, v.clone())).collect();
        args.extend(self.keyed.iter().map(|(name, key)| (*name, strings.get(lang, key, &[]))));
        args.extend(
            self.bilingual.iter().map(|(name, zh, en)| (*name, if lang == Lang::Zh { zh.clone() } else { en.clone() })),
        );
        strings.get(lang, self.key, &args)
    }
}

pub fn plugin(app: &mut App) {
    app.insert_resource(Strings::embedded());
    app.init_resource::<Lang>();
    app.add_systems(PostUpdate, apply_translations);
}

/// Rewrites every text whose key, values or language changed.
fn apply_translations(lang: Res<Lang>, strings: Res<Strings>, mut texts: Query<(Ref<Tr>, &mut Text)>) {
    for (tr, mut text) in &mut texts {
        if lang.is_changed() || tr.is_changed() {
            let wanted = tr.render(&strings, *lang);
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
}
