//! Cross-reference sections (classic tables and xref streams), followed through `/Prev` from
//! `startxref`: one `Section` per revision, with that revision's end offset in the file.

use std::collections::HashSet;

use super::error::{malformed, PdfError};
use super::inflate::{decode_stream, MAX_STREAM};
use super::object::{Dict, Object};
use super::parse::{parse_indirect, Indirect, Parser};

/// Most objects a file may declare across all its xref sections.
pub const MAX_OBJECTS: usize = 1_000_000;
/// Most revisions (xref sections) followed.
pub const MAX_SECTIONS: usize = 4096;

/// Where an object lives according to one xref section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Free,
    InFile { offset: usize },
    InStream { stream: u32, index: usize },
}

/// One cross-reference section with its trailer.
#[derive(Debug, Clone)]
pub struct Section {
    /// Offset of the `xref` keyword or of the xref stream object.
    pub offset: usize,
    pub trailer: Dict,
    pub entries: Vec<(u32, Entry)>,
    /// Whether this section is an xref stream (new revisions copy the style).
    pub is_stream: bool,
    /// End of the revision: just after the `%%EOF` (and its end-of-line) that follows.
    pub end: usize,
}

/// All sections of a file, oldest first.
#[derive(Debug, Clone)]
pub struct XrefChain {
    pub sections: Vec<Section>,
}

impl XrefChain {
    pub fn parse(src: &[u8]) -> Result<XrefChain, PdfError> {
        // The header may follow a little junk (some scanners prepend bytes).
        if find(&src[..src.len().min(1024)], b"%PDF-", 0).is_none() {
            return Err(malformed("no %PDF- header"));
        }
        let mut offset = find_startxref(src)?;
        let mut seen = HashSet::new();
        let mut sections = Vec::new();
        let mut total = 0usize;
        loop {
            if !seen.insert(offset) {
                return Err(malformed(format!("cyclic /Prev chain at offset {offset}")));
            }
            if sections.len() >= MAX_SECTIONS {
                return Err(PdfError::Limit(format!("more than {MAX_SECTIONS} xref sections")));
            }
            let section = parse_section(src, offset, &mut total)?;
            let prev = match section.trailer.get("Prev") {
                None => None,
                Some(Object::Int(p)) if *p >= 0 => Some(*p as usize),
                Some(_) => return Err(malformed("bad /Prev")),
            };
            sections.push(section);
            match prev {
                Some(p) => offset = p,
                None => break,
            }
        }
        sections.reverse();
        Ok(XrefChain { sections })
    }

    pub fn latest(&self) -> &Section {
        // `parse` never returns an empty chain.
        &self.sections[self.sections.len() - 1]
    }

    /// The highest object number in use plus one (for numbering new objects).
    pub fn next_object_number(&self) -> u32 {
        let from_size = self
            .latest()
            .trailer
            .get("Size")
            .and_then(Object::as_int)
            .unwrap_or(0)
            .max(0) as u64;
        let from_entries = self
            .sections
            .iter()
            .flat_map(|s| s.entries.iter())
            .map(|(n, _)| u64::from(*n) + 1)
            .max()
            .unwrap_or(0);
        from_size.max(from_entries).min(u64::from(u32::MAX)) as u32
    }
}

fn find_startxref(src: &[u8]) -> Result<usize, PdfError> {
    let tail_start = src.len().saturating_sub(64 << 10);
    let tail = &src[tail_start..];
    let at = rfind(tail, b"startxref").ok_or_else(|| malformed("no startxref"))?;
    let mut p = Parser::new(src, tail_start + at + 9);
    let off = p.parse_uint()?;
    usize::try_from(off)
        .ok()
        .filter(|o| *o < src.len())
        .ok_or_else(|| malformed("startxref beyond end of file"))
}

