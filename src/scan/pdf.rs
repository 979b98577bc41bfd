//! PDF from a scanner: every image XObject on every page, its pixel size, colour space, bits per
//! component and filter, and its effective resolution from the size at which the page content
//! draws it (`cm` … `Do`), falling back to the page's MediaBox (the common full-page scan).
//! A page's `PageInfo` describes its lowest-resolution image: the one that decides compliance.

use std::collections::HashMap;

use lopdf::xref::XrefRecovery;
use lopdf::{content::Content, Dictionary, Document, LoadOptions, Object, ObjectId};

use super::{PageInfo, ScanError};
use crate::config::{ColorMode, FormatName, Limits};
use crate::pdf::{inflated_bound, inflated_len, process_budget};

/// Bound on any decompressed stream (image data, object streams) read here.
const MAX_STREAM: usize = 256 << 20;
/// What a first attempt at loading may inflate: a scanner PDF's object and cross-reference
/// streams are a few kilobytes. Only a file that needs more asks for more of the budget.
const LOAD_FIRST_TRY: u64 = 16 << 20;
/// Scanner page content is a few hundred bytes; content beyond this per page, or beyond the
/// per-file budget (pages may share one stream), is not parsed and MediaBox is used instead.
const MAX_PAGE_CONTENT: usize = 4 << 20;
const CONTENT_BUDGET: usize = 64 << 20;
/// Bound on page-tree ancestry walked for inherited attributes.
const MAX_DEPTH: usize = 64;

/// One image XObject as its dictionary describes it.
#[derive(Debug, Clone)]
struct Image {
    width: u32,
    height: u32,
    color: ColorMode,
    bits: u8,
    components: u8,
    filter: Option<String>,
}

/// Header pass: one `PageInfo` per page.
pub(super) fn inspect(bytes: &[u8], limits: &Limits) -> Result<Vec<PageInfo>, ScanError> {
    process_budget().set_capacity(limits.max_inflate_bytes);
    let doc = load(bytes)?;
    let mut pages = Vec::new();
    let mut content_budget = CONTENT_BUDGET;
    for (index, (_, page_id)) in doc.get_pages().into_iter().enumerate() {
        let p = index + 1;
        let images = page_images(&doc, page_id, p)?;
        for (_, img) in &images {
            if u64::from(img.width) * u64::from(img.height) > limits.max_pixels {
                return Err(ScanError::TooLarge {
                    reason: format!(
                        "page {p} has a {}×{} image, over the {} pixel limit",
                        img.width, img.height, limits.max_pixels
                    ),
                });
            }
        }
        let drawn = drawn_sizes(&doc, page_id, &mut content_budget);
        let media = media_box(&doc, page_id);
        // Lowest-resolution image decides; an image with no known size decides first.
        let mut worst: Option<(Option<(f64, f64)>, &Image)> = None;
        for (name, img) in &images {
            let size = drawn.get(name.as_slice()).copied().or(media);
            let dpi = size
                .filter(|s| s.0 > 0.0 && s.1 > 0.0)
                .map(|(w, h)| (f64::from(img.width) * 72.0 / w, f64::from(img.height) * 72.0 / h));
            let key = |d: Option<(f64, f64)>| d.map(|d| d.0.min(d.1)).unwrap_or(f64::NEG_INFINITY);
            if worst.as_ref().is_none_or(|w| key(dpi) < key(w.0)) {
                worst = Some((dpi, img));
            }
        }
        let Some((dpi, img)) = worst else {
            return Err(ScanError::unsupported(format!("PDF page {p} has no image: not a scan")));
        };
        pages.push(PageInfo {
            index,
            format: FormatName::Pdf,
            width: img.width,
            height: img.height,
            dpi_x: dpi.map(|d| d.0),
            dpi_y: dpi.map(|d| d.1),
            color: img.color,
            bits_per_channel: img.bits,
            components: img.components,
            progressive: false,
            adobe_transform: None,
            compression: img.filter.clone(),
        });
    }
    Ok(pages)
}

