//! The verifier's view of a PDF: its revisions, and every signature or document timestamp
//! from any producer, with the /ByteRange checked against the file's bytes. Bounded: hostile
//! files give errors, never panics or unbounded work.

use std::collections::HashSet;

use time::OffsetDateTime;

use super::error::{malformed, PdfError};
use super::file::PdfView;
use super::object::{Dict, Object};
use super::signature::SigKind;
use super::text::{decode_text, parse_pdf_date};
use super::xref::XrefChain;

/// One signature field's value.
#[derive(Debug, Clone)]
pub struct SignatureEntry {
    /// Fully qualified field name.
    pub field_name: String,
    pub kind: SigKind,
    pub sub_filter: Option<String>,
    /// Validated: `[0, a, b, c]` with the gap `a..b` exactly the `<hex>` /Contents string.
    pub byte_range: [usize; 4],
    /// /Contents decoded, trailing zero padding kept (see `der`).
    pub contents: Vec<u8>,
    /// /M as written, and parsed.
    pub m_raw: Option<String>,
    pub signing_time: Option<OffsetDateTime>,
    pub name: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub contact_info: Option<String>,
    /// Index into `revisions()` of the revision this signature covers (ends at `b + c`), if any.
    pub revision: Option<usize>,
}

impl SignatureEntry {
    /// End of the bytes covered (`b + c`).
    pub fn covered_end(&self) -> usize {
        self.byte_range[2] + self.byte_range[3]
    }

    /// The DER container without the zero padding: cut at the outer TLV's encoded length.
    pub fn der(&self) -> &[u8] {
        der_prefix(&self.contents)
    }

    /// The two covered slices of `pdf` (which must be the file this entry was read from).
    pub fn covered<'a>(&self, pdf: &'a [u8]) -> [&'a [u8]; 2] {
        let [_, a, b, c] = self.byte_range;
        [pdf.get(..a).unwrap_or(&[]), pdf.get(b..b + c).unwrap_or(&[])]
    }
}

/// `data` cut to the length its outer DER header declares (all of it when undecidable).
pub fn der_prefix(data: &[u8]) -> &[u8] {
    let total = match data {
        [_, l, ..] if *l < 0x80 => Some(2 + usize::from(*l)),
        [_, l, rest @ ..] if (0x81..=0x84).contains(l) => {
            let n = usize::from(l - 0x80);
            rest.get(..n)
                .map(|bytes| 2 + n + bytes.iter().fold(0usize, |acc, b| acc << 8 | usize::from(*b)))
        }
        _ => None,
    };
    match total {
        Some(t) if t <= data.len() => &data[..t],
        _ => data,
    }
}

/// End offsets of the file's revisions, oldest first (distinct, increasing).
pub fn revisions(pdf: &[u8]) -> Result<Vec<usize>, PdfError> {
    Ok(revision_ends(&XrefChain::parse(pdf)?))
}

pub(crate) fn revision_ends(chain: &XrefChain) -> Vec<usize> {
    // A section that starts before the previous revision's end is part of that revision
    // (the first-page section of a linearized file), not a later update.
    let mut ends: Vec<usize> = Vec::new();
    for s in &chain.sections {
        match ends.last_mut() {
            Some(last) if s.offset < *last => *last = (*last).max(s.end),
            _ => ends.push(s.end),
        }
    }
    ends
}

