//! JPEG: a bounded marker walk. The header pass reads JFIF density (APP0), EXIF resolution (APP1),
//! the Adobe colour transform (APP14) and the frame header (SOFn: precision, size, components,
//! progressive); the integrity pass walks every segment and the entropy-coded data to EOI.

use super::cursor::{slice, u16_at, u8_at, Endian};
use super::{dpi_from, DensityUnit, PageInfo, ScanError};
use crate::config::{ColorMode, FormatName};

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP14: u8 = 0xEE;

/// What the frame header (SOFn) says.
#[derive(Debug, Clone, Copy)]
struct Frame {
    precision: u8,
    height: u16,
    width: u16,
    components: u8,
    progressive: bool,
}

#[derive(Debug, Default)]
struct Header {
    frame: Option<Frame>,
    jfif_dpi: Option<(f64, f64)>,
    exif_dpi: Option<(f64, f64)>,
    adobe_transform: Option<u8>,
    scans: usize,
}

/// Header pass: everything up to the first SOS.
pub(super) fn inspect(bytes: &[u8]) -> Result<PageInfo, ScanError> {
    let mut h = Header::default();
    walk(bytes, false, &mut h)?;
    let f = h
        .frame
        .ok_or_else(|| ScanError::unreadable("JPEG has no frame header (SOF) before its scan data"))?;
    if f.height == 0 {
        // Height given later by a DNL marker: legal but never produced by scanners.
        return Err(ScanError::unsupported("JPEG with its height in a DNL marker"));
    }
    let color = match (f.components, f.precision) {
        (1, p) if p <= 8 => ColorMode::Gray8,
        (1, _) => ColorMode::Gray16,
        (3, p) if p <= 8 => ColorMode::Rgb8,
        (3, _) => ColorMode::Rgb16,
        (4, p) if p <= 8 => ColorMode::Cmyk8,
        (n, p) => return Err(ScanError::unsupported(format!("JPEG with {n} components at {p} bits"))),
    };
    // Both JFIF and EXIF may state a resolution; when they disagree the lower one is the
    // honest claim for a precision check.
    let dpi = match (h.jfif_dpi, h.exif_dpi) {
        (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.min(b.1))),
        (a, b) => a.or(b),
    };
    Ok(PageInfo {
        index: 0,
        format: FormatName::Jpeg,
        width: u32::from(f.width),
        height: u32::from(f.height),
        dpi_x: dpi.map(|d| d.0),
        dpi_y: dpi.map(|d| d.1),
        color,
        bits_per_channel: f.precision,
        components: f.components,
        progressive: f.progressive,
        adobe_transform: h.adobe_transform,
        compression: Some(
            if f.progressive {
                "dct-progressive"
            } else {
                "dct-baseline"
            }
            .into(),
        ),
    })
}

/// Integrity pass: every segment length checked, entropy-coded data walked, EOI required.
pub(super) fn verify(bytes: &[u8]) -> Result<(), ScanError> {
    let mut h = Header::default();
    walk(bytes, true, &mut h)?;
    if h.frame.is_none() || h.scans == 0 {
        return Err(ScanError::unreadable("JPEG has no frame or no scan data"));
    }
    Ok(())
}

