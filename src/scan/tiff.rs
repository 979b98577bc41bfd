//! TIFF: every page (IFD) of a possibly multi-page file. The header pass parses the IFD chain
//! itself (bounded: loop detection, a page cap, every value inside the file) for size,
//! resolution, samples, photometric interpretation and compression; the integrity pass checks
//! that each strip or tile lies inside the file and decodes them one at a time with the tiff crate.

use std::collections::HashSet;
use std::io::Cursor;

use super::cursor::{slice, u16_at, u32_at, Endian};
use super::{dpi_from, DensityUnit, PageInfo, ScanError};
use crate::config::{ColorMode, FormatName};

/// More pages than this in one file is treated as hostile.
const MAX_PAGES: usize = 10_000;
/// Values longer than this (bytes) are not read; no tag hozon needs comes close.
const MAX_VALUE_BYTES: usize = 16 << 20;
/// Real IFDs hold a few dozen entries; more is a hostile file.
const MAX_ENTRIES_PER_IFD: u16 = 4096;
/// IFDs may overlap, so per-IFD bounds alone would let a small file cost gigabytes; reads of
/// entries and tag values are charged against this budget (times the file size, plus slack).
const READ_BUDGET_FACTOR: usize = 4;

mod tag {
    pub const WIDTH: u16 = 256;
    pub const HEIGHT: u16 = 257;
    pub const BITS_PER_SAMPLE: u16 = 258;
    pub const COMPRESSION: u16 = 259;
    pub const PHOTOMETRIC: u16 = 262;
    pub const STRIP_OFFSETS: u16 = 273;
    pub const SAMPLES_PER_PIXEL: u16 = 277;
    pub const STRIP_BYTE_COUNTS: u16 = 279;
    pub const X_RESOLUTION: u16 = 282;
    pub const Y_RESOLUTION: u16 = 283;
    pub const RESOLUTION_UNIT: u16 = 296;
    pub const TILE_OFFSETS: u16 = 324;
    pub const TILE_BYTE_COUNTS: u16 = 325;
}

/// One IFD entry as stored.
#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    /// Offset of the value bytes (inline values point into the entry itself).
    value_at: usize,
}

struct Ifd {
    entries: Vec<Entry>,
    next: u32,
}

struct Tiff<'a> {
    data: &'a [u8],
    e: Endian,
    /// Bytes of IFD entries and tag values still allowed to be read.
    budget: std::cell::Cell<usize>,
}

impl<'a> Tiff<'a> {
    fn open(data: &'a [u8]) -> Result<(Self, u32), ScanError> {
        let e = match data.get(..4) {
            Some(b"II*\0") => Endian::Little,
            Some(b"MM\0*") => Endian::Big,
            Some(b"II+\0") | Some(b"MM\0+") => return Err(ScanError::unsupported("BigTIFF")),
            _ => return Err(ScanError::unreadable("not a TIFF header")),
        };
        let first = u32_at(data, 4, e, "TIFF header")?;
        let budget = std::cell::Cell::new(data.len().saturating_mul(READ_BUDGET_FACTOR).saturating_add(1 << 20));
        Ok((Tiff { data, e, budget }, first))
    }

    /// Charge `bytes` of reading against the budget.
    fn charge(&self, bytes: usize) -> Result<(), ScanError> {
        let left = self.budget.get().checked_sub(bytes).ok_or_else(|| {
            ScanError::unreadable("TIFF structure is far larger than the file (overlapping directories?)")
        })?;
        self.budget.set(left);
        Ok(())
    }

    fn ifd(&self, offset: u32) -> Result<Ifd, ScanError> {
        let at = offset as usize;
        let n = u16_at(self.data, at, self.e, "TIFF IFD")?;
        if n > MAX_ENTRIES_PER_IFD {
            return Err(ScanError::unreadable(format!(
                "TIFF IFD at byte {at} claims {n} entries"
            )));
        }
        self.charge(usize::from(n) * 12)?;
        let mut entries = Vec::with_capacity(usize::from(n));
        for i in 0..usize::from(n) {
            let p = at + 2 + i * 12;
            let tag = u16_at(self.data, p, self.e, "TIFF IFD entry")?;
            let kind = u16_at(self.data, p + 2, self.e, "TIFF IFD entry")?;
            let count = u32_at(self.data, p + 4, self.e, "TIFF IFD entry")?;
            let size = type_size(kind).saturating_mul(count as usize);
            let value_at = if size <= 4 {
                p + 8
            } else {
                u32_at(self.data, p + 8, self.e, "TIFF IFD entry")? as usize
            };
            entries.push(Entry {
                tag,
                kind,
                count,
                value_at,
            });
        }
        let next = u32_at(self.data, at + 2 + usize::from(n) * 12, self.e, "TIFF IFD")?;
        Ok(Ifd { entries, next })
    }

