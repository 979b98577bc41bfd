//! Generates `sample-scans/`: a small, deterministic batch of realistic-looking scans for
//! `hozon check` and `hozon ingest` demonstrations.
//!
//! `cargo run --example make_sample_scans -- sample-scans`
//!
//! - `診療録_P-000123/` — 3-page 300 dpi colour chart (JPEG) with a `document.json` sidecar
//! - `紹介状.png` — grey referral letter, 300 dpi (pHYs)
//! - `検査結果_2頁.tif` — 2-page 300 dpi RGB TIFF (Deflate)
//! - `処方箋_0001.jpg` + `処方箋_0001.json` — prescription, profile "prescription"
//! - `低解像度_150dpi.jpg` — a 150 dpi scan that must fail the check

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::codecs::jpeg::{JpegEncoder, PixelDensity};
use image::{Rgb, RgbImage};

/// A4 at 300 dpi.
const A4: (u32, u32) = (2480, 3508);
/// A5 at 300 dpi.
const A5: (u32, u32) = (1748, 2480);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "sample-scans".into()));
    fs::create_dir_all(&out)?;

    let chart = out.join("診療録_P-000123");
    fs::create_dir_all(&chart)?;
    for page in 1..=3u32 {
        let img = page_image(A4, 300, 100 + page, true);
        write_jpeg(&chart.join(format!("page{page}.jpg")), &img, 300, 60)?;
    }
    fs::write(
        chart.join("document.json"),
        serde_json::to_string_pretty(&serde_json::json!({
            "patient_id": "P-000123",
            "document_type": "診療録",
            "document_date": "2026-11-26",
            "scanned_by": "山田 花子",
            "scanned_at": "2026-11-26T17:30:00+09:00",
            "scanner": {"device": "fi-8170", "settings": "300dpi カラー"},
            "profile": "chart",
            "information_manager": "佐藤 一郎",
            "paper_location": "診療情報管理室 書庫A-3",
            "attestation": {"no_overlap": true, "nothing_outside_scan_area": true},
            "responsible": "鈴木 次郎",
            "notes": "外来診療録 3頁"
        }))? + "\n",
    )?;

    let letter = page_image(A4, 300, 200, false);
    write_gray_png(&out.join("紹介状.png"), &letter, 300)?;

    let tiff_pages = [page_image(A5, 300, 300, true), page_image(A5, 300, 301, true)];
    write_tiff(&out.join("検査結果_2頁.tif"), &tiff_pages, 300)?;

    let rx = page_image(A5, 300, 400, true);
    write_jpeg(&out.join("処方箋_0001.jpg"), &rx, 300, 65)?;
    fs::write(
        out.join("処方箋_0001.json"),
        serde_json::to_string_pretty(&serde_json::json!({
            "patient_id": "P-000456",
            "document_type": "処方箋",
            "document_date": "2026-11-26",
            "scanned_by": "高橋 美咲",
            "scanner": "fi-8170 300dpi カラー",
            "profile": "prescription",
            "information_manager": "佐藤 一郎"
        }))? + "\n",
    )?;

    let low = page_image((1240, 1754), 150, 500, true);
    write_jpeg(&out.join("低解像度_150dpi.jpg"), &low, 150, 65)?;

    let mut total = 0;
    for e in walk(&out)? {
        total += fs::metadata(&e)?.len();
    }
    println!("wrote {} ({} bytes)", out.display(), total);
    Ok(())
}

fn walk(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            out.extend(walk(&p)?);
        } else {
            out.push(p);
        }
    }
    Ok(out)
}

/// Deterministic pseudo-random numbers (64-bit LCG): same seed, same page.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u32) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % u64::from(n.max(1))) as u32
    }
}

