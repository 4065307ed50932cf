//! Screen text in zh-CN and en, from `assets/locales/*.toml` (embedded).
//!
//! A text entity carries [`Tr`] with its key and placeholder values; when the language
//! changes, every such text is rewritten.

use std::collections::HashMap;

use bevy::prelude::*;

use crate::settings::Lang;

const ZH: &str = include_str!("../../assets/locales/zh-CN.toml");
const EN: &str = include_str!("../../assets/locales/en.toml");

/// Both languages' strings, by key.
#[derive(Resource, Debug, Clone)]
pub struct Strings {
    zh: HashMap<String, String>,
    en: HashMap<String, String>,
}

impl Strings {
    /// Parses the embedded locale files. They are checked by tests, so a failure here is a
    /// build defect; it is reported and the keys themselves are shown instead.
    pub fn embedded() -> Strings {
        let parse = |name: &str, text: &str| -> HashMap<String, String> {
            toml::from_str(text).unwrap_or_else(|e| {
                error!("locale {name} is broken: {e}");
                HashMap::new()
            })
        };
        Strings { zh: parse("zh-CN", ZH), en: parse("en", EN) }
    }

    pub fn keys(&self, lang: Lang) -> Vec<&str> {
        let mut keys: Vec<&str> = self.table(lang).keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }

    fn table(&self, lang: Lang) -> &HashMap<String, String> {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// The text for `key` with `{name}` placeholders filled in. A missing key shows itself.
    pub fn get(&self, lang: Lang, key: &str, args: &[(&str, String)]) -> String {
        let mut text = self.table(lang).get(key).cloned().unwrap_or_else(|| key.to_string());
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

/// A translatable text: its key and placeholder values.
#[derive(Component, Debug, Clone, Default, PartialEq, Eq)]
pub struct Tr {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl Tr {
    pub fn new(key: &'static str) -> Tr {
        Tr { key, args: Vec::new() }
    }

    pub fn with(mut self, name: &'static str, value: impl ToString) -> Tr {
        self.args.push((name, value.to_string()));
        self
    }

    pub fn render(&self, strings: &Strings, lang: Lang) -> String {
        let args: Vec<(&str, String)> = self.args.iter().map(|(k, v)| (*k, v.clone())).collect();
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
    fn both_languages_have_the_same_keys_and_placeholders() {
        let s = Strings::embedded();
        let zh = s.keys(Lang::Zh);
        assert!(!zh.is_empty());
        assert_eq!(zh, s.keys(Lang::En));
        for key in zh {
            let holes = |lang| {
                let text = s.get(lang, key, &[]);
                let mut v: Vec<String> =
                    text.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(h, _)| h.to_string())).collect();
                v.sort();
                v
            };
            assert_eq!(holes(Lang::Zh), holes(Lang::En), "{key}");
        }
    }

    #[test]
    fn placeholders_are_filled_and_missing_keys_show_themselves() {
        let s = Strings::embedded();
        assert_eq!(s.get(Lang::Zh, "unlock.wrong", &[("n", "3".into())]), "PIN 码错误，还可尝试 3 次");
        assert_eq!(s.get(Lang::En, "no.such.key", &[]), "no.such.key");
    }
}