    /// Offsets of all IFDs in the chain.
    fn ifd_chain(&self, first: u32) -> Result<Vec<Ifd>, ScanError> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut at = first;
        while at != 0 {
            if !seen.insert(at) {
                return Err(ScanError::unreadable("TIFF IFD chain loops"));
            }
            if out.len() >= MAX_PAGES {
                return Err(ScanError::unsupported(format!("TIFF with more than {MAX_PAGES} pages")));
            }
            let ifd = self.ifd(at)?;
            at = ifd.next;
            out.push(ifd);
        }
        Ok(out)
    }

    /// Unsigned integer values (BYTE, SHORT, LONG) of an entry.
    fn uints(&self, en: &Entry) -> Result<Vec<u64>, ScanError> {
        let size = type_size(en.kind);
        let total = size.saturating_mul(en.count as usize);
        if total > MAX_VALUE_BYTES {
            return Err(ScanError::unreadable(format!(
                "TIFF tag {} is {total} bytes long",
                en.tag
            )));
        }
        let bytes = slice(self.data, en.value_at, total, "TIFF tag value")?;
        let mut out = Vec::with_capacity(en.count as usize);
        for i in 0..en.count as usize {
            out.push(match en.kind {
                1 | 7 => u64::from(bytes.get(i).copied().unwrap_or(0)),
                3 => u64::from(u16_at(bytes, i * 2, self.e, "TIFF SHORT")?),
                4 | 13 => u64::from(u32_at(bytes, i * 4, self.e, "TIFF LONG")?),
                k => {
                    return Err(ScanError::unreadable(format!(
                        "TIFF tag {} has type {k}, expected an integer",
                        en.tag
                    )))
                }
            });
        }
        Ok(out)
    }

    fn uint(&self, ifd: &Ifd, tag: u16) -> Result<Option<u64>, ScanError> {
        match ifd.entries.iter().find(|e| e.tag == tag) {
            Some(en) if en.count > 0 => Ok(self.uints(en)?.first().copied()),
            _ => Ok(None),
        }
    }

    fn uint_vec(&self, ifd: &Ifd, tag: u16) -> Result<Vec<u64>, ScanError> {
        match ifd.entries.iter().find(|e| e.tag == tag) {
            Some(en) => self.uints(en),
            None => Ok(Vec::new()),
        }
    }

    fn rational(&self, ifd: &Ifd, tag: u16) -> Result<Option<f64>, ScanError> {
        let Some(en) = ifd.entries.iter().find(|e| e.tag == tag) else {
            return Ok(None);
        };
        match en.kind {
            5 if en.count >= 1 => {
                let n = u32_at(self.data, en.value_at, self.e, "TIFF RATIONAL")?;
                let d = u32_at(self.data, en.value_at + 4, self.e, "TIFF RATIONAL")?;
                Ok((d != 0).then(|| f64::from(n) / f64::from(d)))
            }
            3 | 4 => Ok(self.uint(ifd, tag)?.map(|v| v as f64)),
            _ => Ok(None),
        }
    }
}

fn type_size(kind: u16) -> usize {
    match kind {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 => 8,
        _ => 1,
    }
}

fn compression_name(c: u64) -> String {
    match c {
        1 => "none".into(),
        2 => "ccitt-rle".into(),
        3 => "ccitt-g3".into(),
        4 => "ccitt-g4".into(),
        5 => "lzw".into(),
        6 => "ojpeg".into(),
        7 => "jpeg".into(),
        8 | 32946 => "deflate".into(),
        32773 => "packbits".into(),
        34712 => "jpeg2000".into(),
        other => format!("tiff-compression-{other}"),
    }
}

/// Header pass: one `PageInfo` per IFD.
pub(super) fn inspect(bytes: &[u8]) -> Result<Vec<PageInfo>, ScanError> {
    let (t, first) = Tiff::open(bytes)?;
    let chain = t.ifd_chain(first)?;
    let mut pages = Vec::with_capacity(chain.len());
    for (index, ifd) in chain.iter().enumerate() {
        pages.push(page(&t, ifd, index)?);
    }
    Ok(pages)
}