/// Integrity pass: the file parses from its own cross-reference data (a truncated PDF needs a
/// rebuilt table) and every image stream decodes: DCT data walks to EOI, Flate data inflates to
/// at least the size its dictionary implies.
pub(super) fn verify(bytes: &[u8]) -> Result<(), ScanError> {
    let doc = load(bytes)?;
    if matches!(doc.xref_recovery, Some(XrefRecovery::Reconstructed)) {
        return Err(ScanError::unreadable(
            "PDF cross-reference data is damaged or missing (truncated file?)",
        ));
    }
    for (id, obj) in &doc.objects {
        let Ok(stream) = obj.as_stream() else {
            continue;
        };
        if stream.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Image") {
            continue;
        }
        let filters: Vec<&[u8]> = stream.filters().unwrap_or_default();
        match filters.as_slice() {
            [b"DCTDecode"] => super::jpeg::verify(&stream.content)
                .map_err(|e| ScanError::unreadable(format!("PDF image {} {}: {e}", id.0, id.1)))?,
            [b"FlateDecode"] => {
                // Counted, not kept: an image's pixels are never needed here, so a Flate bomb
                // costs time up to the cap but no memory.
                let len = inflated_len(&stream.content, MAX_STREAM)
                    .map_err(|e| ScanError::unreadable(format!("PDF image {} {} does not inflate: {e}", id.0, id.1)))?;
                let w = int(&stream.dict, b"Width").unwrap_or(0);
                let h = int(&stream.dict, b"Height").unwrap_or(0);
                let bpc = int(&stream.dict, b"BitsPerComponent").unwrap_or(8);
                // Lower bound: one component, no predictor (predictor bytes only add to `len`).
                let expected = w.saturating_mul(bpc).div_ceil(8).saturating_mul(h);
                if len < expected {
                    return Err(ScanError::unreadable(format!(
                        "PDF image {} {} holds {len} bytes, needs at least {expected}",
                        id.0, id.1
                    )));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Run `f` with a per-stream inflation limit taken from the process budget (`want` bytes
/// asked for). A stream decoded through a chain of filters holds two layers at once, so the
/// limit is half of what was reserved.
fn with_inflate_budget<T>(want: u64, f: impl FnOnce(usize) -> T) -> T {
    let reserved = process_budget().reserve(want);
    f(usize::try_from(reserved.bytes() / 2).unwrap_or(MAX_STREAM))
}

fn load(bytes: &[u8]) -> Result<Document, ScanError> {
    // Nothing the load inflates can exceed what the whole file could inflate to.
    let most = inflated_bound(bytes.len()).min(2 * MAX_STREAM as u64);
    let first = most.min(LOAD_FIRST_TRY);
    let loaded = match with_inflate_budget(first, |limit| load_within(bytes, limit)) {
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) if first < most => {
            with_inflate_budget(most, |limit| load_within(bytes, limit))
        }
        other => other,
    };
    let doc = match loaded {
        Ok(d) => d,
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { limit })) => {
            return Err(ScanError::TooLarge {
                reason: format!(
                    "a PDF stream inflates beyond {limit} bytes (per-stream share of limits.max_inflate_bytes = {})",
                    process_budget().capacity()
                ),
            })
        }
        Err(e) => return Err(ScanError::unreadable(format!("PDF does not parse: {e}"))),
    };
    if doc.is_encrypted() || doc.encryption_state.is_some() {
        return Err(ScanError::unsupported("encrypted PDF"));
    }
    Ok(doc)
}

/// lopdf's load with object and cross-reference streams inflated up to `limit` bytes each.
fn load_within(bytes: &[u8], limit: usize) -> lopdf::Result<Document> {
    let opts = LoadOptions {
        max_decompressed_size: Some(limit),
        ..LoadOptions::default()
    };
    // lopdf is a large parser of hostile input; a panic inside it must not take the batch down.
    std::panic::catch_unwind(|| Document::load_mem_with_options(bytes, opts))
        .unwrap_or_else(|_| Err(lopdf::Error::InvalidStream("PDF parser failed on this file".into())))
}

fn int(d: &Dictionary, key: &[u8]) -> Option<u64> {
    d.get(key)
        .ok()
        .and_then(|o| o.as_i64().ok())
        .and_then(|v| u64::try_from(v).ok())
}

fn number(o: &Object) -> Option<f64> {
    o.as_float().ok().map(f64::from).filter(|v| v.is_finite())
}

fn deref<'a>(doc: &'a Document, o: &'a Object) -> &'a Object {
    doc.dereference(o).map(|(_, o)| o).unwrap_or(o)
}

/// The page's MediaBox size in points, inherited through the page tree.
fn media_box(doc: &Document, page_id: ObjectId) -> Option<(f64, f64)> {
    let mut node = doc.get_dictionary(page_id).ok()?;
    for _ in 0..MAX_DEPTH {
        if let Ok(mb) = node.get(b"MediaBox") {
            let a = deref(doc, mb).as_array().ok()?;
            let v: Vec<f64> = a.iter().filter_map(|o| number(deref(doc, o))).collect();
            if let [x0, y0, x1, y1] = v.as_slice() {
                return Some(((x1 - x0).abs(), (y1 - y0).abs()));
            }
            return None;
        }
        node = doc
            .get_dictionary(node.get(b"Parent").ok()?.as_reference().ok()?)
            .ok()?;
    }
    None
}

/// The page's resource dictionary (the nearest, inherited).
fn resources(doc: &Document, page_id: ObjectId) -> Option<&Dictionary> {
    let (direct, ids) = doc.get_page_resources(page_id).ok()?;
    direct.or_else(|| ids.first().and_then(|id| doc.get_dictionary(*id).ok()))
}

/// Image XObjects named in the page's resources.
fn page_images(doc: &Document, page_id: ObjectId, p: usize) -> Result<Vec<(Vec<u8>, Image)>, ScanError> {
    let Some(res) = resources(doc, page_id) else {
        return Ok(Vec::new());
    };
    let Ok(xobjects) = res.get(b"XObject").map(|o| deref(doc, o)).and_then(Object::as_dict) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (name, obj) in xobjects.iter() {
        let Ok(stream) = deref(doc, obj).as_stream() else {
            continue;
        };
        let d = &stream.dict;
        if d.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Image") {
            continue;
        }
        out.push((name.clone(), image(doc, res, d, p)?));
    }
    Ok(out)
}

fn image(doc: &Document, res: &Dictionary, d: &Dictionary, p: usize) -> Result<Image, ScanError> {
    let dim = |key: &[u8]| {
        d.get(key)
            .ok()
            .map(|o| deref(doc, o))
            .and_then(|o| o.as_i64().ok())
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| {
                ScanError::unreadable(format!(
                    "PDF page {p}: image without a valid /{}",
                    String::from_utf8_lossy(key)
                ))
            })
    };
    let (width, height) = (dim(b"Width")?, dim(b"Height")?);
    let filters: Vec<String> = stream_filters(doc, d);
    let filter = filters.last().cloned();
    let is_mask = d.get(b"ImageMask").and_then(Object::as_bool).unwrap_or(false);
    let bits = d
        .get(b"BitsPerComponent")
        .ok()
        .map(|o| deref(doc, o))
        .and_then(|o| o.as_i64().ok());
    if is_mask || filter.as_deref() == Some("JBIG2Decode") || filter.as_deref() == Some("CCITTFaxDecode") {
        return Ok(Image {
            width,
            height,
            color: ColorMode::Bilevel,
            bits: 1,
            components: 1,
            filter,
        });
    }
    let cs = d.get(b"ColorSpace").ok().ok_or_else(|| {
        ScanError::unsupported(format!(
            "PDF page {p}: image without /ColorSpace ({})",
            filter.as_deref().unwrap_or("raw")
        ))
    })?;
    let (family, components) = colour_family(doc, res, cs, 0)
        .ok_or_else(|| ScanError::unsupported(format!("PDF page {p}: image colour space not supported")))?;
    let bits = bits
        .and_then(|b| u8::try_from(b).ok())
        .filter(|b| matches!(b, 1 | 2 | 4 | 8 | 16))
        .ok_or_else(|| ScanError::unreadable(format!("PDF page {p}: image without a valid /BitsPerComponent")))?;
    let color = match (family, bits) {
        (Family::Indexed, _) => ColorMode::Indexed,
        (Family::Gray, 1) => ColorMode::Bilevel,
        (Family::Gray, 16) => ColorMode::Gray16,
        (Family::Gray, _) => ColorMode::Gray8,
        (Family::Rgb, 16) => ColorMode::Rgb16,
        (Family::Rgb, _) => ColorMode::Rgb8,
        (Family::Cmyk, _) => ColorMode::Cmyk8,
    };
    Ok(Image {
        width,
        height,
        color,
        bits,
        components,
        filter,
    })
}

