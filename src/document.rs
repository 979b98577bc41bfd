//! Documents and their sidecars: how an input folder becomes a list of documents (a subfolder is
//! one document with its pages in natural order; a top-level file is one document), and the
//! optional sidecar metadata (`<name>.json` beside a file, `document.json` inside a folder).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Name of the sidecar inside a document folder.
pub const FOLDER_SIDECAR: &str = "document.json";
/// Sidecars larger than this are refused (they hold a dozen short fields).
const MAX_SIDECAR_BYTES: u64 = 1 << 20;

/// Scanner used: `{"device": ..., "settings": ...}` or a plain description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Scanner {
    Device {
        device: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        settings: Option<String>,
    },
    Text(String),
}

/// The operator's attestation about the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// No sheets overlapped or were folded while scanning.
    pub no_overlap: bool,
    /// Nothing of the paper lies outside the scanned area.
    pub nothing_outside_scan_area: bool,
}

/// Sidecar metadata of one document. Every field is optional; unknown fields are errors.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sidecar {
    pub patient_id: Option<String>,
    pub document_type: Option<String>,
    /// Date the paper was created or received: `YYYY-MM-DD` or RFC 3339.
    pub document_date: Option<String>,
    pub scanned_by: Option<String>,
    /// RFC 3339 (or `YYYY-MM-DD`).
    pub scanned_at: Option<String>,
    pub scanner: Option<Scanner>,
    pub profile: Option<String>,
    /// 情報作成管理者.
    pub information_manager: Option<String>,
    pub plan_id: Option<String>,
    pub notes: Option<String>,
    /// Where the paper original is kept.
    pub paper_location: Option<String>,
    pub attestation: Option<Attestation>,
    /// 作業責任者.
    pub responsible: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
}

/// Why a sidecar is invalid: always names the field (or the file) at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SidecarError {
    /// The offending field, when one is at fault.
    pub field: Option<String>,
    pub message: String,
}

impl SidecarError {
    pub fn code(&self) -> &'static str {
        "sidecar-invalid"
    }
    fn field(field: &str, message: String) -> Self {
        SidecarError {
            field: Some(field.to_string()),
            message: format!("field `{field}`: {message}"),
        }
    }
    fn file(message: String) -> Self {
        SidecarError { field: None, message }
    }
}

const FIELDS: &[&str] = &[
    "patient_id",
    "document_type",
    "document_date",
    "scanned_by",
    "scanned_at",
    "scanner",
    "profile",
    "information_manager",
    "plan_id",
    "notes",
    "paper_location",
    "attestation",
    "responsible",
    "reason",
    "location",
];

