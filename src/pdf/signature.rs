//! Signature and document-timestamp placeholders (PAdES): append a revision with a signature
//! field and a signature dictionary whose /ByteRange and /Contents are placeholders, patch the
//! /ByteRange, expose the covered bytes, then `finish` writes the CMS into /Contents.

use std::io::Write;

use time::OffsetDateTime;

use super::acroform::{add_signature_field, field_names, unique_field_name};
use super::error::{malformed, PdfError};
use super::file::PdfView;
use super::object::{write_object, Dict, Object};
use super::text::{pdf_date, text_string};
use super::writer::RevisionWriter;
use super::xref::{find, XrefChain};

/// Which kind of signature dictionary to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigKind {
    /// `/Type /Sig`, `/SubFilter /ETSI.CAdES.detached`.
    Cades,
    /// `/Type /DocTimeStamp`, `/SubFilter /ETSI.RFC3161`.
    DocTimestamp,
}

/// What to put in the signature dictionary.
#[derive(Debug, Clone)]
pub struct SignatureRequest {
    pub kind: SigKind,
    /// Signer's name (/Name), any script.
    pub name: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub contact_info: Option<String>,
    /// Claimed signing time (/M); ignored for document timestamps.
    pub signing_time: Option<OffsetDateTime>,
    /// Room for the DER container, in bytes.
    pub contents_len: usize,
}

/// Most room that may be reserved for one container.
pub const MAX_CONTENTS: usize = 16 << 20;

const BYTE_RANGE_PLACEHOLDER: &[u8] = b"/ByteRange [0000000000 0000000000 0000000000 0000000000]";

/// A document with placeholders in place and its /ByteRange patched: hash `covered()`, then
/// `finish` with the container. Nothing else can change it in between.
#[derive(Debug)]
pub struct PreparedSignature {
    bytes: Vec<u8>,
    base_len: usize,
    range: [usize; 4],
    room: usize,
    field_name: String,
}

impl PreparedSignature {
    pub fn byte_range(&self) -> [usize; 4] {
        self.range
    }

    /// The two byte ranges the signature covers.
    pub fn covered(&self) -> [&[u8]; 2] {
        let [_, a, b, c] = self.range;
        [&self.bytes[..a], &self.bytes[b..b + c]]
    }

    pub fn field_name(&self) -> &str {
        &self.field_name
    }

    /// Room for the container, in bytes.
    pub fn room(&self) -> usize {
        self.room
    }

    /// Write the DER container into /Contents (zero padded). Never truncates.
    pub fn finish(mut self, cms_der: &[u8]) -> Result<Vec<u8>, PdfError> {
        if cms_der.len() > self.room {
            return Err(PdfError::TooSmall {
                needed: cms_der.len(),
                room: self.room,
            });
        }
        let start = self.range[1] + 1;
        let hex = hex::encode_upper(cms_der);
        self.bytes[start..start + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(self.bytes)
    }

    /// The document as it was before `prepare_signature` (for a retry with more room).
    pub fn into_unsigned(mut self) -> Vec<u8> {
        self.bytes.truncate(self.base_len);
        self.bytes
    }
}

/// Append a signature (or document timestamp) revision with placeholders to `pdf`.
pub fn prepare_signature(pdf: Vec<u8>, req: &SignatureRequest) -> Result<PreparedSignature, PdfError> {
    if req.contents_len == 0 || req.contents_len > MAX_CONTENTS {
        return Err(PdfError::InvalidRequest(format!(
            "contents_len {} out of range",
            req.contents_len
        )));
    }
    let chain = XrefChain::parse(&pdf)?;
    let mut w = RevisionWriter::update_of(&pdf, &chain);
    let base_len = w.base_len();
    let (field_name, sig_offset) = {
        let view = PdfView::latest(&pdf, &chain)?;
        let field_name = unique_field_name(&field_names(&view)?);
        let sig = w.alloc();
        let sig_offset = w.write_raw_object(sig, &signature_dict(req));
        add_signature_field(&view, &mut w, &field_name, sig)?;
        (field_name, sig_offset)
    };
    let mut bytes = w.finish_update(pdf, Dict::new());
    let br =
        find(&bytes, BYTE_RANGE_PLACEHOLDER, sig_offset).ok_or_else(|| malformed("ByteRange placeholder not found"))?;
    let lt = find(&bytes, b"/Contents <", sig_offset).ok_or_else(|| malformed("Contents placeholder not found"))? + 10;
    let gt = lt + 1 + 2 * req.contents_len;
    if bytes.get(gt) != Some(&b'>') {
        return Err(malformed("Contents placeholder is not where expected"));
    }
    let range = [0, lt, gt + 1, bytes.len() - (gt + 1)];
    let mut patched = Vec::with_capacity(BYTE_RANGE_PLACEHOLDER.len());
    let _ = write!(patched, "/ByteRange [0 {} {} {}", range[1], range[2], range[3]);
    if patched.len() + 1 > BYTE_RANGE_PLACEHOLDER.len() {
        return Err(PdfError::Limit("file too large for the /ByteRange placeholder".into()));
    }
    patched.resize(BYTE_RANGE_PLACEHOLDER.len() - 1, b' ');
    patched.push(b']');
    bytes[br..br + patched.len()].copy_from_slice(&patched);
    Ok(PreparedSignature {
        bytes,
        base_len,
        range,
        room: req.contents_len,
        field_name,
    })
}

/// The signature dictionary with placeholders, serialised by hand so they stay fixed-width.
fn signature_dict(req: &SignatureRequest) -> Vec<u8> {
    let mut d = Vec::with_capacity(2 * req.contents_len + 512);
    let (ty, sub) = match req.kind {
        SigKind::Cades => ("Sig", "ETSI.CAdES.detached"),
        SigKind::DocTimestamp => ("DocTimeStamp", "ETSI.RFC3161"),
    };
    let _ = write!(d, "<</Type /{ty} /Filter /Adobe.PPKLite /SubFilter /{sub} ");
    d.extend_from_slice(BYTE_RANGE_PLACEHOLDER);
    d.extend_from_slice(b" /Contents <");
    d.resize(d.len() + 2 * req.contents_len, b'0');
    d.push(b'>');
    if req.kind == SigKind::Cades {
        if let Some(t) = req.signing_time {
            d.extend_from_slice(b" /M ");
            write_object(&mut d, &Object::Str(pdf_date(t).into_bytes()));
        }
    }
    let texts = [
        ("Name", &req.name),
        ("Reason", &req.reason),
        ("Location", &req.location),
        ("ContactInfo", &req.contact_info),
    ];
    for (key, value) in texts {
        if let Some(v) = value {
            let _ = write!(d, " /{key} ");
            write_object(&mut d, &text_string(v));
        }
    }
    d.extend_from_slice(b">>");
    d
}

#[cfg(test)]
#[path = "signature_tests.rs"]
pub(crate) mod tests;