fn page(t: &Tiff<'_>, ifd: &Ifd, index: usize) -> Result<PageInfo, ScanError> {
    let p = index + 1;
    let dim = |tag, name| -> Result<u32, ScanError> {
        let v = t
            .uint(ifd, tag)?
            .ok_or_else(|| ScanError::unreadable(format!("TIFF page {p} has no {name}")))?;
        u32::try_from(v).map_err(|_| ScanError::unreadable(format!("TIFF page {p}: {name} {v}")))
    };
    let width = dim(tag::WIDTH, "ImageWidth")?;
    let height = dim(tag::HEIGHT, "ImageLength")?;
    let bits = t.uint_vec(ifd, tag::BITS_PER_SAMPLE)?;
    let bits_per_sample = bits.first().copied().unwrap_or(1);
    if bits.iter().any(|&b| b != bits_per_sample) {
        return Err(ScanError::unsupported(format!(
            "TIFF page {p}: mixed BitsPerSample {bits:?}"
        )));
    }
    let samples = t.uint(ifd, tag::SAMPLES_PER_PIXEL)?.unwrap_or(1);
    let photometric = t
        .uint(ifd, tag::PHOTOMETRIC)?
        .ok_or_else(|| ScanError::unreadable(format!("TIFF page {p} has no PhotometricInterpretation")))?;
    let compression = t.uint(ifd, tag::COMPRESSION)?.unwrap_or(1);
    let (bits8, samples8) = match (u8::try_from(bits_per_sample), u8::try_from(samples)) {
        (Ok(b), Ok(s)) if b > 0 && s > 0 => (b, s),
        _ => {
            return Err(ScanError::unreadable(format!(
                "TIFF page {p}: {samples} samples of {bits_per_sample} bits"
            )))
        }
    };
    let color = match (photometric, bits8) {
        (0 | 1, 1) => ColorMode::Bilevel,
        (0 | 1, b) if b <= 8 => ColorMode::Gray8,
        (0 | 1, 16) => ColorMode::Gray16,
        (2 | 6, 8) if samples8 >= 3 => ColorMode::Rgb8,
        (2, 16) if samples8 >= 3 => ColorMode::Rgb16,
        (3, _) => ColorMode::Indexed,
        (5, 8) if samples8 >= 4 => ColorMode::Cmyk8,
        (ph, b) => {
            return Err(ScanError::unsupported(format!(
                "TIFF page {p}: photometric interpretation {ph} with {samples8} samples of {b} bits"
            )))
        }
    };
    let unit = match t.uint(ifd, tag::RESOLUTION_UNIT)? {
        Some(1) => DensityUnit::None,
        Some(3) => DensityUnit::Centimetre,
        _ => DensityUnit::Inch, // TIFF default 2 = inch
    };
    let dpi_x = t.rational(ifd, tag::X_RESOLUTION)?.and_then(|v| dpi_from(v, unit));
    let dpi_y = t.rational(ifd, tag::Y_RESOLUTION)?.and_then(|v| dpi_from(v, unit));
    Ok(PageInfo {
        index,
        format: FormatName::Tiff,
        width,
        height,
        dpi_x,
        dpi_y,
        color,
        bits_per_channel: bits8,
        components: samples8,
        progressive: false,
        adobe_transform: None,
        compression: Some(compression_name(compression)),
    })
}

/// Integrity pass: strips/tiles inside the file, then decoded chunk by chunk where the tiff
/// crate supports the compression (others are checked for bounds only).
pub(super) fn verify(bytes: &[u8]) -> Result<(), ScanError> {
    let (t, first) = Tiff::open(bytes)?;
    let chain = t.ifd_chain(first)?;
    for (i, ifd) in chain.iter().enumerate() {
        let (offs, counts) = match t.uint_vec(ifd, tag::TILE_OFFSETS)? {
            v if !v.is_empty() => (v, t.uint_vec(ifd, tag::TILE_BYTE_COUNTS)?),
            _ => (
                t.uint_vec(ifd, tag::STRIP_OFFSETS)?,
                t.uint_vec(ifd, tag::STRIP_BYTE_COUNTS)?,
            ),
        };
        if offs.is_empty() || offs.len() != counts.len() {
            return Err(ScanError::unreadable(format!(
                "TIFF page {}: {} data offsets but {} byte counts",
                i + 1,
                offs.len(),
                counts.len()
            )));
        }
        for (o, c) in offs.iter().zip(&counts) {
            if o.checked_add(*c).is_none_or(|end| end > bytes.len() as u64) {
                return Err(ScanError::unreadable(format!(
                    "TIFF page {}: image data runs past the end of the file",
                    i + 1
                )));
            }
        }
    }
    decode_chunks(bytes, chain.len())
}

