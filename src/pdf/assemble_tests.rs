//! Tests of `assemble`/`add_metadata`: geometry, byte-exact and pixel-exact round trips, peers.

use super::*;
use crate::pdf::fixtures;
use crate::pdf::image::ImageKind;
use crate::pdf::pages::extract_page_images;
use crate::pdf::peers;
use crate::pdf::text::decode_text;

fn one(data: &[u8], kind: ImageKind, dpi: f64) -> Vec<u8> {
    assemble(
        &[ImagePage {
            data,
            kind,
            dpi_x: dpi,
            dpi_y: dpi,
        }],
        &fixtures::meta(),
    )
    .unwrap()
}

fn info_of(pdf: &[u8]) -> Dict {
    let chain = XrefChain::parse(pdf).unwrap();
    let view = PdfView::latest(pdf, &chain).unwrap();
    view.dict_at(view.trailer.get("Info").unwrap(), "info").unwrap()
}

#[test]
fn a4_jpeg_is_embedded_byte_for_byte_at_the_right_size() {
    let jpg = fixtures::jpeg(2480, 3508, true);
    let pdf = one(&jpg, ImageKind::Jpeg, 300.0);
    let imgs = extract_page_images(&pdf).unwrap();
    assert_eq!(imgs.len(), 1);
    assert_eq!(imgs[0].raw, jpg);
    assert!(imgs[0].dict.name_is("ColorSpace", "DeviceRGB"));
    let mb = &imgs[0].media_box;
    assert!((mb[2] - 595.2).abs() < 0.01 && (mb[3] - 841.92).abs() < 0.01, "{mb:?}");
    peers::qpdf_check(&pdf, "a4_jpeg");
    if peers::have("pdfimages", "a4_jpeg") {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.pdf");
        std::fs::write(&p, &pdf).unwrap();
        let prefix = dir.path().join("img");
        let (ok, out) = peers::run("pdfimages", &["-j", peers::path_str(&p), peers::path_str(&prefix)]);
        assert!(ok, "{out}");
        assert_eq!(std::fs::read(dir.path().join("img-000.jpg")).unwrap(), jpg);
    }
    if peers::have("pdfinfo", "a4_jpeg") {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.pdf");
        std::fs::write(&p, &pdf).unwrap();
        let (ok, out) = peers::run("pdfinfo", &[peers::path_str(&p)]);
        assert!(ok, "{out}");
        assert!(out.contains("山田 花子"), "{out}");
        assert!(out.contains("595.2 x 841.92 pts"), "{out}");
    }
}

#[test]
fn gray_jpeg_and_cmyk_detection() {
    let jpg = fixtures::jpeg(64, 32, false);
    let imgs = extract_page_images(&one(&jpg, ImageKind::Jpeg, 200.0)).unwrap();
    assert!(imgs[0].dict.name_is("ColorSpace", "DeviceGray"));
    // Patch the SOF component count to 4 and add an APP14 Adobe segment: CMYK with /Decode.
    let info = crate::pdf::image::jpeg_info(&jpg).unwrap();
    assert_eq!(
        (info.width, info.height, info.components, info.adobe),
        (64, 32, 1, false)
    );
    let mut adobe = vec![0xFF, 0xD8, 0xFF, 0xEE, 0x00, 0x0E];
    adobe.extend_from_slice(b"Adobe\x00\x64\x00\x00\x00\x00\x02");
    adobe.extend_from_slice(&[
        0xFF, 0xC0, 0x00, 0x14, 8, 0, 2, 0, 2, 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0,
    ]);
    adobe.extend_from_slice(&[0xFF, 0xD9]);
    let imgs = extract_page_images(&one(&adobe, ImageKind::Jpeg, 300.0)).unwrap();
    assert!(imgs[0].dict.name_is("ColorSpace", "DeviceCMYK"));
    assert_eq!(
        imgs[0]
            .dict
            .get("Decode")
            .and_then(Object::as_array)
            .map(<[Object]>::len),
        Some(8)
    );
}

