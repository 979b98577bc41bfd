//! Scan page → image XObject, losslessly: JPEG bytes pass through as DCTDecode, PNG IDAT data
//! passes through with its predictor where possible, CCITT G4 TIFF strips pass through, and
//! everything else is decoded and deflated sample-exact. Alpha becomes an /SMask.

use std::borrow::Cow;
use std::io::Cursor;

use super::error::PdfError;
use super::inflate::deflate;
use super::object::{Dict, Object};

/// One scan page to embed: the whole source file and which image in it.
#[derive(Debug, Clone, Copy)]
pub struct ImagePage<'a> {
    pub data: &'a [u8],
    pub kind: ImageKind,
    pub dpi_x: f64,
    pub dpi_y: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    /// One page (IFD, counted from 0) of a TIFF file.
    Tiff {
        page: usize,
    },
}

/// An image XObject ready to write: dictionary without /Length, the stream data (borrowed when
/// passed through), and an optional soft mask.
pub struct ImageXObject<'a> {
    pub width: u32,
    pub height: u32,
    pub dict: Dict,
    pub data: Cow<'a, [u8]>,
    pub smask: Option<(Dict, Vec<u8>)>,
}

/// Largest decoded image accepted (bytes), against decompression bombs in PNG/TIFF.
const MAX_DECODED: usize = 1 << 30;

pub fn image_xobject<'a>(page: &ImagePage<'a>) -> Result<ImageXObject<'a>, PdfError> {
    let page = *page;
    // Last resort against a codec bug on a hostile file: an error, not a crashed batch.
    std::panic::catch_unwind(move || match page.kind {
        ImageKind::Jpeg => jpeg(page.data),
        ImageKind::Png => png_image(page.data),
        ImageKind::Tiff { page: n } => tiff_image(page.data, n),
    })
    .unwrap_or_else(|_| Err(invalid("image decoder panicked")))
}

fn base_dict(width: u32, height: u32, color_space: Object, bpc: u8) -> Dict {
    Dict::new()
        .with("Type", Object::name("XObject"))
        .with("Subtype", Object::name("Image"))
        .with("Width", Object::Int(i64::from(width)))
        .with("Height", Object::Int(i64::from(height)))
        .with("ColorSpace", color_space)
        .with("BitsPerComponent", Object::Int(i64::from(bpc)))
}

fn unsupported(msg: impl Into<String>) -> PdfError {
    PdfError::UnsupportedImage(msg.into())
}

fn invalid(msg: impl Into<String>) -> PdfError {
    PdfError::InvalidImage(msg.into())
}

// ---------------------------------------------------------------- JPEG

/// Header facts of a JPEG needed for its XObject.
#[derive(Debug, PartialEq, Eq)]
pub struct JpegInfo {
    pub width: u32,
    pub height: u32,
    pub components: u8,
    pub adobe: bool,
}

/// Walk the marker segments up to the frame header (SOF).
pub fn jpeg_info(data: &[u8]) -> Result<JpegInfo, PdfError> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Err(invalid("not a JPEG (no SOI marker)"));
    }
    let mut pos = 2;
    let mut adobe = false;
    loop {
        // Markers may be preceded by fill bytes 0xFF.
        while data.get(pos) == Some(&0xFF) && data.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let (ff, marker) = match (data.get(pos), data.get(pos + 1)) {
            (Some(a), Some(b)) => (*a, *b),
            _ => return Err(invalid("JPEG ends before its frame header")),
        };
        if ff != 0xFF {
            return Err(invalid(format!("JPEG marker expected at offset {pos}")));
        }
        pos += 2;
        if matches!(marker, 0x01 | 0xD0..=0xD7) {
            continue;
        }
        if matches!(marker, 0xD9 | 0xDA) {
            return Err(invalid("JPEG without a frame header before its scan"));
        }
        let len = match (data.get(pos), data.get(pos + 1)) {
            (Some(a), Some(b)) => usize::from(u16::from_be_bytes([*a, *b])),
            _ => return Err(invalid("truncated JPEG segment")),
        };
        let seg = data
            .get(pos + 2..pos + len)
            .filter(|_| len >= 2)
            .ok_or_else(|| invalid("truncated JPEG segment"))?;
        match marker {
            0xEE if seg.starts_with(b"Adobe") => adobe = true,
            0xC0..=0xC2 => {
                let [precision, h1, h0, w1, w0, components, ..] = *seg else {
                    return Err(invalid("short JPEG frame header"));
                };
                if precision != 8 {
                    return Err(unsupported(format!("{precision}-bit JPEG")));
                }
                let (height, width) = (u16::from_be_bytes([h1, h0]), u16::from_be_bytes([w1, w0]));
                if width == 0 || height == 0 {
                    return Err(unsupported("JPEG with zero or deferred (DNL) dimensions"));
                }
                return Ok(JpegInfo {
                    width: width.into(),
                    height: height.into(),
                    components,
                    adobe,
                });
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(unsupported("lossless, hierarchical or arithmetic-coded JPEG"));
            }
            _ => {}
        }
        pos += len;
    }
}