fn parse_section(src: &[u8], offset: usize, total: &mut usize) -> Result<Section, PdfError> {
    if offset >= src.len() {
        return Err(malformed(format!("xref offset {offset} beyond end of file")));
    }
    let mut p = Parser::new(src, offset);
    p.skip_ws();
    let (trailer, mut entries, is_stream) = if src[p.pos..].starts_with(b"xref") {
        p.pos += 4;
        let entries = parse_table(&mut p, total)?;
        p.expect_keyword("trailer")?;
        let trailer = match p.parse_object(0)? {
            Object::Dict(d) => d,
            _ => return Err(malformed("trailer is not a dictionary")),
        };
        (trailer, entries, false)
    } else {
        let (trailer, entries) = parse_xref_stream(src, offset, total)?;
        (trailer, entries, true)
    };
    // Hybrid files: a table plus an xref stream for compressed objects.
    if let Some(Object::Int(stm)) = trailer.get("XRefStm") {
        if *stm >= 0 && (*stm as usize) < src.len() && *stm as usize != offset {
            let (_, more) = parse_xref_stream(src, *stm as usize, total)?;
            let known: HashSet<u32> = entries.iter().map(|(n, _)| *n).collect();
            entries.extend(more.into_iter().filter(|(n, _)| !known.contains(n)));
        }
    }
    Ok(Section {
        offset,
        trailer,
        entries,
        is_stream,
        end: revision_end(src, offset),
    })
}

fn parse_table(p: &mut Parser, total: &mut usize) -> Result<Vec<(u32, Entry)>, PdfError> {
    let mut entries = Vec::new();
    loop {
        p.skip_ws();
        if p.src[p.pos.min(p.src.len())..].starts_with(b"trailer") {
            return Ok(entries);
        }
        let start = p.parse_uint()?;
        let count = p.parse_uint()? as usize;
        let room = (p.src.len() - p.pos.min(p.src.len())) / 18;
        if count > room || *total + count > MAX_OBJECTS {
            return Err(PdfError::Limit(format!("xref subsection of {count} entries")));
        }
        *total += count;
        for i in 0..count {
            let off = p.parse_uint()?;
            let _gen = p.parse_uint()?;
            let kind = p.word();
            let num = u32::try_from(start + i as u64).map_err(|_| malformed("object number too large"))?;
            let entry = match kind {
                b"n" => Entry::InFile { offset: off as usize },
                b"f" => Entry::Free,
                _ => return Err(malformed("bad xref entry type")),
            };
            entries.push((num, entry));
        }
    }
}