#[test]
fn png_variants_round_trip_exactly() {
    use png::{BitDepth, ColorType};
    let palette: Vec<u8> = (0..16u8).flat_map(|i| [i * 16, 255 - i * 16, i]).collect();
    let cases = [
        (ColorType::Grayscale, BitDepth::Eight, None, "gray8"),
        (ColorType::Rgb, BitDepth::Eight, None, "rgb8"),
        (ColorType::Rgb, BitDepth::Sixteen, None, "rgb16"),
        (ColorType::Grayscale, BitDepth::Sixteen, None, "gray16"),
        (ColorType::Indexed, BitDepth::Eight, Some(palette.clone()), "palette8"),
        (ColorType::Indexed, BitDepth::Four, Some(palette), "palette4"),
        (ColorType::Grayscale, BitDepth::One, None, "bilevel"),
    ];
    for (color, depth, pal, name) in cases {
        let (file, samples) = fixtures::png(37, 23, color, depth, pal.clone());
        let pdf = one(&file, ImageKind::Png, 150.0);
        let img = &extract_page_images(&pdf).unwrap()[0];
        assert_eq!(img.samples.as_deref(), Some(&samples[..]), "{name}");
        assert_eq!(img.bits_per_component, depth as i64, "{name}");
        if let Some(p) = pal {
            let cs = img.dict.get("ColorSpace").and_then(Object::as_array).unwrap();
            assert_eq!(cs[0], Object::name("Indexed"), "{name}");
            assert_eq!(cs[3].as_string(), Some(&p[..]), "{name}");
        }
        peers::qpdf_check(&pdf, name);
    }
}

#[test]
fn png_with_alpha_gets_an_exact_soft_mask() {
    let (file, samples) = fixtures::png(9, 7, png::ColorType::Rgba, png::BitDepth::Eight, None);
    let img = &extract_page_images(&one(&file, ImageKind::Png, 72.0)).unwrap()[0];
    let color: Vec<u8> = samples.chunks(4).flat_map(|p| p[..3].to_vec()).collect();
    let alpha: Vec<u8> = samples.chunks(4).map(|p| p[3]).collect();
    assert_eq!(img.samples.as_deref(), Some(&color[..]));
    assert_eq!(img.smask.as_deref(), Some(&alpha[..]));
}

#[test]
fn pdfimages_returns_the_source_pixels_of_png() {
    if !peers::have("pdfimages", "pdfimages_png") {
        return;
    }
    let (file, _) = fixtures::png(31, 17, png::ColorType::Rgb, png::BitDepth::Eight, None);
    let pdf = one(&file, ImageKind::Png, 300.0);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.pdf");
    std::fs::write(&p, &pdf).unwrap();
    let prefix = dir.path().join("img");
    let (ok, out) = peers::run("pdfimages", &["-png", peers::path_str(&p), peers::path_str(&prefix)]);
    assert!(ok, "{out}");
    let got = image::open(dir.path().join("img-000.png")).unwrap().to_rgb8();
    let want = image::load_from_memory(&file).unwrap().to_rgb8();
    assert_eq!(got.as_raw(), want.as_raw());
}

#[test]
fn multipage_tiff_gives_one_exact_page_per_tiff_page() {
    let (file, pages) = fixtures::tiff_two_pages();
    assert_eq!(crate::pdf::image::tiff_page_count(&file).unwrap(), 2);
    let input: Vec<_> = (0..2)
        .map(|n| ImagePage {
            data: &file,
            kind: ImageKind::Tiff { page: n },
            dpi_x: 100.0,
            dpi_y: 50.0,
        })
        .collect();
    let pdf = assemble(&input, &fixtures::meta()).unwrap();
    let imgs = extract_page_images(&pdf).unwrap();
    assert_eq!(imgs.len(), 2);
    assert_eq!(imgs[0].samples.as_deref(), Some(&pages[0][..]));
    assert_eq!(imgs[1].samples.as_deref(), Some(&pages[1][..]));
    assert_eq!(imgs[1].bits_per_component, 16);
    assert_eq!(imgs[0].media_box, vec![0.0, 0.0, 28.8, 43.2]);
    peers::qpdf_check(&pdf, "multipage_tiff");
}