fn jpeg(data: &[u8]) -> Result<ImageXObject<'_>, PdfError> {
    let info = jpeg_info(data)?;
    let cs = match info.components {
        1 => "DeviceGray",
        3 => "DeviceRGB",
        4 => "DeviceCMYK",
        n => return Err(unsupported(format!("JPEG with {n} components"))),
    };
    let mut dict = base_dict(info.width, info.height, Object::name(cs), 8).with("Filter", Object::name("DCTDecode"));
    if info.components == 4 && info.adobe {
        // Adobe writes CMYK JPEGs inverted.
        dict.set(
            "Decode",
            Object::Array([1, 0, 1, 0, 1, 0, 1, 0].map(Object::Int).to_vec()),
        );
    }
    Ok(ImageXObject {
        width: info.width,
        height: info.height,
        dict,
        data: Cow::Borrowed(data),
        smask: None,
    })
}

// ---------------------------------------------------------------- PNG

struct PngChunks<'a> {
    width: u32,
    height: u32,
    depth: u8,
    color: u8,
    interlaced: bool,
    palette: Option<&'a [u8]>,
    has_trns: bool,
    idat: Vec<&'a [u8]>,
}

fn png_chunks(data: &[u8]) -> Result<PngChunks<'_>, PdfError> {
    if !data.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(invalid("not a PNG"));
    }
    let mut pos = 8;
    let mut ihdr: Option<&[u8]> = None;
    let (mut palette, mut has_trns, mut idat) = (None, false, Vec::new());
    while pos + 8 <= data.len() {
        let len = u32::from_be_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as usize;
        let kind = &data[pos + 4..pos + 8];
        let body = data
            .get(pos + 8..pos + 8 + len)
            .ok_or_else(|| invalid("truncated PNG chunk"))?;
        match kind {
            b"IHDR" => ihdr = Some(body),
            b"PLTE" => palette = Some(body),
            b"tRNS" => has_trns = true,
            b"IDAT" => idat.push(body),
            b"IEND" => break,
            _ => {}
        }
        pos += 12 + len;
    }
    let h = ihdr
        .filter(|h| h.len() >= 13)
        .ok_or_else(|| invalid("PNG without IHDR"))?;
    let width = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let height = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
    if width == 0 || height == 0 || idat.is_empty() {
        return Err(invalid("PNG without pixels"));
    }
    Ok(PngChunks {
        width,
        height,
        depth: h[8],
        color: h[9],
        interlaced: h[12] != 0,
        palette,
        has_trns,
        idat,
    })
}

fn png_image(data: &[u8]) -> Result<ImageXObject<'_>, PdfError> {
    let c = png_chunks(data)?;
    let passthrough = !c.interlaced && !c.has_trns && matches!(c.color, 0 | 2 | 3);
    if !passthrough {
        return png_decoded(data);
    }
    let (cs, colors) = match c.color {
        0 => (Object::name("DeviceGray"), 1),
        2 => (Object::name("DeviceRGB"), 3),
        _ => {
            let pal = c
                .palette
                .filter(|p| !p.is_empty() && p.len() % 3 == 0)
                .ok_or_else(|| invalid("palette PNG without PLTE"))?;
            let cs = Object::Array(vec![
                Object::name("Indexed"),
                Object::name("DeviceRGB"),
                Object::Int((pal.len() / 3 - 1) as i64),
                Object::Hex(pal.to_vec()),
            ]);
            (cs, 1)
        }
    };
    if ![1, 2, 4, 8, 16].contains(&c.depth) {
        return Err(invalid(format!("PNG bit depth {}", c.depth)));
    }
    let parms = Dict::new()
        .with("Predictor", Object::Int(15))
        .with("Colors", Object::Int(colors))
        .with("BitsPerComponent", Object::Int(i64::from(c.depth)))
        .with("Columns", Object::Int(i64::from(c.width)));
    let dict = base_dict(c.width, c.height, cs, c.depth)
        .with("Filter", Object::name("FlateDecode"))
        .with("DecodeParms", Object::Dict(parms));
    // The IDAT chunks together are one zlib stream with PNG row filters: exactly what
    // FlateDecode with /Predictor 15 expects.
    let stream = if c.idat.len() == 1 {
        Cow::Borrowed(c.idat[0])
    } else {
        Cow::Owned(c.idat.concat())
    };
    Ok(ImageXObject {
        width: c.width,
        height: c.height,
        dict,
        data: stream,
        smask: None,
    })
}