/// Walk markers from SOI. With `full == false` stop at the first SOS; otherwise continue through
/// the entropy-coded data and require EOI.
fn walk(bytes: &[u8], full: bool, h: &mut Header) -> Result<(), ScanError> {
    if bytes.get(..2) != Some(&[0xFF, SOI][..]) {
        return Err(ScanError::unreadable("JPEG does not start with SOI"));
    }
    let mut pos = 2usize;
    loop {
        if u8_at(bytes, pos, "JPEG marker")? != 0xFF {
            return Err(ScanError::unreadable(format!("JPEG: expected a marker at byte {pos}")));
        }
        // Any number of 0xFF fill bytes may precede a marker code.
        while u8_at(bytes, pos, "JPEG marker")? == 0xFF {
            pos += 1;
        }
        let marker = u8_at(bytes, pos, "JPEG marker")?;
        pos += 1;
        match marker {
            EOI => {
                if h.frame.is_none() {
                    return Err(ScanError::unreadable("JPEG ends before any image data"));
                }
                return Ok(());
            }
            0xD0..=0xD7 | 0x01 => continue,
            0x00 | SOI => {
                return Err(ScanError::unreadable(format!(
                    "JPEG: invalid marker 0x{marker:02X} at byte {pos}"
                )))
            }
            _ => {}
        }
        let len = usize::from(u16_at(bytes, pos, Endian::Big, "JPEG segment length")?);
        if len < 2 {
            return Err(ScanError::unreadable(format!(
                "JPEG: segment length {len} at byte {pos}"
            )));
        }
        let seg = slice(bytes, pos + 2, len - 2, "JPEG segment")?;
        pos += len;
        read_segment(marker, seg, h)?;
        if marker == SOS {
            if h.frame.is_none() {
                return Err(ScanError::unreadable("JPEG scan data before the frame header"));
            }
            h.scans += 1;
            if !full {
                return Ok(());
            }
            pos = skip_entropy_data(bytes, pos)?;
        }
    }
}

/// Position of the next real marker after entropy-coded data (stuffed 0xFF00 and RSTn skipped).
fn skip_entropy_data(bytes: &[u8], mut pos: usize) -> Result<usize, ScanError> {
    loop {
        let rest = bytes.get(pos..).unwrap_or(&[]);
        // memchr: the walk to EOI touches every byte of the page, so it must run at memory speed.
        let ff = memchr::memchr(0xFF, rest)
            .ok_or_else(|| ScanError::unreadable("JPEG is truncated: scan data ends without EOI"))?;
        pos += ff;
        match bytes.get(pos + 1) {
            None => return Err(ScanError::unreadable("JPEG is truncated: scan data ends without EOI")),
            Some(0x00) | Some(0xD0..=0xD7) => pos += 2,
            Some(0xFF) => pos += 1,
            Some(_) => return Ok(pos),
        }
    }
}

fn read_segment(marker: u8, seg: &[u8], h: &mut Header) -> Result<(), ScanError> {
    match marker {
        0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
            if h.frame.is_some() {
                return Err(ScanError::unreadable("JPEG has more than one frame header"));
            }
            let precision = u8_at(seg, 0, "JPEG SOF")?;
            let height = u16_at(seg, 1, Endian::Big, "JPEG SOF")?;
            let width = u16_at(seg, 3, Endian::Big, "JPEG SOF")?;
            let components = u8_at(seg, 5, "JPEG SOF")?;
            // Each component takes three bytes; a short SOF is corrupt.
            slice(seg, 6, usize::from(components) * 3, "JPEG SOF components")?;
            if components == 0 || !(precision == 8 || precision == 12 || (2..=16).contains(&precision)) {
                return Err(ScanError::unreadable(format!(
                    "JPEG SOF: {components} components at {precision} bits"
                )));
            }
            let progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
            h.frame = Some(Frame {
                precision,
                height,
                width,
                components,
                progressive,
            });
        }
        APP0 if seg.starts_with(b"JFIF\0") => {
            let units = u8_at(seg, 7, "JFIF header")?;
            let x = u16_at(seg, 8, Endian::Big, "JFIF header")?;
            let y = u16_at(seg, 10, Endian::Big, "JFIF header")?;
            let unit = match units {
                1 => DensityUnit::Inch,
                2 => DensityUnit::Centimetre,
                _ => DensityUnit::None,
            };
            if let (Some(dx), Some(dy)) = (dpi_from(f64::from(x), unit), dpi_from(f64::from(y), unit)) {
                h.jfif_dpi = Some((dx, dy));
            }
        }
        APP1 if seg.starts_with(b"Exif\0\0") => {
            // A damaged EXIF block does not make the image unreadable; it just gives no resolution.
            h.exif_dpi = exif_dpi(seg.get(6..).unwrap_or(&[]));
        }
        APP14 if seg.starts_with(b"Adobe") => {
            h.adobe_transform = seg.get(11).copied();
        }
        _ => {}
    }
    Ok(())
}