fn stream_filters(doc: &Document, d: &Dictionary) -> Vec<String> {
    match d.get(b"Filter").map(|o| deref(doc, o)) {
        Ok(Object::Name(n)) => vec![String::from_utf8_lossy(n).into_owned()],
        Ok(Object::Array(a)) => a
            .iter()
            .filter_map(|o| o.as_name().ok())
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect(),
        _ => Vec::new(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Gray,
    Rgb,
    Cmyk,
    Indexed,
}

/// Colour family and component count of a colour space object (names looked up in the page's
/// /ColorSpace resources, ICC profiles by their /N).
fn colour_family(doc: &Document, res: &Dictionary, cs: &Object, depth: usize) -> Option<(Family, u8)> {
    if depth > 4 {
        return None;
    }
    match deref(doc, cs) {
        Object::Name(n) => match n.as_slice() {
            b"DeviceGray" | b"CalGray" | b"G" => Some((Family::Gray, 1)),
            b"DeviceRGB" | b"CalRGB" | b"RGB" => Some((Family::Rgb, 3)),
            b"DeviceCMYK" | b"CMYK" => Some((Family::Cmyk, 4)),
            other => {
                let named = res
                    .get(b"ColorSpace")
                    .map(|o| deref(doc, o))
                    .and_then(Object::as_dict)
                    .ok()?
                    .get(other)
                    .ok()?;
                colour_family(doc, res, named, depth + 1)
            }
        },
        Object::Array(a) => {
            let kind = a.first()?.as_name().ok()?;
            match kind {
                b"ICCBased" => {
                    let s = deref(doc, a.get(1)?).as_stream().ok()?;
                    match s.dict.get(b"N").ok()?.as_i64().ok()? {
                        1 => Some((Family::Gray, 1)),
                        3 => Some((Family::Rgb, 3)),
                        4 => Some((Family::Cmyk, 4)),
                        _ => None,
                    }
                }
                b"Indexed" | b"I" => Some((Family::Indexed, 1)),
                b"CalGray" => Some((Family::Gray, 1)),
                b"CalRGB" => Some((Family::Rgb, 3)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Size in points at which the page content draws each named XObject (the largest if drawn
/// more than once). Content that does not parse yields nothing; callers fall back to MediaBox.
fn drawn_sizes(doc: &Document, page_id: ObjectId, budget: &mut usize) -> HashMap<Vec<u8>, (f64, f64)> {
    let mut out: HashMap<Vec<u8>, (f64, f64)> = HashMap::new();
    let want = 2 * MAX_PAGE_CONTENT.min(*budget) as u64;
    let content = with_inflate_budget(want, |limit| doc.get_page_content_with_limit(page_id, limit));
    let Ok(data) = content else {
        *budget = budget.saturating_sub(MAX_PAGE_CONTENT);
        return out;
    };
    *budget = budget.saturating_sub(data.len());
    let Ok(content) = Content::decode(&data) else {
        return out;
    };
    let mut ctm = Matrix::IDENTITY;
    let mut stack: Vec<Matrix> = Vec::new();
    for op in content.operations {
        match op.operator.as_str() {
            "q" if stack.len() < 1024 => stack.push(ctm),
            "Q" => ctm = stack.pop().unwrap_or(Matrix::IDENTITY),
            "cm" => {
                let v: Vec<f64> = op.operands.iter().filter_map(number).collect();
                if let [a, b, c, d, e, f] = v.as_slice() {
                    ctm = Matrix([*a, *b, *c, *d, *e, *f]).then(&ctm);
                }
            }
            "Do" => {
                if let Some(Ok(name)) = op.operands.first().map(Object::as_name) {
                    let [a, b, c, d, _, _] = ctm.0;
                    let size = (a.hypot(b), c.hypot(d));
                    let e = out.entry(name.to_vec()).or_insert(size);
                    if size.0 * size.1 > e.0 * e.1 {
                        *e = size;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// A PDF transformation matrix [a b c d e f].
#[derive(Debug, Clone, Copy)]
struct Matrix([f64; 6]);

impl Matrix {
    const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    /// `self × other`: apply `self`, then `other` (how `cm` updates the CTM).
    fn then(&self, o: &Matrix) -> Matrix {
        let [a, b, c, d, e, f] = self.0;
        let [oa, ob, oc, od, oe, of] = o.0;
        Matrix([
            a * oa + b * oc,
            a * ob + b * od,
            c * oa + d * oc,
            c * ob + d * od,
            e * oa + f * oc + oe,
            e * ob + f * od + of,
        ])
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use lopdf::{dictionary, Stream};

    /// One page of a test PDF: (jpeg bytes, pixel w, h, media w, h in pt, drawn size in pt or None
    /// for a page whose content does not draw it directly, colour space).
    type TestPage<'a> = (Vec<u8>, u32, u32, f64, f64, Option<(f64, f64)>, &'a str);

    /// A one-image-per-page PDF.
    pub(crate) fn make_pdf(pages: &[TestPage<'_>]) -> Vec<u8> {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let mut kids = Vec::new();
        for (jpeg, w, h, mw, mh, draw, cs) in pages {
            let img = Stream::new(
                dictionary! {"Type" => "XObject", "Subtype" => "Image", "Width" => *w as i64, "Height" => *h as i64,
                "ColorSpace" => *cs, "BitsPerComponent" => 8, "Filter" => "DCTDecode"},
                jpeg.clone(),
            );
            let img_id = doc.add_object(img);
            let ops = match draw {
                Some((dw, dh)) => format!("q {dw} 0 0 {dh} 0 0 cm /Im0 Do Q"),
                // Not drawn by the page itself (e.g. inside a form XObject): MediaBox fallback.
                None => String::new(),
            };
            let content_id = doc.add_object(Stream::new(dictionary! {}, ops.into_bytes()));
            let page = dictionary! {"Type" => "Page", "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(*mw as f32), Object::Real(*mh as f32)],
            "Resources" => dictionary! {"XObject" => dictionary! {"Im0" => img_id}},
            "Contents" => content_id};
            kids.push(Object::Reference(doc.add_object(page)));
        }
        let count = kids.len() as i64;
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {"Type" => "Pages", "Kids" => kids, "Count" => count}),
        );
        let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn full_page_image_dpi_from_media_box_and_from_cm() {
        let j = super::super::jpeg::tests::encode(248, 351, false, None);
        let pdf = make_pdf(&[
            (j.clone(), 248, 351, 595.2, 842.4, None, "DeviceRGB"),
            (j.clone(), 248, 351, 595.2, 842.4, Some((59.52, 84.24)), "DeviceGray"),
        ]);
        let pages = inspect(&pdf, &Limits::default()).unwrap();
        assert_eq!(pages.len(), 2);
        // 248 px over 595.2 pt (8.27 in) = 30 dpi: the fallback uses the MediaBox.
        assert!((pages[0].dpi_x.unwrap() - 30.0).abs() < 0.01, "{:?}", pages[0].dpi_x);
        assert_eq!(pages[0].color, ColorMode::Rgb8);
        assert_eq!(pages[0].compression.as_deref(), Some("DCTDecode"));
        // Drawn at a tenth of the page: 300 dpi.
        assert!((pages[1].dpi_y.unwrap() - 300.0).abs() < 0.01, "{:?}", pages[1].dpi_y);
        assert_eq!(pages[1].color, ColorMode::Gray8);
        verify(&pdf).unwrap();
    }

    #[test]
    fn matrix_concatenation_follows_cm_semantics() {
        // Scale by 2 then translate: the scale survives, translation does not matter for size.
        let m = Matrix([100.0, 0.0, 0.0, 50.0, 0.0, 0.0]).then(&Matrix([2.0, 0.0, 0.0, 2.0, 10.0, 10.0]));
        assert_eq!(m.0[0], 200.0);
        assert_eq!(m.0[3], 100.0);
        assert_eq!(m.0[4], 10.0);
    }

    #[test]
    fn pixel_limit_and_broken_pdfs() {
        let j = super::super::jpeg::tests::encode(16, 16, true, None);
        let pdf = make_pdf(&[(j.clone(), 100_000, 100_000, 595.0, 842.0, None, "DeviceGray")]);
        assert_eq!(inspect(&pdf, &Limits::default()).unwrap_err().code(), "too-large");
        assert_eq!(
            inspect(b"%PDF-1.7\nnot really", &Limits::default()).unwrap_err().code(),
            "unreadable"
        );
        // Truncated: whatever the lenient loader makes of it, integrity must fail.
        let good = make_pdf(&[(j, 16, 16, 595.0, 842.0, None, "DeviceGray")]);
        let cut = &good[..good.len() / 2];
        let r = inspect(cut, &Limits::default()).and_then(|_| verify(cut));
        assert!(r.is_err(), "{r:?}");
    }

    #[test]
    fn page_without_image_is_not_a_scan() {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let page = doc.add_object(dictionary! {"Type" => "Page", "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()]});
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {"Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1}),
        );
        let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        assert_eq!(
            inspect(&out, &Limits::default()).unwrap_err().code(),
            "unsupported-format"
        );
    }
}