/// A white page with a header bar, ruled lines, text-like word bars and (in colour) a red stamp.
fn page_image((w, h): (u32, u32), dpi: u32, seed: u32, stamp: bool) -> RgbImage {
    let mut img = RgbImage::from_pixel(w, h, Rgb([252, 252, 250]));
    let mut rng = Lcg(u64::from(seed) * 7919);
    let u = |mm: f64| (mm * f64::from(dpi) / 25.4) as u32; // millimetres to pixels
    let ink = Rgb([35, 35, 40]);
    let margin = u(18.0);
    // Title bar and a ruled box for the header fields.
    fill(&mut img, margin, margin, w / 2, u(7.0), ink);
    for k in 0..4 {
        fill(
            &mut img,
            margin,
            margin + u(12.0) + k * u(8.0),
            w - 2 * margin,
            u(0.3).max(1),
            Rgb([90, 90, 100]),
        );
    }
    // Lines of "words".
    let line = u(6.5);
    let mut y = margin + u(48.0);
    while y + line < h - margin - u(30.0) {
        let mut x = margin + if rng.next(6) == 0 { u(10.0) } else { 0 };
        let end = w - margin - rng.next(u(60.0));
        while x < end {
            let word = u(3.0) + rng.next(u(22.0));
            fill(&mut img, x, y, word.min(end - x), u(2.6), ink);
            x += word + u(2.2);
        }
        y += line + if rng.next(9) == 0 { line } else { 0 };
    }
    if stamp {
        // 印: red ring with a bar inside, lower right.
        let (cx, cy, r) = (w - margin - u(20.0), h - margin - u(22.0), u(9.0));
        let red = Rgb([205, 40, 45]);
        ring(&mut img, cx, cy, r, u(1.0).max(2), red);
        fill(&mut img, cx - r / 2, cy - u(0.6), r, u(1.2), red);
        fill(&mut img, cx - u(0.6), cy - r / 2, u(1.2), r, red);
    }
    img
}

fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, c: Rgb<u8>) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, c);
        }
    }
}

fn ring(img: &mut RgbImage, cx: u32, cy: u32, r: u32, t: u32, c: Rgb<u8>) {
    let (r_out, r_in) = (f64::from(r), f64::from(r.saturating_sub(t)));
    for y in cy.saturating_sub(r)..=(cy + r).min(img.height() - 1) {
        for x in cx.saturating_sub(r)..=(cx + r).min(img.width() - 1) {
            let d = (f64::from(x) - f64::from(cx)).hypot(f64::from(y) - f64::from(cy));
            if d <= r_out && d >= r_in {
                img.put_pixel(x, y, c);
            }
        }
    }
}

fn write_jpeg(path: &Path, img: &RgbImage, dpi: u16, quality: u8) -> Result<(), Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    let mut enc = JpegEncoder::new_with_quality(&mut out, quality);
    enc.set_pixel_density(PixelDensity::dpi(dpi));
    enc.encode_image(img)?;
    fs::write(path, out)?;
    Ok(())
}

fn write_gray_png(path: &Path, img: &RgbImage, dpi: u32) -> Result<(), Box<dyn std::error::Error>> {
    let gray: Vec<u8> = img
        .pixels()
        .map(|p| ((u32::from(p[0]) * 30 + u32::from(p[1]) * 59 + u32::from(p[2]) * 11) / 100) as u8)
        .collect();
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, img.width(), img.height());
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let ppm = (f64::from(dpi) / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
        let mut w = enc.write_header()?;
        w.write_image_data(&gray)?;
    }
    fs::write(path, out)?;
    Ok(())
}

fn write_tiff(path: &Path, pages: &[RgbImage], dpi: u32) -> Result<(), Box<dyn std::error::Error>> {
    use tiff::encoder::{colortype, Compression, DeflateLevel, Rational, TiffEncoder};
    let mut out = Cursor::new(Vec::new());
    {
        let mut enc = TiffEncoder::new(&mut out)?.with_compression(Compression::Deflate(DeflateLevel::Best));
        for p in pages {
            let mut img = enc.new_image::<colortype::RGB8>(p.width(), p.height())?;
            img.resolution(tiff::tags::ResolutionUnit::Inch, Rational { n: dpi, d: 1 });
            img.write_data(p.as_raw())?;
        }
    }
    fs::write(path, out.into_inner())?;
    Ok(())
}
