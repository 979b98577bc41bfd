//! Operator-facing messages in Japanese and English. The texts live in `i18n/en.toml` and
//! `i18n/ja.toml` (compiled in); code refers to them by key. Reason codes and JSON keys never
//! change with the language — only the sentences around them do.

use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ja,
}

impl Lang {
    /// `--lang` value, or the locale (LC_ALL, LC_MESSAGES, LANG) when none is given.
    pub fn pick(explicit: Option<&str>) -> Lang {
        if let Some(l) = explicit {
            return Self::parse(l).unwrap_or(Lang::En);
        }
        for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Ok(v) = std::env::var(var) {
                if !v.is_empty() {
                    return Self::parse(&v).unwrap_or(Lang::En);
                }
            }
        }
        Lang::En
    }

    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.to_ascii_lowercase();
        if s.starts_with("ja") {
            Some(Lang::Ja)
        } else if s.starts_with("en") || s == "c" || s == "posix" || s.starts_with("c.") {
            Some(Lang::En)
        } else {
            None
        }
    }
}

type Table = HashMap<String, String>;

fn load(text: &str) -> Table {
    // The files are part of the binary and covered by tests; a broken one yields no entries
    // (keys then print as themselves) rather than a crash.
    let v: toml::Table = toml::from_str(text).unwrap_or_default();
    let mut out = Table::new();
    flatten("", &v, &mut out);
    out
}

fn flatten(prefix: &str, t: &toml::Table, out: &mut Table) {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(inner) => flatten(&key, inner, out),
            _ => {}
        }
    }
}

fn table(lang: Lang) -> &'static Table {
    static EN: OnceLock<Table> = OnceLock::new();
    static JA: OnceLock<Table> = OnceLock::new();
    match lang {
        Lang::En => EN.get_or_init(|| load(include_str!("../i18n/en.toml"))),
        Lang::Ja => JA.get_or_init(|| load(include_str!("../i18n/ja.toml"))),
    }
}

/// The message for `key` with `{name}` placeholders filled from `args`. Falls back to English,
/// then to the key itself.
pub fn tr(lang: Lang, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    let template = table(lang)
        .get(key)
        .or_else(|| table(Lang::En).get(key))
        .map(String::as_str)
        .unwrap_or(key);
    let mut s = template.to_string();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), &value.to_string());
    }
    s
}

/// What to do about a reason code, if the tables know it.
pub fn advice(lang: Lang, code: &str) -> Option<String> {
    let key = format!("advice.{code}");
    table(lang).get(&key).or_else(|| table(Lang::En).get(&key)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys() {
        let en: std::collections::BTreeSet<_> = table(Lang::En).keys().collect();
        let ja: std::collections::BTreeSet<_> = table(Lang::Ja).keys().collect();
        assert!(!en.is_empty());
        let missing_ja: Vec<_> = en.difference(&ja).collect();
        let missing_en: Vec<_> = ja.difference(&en).collect();
        assert!(
            missing_ja.is_empty() && missing_en.is_empty(),
            "ja lacks {missing_ja:?}; en lacks {missing_en:?}"
        );
    }

    #[test]
    fn placeholders_are_filled() {
        let s = tr(Lang::Ja, "demo.banner", &[]);
        assert!(s.contains("法的"), "{s}");
        let s = tr(
            Lang::En,
            "ingest.summary",
            &[
                ("archived", &3),
                ("already", &1),
                ("rejected", &0),
                ("failed", &2),
                ("secs", &"1.5"),
                ("pps", &"10.0"),
            ],
        );
        assert!(s.contains('3') && s.contains("failed"), "{s}");
        assert!(!s.contains('{'), "{s}");
    }

    #[test]
    fn every_advice_placeholder_free() {
        for lang in [Lang::En, Lang::Ja] {
            for (k, v) in table(lang) {
                if k.starts_with("advice.") {
                    assert!(!v.contains('{'), "{k} has a placeholder");
                }
            }
        }
    }

    #[test]
    fn locale_picks_japanese() {
        assert_eq!(Lang::parse("ja_JP.UTF-8"), Some(Lang::Ja));
        assert_eq!(Lang::parse("C.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::pick(Some("ja")), Lang::Ja);
    }
}
