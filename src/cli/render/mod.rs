//! Human renderings of the reports of `hozon::ops`, one module per command. Every sentence comes
//! from the i18n catalogue (`i18n/en.toml`, `i18n/ja.toml`); codes, paths and numbers are shown
//! as they are. Renderers return strings and never print.

pub mod audit;
pub mod check;
pub mod correct;
pub mod ingest;
pub mod keys;
pub mod reindex;
pub mod renew;
pub mod status;
pub mod verify;

/// `text` padded to `cols` terminal columns (CJK characters take two).
pub fn pad(text: &str, cols: usize) -> String {
    let width: usize = text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
    format!("{text}{}", " ".repeat(cols.saturating_sub(width)))
}
