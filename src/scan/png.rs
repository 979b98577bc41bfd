//! PNG: the header pass reads IHDR (size, colour type, bit depth) and pHYs; the integrity pass
//! checks every chunk's CRC, the chunk order, and inflates IDAT as a stream to exactly the size the
//! header promises, checking each row's filter byte — without ever holding the image.

use flate2::{Crc, Decompress, FlushDecompress, Status};

use super::cursor::{slice, u32_at, u8_at, Endian};
use super::{dpi_from, DensityUnit, PageInfo, ScanError};
use crate::config::{ColorMode, FormatName};

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
/// PNG caps chunk lengths at 2^31 - 1.
const MAX_CHUNK: u32 = 0x7FFF_FFFF;

#[derive(Debug, Clone, Copy)]
struct Ihdr {
    width: u32,
    height: u32,
    depth: u8,
    colour_type: u8,
    interlaced: bool,
}

impl Ihdr {
    fn channels(&self) -> u8 {
        match self.colour_type {
            2 => 3,
            4 => 2,
            6 => 4,
            _ => 1, // 0 grey, 3 palette
        }
    }
    fn bits_per_pixel(&self) -> u64 {
        u64::from(self.channels()) * u64::from(self.depth)
    }
}

/// One chunk: its type, data and the offset just after its CRC.
struct Chunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
    crc: u32,
    next: usize,
}

fn chunk_at(bytes: &[u8], pos: usize) -> Result<Chunk<'_>, ScanError> {
    let len = u32_at(bytes, pos, Endian::Big, "PNG chunk length")?;
    if len > MAX_CHUNK {
        return Err(ScanError::unreadable(format!("PNG chunk length {len} at byte {pos}")));
    }
    let kind: [u8; 4] = slice(bytes, pos + 4, 4, "PNG chunk type")?
        .try_into()
        .map_err(|_| ScanError::truncated("PNG chunk type"))?;
    let data = slice(bytes, pos + 8, len as usize, "PNG chunk")?;
    let crc = u32_at(bytes, pos + 8 + len as usize, Endian::Big, "PNG chunk CRC")?;
    Ok(Chunk {
        kind,
        data,
        crc,
        next: pos + 12 + len as usize,
    })
}

