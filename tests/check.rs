//! End-to-end tests of `hozon check`: the binary runs on fixtures written into a temporary
//! folder (made with the `image`, `png`, `tiff` and `lopdf` encoders or by hand) and on the
//! checked-in `sample-scans/`; verdicts, reason codes, exit codes and the JSON shape are asserted.
//! Peer checks: `pdfimages -list` (poppler) confirms PDF image resolutions, Pillow the per-format
//! readers; they skip loudly when missing unless HOZON_REQUIRE_PEERS=1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shipped_config() -> PathBuf {
    manifest().join("config/hozon.toml")
}

fn hozon(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hozon"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("HOZON_CONFIG")
        .output()
        .expect("run hozon")
}

/// Run `check --json -` and return (exit code, JSON report).
fn check_json(config: &Path, paths: &[&Path], extra: &[&str]) -> (i32, Value) {
    let mut args: Vec<String> = vec!["check".into(), "--json".into(), "-".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = hozon(config, &refs);
    let code = out.status.code().expect("exit code");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, json)
}

fn peer_missing(tool: &str) {
    if std::env::var("HOZON_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("{tool} is required (HOZON_REQUIRE_PEERS=1) but not installed");
    }
    eprintln!("SKIP peer check: {tool} not installed");
}

// ---- fixtures -------------------------------------------------------------------------------

fn jpeg(w: u32, h: u32, dpi: u16) -> Vec<u8> {
    use image::codecs::jpeg::{JpegEncoder, PixelDensity};
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 200) as u8 + 40, (y % 200) as u8 + 40, 200])
    });
    let mut out = Vec::new();
    let mut enc = JpegEncoder::new_with_quality(&mut out, 75);
    enc.set_pixel_density(PixelDensity::dpi(dpi));
    enc.encode_image(&img).unwrap();
    out
}

fn png(w: u32, h: u32, colour: png::ColorType, depth: png::BitDepth, dpi: Option<u32>) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(colour);
        enc.set_depth(depth);
        if colour == png::ColorType::Indexed {
            enc.set_palette(vec![0u8; 3 * 256]);
        }
        if let Some(d) = dpi {
            let ppm = (f64::from(d) / 0.0254).round() as u32;
            enc.set_pixel_dims(Some(png::PixelDimensions {
                xppu: ppm,
                yppu: ppm,
                unit: png::Unit::Meter,
            }));
        }
        let mut wr = enc.write_header().unwrap();
        let bits = match (colour, depth) {
            (png::ColorType::Rgb, png::BitDepth::Sixteen) => 48,
            (png::ColorType::Rgb, _) => 24,
            (_, png::BitDepth::One) => 1,
            (_, png::BitDepth::Sixteen) => 16,
            _ => 8,
        };
        let row = (w as usize * bits).div_ceil(8);
        wr.write_image_data(&vec![0x5Au8; row * h as usize]).unwrap();
    }
    out
}

fn tiff(pages: &[(u32, u32, u32)]) -> Vec<u8> {
    use tiff::encoder::{colortype, Compression, Rational, TiffEncoder};
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut enc = TiffEncoder::new(&mut out).unwrap().with_compression(Compression::Lzw);
        for &(w, h, dpi) in pages {
            let mut img = enc.new_image::<colortype::RGB8>(w, h).unwrap();
            img.resolution(tiff::tags::ResolutionUnit::Inch, Rational { n: dpi, d: 1 });
            img.write_data(&vec![200u8; (w * h * 3) as usize]).unwrap();
        }
    }
    out.into_inner()
}

/// Hand-made CMYK JPEG: SOI, Adobe APP14, SOF0 with 4 components, a token scan, EOI.
fn cmyk_jpeg() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xEE, 0x00, 0x0E];
    v.extend_from_slice(b"Adobe\0\x64\0\0\0\0\0");
    v.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
    v.extend_from_slice(b"JFIF\0\x01\x02\x01\x01\x2c\x01\x2c\0\0");
    v.extend_from_slice(&[0xFF, 0xC0, 0x00, 20, 8, 0x00, 0x10, 0x00, 0x10, 4]);
    for i in 1..=4u8 {
        v.extend_from_slice(&[i, 0x11, 0]);
    }
    v.extend_from_slice(&[
        0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x12, 0x34, 0xFF, 0xD9,
    ]);
    v
}

