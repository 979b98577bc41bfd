//! Reading pages back: page count, and each page's image XObject (raw and decoded) for tests
//! and for `verify` to show what was archived.

use super::error::{malformed, PdfError};
use super::file::PdfView;
use super::object::{Dict, Object};
use super::xref::XrefChain;

/// One page's image as stored.
#[derive(Debug, Clone)]
pub struct PageImage {
    pub width: i64,
    pub height: i64,
    pub bits_per_component: i64,
    pub dict: Dict,
    /// The stream bytes as stored in the file.
    pub raw: Vec<u8>,
    /// Decoded samples when the filter is Flate (predictor undone) or none; else `None`.
    pub samples: Option<Vec<u8>>,
    /// Decoded soft mask samples, when present.
    pub smask: Option<Vec<u8>>,
    /// The page's /MediaBox.
    pub media_box: Vec<f64>,
}

/// Number of pages in the latest revision.
pub fn page_count(pdf: &[u8]) -> Result<usize, PdfError> {
    let chain = XrefChain::parse(pdf)?;
    Ok(PdfView::latest(pdf, &chain)?.pages()?.len())
}

/// The first image XObject of every page, in page order.
pub fn extract_page_images(pdf: &[u8]) -> Result<Vec<PageImage>, PdfError> {
    let chain = XrefChain::parse(pdf)?;
    let view = PdfView::latest(pdf, &chain)?;
    let mut out = Vec::new();
    for (_, page) in view.pages()? {
        let media_box = match view.get_key(&page, "MediaBox")? {
            Some(Object::Array(a)) => a
                .iter()
                .filter_map(|o| match o {
                    Object::Int(i) => Some(*i as f64),
                    Object::Real(r) => Some(*r),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let resources = view.dict_at(
            page.get("Resources")
                .ok_or_else(|| malformed("page without resources"))?,
            "/Resources",
        )?;
        let xobjects = view.dict_at(
            resources
                .get("XObject")
                .ok_or_else(|| malformed("page without XObjects"))?,
            "/XObject",
        )?;
        let first = xobjects
            .0
            .first()
            .map(|(_, v)| v.clone())
            .ok_or_else(|| malformed("no image on page"))?;
        let (dict, range) = match view.resolve(&first)? {
            Object::Stream(d, r) => (d, r),
            _ => return Err(malformed("image is not a stream")),
        };
        let int = |k: &str| dict.get(k).and_then(Object::as_int).unwrap_or(0);
        let flate_or_none = matches!(dict.get("Filter"), None) || dict.name_is("Filter", "FlateDecode");
        let samples = if flate_or_none {
            Some(view.decode(&dict, &range)?)
        } else {
            None
        };
        let smask = match dict.get("SMask") {
            Some(o) => match view.resolve(o)? {
                Object::Stream(md, mr) => Some(view.decode(&md, &mr)?),
                _ => None,
            },
            None => None,
        };
        out.push(PageImage {
            width: int("Width"),
            height: int("Height"),
            bits_per_component: int("BitsPerComponent"),
            raw: view.raw(&range).to_vec(),
            dict,
            samples,
            smask,
            media_box,
        });
    }
    Ok(out)
}
