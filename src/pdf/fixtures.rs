//! Test fixtures: generated scan images in every supported form, and sample metadata.

use std::io::Cursor;

use time::macros::datetime;

use super::metadata::PdfMetadata;

/// Deterministic pseudo-random bytes so compression cannot cheat.
pub fn noise(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

pub fn jpeg(width: u32, height: u32, rgb: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80);
    let (ct, n) = if rgb {
        (image::ExtendedColorType::Rgb8, 3)
    } else {
        (image::ExtendedColorType::L8, 1)
    };
    let px: Vec<u8> = (0..width * height * n).map(|i| ((i / n) % 251) as u8).collect();
    image::ImageEncoder::write_image(enc, &px, width, height, ct).expect("jpeg encode");
    out
}

/// A PNG written by the png crate; returns (file, raw samples as stored).
pub fn png(
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    palette: Option<Vec<u8>>,
) -> (Vec<u8>, Vec<u8>) {
    let mut out = Vec::new();
    let channels = match color {
        png::ColorType::Grayscale | png::ColorType::Indexed => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
    };
    let bits = depth as usize * channels;
    let row = (bits * width as usize).div_ceil(8);
    let mut samples = noise(row * height as usize, width ^ (channels as u32 * 7) ^ (depth as u32));
    if let Some(p) = &palette {
        let entries = (p.len() / 3) as u8;
        if depth == png::BitDepth::Eight {
            samples.iter_mut().for_each(|s| *s %= entries);
        }
    }
    {
        let mut enc = png::Encoder::new(Cursor::new(&mut out), width, height);
        enc.set_color(color);
        enc.set_depth(depth);
        if let Some(p) = palette {
            enc.set_palette(p);
        }
        let mut w = enc.write_header().expect("png header");
        w.write_image_data(&samples).expect("png data");
    }
    (out, samples)
}

/// A multi-page TIFF: page 0 gray 8-bit, page 1 RGB 16-bit. Returns (file, samples per page
/// as big-endian bytes).
pub fn tiff_two_pages() -> (Vec<u8>, Vec<Vec<u8>>) {
    use tiff::encoder::{colortype, TiffEncoder};
    let mut out = Cursor::new(Vec::new());
    let gray = noise(40 * 30, 5);
    let rgb16: Vec<u16> = noise(20 * 10 * 6, 9)
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    {
        let mut enc = TiffEncoder::new(&mut out).expect("tiff");
        enc.write_image::<colortype::Gray8>(40, 30, &gray).expect("page 0");
        enc.write_image::<colortype::RGB16>(20, 10, &rgb16).expect("page 1");
    }
    let rgb16_be = rgb16.iter().flat_map(|v| v.to_be_bytes()).collect();
    (out.into_inner(), vec![gray, rgb16_be])
}

pub fn meta() -> PdfMetadata {
    PdfMetadata {
        title: Some("診療録 2026".into()),
        author: Some("山田 花子".into()),
        subject: Some("外来".into()),
        keywords: None,
        creator: "hozon 0.1.0".into(),
        producer: "hozon 0.1.0".into(),
        created: datetime!(2026-11-27 01:02:03 UTC),
        custom: vec![("HozonSourceSHA256".into(), "page1.jpg 00ff".into())],
    }
}

/// A hand-made PDF: `objects[i]` becomes object `i + 1`; `trailer` is the trailer dictionary
/// body (without `<<`/`>>`); the xref offsets are computed.
pub fn raw_pdf(objects: &[&[u8]], trailer: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(format!("trailer\n<<{trailer}>>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    out
}

/// A minimal one-page document as `raw_pdf` objects 1–3 (catalog, pages, page).
pub const MINIMAL: [&[u8]; 3] = [
    b"<</Type/Catalog/Pages 2 0 R>>",
    b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
    b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>",
];