/// Every signature and document timestamp of the latest revision's form.
pub fn read_signatures(pdf: &[u8]) -> Result<Vec<SignatureEntry>, PdfError> {
    let chain = XrefChain::parse(pdf)?;
    let view = PdfView::latest(pdf, &chain)?;
    let ends = revision_ends(&chain);
    let (_, cat) = view.catalog()?;
    let mut out = Vec::new();
    let Some(form) = view.get_key(&cat, "AcroForm")? else {
        return Ok(out);
    };
    let form = form
        .as_dict()
        .cloned()
        .ok_or_else(|| malformed("/AcroForm is not a dictionary"))?;
    let fields = match view.get_key(&form, "Fields")? {
        Some(Object::Array(f)) => f,
        None => return Ok(out),
        Some(_) => return Err(malformed("/Fields is not an array")),
    };
    let mut seen = HashSet::new();
    for f in &fields {
        walk(&view, f, "", None, 0, &mut seen, &ends, &mut out)?;
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn walk(
    view: &PdfView,
    f: &Object,
    prefix: &str,
    inherited_ft: Option<&[u8]>,
    depth: usize,
    seen: &mut HashSet<u32>,
    ends: &[usize],
    out: &mut Vec<SignatureEntry>,
) -> Result<(), PdfError> {
    if depth > super::parse::MAX_DEPTH {
        return Err(malformed("form field tree too deep"));
    }
    if let Some(id) = f.as_ref_id() {
        if !seen.insert(id.0) {
            return Err(malformed("cyclic form field tree"));
        }
    }
    let d = view.dict_at(f, "form field")?;
    let part = d.get("T").and_then(Object::as_string).map(decode_text);
    let name = match (&part, prefix.is_empty()) {
        (Some(p), true) => p.clone(),
        (Some(p), false) => format!("{prefix}.{p}"),
        (None, _) => prefix.to_string(),
    };
    let ft = d.get("FT").and_then(Object::as_name).map(<[u8]>::to_vec);
    let ft = ft.as_deref().or(inherited_ft);
    if ft == Some(b"Sig") {
        if let Some(v) = view.get_key(&d, "V")? {
            let v = v
                .as_dict()
                .cloned()
                .ok_or_else(|| malformed(format!("signature value of {name} is not a dictionary")))?;
            out.push(entry(view, &name, &v, ends)?);
        }
    }
    if let Some(Object::Array(kids)) = view.get_key(&d, "Kids")? {
        for k in &kids {
            walk(view, k, &name, ft, depth + 1, seen, ends, out)?;
        }
    }
    Ok(())
}

fn entry(view: &PdfView, field: &str, v: &Dict, ends: &[usize]) -> Result<SignatureEntry, PdfError> {
    let text = |k: &str| -> Result<Option<String>, PdfError> {
        Ok(view
            .get_key(v, k)?
            .as_ref()
            .and_then(Object::as_string)
            .map(decode_text))
    };
    let sub_filter = v
        .get("SubFilter")
        .and_then(Object::as_name)
        .map(|n| String::from_utf8_lossy(n).into_owned());
    let kind = if v.name_is("Type", "DocTimeStamp") || sub_filter.as_deref() == Some("ETSI.RFC3161") {
        SigKind::DocTimestamp
    } else {
        SigKind::Cades
    };
    let contents = match view.get_key(v, "Contents")? {
        Some(Object::Hex(c) | Object::Str(c)) => c,
        _ => return Err(PdfError::BadByteRange(format!("{field}: no /Contents string"))),
    };
    let byte_range = check_byte_range(view.bytes, field, view.get_key(v, "ByteRange")?, &contents)?;
    let m_raw = text("M")?;
    let end = byte_range[2] + byte_range[3];
    Ok(SignatureEntry {
        field_name: field.to_string(),
        kind,
        sub_filter,
        byte_range,
        signing_time: m_raw.as_deref().and_then(parse_pdf_date),
        m_raw,
        contents,
        name: text("Name")?,
        reason: text("Reason")?,
        location: text("Location")?,
        contact_info: text("ContactInfo")?,
        revision: ends.iter().position(|e| {
            *e == end
                || e.checked_sub(end)
                    .is_some_and(|d| d <= 2 && trailing_eol(view.bytes, end, *e))
        }),
    })
}

/// Whether `pdf[from..to]` is only end-of-line bytes (a signer that excluded the final EOL).
fn trailing_eol(pdf: &[u8], from: usize, to: usize) -> bool {
    pdf.get(from..to)
        .is_some_and(|s| s.iter().all(|b| matches!(b, b'\r' | b'\n')))
}

/// Validate a /ByteRange: four non-negative integers, starting at 0, inside the file, one gap,
/// and the gap is exactly the hexadecimal /Contents string, brackets included.
fn check_byte_range(pdf: &[u8], field: &str, br: Option<Object>, contents: &[u8]) -> Result<[usize; 4], PdfError> {
    let bad = |m: &str| PdfError::BadByteRange(format!("{field}: {m}"));
    let arr = match br {
        Some(Object::Array(a)) => a,
        _ => return Err(bad("missing or not an array")),
    };
    let nums: Vec<usize> = arr
        .iter()
        .map(|o| o.as_int().and_then(|i| usize::try_from(i).ok()))
        .collect::<Option<_>>()
        .ok_or_else(|| bad("entries must be non-negative integers"))?;
    let [s, a, b, c] = nums[..] else {
        return Err(bad(&format!("{} numbers instead of 4", nums.len())));
    };
    if s != 0 {
        return Err(bad("does not start at 0"));
    }
    let end = b.checked_add(c).ok_or_else(|| bad("overflow"))?;
    if a >= b || end > pdf.len() {
        return Err(bad("ranges overlap or lie outside the file"));
    }
    let gap = &pdf[a..b];
    let inner = match gap {
        [b'<', inner @ .., b'>'] => inner,
        _ => return Err(bad("gap is not a <hex> string")),
    };
    if !inner.iter().all(u8::is_ascii_hexdigit) {
        return Err(bad("gap is not only the hex /Contents string"));
    }
    // The gap must be this signature's own /Contents, not some other string.
    if inner.len() != contents.len() * 2 || hex::decode(inner).ok().as_deref() != Some(contents) {
        return Err(bad("gap does not hold this signature's /Contents"));
    }
    Ok([s, a, b, c])
}

#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;