#[test]
fn g4_tiff_passes_through_and_renders_the_same_pixels() {
    // Pillow (with libtiff) writes the G4 TIFF; the image crate cannot.
    if !peers::have("python3", "g4_tiff") || !peers::have("pdfimages", "g4_tiff") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.png");
    let (png_file, _) = fixtures::png(64, 40, png::ColorType::Grayscale, png::BitDepth::One, None);
    std::fs::write(&src, &png_file).unwrap();
    let tif = dir.path().join("g4.tif");
    let script = "import sys\nfrom PIL import Image\nImage.open(sys.argv[1]).convert('1').save(sys.argv[2], compression='group4')";
    let (ok, out) = peers::run("python3", &["-c", script, peers::path_str(&src), peers::path_str(&tif)]);
    if !ok && out.contains("No module named") {
        eprintln!("SKIP g4_tiff: Pillow not installed");
        return;
    }
    assert!(ok, "{out}");
    let file = std::fs::read(&tif).unwrap();
    let pdf = one(&file, ImageKind::Tiff { page: 0 }, 200.0);
    let img = &extract_page_images(&pdf).unwrap()[0];
    assert!(img.dict.name_is("Filter", "CCITTFaxDecode"));
    let p = dir.path().join("a.pdf");
    std::fs::write(&p, &pdf).unwrap();
    let prefix = dir.path().join("img");
    let (ok, out) = peers::run("pdfimages", &["-png", peers::path_str(&p), peers::path_str(&prefix)]);
    assert!(ok, "{out}");
    let got = image::open(dir.path().join("img-000.png")).unwrap().to_luma8();
    let want = image::load_from_memory(&png_file).unwrap().to_luma8();
    assert_eq!(got.as_raw(), want.as_raw());
    peers::qpdf_check(&pdf, "g4_tiff");
}

#[test]
fn japanese_metadata_survives_in_info_and_xmp() {
    let jpg = fixtures::jpeg(16, 16, false);
    let pdf = one(&jpg, ImageKind::Jpeg, 300.0);
    let info = info_of(&pdf);
    assert_eq!(
        decode_text(info.get("Author").unwrap().as_string().unwrap()),
        "山田 花子"
    );
    assert_eq!(
        decode_text(info.get("HozonSourceSHA256").unwrap().as_string().unwrap()),
        "page1.jpg 00ff"
    );
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">診療録 2026</rdf:li>"));
}

#[test]
fn add_metadata_appends_and_keeps_old_bytes() {
    let jpg = fixtures::jpeg(16, 16, false);
    let base = one(&jpg, ImageKind::Jpeg, 300.0);
    let mut m = fixtures::meta();
    m.author = Some("佐藤 一郎".into());
    let updated = add_metadata(base.clone(), &m).unwrap();
    assert!(updated.starts_with(&base));
    assert_eq!(
        decode_text(info_of(&updated).get("Author").unwrap().as_string().unwrap()),
        "佐藤 一郎"
    );
    assert_eq!(XrefChain::parse(&updated).unwrap().sections.len(), 2);
    peers::qpdf_check(&updated, "add_metadata");
}

#[test]
fn bad_requests_are_refused() {
    assert_eq!(assemble(&[], &fixtures::meta()).unwrap_err().code(), "invalid-request");
    let jpg = fixtures::jpeg(16, 16, false);
    let p = ImagePage {
        data: &jpg,
        kind: ImageKind::Jpeg,
        dpi_x: 0.0,
        dpi_y: 300.0,
    };
    assert_eq!(assemble(&[p], &fixtures::meta()).unwrap_err().code(), "invalid-request");
    let p = ImagePage {
        data: b"\xFF\xD8\xFF",
        kind: ImageKind::Jpeg,
        dpi_x: 300.0,
        dpi_y: 300.0,
    };
    assert_eq!(assemble(&[p], &fixtures::meta()).unwrap_err().code(), "invalid-image");
}