fn decode_chunks(bytes: &[u8], pages: usize) -> Result<(), ScanError> {
    use tiff::decoder::{ChunkType, Decoder};
    use tiff::TiffError;
    let broken = |p: usize, e: TiffError| match e {
        // The decoder lacks this feature (e.g. some compression): bounds were checked; accept.
        TiffError::UnsupportedError(_) | TiffError::LimitsExceeded => Ok(()),
        e => Err(ScanError::unreadable(format!("TIFF page {p} does not decode: {e}"))),
    };
    let mut dec = match Decoder::new(Cursor::new(bytes)) {
        Ok(d) => d,
        Err(e) => return broken(1, e),
    };
    for page in 0..pages {
        if page > 0 {
            if let Err(e) = dec.seek_to_image(page) {
                broken(page + 1, e)?;
                continue;
            }
        }
        let n = match dec.get_chunk_type() {
            ChunkType::Strip => dec.strip_count(),
            ChunkType::Tile => dec.tile_count(),
        };
        let n = match n {
            Ok(n) => n,
            Err(e) => {
                broken(page + 1, e)?;
                continue;
            }
        };
        for c in 0..n {
            if let Err(e) = dec.read_chunk(c) {
                broken(page + 1, e)?;
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ::tiff::encoder::{colortype, Compression, DeflateLevel, Rational, TiffEncoder};
    use ::tiff::tags::ResolutionUnit;

    /// A real multi-page RGB TIFF (Deflate) with the given pages' sizes and dpi.
    pub(crate) fn encode_rgb(pages: &[(u32, u32, u32)]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        {
            let mut enc = TiffEncoder::new(&mut out)
                .unwrap()
                .with_compression(Compression::Deflate(DeflateLevel::default()));
            for &(w, h, dpi) in pages {
                let mut img = enc.new_image::<colortype::RGB8>(w, h).unwrap();
                img.resolution(ResolutionUnit::Inch, Rational { n: dpi, d: 1 });
                let data: Vec<u8> = (0..w * h * 3).map(|i| (i % 253) as u8).collect();
                img.write_data(&data).unwrap();
            }
        }
        out.into_inner()
    }

    /// A hand-made little-endian single-IFD TIFF with the given entries (tag, type, count, value).
    fn hand(entries: &[(u16, u16, u32, u32)], trailer: &[u8]) -> Vec<u8> {
        let mut v = b"II*\0\x08\0\0\0".to_vec();
        v.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for &(tag, kind, count, val) in entries {
            v.extend_from_slice(&tag.to_le_bytes());
            v.extend_from_slice(&kind.to_le_bytes());
            v.extend_from_slice(&count.to_le_bytes());
            v.extend_from_slice(&val.to_le_bytes());
        }
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(trailer);
        v
    }

    #[test]
    fn reads_every_page_of_a_multi_page_tiff() {
        let t = encode_rgb(&[(30, 40, 300), (50, 20, 200)]);
        let pages = inspect(&t).unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!((pages[0].width, pages[0].height, pages[0].dpi_x), (30, 40, Some(300.0)));
        assert_eq!((pages[1].index, pages[1].width, pages[1].dpi_y), (1, 50, Some(200.0)));
        assert_eq!(pages[0].color, ColorMode::Rgb8);
        assert_eq!(pages[0].compression.as_deref(), Some("deflate"));
        verify(&t).unwrap();
    }

    #[test]
    fn bilevel_gray_and_cmyk_from_tags_with_cm_unit() {
        let base = |photo: u32, bits: u32, spp: u32| {
            hand(
                &[
                    (256, 3, 1, 100),
                    (257, 3, 1, 50),
                    (258, 3, 1, bits),
                    (259, 3, 1, 4),
                    (262, 3, 1, photo),
                    (277, 3, 1, spp),
                    (296, 3, 1, 3),
                ],
                &[],
            )
        };
        let p = &inspect(&base(0, 1, 1)).unwrap()[0];
        assert_eq!(
            (p.color, p.compression.as_deref(), p.dpi_x),
            (ColorMode::Bilevel, Some("ccitt-g4"), None)
        );
        assert_eq!(inspect(&base(1, 16, 1)).unwrap()[0].color, ColorMode::Gray16);
        assert_eq!(inspect(&base(5, 8, 4)).unwrap()[0].color, ColorMode::Cmyk8);
        assert_eq!(inspect(&base(3, 8, 1)).unwrap()[0].color, ColorMode::Indexed);
        assert_eq!(inspect(&base(8, 8, 3)).unwrap_err().code(), "unsupported-format");
    }

    #[test]
    fn hostile_ifds_are_errors_not_panics() {
        // IFD loop: next-IFD offset pointing back at itself.
        let mut looping = hand(&[(256, 3, 1, 1)], &[]);
        let n = looping.len();
        looping[n - 4..].copy_from_slice(&8u32.to_le_bytes());
        assert!(inspect(&looping).unwrap_err().to_string().contains("loops"));
        // Entry count claiming far more entries than the file holds.
        let mut many = hand(&[(256, 3, 1, 1)], &[]);
        many[8..10].copy_from_slice(&0xFFFFu16.to_le_bytes());
        assert_eq!(inspect(&many).unwrap_err().code(), "unreadable");
        // First IFD offset beyond the end, and a bare header.
        assert!(inspect(b"II*\0\xff\xff\xff\x7f").is_err());
        assert!(inspect(b"II*\0").is_err());
        // A BitsPerSample array whose offset lies outside the file.
        let far = hand(
            &[(256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 3, 0x7FFF_FFF0), (262, 3, 1, 2)],
            &[],
        );
        assert_eq!(inspect(&far).unwrap_err().code(), "unreadable");
        // Huge dimensions are read, not allocated.
        let huge = hand(
            &[(256, 4, 1, 4_000_000_000), (257, 4, 1, 4_000_000_000), (262, 3, 1, 1)],
            &[],
        );
        assert_eq!(inspect(&huge).unwrap()[0].width, 4_000_000_000);
    }

    #[test]
    fn overlapping_ifds_cannot_amplify_work() {
        // Thousands of IFDs, each starting 4 bytes after the last, all re-reading nearly the same
        // 4000 entries: a 110 KB file that would otherwise mean hundreds of megabytes of reading.
        let mut v = b"II*\0\x08\0\0\0".to_vec();
        let n: u16 = 4000;
        v.extend_from_slice(&n.to_le_bytes());
        v.resize(8 + 2 + usize::from(n) * 12 + 4 + 64 * 1024, 0);
        let mut at = 8usize;
        for _ in 0..4000 {
            let next_slot = at + 2 + usize::from(n) * 12;
            if next_slot + 4 > v.len() {
                break;
            }
            v[at..at + 2].copy_from_slice(&n.to_le_bytes());
            let next = (at + 4) as u32;
            v[next_slot..next_slot + 4].copy_from_slice(&next.to_le_bytes());
            at += 4;
        }
        let e = inspect(&v).unwrap_err();
        assert!(e.to_string().contains("far larger than the file"), "{e}");
    }

    #[test]
    fn truncated_or_out_of_bounds_strips_fail_integrity() {
        let t = encode_rgb(&[(64, 64, 300), (64, 64, 300)]);
        // Cut inside the first page's data: offsets point past the end (IFDs are written after data).
        let pages_ok = inspect(&t).is_ok();
        assert!(pages_ok);
        let mut corrupt = t.clone();
        // Zero the compressed data of page 1 (starts right after the 8-byte header).
        for b in corrupt.iter_mut().skip(8).take(200) {
            *b = 0xAB;
        }
        assert_eq!(verify(&corrupt).unwrap_err().code(), "unreadable");
        // Strip offset beyond the file.
        let oob = hand(
            &[
                (256, 3, 1, 4),
                (257, 3, 1, 4),
                (258, 3, 1, 8),
                (262, 3, 1, 1),
                (273, 4, 1, 4000),
                (279, 4, 1, 16),
            ],
            &[],
        );
        assert!(inspect(&oob).is_ok());
        assert!(verify(&oob).unwrap_err().to_string().contains("past the end"));
    }
}