/// One-page PDF with a DCT image drawn at `draw_pt` points (a scanner's PDF: image fills the page).
fn pdf(jpeg: &[u8], w: u32, h: u32, draw_pt: (f64, f64)) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let img = doc.add_object(Stream::new(
        dictionary! {"Type" => "XObject", "Subtype" => "Image", "Width" => w as i64, "Height" => h as i64,
        "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode"},
        jpeg.to_vec(),
    ));
    let ops = format!("q {} 0 0 {} 0 0 cm /Im0 Do Q", draw_pt.0, draw_pt.1);
    let content = doc.add_object(Stream::new(dictionary! {}, ops.into_bytes()));
    let page = doc.add_object(dictionary! {"Type" => "Page", "Parent" => pages_id,
    "MediaBox" => vec![0.into(), 0.into(), Object::Real(draw_pt.0 as f32), Object::Real(draw_pt.1 as f32)],
    "Resources" => dictionary! {"XObject" => dictionary! {"Im0" => img}}, "Contents" => content});
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {"Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1}),
    );
    let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Map of document file/folder name → (verdict, reason codes).
fn verdicts(report: &Value) -> Vec<(String, String, Vec<String>)> {
    report["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let name = Path::new(d["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let codes = d["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["code"].as_str().unwrap().to_string())
                .collect();
            (name, d["verdict"].as_str().unwrap().to_string(), codes)
        })
        .collect()
}

fn find<'a>(v: &'a [(String, String, Vec<String>)], name: &str) -> &'a (String, String, Vec<String>) {
    v.iter()
        .find(|d| d.0 == name)
        .unwrap_or_else(|| panic!("no document {name} in {v:?}"))
}

// ---- tests ----------------------------------------------------------------------------------

#[test]
fn verdicts_and_reason_codes_for_a_mixed_batch() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "ok_300.jpg", &jpeg(300, 420, 300));
    write(d, "low_200.jpg", &jpeg(200, 280, 200));
    write(
        d,
        "gray.png",
        &png(30, 40, png::ColorType::Grayscale, png::BitDepth::Eight, Some(300)),
    );
    write(
        d,
        "nodpi.png",
        &png(30, 40, png::ColorType::Rgb, png::BitDepth::Eight, None),
    );
    write(
        d,
        "bilevel.png",
        &png(30, 40, png::ColorType::Grayscale, png::BitDepth::One, Some(300)),
    );
    write(
        d,
        "rgb16.png",
        &png(30, 40, png::ColorType::Rgb, png::BitDepth::Sixteen, Some(300)),
    );
    write(
        d,
        "palette.png",
        &png(30, 40, png::ColorType::Indexed, png::BitDepth::Eight, Some(300)),
    );
    write(d, "cmyk.jpg", &cmyk_jpeg());
    write(d, "two.tif", &tiff(&[(40, 50, 300), (40, 50, 300)]));
    write(d, "scanner.pdf", &pdf(&jpeg(248, 351, 72), 248, 351, (59.52, 84.24)));
    write(d, "empty.jpg", b"");
    write(d, "gif.jpg", b"GIF89a\x01\x00\x01\x00");
    let full = jpeg(200, 200, 300);
    write(d, "truncated.jpg", &full[..full.len() / 2]);
    write(d, "named_wrong.png", &jpeg(30, 30, 300));
    let (code, report) = check_json(&shipped_config(), &[d], &[]);
    assert_eq!(code, 1, "{report:#}");
    let v = verdicts(&report);
    let expect: &[(&str, &str, &[&str])] = &[
        ("ok_300.jpg", "pass", &[]),
        ("low_200.jpg", "fail", &["low-resolution"]),
        ("gray.png", "pass", &[]),
        ("nodpi.png", "fail", &["missing-resolution"]),
        ("bilevel.png", "fail", &["color-depth"]),
        ("rgb16.png", "fail", &["color-depth"]),
        ("palette.png", "fail", &["color-space"]),
        ("cmyk.jpg", "fail", &["color-space"]),
        ("two.tif", "pass", &[]),
        ("scanner.pdf", "pass", &[]),
        ("empty.jpg", "fail", &["empty-file"]),
        ("gif.jpg", "fail", &["unsupported-format"]),
        ("truncated.jpg", "fail", &["unreadable"]),
        ("named_wrong.png", "pass", &["extension-mismatch"]),
    ];
    for (name, verdict, codes) in expect {
        let got = find(&v, name);
        assert_eq!(
            (got.1.as_str(), got.2.iter().map(String::as_str).collect::<Vec<_>>()),
            (*verdict, codes.to_vec()),
            "{name}"
        );
    }
    assert_eq!(v.len(), expect.len());
    let s = &report["summary"];
    assert_eq!(
        (s["documents"].as_u64(), s["passed"].as_u64(), s["failed"].as_u64()),
        (Some(14), Some(5), Some(9))
    );
}