/// Decode (interlaced, alpha or transparency-keyed PNGs), split alpha into a soft mask.
fn png_decoded(data: &[u8]) -> Result<ImageXObject<'static>, PdfError> {
    let mut dec = png::Decoder::new(Cursor::new(data));
    dec.set_transformations(png::Transformations::EXPAND);
    let mut reader = dec.read_info().map_err(|e| invalid(format!("PNG: {e}")))?;
    let size = reader
        .output_buffer_size()
        .filter(|s| *s <= MAX_DECODED)
        .ok_or_else(|| unsupported("PNG too large"))?;
    let mut buf = vec![0; size];
    let info = reader.next_frame(&mut buf).map_err(|e| invalid(format!("PNG: {e}")))?;
    buf.truncate(info.buffer_size());
    let bpc: u8 = match info.bit_depth {
        png::BitDepth::Sixteen => 16,
        png::BitDepth::Eight => 8,
        other => return Err(unsupported(format!("PNG output depth {other:?}"))),
    };
    let (colors, alpha) = match info.color_type {
        png::ColorType::Grayscale => (1, false),
        png::ColorType::Rgb => (3, false),
        png::ColorType::GrayscaleAlpha => (1, true),
        png::ColorType::Rgba => (3, true),
        png::ColorType::Indexed => return Err(unsupported("indexed PNG after expansion")),
    };
    raw_image(info.width, info.height, colors, alpha, bpc, buf)
}

/// Build an XObject from interleaved samples (big-endian when 16-bit).
fn raw_image(
    width: u32,
    height: u32,
    colors: usize,
    alpha: bool,
    bpc: u8,
    samples: Vec<u8>,
) -> Result<ImageXObject<'static>, PdfError> {
    let cs = match colors {
        1 => "DeviceGray",
        3 => "DeviceRGB",
        4 => "DeviceCMYK",
        n => return Err(unsupported(format!("{n} colour channels"))),
    };
    let (color, smask) = if alpha {
        let bytes = usize::from(bpc / 8).max(1);
        let pixel = (colors + 1) * bytes;
        let mut color = Vec::with_capacity(samples.len() / (colors + 1) * colors);
        let mut mask = Vec::with_capacity(samples.len() / (colors + 1));
        for px in samples.chunks_exact(pixel) {
            color.extend_from_slice(&px[..colors * bytes]);
            mask.extend_from_slice(&px[colors * bytes..]);
        }
        let mdict =
            base_dict(width, height, Object::name("DeviceGray"), bpc).with("Filter", Object::name("FlateDecode"));
        (color, Some((mdict, deflate(&mask))))
    } else {
        (samples, None)
    };
    let dict = base_dict(width, height, Object::name(cs), bpc).with("Filter", Object::name("FlateDecode"));
    Ok(ImageXObject {
        width,
        height,
        dict,
        data: Cow::Owned(deflate(&color)),
        smask,
    })
}

// ---------------------------------------------------------------- TIFF

/// Map a TIFF codec error: unsupported features are `unsupported-image`, the rest invalid.
fn tiff_error(e: tiff::TiffError) -> PdfError {
    match e {
        tiff::TiffError::UnsupportedError(u) => unsupported(format!("TIFF: {u}")),
        other => invalid(format!("TIFF: {other}")),
    }
}

fn tiff_decoder(data: &[u8]) -> Result<tiff::decoder::Decoder<Cursor<&[u8]>>, PdfError> {
    let mut limits = tiff::decoder::Limits::default();
    limits.decoding_buffer_size = MAX_DECODED;
    Ok(tiff::decoder::Decoder::new(Cursor::new(data))
        .map_err(|e| invalid(format!("TIFF: {e}")))?
        .with_limits(limits))
}