fn parse_xref_stream(src: &[u8], offset: usize, total: &mut usize) -> Result<(Dict, Vec<(u32, Entry)>), PdfError> {
    let (dict, start) = match parse_indirect(src, offset)? {
        Indirect::Stream(_, d, start) => (d, start),
        Indirect::Plain(..) => return Err(malformed(format!("no xref table or stream at offset {offset}"))),
    };
    if !dict.name_is("Type", "XRef") {
        return Err(malformed("xref stream without /Type /XRef"));
    }
    let len = dict
        .get("Length")
        .and_then(Object::as_int)
        .ok_or_else(|| malformed("xref stream /Length"))?;
    let raw = usize::try_from(len)
        .ok()
        .and_then(|l| src.get(start..start.checked_add(l)?))
        .ok_or_else(|| malformed("xref stream runs past end of file"))?;
    let data = decode_stream(&dict, raw, MAX_STREAM.min(MAX_OBJECTS * 20))?;
    let w: Vec<usize> = dict
        .get("W")
        .and_then(Object::as_array)
        .ok_or_else(|| malformed("xref stream /W"))?
        .iter()
        .map(|o| o.as_int().filter(|v| (0..=8).contains(v)).map(|v| v as usize))
        .collect::<Option<_>>()
        .ok_or_else(|| malformed("bad /W"))?;
    let [w0, w1, w2] = w[..] else {
        return Err(malformed("/W needs 3 entries"));
    };
    let width = w0 + w1 + w2;
    if width == 0 {
        return Err(malformed("/W is all zero"));
    }
    let size = dict
        .get("Size")
        .and_then(Object::as_int)
        .ok_or_else(|| malformed("xref stream /Size"))?;
    let index: Vec<i64> = match dict.get("Index") {
        Some(Object::Array(a)) => a
            .iter()
            .map(Object::as_int)
            .collect::<Option<_>>()
            .ok_or_else(|| malformed("bad /Index"))?,
        _ => vec![0, size],
    };
    let mut entries = Vec::new();
    let mut pos = 0usize;
    for pair in index.chunks(2) {
        let [first, count] = pair else {
            return Err(malformed("odd /Index"));
        };
        if *first < 0 || *count < 0 {
            return Err(malformed("negative /Index"));
        }
        let count = *count as usize;
        if count > (data.len() - pos) / width || *total + count > MAX_OBJECTS {
            return Err(PdfError::Limit(format!("xref stream subsection of {count} entries")));
        }
        *total += count;
        for i in 0..count {
            let row = &data[pos..pos + width];
            pos += width;
            let field =
                |from: usize, n: usize| row[from..from + n].iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
            let kind = if w0 == 0 { 1 } else { field(0, w0) };
            let (a, b) = (field(w0, w1), field(w0 + w1, w2));
            let num = u32::try_from(*first as u64 + i as u64).map_err(|_| malformed("object number too large"))?;
            let entry = match kind {
                0 => Entry::Free,
                1 => Entry::InFile { offset: a as usize },
                2 => Entry::InStream {
                    stream: u32::try_from(a).map_err(|_| malformed("object stream number"))?,
                    index: b as usize,
                },
                // Unknown types are to be ignored (null objects), per the specification.
                _ => Entry::Free,
            };
            entries.push((num, entry));
        }
    }
    Ok((dict, entries))
}

/// Just after the first `%%EOF` (plus one end-of-line) following `from`, or the end of file.
fn revision_end(src: &[u8], from: usize) -> usize {
    match find(src, b"%%EOF", from) {
        None => src.len(),
        Some(at) => {
            let mut end = at + 5;
            if src.get(end) == Some(&b'\r') {
                end += 1;
            }
            if src.get(end) == Some(&b'\n') {
                end += 1;
            }
            end
        }
    }
}

pub fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

pub fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &[u8] = b"%PDF-1.4\n1 0 obj\n<</Type/Catalog>>\nendobj\nxref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<</Size 2/Root 1 0 R>>\nstartxref\n42\n%%EOF\n";

    #[test]
    fn classic_table_is_read() {
        let chain = XrefChain::parse(SMALL).unwrap();
        assert_eq!(chain.sections.len(), 1);
        let s = chain.latest();
        assert_eq!(s.entries, vec![(0, Entry::Free), (1, Entry::InFile { offset: 9 })]);
        assert_eq!(s.end, SMALL.len());
        assert_eq!(chain.next_object_number(), 2);
    }

    #[test]
    fn huge_counts_and_cycles_are_rejected() {
        let bomb = String::from_utf8_lossy(SMALL).replace("0 2\n", "0 1000000000\n");
        assert_eq!(XrefChain::parse(bomb.as_bytes()).unwrap_err().code(), "limit-exceeded");
        let cyc = String::from_utf8_lossy(SMALL).replace("/Size 2/", "/Prev 42/Size 2/");
        assert_eq!(XrefChain::parse(cyc.as_bytes()).unwrap_err().code(), "malformed");
    }

    #[test]
    fn truncation_and_garbage_are_errors() {
        for cut in [0, 5, 40, 60, SMALL.len() - 8] {
            assert!(XrefChain::parse(&SMALL[..cut]).is_err(), "cut at {cut}");
        }
        assert!(XrefChain::parse(b"%PDF-1.7\ngarbage startxref 999999 %%EOF").is_err());
    }
}