impl Sidecar {
    /// Parse sidecar JSON. Errors name the first unknown or malformed field.
    pub fn parse(text: &str) -> Result<Sidecar, SidecarError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| SidecarError::file(format!("not valid JSON: {e}")))?;
        let serde_json::Value::Object(map) = &value else {
            return Err(SidecarError::file("a sidecar must be a JSON object".into()));
        };
        // Check field by field first, so the message can name the field (serde's type errors
        // only give a line and column).
        for (key, v) in map {
            if !FIELDS.contains(&key.as_str()) {
                return Err(SidecarError::field(
                    key,
                    format!("unknown field (known: {})", FIELDS.join(", ")),
                ));
            }
            let ok = match key.as_str() {
                "scanner" => serde_json::from_value::<Option<Scanner>>(v.clone())
                    .map(|_| ())
                    .map_err(|_| "expected a string or {\"device\": string, \"settings\": string}".to_string()),
                "attestation" => serde_json::from_value::<Option<Attestation>>(v.clone())
                    .map(|_| ())
                    .map_err(|e| {
                        format!("expected {{\"no_overlap\": bool, \"nothing_outside_scan_area\": bool}}: {e}")
                    }),
                _ => match v {
                    serde_json::Value::String(_) | serde_json::Value::Null => Ok(()),
                    other => Err(format!("expected a string, found {other}")),
                },
            };
            ok.map_err(|m| SidecarError::field(key, m))?;
        }
        let sc: Sidecar = serde_json::from_value(value).map_err(|e| SidecarError::file(e.to_string()))?;
        for (name, v) in [("document_date", &sc.document_date), ("scanned_at", &sc.scanned_at)] {
            if let Some(s) = v {
                if crate::clock::parse_datetime(s).is_none() {
                    return Err(SidecarError::field(
                        name,
                        format!("{s:?} is not YYYY-MM-DD or an RFC 3339 date-time"),
                    ));
                }
            }
        }
        for (name, v) in [
            ("patient_id", &sc.patient_id),
            ("profile", &sc.profile),
            ("plan_id", &sc.plan_id),
        ] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                return Err(SidecarError::field(name, "is empty".into()));
            }
        }
        Ok(sc)
    }

    /// Read and parse a sidecar file (size-bounded).
    pub fn load(path: &Path) -> Result<Sidecar, SidecarError> {
        let meta = std::fs::metadata(path).map_err(|e| SidecarError::file(format!("{}: {e}", path.display())))?;
        if meta.len() > MAX_SIDECAR_BYTES {
            return Err(SidecarError::file(format!(
                "{}: {} bytes is too large for a sidecar",
                path.display(),
                meta.len()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| SidecarError::file(format!("{}: {e}", path.display())))?;
        let text =
            String::from_utf8(bytes).map_err(|_| SidecarError::file(format!("{}: not UTF-8", path.display())))?;
        Sidecar::parse(&text).map_err(|e| SidecarError {
            message: format!("{}: {}", path.display(), e.message),
            ..e
        })
    }
}

/// One document to check and archive.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Folder or file name: a readable hint for the document's identity.
    pub id_hint: String,
    /// The document folder, or the file for a single-file document.
    pub root: PathBuf,
    /// Scan files in natural order (page2 before page10).
    pub sources: Vec<PathBuf>,
    /// Boxed: a batch keeps every discovered document, most without a sidecar.
    pub sidecar: Option<Box<Sidecar>>,
    pub sidecar_path: Option<PathBuf>,
    /// Set when a sidecar exists but is invalid (the document then fails with `sidecar-invalid`).
    pub sidecar_error: Option<String>,
}

/// Errors that stop discovery altogether (a path given on the command line is unusable).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoverError {
    #[error("{path}: no such file or folder")]
    NotFound { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl DiscoverError {
    pub fn code(&self) -> &'static str {
        match self {
            DiscoverError::NotFound { .. } => "input-not-found",
            DiscoverError::Io { .. } => "input-unreadable",
        }
    }
}

/// Documents found under `inputs`. A file is one document; a folder holding `document.json` is
/// one document; any other folder contributes one document per subfolder and per file in it.
/// Hidden entries (leading '.') and `.json` sidecars are never pages.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<Document>, DiscoverError> {
    let mut docs = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => DiscoverError::NotFound { path: input.clone() },
            _ => DiscoverError::Io {
                path: input.clone(),
                source: e,
            },
        })?;
        if meta.is_file() {
            docs.push(file_document(input));
        } else if input.join(FOLDER_SIDECAR).is_file() {
            docs.push(folder_document(input)?);
        } else {
            for entry in list(input)? {
                if entry.is_dir() {
                    docs.push(folder_document(&entry)?);
                } else if is_page_candidate(&entry) {
                    docs.push(file_document(&entry));
                }
            }
        }
    }
    Ok(docs)
}

/// Visible entries of a folder in natural order.
fn list(dir: &Path) -> Result<Vec<PathBuf>, DiscoverError> {
    let io = |e| DiscoverError::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if !is_hidden(&path) {
            out.push(path);
        }
    }
    out.sort_by(|a, b| natord::compare(&name_of(a), &name_of(b)));
    Ok(out)
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn is_hidden(p: &Path) -> bool {
    name_of(p).starts_with('.')
}

/// Files that may be pages: not hidden, not a JSON sidecar.
fn is_page_candidate(p: &Path) -> bool {
    let is_json = p
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    p.is_file() && !is_hidden(p) && !is_json
}

fn folder_document(dir: &Path) -> Result<Document, DiscoverError> {
    let sources = list(dir)?.into_iter().filter(|p| is_page_candidate(p)).collect();
    let sidecar_path = dir.join(FOLDER_SIDECAR);
    let mut doc = Document {
        id_hint: name_of(dir),
        root: dir.to_path_buf(),
        sources,
        sidecar: None,
        sidecar_path: None,
        sidecar_error: None,
    };
    attach_sidecar(&mut doc, sidecar_path.is_file().then_some(sidecar_path));
    Ok(doc)
}

fn file_document(file: &Path) -> Document {
    let mut doc = Document {
        id_hint: name_of(file),
        root: file.to_path_buf(),
        sources: vec![file.to_path_buf()],
        sidecar: None,
        sidecar_path: None,
        sidecar_error: None,
    };
    // `紹介状.png.json` or `紹介状.json` beside the file.
    let full = PathBuf::from(format!("{}.json", file.display()));
    let stem = file.with_extension("json");
    let found = [full, stem].into_iter().find(|p| p.is_file() && p != file);
    attach_sidecar(&mut doc, found);
    doc
}