/// Number of pages (IFDs) in a TIFF, bounded.
pub fn tiff_page_count(data: &[u8]) -> Result<usize, PdfError> {
    let mut dec = tiff_decoder(data)?;
    let mut n = 1;
    while dec.more_images() {
        if n >= 10_000 {
            return Err(unsupported("TIFF with more than 10000 pages"));
        }
        dec.next_image().map_err(|e| invalid(format!("TIFF: {e}")))?;
        n += 1;
    }
    Ok(n)
}

fn tiff_image(data: &[u8], page: usize) -> Result<ImageXObject<'_>, PdfError> {
    use tiff::tags::Tag;
    use tiff::ColorType;
    let mut dec = tiff_decoder(data)?;
    let terr = tiff_error;
    dec.seek_to_image(page)
        .map_err(|e| invalid(format!("TIFF page {page}: {e}")))?;
    let (width, height) = dec.dimensions().map_err(terr)?;
    let color = dec.colortype().map_err(terr)?;
    let compression: u16 = dec.find_tag_unsigned(Tag::Compression).map_err(terr)?.unwrap_or(1);
    if compression == 4 && color == ColorType::Gray(1) {
        if let Some(x) = tiff_g4_passthrough(&mut dec, data, width, height)? {
            return Ok(x);
        }
    }
    let samples = match dec.read_image().map_err(terr)? {
        tiff::decoder::DecodingResult::U8(v) => v,
        tiff::decoder::DecodingResult::U16(v) => v.iter().flat_map(|s| s.to_be_bytes()).collect(),
        _ => return Err(unsupported("TIFF sample format")),
    };
    match color {
        ColorType::Gray(1) => {
            let dict =
                base_dict(width, height, Object::name("DeviceGray"), 1).with("Filter", Object::name("FlateDecode"));
            Ok(ImageXObject {
                width,
                height,
                dict,
                data: Cow::Owned(deflate(&samples)),
                smask: None,
            })
        }
        ColorType::Gray(b @ (8 | 16)) => raw_image(width, height, 1, false, b, samples),
        ColorType::GrayA(b @ (8 | 16)) => raw_image(width, height, 1, true, b, samples),
        ColorType::RGB(b @ (8 | 16)) => raw_image(width, height, 3, false, b, samples),
        ColorType::RGBA(b @ (8 | 16)) => raw_image(width, height, 3, true, b, samples),
        ColorType::CMYK(8) => raw_image(width, height, 4, false, 8, samples),
        other => Err(unsupported(format!("TIFF colour type {other:?}"))),
    }
}

/// A single-strip CCITT G4 image goes in unchanged as /CCITTFaxDecode.
fn tiff_g4_passthrough<'a>(
    dec: &mut tiff::decoder::Decoder<Cursor<&[u8]>>,
    data: &'a [u8],
    width: u32,
    height: u32,
) -> Result<Option<ImageXObject<'a>>, PdfError> {
    use tiff::tags::Tag;
    let terr = tiff_error;
    let offsets: Vec<u64> = dec
        .find_tag_unsigned_vec(Tag::StripOffsets)
        .map_err(terr)?
        .unwrap_or_default();
    let counts: Vec<u64> = dec
        .find_tag_unsigned_vec(Tag::StripByteCounts)
        .map_err(terr)?
        .unwrap_or_default();
    let fill_order: u16 = dec.find_tag_unsigned(Tag::FillOrder).map_err(terr)?.unwrap_or(1);
    let photometric: u16 = dec
        .find_tag_unsigned(Tag::PhotometricInterpretation)
        .map_err(terr)?
        .unwrap_or(0);
    let (&[off], &[len]) = (offsets.as_slice(), counts.as_slice()) else {
        return Ok(None);
    };
    if fill_order != 1 {
        return Ok(None);
    }
    let strip = usize::try_from(off)
        .ok()
        .zip(usize::try_from(len).ok())
        .and_then(|(o, l)| data.get(o..o.checked_add(l)?))
        .ok_or_else(|| invalid("TIFF strip outside the file"))?;
    let parms = Dict::new()
        .with("K", Object::Int(-1))
        .with("Columns", Object::Int(i64::from(width)))
        .with("Rows", Object::Int(i64::from(height)))
        // In a BlackIsZero G4 TIFF the "white" code runs mean black.
        .with("BlackIs1", Object::Bool(photometric == 1));
    let dict = base_dict(width, height, Object::name("DeviceGray"), 1)
        .with("Filter", Object::name("CCITTFaxDecode"))
        .with("DecodeParms", Object::Dict(parms));
    Ok(Some(ImageXObject {
        width,
        height,
        dict,
        data: Cow::Borrowed(strip),
        smask: None,
    }))
}