fn read_ihdr(bytes: &[u8]) -> Result<Ihdr, ScanError> {
    if !bytes.starts_with(SIGNATURE) {
        return Err(ScanError::unreadable("not a PNG signature"));
    }
    let c = chunk_at(bytes, SIGNATURE.len())?;
    if &c.kind != b"IHDR" || c.data.len() != 13 {
        return Err(ScanError::unreadable("PNG does not start with a 13-byte IHDR"));
    }
    let d = c.data;
    let h = Ihdr {
        width: u32_at(d, 0, Endian::Big, "IHDR")?,
        height: u32_at(d, 4, Endian::Big, "IHDR")?,
        depth: u8_at(d, 8, "IHDR")?,
        colour_type: u8_at(d, 9, "IHDR")?,
        interlaced: u8_at(d, 12, "IHDR")? == 1,
    };
    let valid_depth = match h.colour_type {
        0 => matches!(h.depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(h.depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(h.depth, 8 | 16),
        _ => false,
    };
    let (compression, filter, interlace) = (u8_at(d, 10, "IHDR")?, u8_at(d, 11, "IHDR")?, u8_at(d, 12, "IHDR")?);
    if !valid_depth || compression != 0 || filter != 0 || interlace > 1 {
        return Err(ScanError::unreadable(format!(
            "PNG IHDR: colour type {} with bit depth {} (compression {compression}, filter {filter}, interlace {interlace})",
            h.colour_type, h.depth
        )));
    }
    if h.width > MAX_CHUNK || h.height > MAX_CHUNK {
        return Err(ScanError::unreadable("PNG IHDR: dimension above 2^31 - 1"));
    }
    Ok(h)
}

/// Header pass: IHDR and the chunks before the first IDAT (where pHYs must be).
pub(super) fn inspect(bytes: &[u8]) -> Result<PageInfo, ScanError> {
    let h = read_ihdr(bytes)?;
    let mut dpi = None;
    let mut pos = SIGNATURE.len();
    loop {
        // IDAT's data is the integrity pass's business: stop at its type, before its length is trusted.
        if slice(bytes, pos + 4, 4, "PNG chunk type")? == b"IDAT" {
            break;
        }
        let c = chunk_at(bytes, pos)?;
        match &c.kind {
            b"pHYs" if c.data.len() == 9 => {
                let x = u32_at(c.data, 0, Endian::Big, "pHYs")?;
                let y = u32_at(c.data, 4, Endian::Big, "pHYs")?;
                let unit = if c.data.get(8) == Some(&1) {
                    DensityUnit::Metre
                } else {
                    DensityUnit::None
                };
                dpi = dpi_from(f64::from(x), unit).zip(dpi_from(f64::from(y), unit));
            }
            b"IEND" => return Err(ScanError::unreadable("PNG has no image data (IDAT)")),
            _ => {}
        }
        pos = c.next;
    }
    let color = match (h.colour_type, h.depth) {
        (3, _) => ColorMode::Indexed,
        (0, 1) => ColorMode::Bilevel,
        (0 | 4, 16) => ColorMode::Gray16,
        (0 | 4, _) => ColorMode::Gray8,
        (_, 16) => ColorMode::Rgb16,
        _ => ColorMode::Rgb8,
    };
    Ok(PageInfo {
        index: 0,
        format: FormatName::Png,
        width: h.width,
        height: h.height,
        dpi_x: dpi.map(|d| d.0),
        dpi_y: dpi.map(|d| d.1),
        color,
        bits_per_channel: h.depth,
        components: h.channels(),
        progressive: false,
        adobe_transform: None,
        compression: Some(if h.interlaced { "deflate-adam7" } else { "deflate" }.into()),
    })
}

/// Integrity pass: CRCs, chunk order, IEND, and the inflated IDAT stream exactly as long as the
/// header implies with a valid filter byte at every row start.
pub(super) fn verify(bytes: &[u8]) -> Result<(), ScanError> {
    let h = read_ihdr(bytes)?;
    let mut rows = RowLayout::new(&h);
    let mut inflater = Decompress::new(true);
    let mut scratch = vec![0u8; 64 * 1024];
    let mut pos = SIGNATURE.len();
    let (mut seen_idat, mut idat_done, mut stream_end) = (false, false, false);
    loop {
        let c = chunk_at(bytes, pos)?;
        let mut crc = Crc::new();
        crc.update(&c.kind);
        crc.update(c.data);
        if crc.sum() != c.crc {
            let name = String::from_utf8_lossy(&c.kind).into_owned();
            return Err(ScanError::unreadable(format!(
                "PNG chunk {name} at byte {pos} fails its CRC"
            )));
        }
        match &c.kind {
            b"IDAT" => {
                if idat_done {
                    return Err(ScanError::unreadable("PNG IDAT chunks are not consecutive"));
                }
                seen_idat = true;
                stream_end |= inflate_chunk(&mut inflater, c.data, &mut scratch, &mut rows)?;
            }
            b"IEND" => break,
            _ => idat_done |= seen_idat,
        }
        pos = c.next;
    }
    if !seen_idat || !stream_end {
        return Err(ScanError::unreadable(
            "PNG image data is truncated (the compressed stream does not end)",
        ));
    }
    if rows.remaining() != 0 {
        return Err(ScanError::unreadable(format!(
            "PNG image data is {} bytes short",
            rows.remaining()
        )));
    }
    Ok(())
}

/// Feed one IDAT chunk to the inflater; true once the zlib stream has ended.
fn inflate_chunk(
    z: &mut Decompress,
    mut input: &[u8],
    scratch: &mut [u8],
    rows: &mut RowLayout,
) -> Result<bool, ScanError> {
    loop {
        let (in0, out0) = (z.total_in(), z.total_out());
        let status = z
            .decompress(input, scratch, FlushDecompress::None)
            .map_err(|e| ScanError::unreadable(format!("PNG image data does not inflate: {e}")))?;
        let used = (z.total_in() - in0) as usize;
        let produced = (z.total_out() - out0) as usize;
        rows.consume(scratch.get(..produced).unwrap_or(&[]))?;
        input = input.get(used..).unwrap_or(&[]);
        match status {
            Status::StreamEnd => return Ok(true),
            _ if input.is_empty() && produced < scratch.len() => return Ok(false),
            _ if used == 0 && produced == 0 => return Ok(false),
            _ => {}
        }
    }
}

/// Where row starts (filter bytes) fall in the inflated stream, pass by pass.
struct RowLayout {
    /// (rows, bytes per row including the filter byte) per (interlace) pass, in order.
    passes: Vec<(u64, u64)>,
    pass: usize,
    row_left: u64,
    rows_left: u64,
    total_left: u64,
}

impl RowLayout {
    fn new(h: &Ihdr) -> Self {
        let bpp = h.bits_per_pixel();
        let row_bytes = |w: u64| 1 + (w * bpp).div_ceil(8);
        let (w, ht) = (u64::from(h.width), u64::from(h.height));
        let passes: Vec<(u64, u64)> = if h.interlaced {
            // Adam7: (x start, y start, x step, y step)
            [
                (0, 0, 8, 8),
                (4, 0, 8, 8),
                (0, 4, 4, 8),
                (2, 0, 4, 4),
                (0, 2, 2, 4),
                (1, 0, 2, 2),
                (0, 1, 1, 2),
            ]
            .iter()
            .map(|&(x0, y0, dx, dy)| ((w + dx - 1 - x0) / dx, (ht + dy - 1 - y0) / dy))
            .filter(|&(pw, ph)| pw > 0 && ph > 0)
            .map(|(pw, ph)| (ph, row_bytes(pw)))
            .collect()
        } else {
            vec![(ht, row_bytes(w))]
        };
        let total_left = passes.iter().map(|&(r, b)| r * b).sum();
        let (rows_left, row_left) = passes.first().map(|&(r, _)| (r, 0)).unwrap_or((0, 0));
        RowLayout {
            passes,
            pass: 0,
            row_left,
            rows_left,
            total_left,
        }
    }

    fn remaining(&self) -> u64 {
        self.total_left
    }

    fn consume(&mut self, mut data: &[u8]) -> Result<(), ScanError> {
        if data.len() as u64 > self.total_left {
            return Err(ScanError::unreadable(
                "PNG image data is longer than the header implies",
            ));
        }
        self.total_left -= data.len() as u64;
        while let Some((&first, _)) = data.split_first() {
            if self.row_left == 0 {
                // Start of a row: its filter type byte must be 0..=4.
                while self.rows_left == 0 {
                    self.pass += 1;
                    self.rows_left = self.passes.get(self.pass).map(|p| p.0).unwrap_or(u64::MAX);
                }
                if first > 4 {
                    return Err(ScanError::unreadable(format!(
                        "PNG row with invalid filter type {first}"
                    )));
                }
                self.row_left = self.passes.get(self.pass).map(|p| p.1).unwrap_or(1);
                self.rows_left -= 1;
            }
            let take = (self.row_left as usize).min(data.len());
            self.row_left -= take as u64;
            data = data.get(take..).unwrap_or(&[]);
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A real PNG from the png crate with optional pHYs in pixels per metre.
    pub(crate) fn encode(w: u32, h: u32, colour: png::ColorType, depth: png::BitDepth, ppm: Option<u32>) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(colour);
            enc.set_depth(depth);
            if let Some(p) = ppm {
                enc.set_pixel_dims(Some(png::PixelDimensions {
                    xppu: p,
                    yppu: p,
                    unit: png::Unit::Meter,
                }));
            }
            let mut wr = enc.write_header().unwrap();
            let samples = match colour {
                png::ColorType::Rgb => 3,
                png::ColorType::Rgba => 4,
                png::ColorType::GrayscaleAlpha => 2,
                _ => 1,
            };
            let bits = samples
                * match depth {
                    png::BitDepth::One => 1,
                    png::BitDepth::Two => 2,
                    png::BitDepth::Four => 4,
                    png::BitDepth::Eight => 8,
                    png::BitDepth::Sixteen => 16,
                };
            let row = (w as usize * bits).div_ceil(8);
            let data: Vec<u8> = (0..row * h as usize).map(|i| (i * 31 % 251) as u8).collect();
            wr.write_image_data(&data).unwrap();
        }
        out
    }

    fn with_chunk_crc_fixed(mut v: Vec<u8>, pos: usize) -> Vec<u8> {
        let len = u32::from_be_bytes([v[pos], v[pos + 1], v[pos + 2], v[pos + 3]]) as usize;
        let mut crc = Crc::new();
        crc.update(&v[pos + 4..pos + 8 + len]);
        v[pos + 8 + len..pos + 12 + len].copy_from_slice(&crc.sum().to_be_bytes());
        v
    }

    #[test]
    fn reads_gray_png_with_phys() {
        let p = encode(40, 30, png::ColorType::Grayscale, png::BitDepth::Eight, Some(11811));
        let info = inspect(&p).unwrap();
        assert_eq!((info.width, info.height, info.color), (40, 30, ColorMode::Gray8));
        assert!((info.dpi_x.unwrap() - 299.9994).abs() < 1e-6);
        verify(&p).unwrap();
    }

    #[test]
    fn colour_types_map_to_modes() {
        use png::{BitDepth as D, ColorType as C};
        let cases = [
            (C::Grayscale, D::One, ColorMode::Bilevel, 1),
            (C::Grayscale, D::Sixteen, ColorMode::Gray16, 1),
            (C::Rgb, D::Eight, ColorMode::Rgb8, 3),
            (C::Rgb, D::Sixteen, ColorMode::Rgb16, 3),
            (C::Rgba, D::Eight, ColorMode::Rgb8, 4),
        ];
        for (c, d, mode, comps) in cases {
            let p = encode(9, 5, c, d, None);
            let info = inspect(&p).unwrap();
            assert_eq!(
                (info.color, info.components, info.dpi_x),
                (mode, comps, None),
                "{c:?} {d:?}"
            );
            verify(&p).unwrap();
        }
    }

    #[test]
    fn corrupt_and_truncated_pngs_fail_integrity() {
        let p = encode(64, 64, png::ColorType::Rgb, png::BitDepth::Eight, Some(11811));
        // Truncated: headers still readable, integrity fails.
        let cut = &p[..p.len() - 40];
        assert!(inspect(cut).is_ok());
        assert_eq!(verify(cut).unwrap_err().code(), "unreadable");
        // One flipped byte inside IDAT: CRC mismatch.
        let mut flipped = p.clone();
        let idat = flipped.windows(4).position(|w| w == b"IDAT").unwrap();
        flipped[idat + 10] ^= 0x55;
        assert!(verify(&flipped).unwrap_err().to_string().contains("CRC"));
        // IHDR promising more rows than the data holds, CRC made valid: inflated size check.
        let mut taller = p.clone();
        taller[8 + 8 + 4..8 + 8 + 8].copy_from_slice(&65u32.to_be_bytes());
        let taller = with_chunk_crc_fixed(taller, 8);
        assert!(
            verify(&taller).unwrap_err().to_string().contains("short"),
            "{:?}",
            verify(&taller)
        );
    }

    /// A hand-built PNG: IHDR as given, one IDAT holding zlib(`raw`), IEND, all CRCs valid.
    fn hand_png(w: u32, h: u32, depth: u8, colour: u8, interlace: u8, raw: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(raw).unwrap();
        let idat = z.finish().unwrap();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[depth, colour, 0, 0, interlace]);
        let mut v = SIGNATURE.to_vec();
        for (kind, data) in [
            (b"IHDR", ihdr.as_slice()),
            (b"IDAT", idat.as_slice()),
            (b"IEND", &[][..]),
        ] {
            v.extend_from_slice(&(data.len() as u32).to_be_bytes());
            v.extend_from_slice(kind);
            v.extend_from_slice(data);
            let mut crc = Crc::new();
            crc.update(kind);
            crc.update(data);
            v.extend_from_slice(&crc.sum().to_be_bytes());
        }
        v
    }

    #[test]
    fn adam7_interlaced_size_is_computed_per_pass() {
        // 5×3 grey8, Adam7: passes 1, 2, 4, 5, 6 (two rows), 7 have pixels; pass 3 is empty.
        // Row bytes incl. filter byte: 2 + 2 + 2 + 4 + 2×3 + 6 = 22.
        let rows: &[usize] = &[2, 2, 2, 4, 3, 3, 6];
        let raw: Vec<u8> = rows
            .iter()
            .flat_map(|&n| std::iter::once(0u8).chain(std::iter::repeat_n(0x80, n - 1)))
            .collect();
        assert_eq!(raw.len(), 22);
        let good = hand_png(5, 3, 8, 0, 1, &raw);
        assert_eq!(inspect(&good).unwrap().compression.as_deref(), Some("deflate-adam7"));
        verify(&good).unwrap();
        assert!(verify(&hand_png(5, 3, 8, 0, 1, &raw[..21]))
            .unwrap_err()
            .to_string()
            .contains("short"));
        let mut long = raw.clone();
        long.push(0);
        assert!(verify(&hand_png(5, 3, 8, 0, 1, &long))
            .unwrap_err()
            .to_string()
            .contains("longer"));
        // A filter byte of 5 at the start of pass 5's row.
        let mut bad_filter = raw.clone();
        bad_filter[6] = 5;
        assert!(verify(&hand_png(5, 3, 8, 0, 1, &bad_filter))
            .unwrap_err()
            .to_string()
            .contains("filter"));
        // The same bytes read as non-interlaced 5×3 grey need 3 × 6 = 18 bytes, not 22.
        assert!(verify(&hand_png(5, 3, 8, 0, 0, &raw)).is_err());
    }

    #[test]
    fn hostile_headers_are_errors() {
        let p = encode(4, 4, png::ColorType::Grayscale, png::BitDepth::Eight, None);
        // Bit depth 3 is not legal.
        let mut bad = p.clone();
        bad[8 + 8 + 8] = 3;
        assert_eq!(inspect(&bad).unwrap_err().code(), "unreadable");
        // Huge dimensions are reported (the caller's pixel limit rejects them), not allocated.
        let mut huge = p.clone();
        huge[16..20].copy_from_slice(&0x7FFF_0000u32.to_be_bytes());
        huge[20..24].copy_from_slice(&0x7FFF_0000u32.to_be_bytes());
        assert_eq!(inspect(&huge).unwrap().width, 0x7FFF_0000);
        // Chunk length field pointing beyond the file.
        let mut long = p.clone();
        long[8..12].copy_from_slice(&0x7000_0000u32.to_be_bytes());
        assert_eq!(inspect(&long).unwrap_err().code(), "unreadable");
        // Zero-length file after signature, and signature only.
        assert!(inspect(SIGNATURE).is_err());
        assert!(verify(&p[..20]).is_err());
    }
}
