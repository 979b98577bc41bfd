//! The operator's language: `--lang` values, and (as commands gain translations) that Japanese
//! output carries no English sentence from the code.

mod support;

use support::{hozon, text};

#[test]
fn unknown_lang_is_a_usage_error_before_anything_runs() {
    let t = tempfile::tempdir().unwrap();
    for (locale, expect) in [("C.UTF-8", "use ja or en"), ("ja_JP.UTF-8", "ja または en")] {
        let o = hozon(&["--lang", "fr", "status", "archive"], t.path(), &[("LANG", locale), ("LC_ALL", "")]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("[usage]") && err.contains(expect), "{}", text(&o));
    }
    assert!(!t.path().join("archive").exists(), "nothing may be created");
    for lang in ["ja", "en", "ja_JP.UTF-8", "EN"] {
        let o = hozon(&["--lang", lang, "status", "archive"], t.path(), &[]);
        assert_ne!(o.status.code(), Some(0), "no archive there: {}", text(&o));
        assert!(!String::from_utf8_lossy(&o.stderr).contains("[usage]"), "{lang}: {}", text(&o));
    }
}
