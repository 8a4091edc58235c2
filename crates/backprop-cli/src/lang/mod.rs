//! The command line's words in English and in Russian (the course is taught in Russian): one
//! table per language ([`en`], [`ru`]), with the same keys in both (a test fails otherwise), and
//! `{name}` placeholders that [`tr!`] fills. Flag names, JSON keys, file formats and the library's
//! own names (activations, costs, update rules) stay English in both.
//!
//! The language is `--lang ru|en`, else the environment's (`LC_ALL`, then `LC_MESSAGES`, then
//! `LANG`: Russian when it starts with `ru`), as the web page takes the browser's.
//!
//! Out of scope so far: the library's error messages (and the notes it prints) speak English
//! whatever the language; only the `error:` prefix is translated.

mod en;
mod ru;

use std::sync::OnceLock;

/// A language of the command line's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// English.
    En,
    /// Russian.
    Ru,
}

static CURRENT: OnceLock<Lang> = OnceLock::new();

impl Lang {
    /// The language of the environment: `LC_ALL`, `LC_MESSAGES`, then `LANG` (the first one set
    /// and not empty), Russian for `ru…`, English otherwise.
    pub fn from_env() -> Lang {
        // A variable set to bytes that are not UTF-8 still counts as set (POSIX: a non-empty
        // LC_ALL overrides the others).
        let value = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(std::env::var_os)
            .map(|v| v.to_string_lossy().into_owned())
            .find(|v| !v.is_empty())
            .unwrap_or_default();
        if value.to_ascii_lowercase().starts_with("ru") {
            Lang::Ru
        } else {
            Lang::En
        }
    }

    fn table(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Lang::En => en::WORDS,
            Lang::Ru => ru::WORDS,
        }
    }
}

/// Sets the language for the rest of the run (the first call wins).
pub fn set(lang: Lang) {
    let _ = CURRENT.set(lang);
}

/// The language in use: the one [`set`], else the environment's.
pub fn current() -> Lang {
    *CURRENT.get_or_init(Lang::from_env)
}

/// The text of `key` in the current language, with each `{name}` replaced by its value.
pub fn fill(key: &str, values: &[(&str, String)]) -> String {
    fill_in(current(), key, values)
}

/// Words kept until they are shown: in the language in use for people ([`Phrase::text`]), in
/// English for JSON and files ([`Phrase::english`]), which stay English.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phrase {
    /// A message of the tables, with its values.
    Message(&'static str, Vec<(&'static str, String)>),
    /// Words that are the same in every language (a path, what a web page posted).
    Verbatim(String),
}

impl From<&str> for Phrase {
    fn from(text: &str) -> Self {
        Phrase::Verbatim(text.to_string())
    }
}

impl From<String> for Phrase {
    fn from(text: String) -> Self {
        Phrase::Verbatim(text)
    }
}

impl Phrase {
    pub fn new(key: &'static str, values: Vec<(&'static str, String)>) -> Self {
        Phrase::Message(key, values)
    }
    /// In the language in use.
    pub fn text(&self) -> String {
        self.fill(current())
    }
    /// In English, for JSON and files.
    pub fn english(&self) -> String {
        self.fill(Lang::En)
    }
    fn fill(&self, lang: Lang) -> String {
        match self {
            Phrase::Message(key, values) => fill_in(lang, key, values),
            Phrase::Verbatim(text) => text.clone(),
        }
    }
    /// [`Self::english`] when `english`, else [`Self::text`].
    pub fn render(&self, english: bool) -> String {
        if english {
            self.english()
        } else {
            self.text()
        }
    }
}

/// The text of `key` in `lang`, filled.
fn fill_in(lang: Lang, key: &str, values: &[(&str, String)]) -> String {
    let template = lookup(lang, key)
        .or_else(|| lookup(Lang::En, key))
        .unwrap_or(key);
    // One pass over the template: a value that holds `{…}` (LaTeX does) is never filled again.
    let mut text = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text += &rest[..open];
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            values
                .iter()
                .find(|(n, _)| *n == &after[..close])
                .map(|(_, v)| (close, v))
        });
        match value {
            Some((close, v)) => {
                text += v;
                rest = &after[close + 1..];
            }
            None => {
                text.push('{');
                rest = after;
            }
        }
    }
    text + rest
}

fn lookup(lang: Lang, key: &str) -> Option<&'static str> {
    lang.table()
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
}

/// `tr!("key", name = value, …)`: the text of `key` in the current language, filled.
macro_rules! tr {
    ($key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::lang::fill($key, &[$((stringify!($name), ($value).to_string())),*])
    };
}
pub(crate) use tr;

/// `phrase!("key", name = value, …)`: a [`Phrase`], shown later in either language.
macro_rules! phrase {
    ($key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::lang::Phrase::new($key, vec![$((stringify!($name), ($value).to_string())),*])
    };
}
pub(crate) use phrase;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn placeholders(text: &str) -> BTreeSet<String> {
        text.split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_string()))
            .collect()
    }

    /// Every message exists in both languages, once, with the same placeholders.
    #[test]
    fn both_tables_have_the_same_messages() {
        let keys = |lang: Lang| lang.table().iter().map(|(k, _)| *k).collect::<Vec<_>>();
        let (en, ru) = (keys(Lang::En), keys(Lang::Ru));
        let (en_set, ru_set): (BTreeSet<_>, BTreeSet<_>) =
            (en.iter().collect(), ru.iter().collect());
        assert_eq!(en.len(), en_set.len(), "a key twice in en.rs");
        assert_eq!(ru.len(), ru_set.len(), "a key twice in ru.rs");
        let only_en: Vec<_> = en_set.difference(&ru_set).collect();
        let only_ru: Vec<_> = ru_set.difference(&en_set).collect();
        assert!(
            only_en.is_empty() && only_ru.is_empty(),
            "only in en: {only_en:?}; only in ru: {only_ru:?}"
        );
        for key in en {
            let (e, r) = (
                lookup(Lang::En, key).unwrap(),
                lookup(Lang::Ru, key).unwrap(),
            );
            assert_eq!(placeholders(e), placeholders(r), "{key}");
            assert_ne!(e, r, "{key}: not translated");
        }
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            lookup(Lang::En, "train.saved").map(|t| t.replace("{path}", "m.safetensors")),
            Some("Saved m.safetensors".to_string())
        );
    }
}
