//! Format detection by magic bytes, and whether the file name's extension agrees.

use std::path::Path;

use crate::config::FormatName;

/// The format of `bytes`, judged by content only.
pub fn sniff(bytes: &[u8]) -> Option<FormatName> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(FormatName::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(FormatName::Png);
    }
    if bytes.starts_with(b"II*\0")
        || bytes.starts_with(b"MM\0*")
        || bytes.starts_with(b"II+\0")
        || bytes.starts_with(b"MM\0+")
    {
        return Some(FormatName::Tiff);
    }
    // PDF readers accept junk before the header within the first kilobyte; so do we.
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Some(FormatName::Pdf);
    }
    None
}

/// True when the path's extension (case-insensitive) is one usually given to `format`.
pub fn extension_matches(path: &Path, format: FormatName) -> bool {
    let ext = match path.extension().and_then(|e| e.to_str()) {
        Some(e) => e.to_ascii_lowercase(),
        None => return false,
    };
    let known: &[&str] = match format {
        FormatName::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
        FormatName::Png => &["png"],
        FormatName::Tiff => &["tif", "tiff"],
        FormatName::Pdf => &["pdf"],
    };
    known.contains(&ext.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_magic() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(FormatName::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(FormatName::Png));
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Some(FormatName::Tiff));
        assert_eq!(sniff(b"MM\0*\0\0\0\x08"), Some(FormatName::Tiff));
        assert_eq!(sniff(b"junk\n%PDF-1.4\n"), Some(FormatName::Pdf));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn extension_check_is_case_insensitive_and_handles_japanese_names() {
        assert!(extension_matches(Path::new("処方箋_0001.JPG"), FormatName::Jpeg));
        assert!(extension_matches(Path::new("a.tif"), FormatName::Tiff));
        assert!(!extension_matches(Path::new("紹介状.jpg"), FormatName::Png));
        assert!(!extension_matches(Path::new("noext"), FormatName::Pdf));
    }
}