fn attach_sidecar(doc: &mut Document, path: Option<PathBuf>) {
    if let Some(p) = path {
        match Sidecar::load(&p) {
            Ok(s) => doc.sidecar = Some(Box::new(s)),
            Err(e) => doc.sidecar_error = Some(e.message),
        }
        doc.sidecar_path = Some(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"{"patient_id":"P-000123","document_type":"診療録","document_date":"2026-11-26",
        "scanned_by":"山田 花子","scanned_at":"2026-11-26T10:00:00+09:00",
        "scanner":{"device":"fi-8170","settings":"300dpi カラー"},"profile":"chart",
        "information_manager":"佐藤 一郎","plan_id":null,"notes":"メモ","paper_location":"書庫A-3",
        "attestation":{"no_overlap":true,"nothing_outside_scan_area":true},"responsible":"鈴木 次郎",
        "reason":"スキャン","location":"診療情報管理室"}"#;

    #[test]
    fn full_japanese_sidecar_parses_and_round_trips() {
        let s = Sidecar::parse(FULL).unwrap();
        assert_eq!(s.scanned_by.as_deref(), Some("山田 花子"));
        assert_eq!(
            s.scanner,
            Some(Scanner::Device {
                device: "fi-8170".into(),
                settings: Some("300dpi カラー".into())
            })
        );
        assert_eq!(
            s.attestation,
            Some(Attestation {
                no_overlap: true,
                nothing_outside_scan_area: true
            })
        );
        let back = Sidecar::parse(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        let plain = Sidecar::parse(r#"{"scanner":"fi-8170 300dpi"}"#).unwrap();
        assert_eq!(plain.scanner, Some(Scanner::Text("fi-8170 300dpi".into())));
    }

    #[test]
    fn errors_name_the_field() {
        for (text, field) in [
            (r#"{"patient":"P-1"}"#, "patient"),
            (r#"{"patient_id":123}"#, "patient_id"),
            (r#"{"document_date":"26/11/2026"}"#, "document_date"),
            (r#"{"scanner":{"device":"x","dpi":300}}"#, "scanner"),
            (
                r#"{"attestation":{"no_overlap":"yes","nothing_outside_scan_area":true}}"#,
                "attestation",
            ),
            (r#"{"attestation":{"no_overlap":true}}"#, "attestation"),
            (r#"{"profile":"  "}"#, "profile"),
        ] {
            let e = Sidecar::parse(text).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{text}: {e}");
            assert!(e.message.contains(field));
            assert_eq!(e.code(), "sidecar-invalid");
        }
        assert_eq!(Sidecar::parse("[1]").unwrap_err().field, None);
        assert_eq!(Sidecar::parse("{").unwrap_err().field, None);
    }

    fn touch(p: &Path, content: &[u8]) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    #[test]
    fn discovers_folders_and_files_in_natural_order_with_sidecars() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        for n in ["page10.jpg", "page2.jpg", "page1.jpg", ".DS_Store", "notes.json"] {
            touch(&root.join("カルテ_001").join(n), b"x");
        }
        touch(&root.join("カルテ_001/document.json"), br#"{"patient_id":"P-000123"}"#);
        touch(&root.join("処方箋_0001.jpg"), b"x");
        touch(&root.join("処方箋_0001.json"), br#"{"profile":"prescription"}"#);
        touch(&root.join("bad.png"), b"x");
        touch(&root.join("bad.json"), br#"{"profil":"x"}"#);
        touch(&root.join(".hidden.jpg"), b"x");
        let docs = discover(&[root.to_path_buf()]).unwrap();
        let names: Vec<_> = docs.iter().map(|d| d.id_hint.as_str()).collect();
        assert_eq!(names, ["bad.png", "カルテ_001", "処方箋_0001.jpg"]);
        let chart = &docs[1];
        let pages: Vec<_> = chart.sources.iter().map(|p| name_of(p)).collect();
        assert_eq!(pages, ["page1.jpg", "page2.jpg", "page10.jpg"]);
        assert_eq!(chart.sidecar.as_ref().unwrap().patient_id.as_deref(), Some("P-000123"));
        assert_eq!(
            docs[2].sidecar.as_ref().unwrap().profile.as_deref(),
            Some("prescription")
        );
        assert!(docs[0].sidecar_error.as_deref().unwrap().contains("profil"));
        // A document folder given directly is one document; a file given directly is one too.
        let one = discover(&[root.join("カルテ_001")]).unwrap();
        assert_eq!((one.len(), one[0].sources.len()), (1, 3));
        let f = discover(&[root.join("処方箋_0001.jpg")]).unwrap();
        assert_eq!(
            f[0].sidecar_path.as_deref(),
            Some(root.join("処方箋_0001.json").as_path())
        );
        assert_eq!(discover(&[root.join("missing")]).unwrap_err().code(), "input-not-found");
    }
}