/// TIFF flavours written by Pillow (libtiff): bilevel (raw, LZW, PackBits, G4), gray,
/// RGB (Deflate) and CMYK. pdfimages must render each exactly as Pillow reads the source.
#[test]
fn pillow_tiffs_render_the_same_pixels() {
    if !peers::have("python3", "pillow_tiffs") || !peers::have("pdfimages", "pillow_tiffs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let make = "import sys, random\nfrom PIL import Image\nrandom.seed(7)\n\
base = Image.frombytes('RGB', (53, 29), bytes(random.randrange(256) for _ in range(53*29*3)))\n\
d = sys.argv[1]\n\
for c in ['raw', 'tiff_lzw', 'packbits', 'group4']: base.convert('1').save(f'{d}/bw_{c}.tif', compression=c)\n\
base.convert('L').save(f'{d}/gray.tif', compression='tiff_lzw')\n\
base.convert('P', palette=Image.ADAPTIVE, colors=16).save(f'{d}/pal.tif')\n\
base.save(f'{d}/rgb.tif', compression='tiff_adobe_deflate')\n\
base.convert('CMYK').save(f'{d}/cmyk.tif')\n";
    let (ok, out) = peers::run("python3", &["-c", make, peers::path_str(dir.path())]);
    if !ok && out.contains("No module named") {
        eprintln!("SKIP pillow_tiffs: Pillow not installed");
        return;
    }
    assert!(ok, "{out}");
    let compare = "import sys\nfrom PIL import Image\n\
a = Image.open(sys.argv[1]).convert('RGB'); b = Image.open(sys.argv[2]).convert('RGB')\n\
assert a.size == b.size and a.tobytes() == b.tobytes(), (a.size, b.size)\n";
    // The tiff crate (0.11) cannot decode palette TIFFs: a clear refusal, not garbage.
    let pal = std::fs::read(dir.path().join("pal.tif")).unwrap();
    let page = ImagePage {
        data: &pal,
        kind: ImageKind::Tiff { page: 0 },
        dpi_x: 300.0,
        dpi_y: 300.0,
    };
    assert_eq!(
        assemble(&[page], &fixtures::meta()).unwrap_err().code(),
        "unsupported-image"
    );
    for name in [
        "bw_raw",
        "bw_tiff_lzw",
        "bw_packbits",
        "bw_group4",
        "gray",
        "rgb",
        "cmyk",
    ] {
        let tif = dir.path().join(format!("{name}.tif"));
        let pdf = one(&std::fs::read(&tif).unwrap(), ImageKind::Tiff { page: 0 }, 300.0);
        peers::qpdf_check(&pdf, name);
        let p = dir.path().join(format!("{name}.pdf"));
        std::fs::write(&p, &pdf).unwrap();
        let prefix = dir.path().join(name);
        let (ok, out) = peers::run("pdfimages", &["-png", peers::path_str(&p), peers::path_str(&prefix)]);
        assert!(ok, "{name}: {out}");
        let extracted = dir.path().join(format!("{name}-000.png"));
        if name == "cmyk" {
            // pdfimages cannot write CMYK as PNG; compare the decoded samples instead.
            let img = &extract_page_images(&pdf).unwrap()[0];
            assert_eq!(img.dict.get("ColorSpace"), Some(&Object::name("DeviceCMYK")));
            continue;
        }
        let (ok, out) = peers::run(
            "python3",
            &["-c", compare, peers::path_str(&tif), peers::path_str(&extracted)],
        );
        assert!(ok, "{name}: pixels differ: {out}");
    }
}
