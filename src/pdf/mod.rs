//! The PDF layer: lossless assembly of scans, signature and document-timestamp placeholders,
//! incremental revisions (DSS), and a bounded reader for verification. It knows nothing about
//! CMS or timestamps: it takes and returns bytes.
//!
//! Writing: `assemble` / `add_metadata` → `prepare_signature` → `PreparedSignature::finish`
//! → `append_dss` → `prepare_signature` (document timestamp) → ... Every update is appended;
//! earlier bytes are never touched. Reading: `revisions`, `read_signatures`, `read_dss`,
//! `classify_changes`, `page_count`, `extract_page_images`. Parsing is our own bounded parser
//! (nesting, xref size, inflate size, reference chains and cycles all capped).

// Core: object model, parsing, xref, views, writing.
mod error;
mod file;
mod inflate;
mod object;
mod parse;
mod text;
mod writer;
mod xref;

// Building documents.
mod acroform;
mod assemble;
mod dss;
mod image;
mod info;
mod metadata;
mod signature;

// Reading documents back.
mod changes;
mod pages;
mod reader;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod interop_tests;
#[cfg(test)]
mod peers;

pub use assemble::{add_metadata, assemble, points, REVISIONS_ROOM};
pub use changes::{classify_changes, Change, ChangeKind};
pub use dss::{append_dss, read_dss, Validation};
pub use error::PdfError;
pub use inflate::{inflated_bound, inflated_len, process_budget, InflateBudget, Reservation, DEFAULT_PROCESS_BUDGET};
pub use image::{jpeg_info, tiff_page_count, ImageKind, ImagePage, JpegInfo};
pub use info::read_info;
pub use metadata::{PdfMetadata, HOZON_XMP_NS};
pub use pages::{extract_page_images, page_count, PageImage};
pub use reader::{der_prefix, read_signatures, revisions, SignatureEntry};
pub use signature::{prepare_signature, PreparedSignature, SigKind, SignatureRequest, MAX_CONTENTS};
pub use text::{decode_text, parse_pdf_date, pdf_date};
