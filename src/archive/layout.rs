//! Archive layout: `<out>/<YYYY>/<MM>/<DD>/<document-id>.pdf`. The id is derived from the
//! sources' SHA-256 alone, so the same scans always map to the same id (re-ingest is a no-op)
//! and no sidecar value or file name can steer where a file is written.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use time::{OffsetDateTime, UtcOffset};

pub const CATALOG_FILE: &str = "catalog.sqlite";
pub const AUDIT_FILE: &str = "audit.jsonl";
pub const LOCK_FILE: &str = ".hozon.lock";

/// Japan Standard Time: archive folders use the local calendar date of the timestamp.
pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// Document id: 32 hex digits of SHA-256 over a domain tag and the ordered source hashes.
pub fn document_id(source_hashes: &[[u8; 32]]) -> String {
    let mut h = Sha256::new();
    h.update(b"hozon-document-v1\0");
    for s in source_hashes {
        h.update(s);
    }
    let d = h.finalize();
    hex::encode(&d[..16])
}

/// True when `s` looks like a document id (so it is safe as a file name).
pub fn is_document_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Relative path of a document's PDF for a timestamp time.
pub fn relative_pdf_path(id: &str, time: OffsetDateTime) -> String {
    let t = time.to_offset(JST);
    format!("{:04}/{:02}/{:02}/{id}.pdf", t.year(), u8::from(t.month()), t.day())
}

/// Join a catalog-relative path ('/' separated, no '..') to the archive root.
pub fn resolve(root: &Path, relative: &str) -> Option<PathBuf> {
    let mut p = root.to_path_buf();
    for part in relative.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains('\\') {
            return None;
        }
        p.push(part);
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_depends_on_content_and_order() {
        let a = [1u8; 32];
        let b = [2u8; 32];
        let id = document_id(&[a, b]);
        assert!(is_document_id(&id));
        assert_eq!(id, document_id(&[a, b]));
        assert_ne!(id, document_id(&[b, a]));
        assert_ne!(id, document_id(&[a]));
    }

    #[test]
    fn folder_is_the_japanese_calendar_date() {
        let t = crate::clock::parse_datetime("2026-11-26T16:30:00Z").unwrap();
        assert_eq!(relative_pdf_path("abc", t), "2026/11/27/abc.pdf");
    }

    #[test]
    fn resolve_refuses_escapes() {
        let r = Path::new("/arch");
        assert_eq!(
            resolve(r, "2026/11/27/x.pdf").unwrap(),
            PathBuf::from("/arch/2026/11/27/x.pdf")
        );
        assert!(resolve(r, "../etc/passwd").is_none());
        assert!(resolve(r, "2026//x").is_none());
    }
}