#[test]
fn json_shape_pages_of_multi_page_files_and_document_page_numbers() {
    let t = tempfile::tempdir().unwrap();
    let doc = t.path().join("カルテ_0001");
    write(&doc, "page1.tif", &tiff(&[(40, 50, 300), (60, 50, 150)]));
    write(&doc, "page2.jpg", &jpeg(30, 30, 300));
    write(&doc, "page10.jpg", &jpeg(30, 30, 300));
    write(
        &doc,
        "document.json",
        r#"{"patient_id":"P-000123","scanned_by":"山田 花子"}"#.as_bytes(),
    );
    let json_file = t.path().join("report.json");
    let out = hozon(
        &shipped_config(),
        &[
            "check",
            "--json",
            json_file.to_str().unwrap(),
            t.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let human = String::from_utf8(out.stdout).unwrap();
    assert!(
        human.contains("FAIL") && human.contains("カルテ_0001") && human.contains("low-resolution"),
        "{human}"
    );
    let r: Value = serde_json::from_slice(&std::fs::read(&json_file).unwrap()).unwrap();
    let d = &r["documents"][0];
    for key in ["path", "profile", "verdict", "reasons", "pages"] {
        assert!(d.get(key).is_some(), "document lacks {key}");
    }
    assert_eq!(d["profile"], "chart");
    let pages = d["pages"].as_array().unwrap();
    let summary: Vec<(String, u64, String)> = pages
        .iter()
        .map(|p| {
            let name = Path::new(p["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (
                name,
                p["index"].as_u64().unwrap(),
                p["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("page1.tif".to_string(), 0, "pass".to_string()),
            ("page1.tif".to_string(), 1, "fail".to_string()),
            ("page2.jpg".to_string(), 0, "pass".to_string()),
            ("page10.jpg".to_string(), 0, "pass".to_string()),
        ]
    );
    for key in [
        "path",
        "index",
        "format",
        "width",
        "height",
        "dpi_x",
        "dpi_y",
        "color",
        "bits_per_channel",
        "verdict",
        "reasons",
    ] {
        assert!(pages[0].get(key).is_some(), "page lacks {key}");
    }
    assert_eq!(
        (
            pages[1]["width"].as_u64(),
            pages[1]["dpi_x"].as_f64(),
            pages[1]["color"].as_str()
        ),
        (Some(60), Some(150.0), Some("rgb8"))
    );
    // The document-level reason names page 2 of the document (the TIFF's second page).
    assert_eq!(d["reasons"][0]["code"], "low-resolution");
    assert_eq!(d["reasons"][0]["page"], 2);
    assert_eq!(r["summary"]["documents"], 1);
}

#[test]
fn sidecar_errors_profiles_and_limits() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "rx.jpg", &jpeg(30, 30, 300));
    write(d, "rx.json", br#"{"profile":"prescription","patient_id":"P-1"}"#);
    write(d, "bad_sidecar.jpg", &jpeg(30, 30, 300));
    write(d, "bad_sidecar.json", br#"{"patient_id":"P-1","scaned_by":"x"}"#);
    let big = d.join("big");
    for i in 1..=3 {
        write(&big, &format!("p{i}.jpg"), &jpeg(30, 30, 300));
    }
    write(&big, "document.json", b"{}");
    let cfg_text = std::fs::read_to_string(shipped_config())
        .unwrap()
        .replace("max_pixels = 200000000", "max_pixels = 1000000")
        + "\n[profiles.tiny]\nmax_pages = 2\n";
    let cfg = write(d, "cfg/hozon.toml", cfg_text.as_bytes());
    write(d, "huge.jpg", &jpeg(1001, 1000, 300));
    let (code, r) = check_json(
        &cfg,
        &[&d.join("rx.jpg"), &d.join("bad_sidecar.jpg"), &big, &d.join("huge.jpg")],
        &[],
    );
    assert_eq!(code, 1);
    let v = verdicts(&r);
    assert_eq!(r["documents"][0]["profile"], "prescription");
    assert_eq!(find(&v, "rx.jpg").1, "pass");
    assert_eq!(find(&v, "bad_sidecar.jpg").2, ["sidecar-invalid"]);
    assert!(r["documents"][1]["reasons"][0]["message"]
        .as_str()
        .unwrap()
        .contains("scaned_by"));
    assert_eq!(find(&v, "big").1, "pass");
    assert_eq!(find(&v, "huge.jpg").2, ["too-large"]);
    // --profile overrides the sidecar; the tiny profile allows two pages.
    let (_, r) = check_json(&cfg, &[&big], &["--profile", "tiny"]);
    assert_eq!(verdicts(&r)[0].2, ["too-many-pages"]);
    // Unknown profile and missing input are usage errors.
    let out = hozon(&cfg, &["check", "--profile", "nope", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
    assert_eq!(
        hozon(&cfg, &["check", d.join("missing").to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn integrity_pass_catches_what_headers_do_not_and_can_be_skipped() {
    let t = tempfile::tempdir().unwrap();
    let full = png(64, 64, png::ColorType::Rgb, png::BitDepth::Eight, Some(300));
    let f = write(t.path(), "cut.png", &full[..full.len() - 30]);
    let (code, r) = check_json(&shipped_config(), &[&f], &[]);
    assert_eq!((code, verdicts(&r)[0].2.clone()), (1, vec!["unreadable".to_string()]));
    let (code, _) = check_json(&shipped_config(), &[&f], &["--no-integrity"]);
    assert_eq!(code, 0);
}

#[test]
fn hostile_files_never_stop_the_batch() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let j = jpeg(50, 50, 300);
    // Every prefix length class of a JPEG, a TIFF and a PNG, plus random-ish bytes.
    let tf = tiff(&[(20, 20, 300)]);
    let p = png(20, 20, png::ColorType::Rgb, png::BitDepth::Eight, Some(300));
    let mut n = 0;
    for src in [&j, &tf, &p] {
        for cut in [1, 3, 7, 20, 60, src.len() / 3, src.len() - 1] {
            write(d, &format!("cut_{n}.bin"), &src[..cut.min(src.len())]);
            n += 1;
        }
    }
    write(
        d,
        "pdf_junk.pdf",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    );
    write(d, "zz_good.jpg", &j);
    let (code, r) = check_json(&shipped_config(), &[d], &[]);
    assert_eq!(code, 1);
    let v = verdicts(&r);
    assert_eq!(v.len(), n + 2);
    assert_eq!(find(&v, "zz_good.jpg").1, "pass");
    assert!(
        v.iter().filter(|d| d.0 != "zz_good.jpg").all(|d| d.1 == "fail"),
        "{v:?}"
    );
}

#[test]
fn checked_in_sample_scans_give_the_documented_verdicts() {
    let (code, r) = check_json(&shipped_config(), &[&manifest().join("sample-scans")], &[]);
    assert_eq!(code, 1);
    let v = verdicts(&r);
    assert_eq!(find(&v, "診療録_P-000123").1, "pass");
    assert_eq!(find(&v, "紹介状.png").1, "pass");
    assert_eq!(find(&v, "検査結果_2頁.tif").1, "pass");
    assert_eq!(find(&v, "処方箋_0001.jpg").1, "pass");
    assert_eq!(find(&v, "低解像度_150dpi.jpg").2, ["low-resolution"]);
    assert_eq!(v.len(), 5);
    let rx = r["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"].as_str().unwrap().ends_with("処方箋_0001.jpg"))
        .unwrap();
    assert_eq!(rx["profile"], "prescription");
    let chart = r["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"].as_str().unwrap().ends_with("P-000123"))
        .unwrap();
    assert_eq!(chart["pages"].as_array().unwrap().len(), 3);
    assert_eq!(chart["pages"][0]["width"], 2480);
    assert_eq!(chart["pages"][0]["dpi_x"], 300.0);
    let total: u64 = walk(&manifest().join("sample-scans"))
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(total <= 3 << 20, "sample-scans is {total} bytes");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn peer_pdfimages_agrees_on_pdf_image_resolution() {
    let t = tempfile::tempdir().unwrap();
    // 600×800 px drawn at 144×192 pt (2 × 2.67 in): 300 dpi.
    let f = write(
        t.path(),
        "scan.pdf",
        &pdf(&jpeg(600, 800, 72), 600, 800, (144.0, 192.0)),
    );
    let (_, r) = check_json(&shipped_config(), &[&f], &[]);
    let page = &r["documents"][0]["pages"][0];
    let Ok(out) = Command::new("pdfimages").arg("-list").arg(&f).output() else {
        return peer_missing("pdfimages");
    };
    let text = String::from_utf8_lossy(&out.stdout);
    // page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio
    let row: Vec<&str> = text.lines().nth(2).expect("one image row").split_whitespace().collect();
    assert_eq!(row[3].parse::<u64>().unwrap(), page["width"].as_u64().unwrap());
    assert_eq!(row[4].parse::<u64>().unwrap(), page["height"].as_u64().unwrap());
    assert_eq!(row[5], "rgb");
    assert_eq!(page["color"], "rgb8");
    let (xppi, yppi) = (row[12].parse::<f64>().unwrap(), row[13].parse::<f64>().unwrap());
    assert!(
        (xppi - page["dpi_x"].as_f64().unwrap()).abs() < 1.0,
        "pdfimages {xppi} vs {page}"
    );
    assert!(
        (yppi - page["dpi_y"].as_f64().unwrap()).abs() < 1.0,
        "pdfimages {yppi} vs {page}"
    );
}

#[test]
fn peer_pillow_agrees_on_sample_scan_headers() {
    let script = r#"
import sys, json
from PIL import Image
out = []
for p in sys.argv[1:]:
    im = Image.open(p)
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        dpi = im.info.get("dpi")
        out.append([p, i, im.width, im.height, im.mode, round(float(dpi[0])) if dpi else None])
print(json.dumps(out))
"#;
    let dir = manifest().join("sample-scans");
    let files: Vec<PathBuf> = walk(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e != "json"))
        .collect();
    let out = match Command::new("python3").arg("-c").arg(script).args(&files).output() {
        Ok(o) if o.status.success() => o,
        _ => return peer_missing("python3 with Pillow"),
    };
    let pil: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (_, r) = check_json(&shipped_config(), &[&dir], &[]);
    let mut ours = Vec::new();
    for d in r["documents"].as_array().unwrap() {
        for p in d["pages"].as_array().unwrap() {
            ours.push(p.clone());
        }
    }
    let pil = pil.as_array().unwrap();
    assert_eq!(pil.len(), ours.len());
    for row in pil {
        let p = ours
            .iter()
            .find(|o| {
                Path::new(o["path"].as_str().unwrap()).file_name() == Path::new(row[0].as_str().unwrap()).file_name()
                    && o["index"] == row[1]
            })
            .unwrap_or_else(|| panic!("no page for {row}"));
        assert_eq!((&p["width"], &p["height"]), (&row[2], &row[3]), "{row}");
        let mode = match row[4].as_str().unwrap() {
            "RGB" => "rgb8",
            "L" => "gray8",
            "1" => "bilevel",
            "CMYK" => "cmyk8",
            "P" => "indexed",
            other => other,
        };
        assert_eq!(p["color"].as_str().unwrap(), mode, "{row}");
        assert_eq!(p["dpi_x"].as_f64().map(f64::round), row[5].as_f64(), "{row}");
    }
}

#[test]
fn peer_img2pdf_scanner_style_pdfs_are_judged_by_their_image_resolution() {
    let t = tempfile::tempdir().unwrap();
    let mut pdfs = Vec::new();
    for (name, dpi) in [("at300", 300u16), ("at150", 150)] {
        let j = write(t.path(), &format!("{name}.jpg"), &jpeg(620, 877, dpi));
        let pdf = t.path().join(format!("{name}.pdf"));
        match Command::new("img2pdf").arg(&j).arg("-o").arg(&pdf).output() {
            Ok(o) if o.status.success() => pdfs.push(pdf),
            _ => return peer_missing("img2pdf"),
        }
    }
    let (code, r) = check_json(&shipped_config(), &[&pdfs[0], &pdfs[1]], &[]);
    assert_eq!(code, 1);
    let v = verdicts(&r);
    assert_eq!(find(&v, "at300.pdf").1, "pass");
    assert_eq!(find(&v, "at150.pdf").2, ["low-resolution"]);
    assert!((r["documents"][1]["pages"][0]["dpi_x"].as_f64().unwrap() - 150.0).abs() < 0.5);
}
