//! The PDF layer: lossless assembly of scans, signature and document-timestamp placeholders,
//! incremental revisions (DSS), and a bounded reader for verification. It knows nothing about
//! CMS or timestamps: it takes and returns bytes.

mod error;
mod file;
mod inflate;
mod object;
mod parse;
mod text;
mod writer;
mod xref;

pub use error::PdfError;
pub use text::{decode_text, parse_pdf_date, pdf_date};
mod assemble;
mod image;
mod metadata;

pub use assemble::{add_metadata, assemble, points};
pub use image::{jpeg_info, tiff_page_count, ImageKind, ImagePage, JpegInfo};
pub use metadata::{PdfMetadata, HOZON_XMP_NS};
mod pages;
#[cfg(test)]
mod peers;

pub use pages::{extract_page_images, page_count, PageImage};
mod acroform;
#[cfg(test)]
mod fixtures;
mod signature;

pub use signature::{prepare_signature, PreparedSignature, SigKind, SignatureRequest, MAX_CONTENTS};
mod dss;
mod reader;

pub use dss::{append_dss, read_dss, Validation};
pub use reader::{der_prefix, read_signatures, revisions, SignatureEntry};
mod changes;

pub use changes::{classify_changes, Change, ChangeKind};
#[cfg(test)]
mod interop_tests;