/// XResolution / YResolution / ResolutionUnit from an EXIF (TIFF-structured) block.
fn exif_dpi(tiff: &[u8]) -> Option<(f64, f64)> {
    use exif::{In, Tag, Value};
    let exif = exif::Reader::new().read_raw(tiff.to_vec()).ok()?;
    let rational = |tag| match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Rational(v) => v.first().filter(|r| r.denom != 0).map(|r| r.to_f64()),
        _ => None,
    };
    let unit = match exif
        .get_field(Tag::ResolutionUnit, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
    {
        Some(3) => DensityUnit::Centimetre,
        Some(1) => DensityUnit::None,
        _ => DensityUnit::Inch, // EXIF default is 2 = inch
    };
    Some((
        dpi_from(rational(Tag::XResolution)?, unit)?,
        dpi_from(rational(Tag::YResolution)?, unit)?,
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A real JPEG from the `image` encoder, `w`×`h`, with JFIF density `dpi` (None: aspect only).
    pub(crate) fn encode(w: u32, h: u32, gray: bool, dpi: Option<u16>) -> Vec<u8> {
        use image::codecs::jpeg::{JpegEncoder, PixelDensity, PixelDensityUnit};
        let mut out = Vec::new();
        let mut enc = JpegEncoder::new_with_quality(&mut out, 80);
        enc.set_pixel_density(match dpi {
            Some(d) => PixelDensity::dpi(d),
            None => PixelDensity {
                density: (1, 1),
                unit: PixelDensityUnit::PixelAspectRatio,
            },
        });
        if gray {
            let img = image::GrayImage::from_fn(w, h, |x, y| image::Luma([((x * 7 + y * 3) % 256) as u8]));
            enc.encode_image(&img).unwrap();
        } else {
            let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
            enc.encode_image(&img).unwrap();
        }
        out
    }

    /// Hand-made minimal JPEG header: SOI, SOF0 with the given values, then `tail`.
    fn sof(components: u8, precision: u8, w: u16, h: u16, tail: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, SOI, 0xFF, 0xC0];
        let len = 8 + 3 * u16::from(components);
        v.extend_from_slice(&len.to_be_bytes());
        v.push(precision);
        v.extend_from_slice(&h.to_be_bytes());
        v.extend_from_slice(&w.to_be_bytes());
        v.push(components);
        for i in 0..components {
            v.extend_from_slice(&[i + 1, 0x11, 0]);
        }
        v.extend_from_slice(tail);
        v
    }

    const SOS_TAIL: &[u8] = &[
        0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x12, 0x34, 0xFF, 0xD9,
    ];

    #[test]
    fn reads_size_colour_and_jfif_density_of_a_real_jpeg() {
        let j = encode(64, 48, false, Some(300));
        let p = inspect(&j).unwrap();
        assert_eq!((p.width, p.height), (64, 48));
        assert_eq!(p.color, ColorMode::Rgb8);
        assert_eq!((p.components, p.bits_per_channel), (3, 8));
        assert_eq!(p.dpi_x, Some(300.0));
        assert!(!p.progressive);
        verify(&j).unwrap();
        let g = inspect(&encode(10, 10, true, Some(150))).unwrap();
        assert_eq!((g.color, g.dpi_y), (ColorMode::Gray8, Some(150.0)));
    }

    #[test]
    fn aspect_only_density_gives_no_resolution() {
        let p = inspect(&encode(8, 8, true, None)).unwrap();
        assert_eq!(p.dpi_x, None);
    }

    #[test]
    fn cmyk_from_sof_with_adobe_transform_and_progressive_flag() {
        let mut v = vec![0xFF, SOI, 0xFF, APP14, 0x00, 0x0E];
        v.extend_from_slice(b"Adobe\0\x64\0\0\0\0\x02");
        let body = sof(4, 8, 100, 200, SOS_TAIL);
        v.extend_from_slice(&body[2..]);
        let p = inspect(&v).unwrap();
        assert_eq!(
            (p.color, p.components, p.adobe_transform),
            (ColorMode::Cmyk8, 4, Some(2))
        );
        // Same frame as SOF2 is progressive.
        let mut prog = sof(1, 8, 10, 10, SOS_TAIL);
        prog[3] = 0xC2;
        assert!(inspect(&prog).unwrap().progressive);
        verify(&prog).unwrap();
    }

    #[test]
    fn exif_resolution_in_centimetres_is_read() {
        // Big-endian TIFF block: IFD0 with XResolution, YResolution (rationals) and unit 3 (cm).
        let mut t = b"MM\0\x2a\0\0\0\x08".to_vec();
        t.extend_from_slice(&3u16.to_be_bytes());
        let data_off = 8 + 2 + 3 * 12 + 4;
        for (tag, typ, val) in [
            (0x011Au16, 5u16, data_off as u32),
            (0x011B, 5, data_off as u32 + 8),
            (0x0128, 3, 3 << 16),
        ] {
            t.extend_from_slice(&tag.to_be_bytes());
            t.extend_from_slice(&typ.to_be_bytes());
            t.extend_from_slice(&1u32.to_be_bytes());
            t.extend_from_slice(&val.to_be_bytes());
        }
        t.extend_from_slice(&0u32.to_be_bytes());
        for _ in 0..2 {
            t.extend_from_slice(&118u32.to_be_bytes());
            t.extend_from_slice(&1u32.to_be_bytes());
        }
        let (x, y) = exif_dpi(&t).unwrap();
        assert!((x - 299.72).abs() < 1e-6 && (y - 299.72).abs() < 1e-6);
    }

    #[test]
    fn hostile_headers_are_errors_not_panics() {
        // Huge dimensions are reported as such (the pixel limit is judged by the caller).
        let p = inspect(&sof(3, 8, 65535, 65535, SOS_TAIL)).unwrap();
        assert_eq!((p.width, p.height), (65535, 65535));
        // Segment length shorter than its own length field.
        let mut bad = vec![0xFF, SOI, 0xFF, 0xE0, 0x00, 0x01];
        bad.extend_from_slice(SOS_TAIL);
        assert_eq!(inspect(&bad).unwrap_err().code(), "unreadable");
        // Segment length running past the end.
        assert_eq!(
            inspect(&[0xFF, SOI, 0xFF, 0xE0, 0x40, 0x00, 1, 2]).unwrap_err().code(),
            "unreadable"
        );
        // SOF claiming more components than it carries.
        let mut short = sof(3, 8, 10, 10, &[]);
        short.truncate(short.len() - 4);
        assert_eq!(inspect(&short).unwrap_err().code(), "unreadable");
        // Zero components, zero height (DNL), bare SOI.
        assert_eq!(inspect(&sof(0, 8, 10, 10, SOS_TAIL)).unwrap_err().code(), "unreadable");
        assert_eq!(
            inspect(&sof(1, 8, 10, 0, SOS_TAIL)).unwrap_err().code(),
            "unsupported-format"
        );
        assert_eq!(inspect(&[0xFF, SOI]).unwrap_err().code(), "unreadable");
        assert_eq!(inspect(&[0xFF, SOI, 0xFF, EOI]).unwrap_err().code(), "unreadable");
        // Scan data with no frame header.
        let mut nosof = vec![0xFF, SOI];
        nosof.extend_from_slice(SOS_TAIL);
        assert!(inspect(&nosof).is_err());
    }

    #[test]
    fn truncated_jpeg_passes_headers_but_fails_integrity() {
        let j = encode(128, 128, false, Some(300));
        let cut = &j[..j.len() * 2 / 3];
        assert!(inspect(cut).is_ok());
        let e = verify(cut).unwrap_err();
        assert_eq!(e.code(), "unreadable");
        assert!(e.to_string().contains("EOI"), "{e}");
        // Missing only the final EOI is caught too.
        assert!(verify(&j[..j.len() - 2]).is_err());
    }
}
