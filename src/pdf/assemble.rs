//! One PDF per document: one page per scan page, sized from pixels and dpi, each page showing
//! its image losslessly; plus Info and XMP metadata. `add_metadata` does the same metadata for a
//! scanner's PDF as an incremental update, leaving the scanner's bytes untouched.

use std::io::Write;

use super::error::PdfError;
use super::file::PdfView;
use super::image::{image_xobject, ImagePage};
use super::metadata::{info_dict, xmp_packet, xmp_stream_dict, PdfMetadata};
use super::object::{Dict, Object};
use super::writer::RevisionWriter;
use super::xref::XrefChain;

/// Page size in points for `pixels` at `dpi`.
pub fn points(pixels: u32, dpi: f64) -> f64 {
    f64::from(pixels) * 72.0 / dpi
}

/// Buffer room for the revisions appended to a file in memory (signature, DSS, document
/// timestamp: tens of KB), so that none of them reallocates and copies the pages again.
pub const REVISIONS_ROOM: usize = 96 * 1024;

/// Build the whole PDF for `pages`, in order.
pub fn assemble(pages: &[ImagePage], meta: &PdfMetadata) -> Result<Vec<u8>, PdfError> {
    if pages.is_empty() {
        return Err(PdfError::InvalidRequest("a document needs at least one page".into()));
    }
    for (i, p) in pages.iter().enumerate() {
        let ok = |d: f64| d.is_finite() && (1.0..=100_000.0).contains(&d);
        if !ok(p.dpi_x) || !ok(p.dpi_y) {
            return Err(PdfError::InvalidRequest(format!(
                "page {}: dpi {}×{} out of range",
                i + 1,
                p.dpi_x,
                p.dpi_y
            )));
        }
    }
    let info = info_dict(meta, None, meta.created)?;
    let xmp = xmp_packet(meta, meta.created)?;
    let total: usize = pages.iter().map(|p| p.data.len()).sum();
    let mut w = RevisionWriter::new_document(total + xmp.len() + 1024 * pages.len() + REVISIONS_ROOM);

    let catalog = w.alloc();
    let page_tree = w.alloc();
    let info_id = w.alloc();
    let xmp_id = w.alloc();
    let mut kids = Vec::with_capacity(pages.len());
    for (i, page) in pages.iter().enumerate() {
        let img = image_xobject(page).map_err(|e| match e {
            PdfError::UnsupportedImage(m) => PdfError::UnsupportedImage(format!("page {}: {m}", i + 1)),
            PdfError::InvalidImage(m) => PdfError::InvalidImage(format!("page {}: {m}", i + 1)),
            other => other,
        })?;
        let (pw, ph) = (points(img.width, page.dpi_x), points(img.height, page.dpi_y));
        let mut dict = img.dict;
        if let Some((mdict, mdata)) = &img.smask {
            let mask = w.alloc();
            w.write_stream(mask, mdict, mdata);
            dict.set("SMask", Object::Ref(mask));
        }
        let image = w.alloc();
        w.write_stream(image, &dict, &img.data);
        drop(img.data);

        let mut content = Vec::with_capacity(64);
        content.extend_from_slice(b"q ");
        super::object::write_object(&mut content, &Object::Real(pw));
        content.extend_from_slice(b" 0 0 ");
        super::object::write_object(&mut content, &Object::Real(ph));
        let _ = write!(content, " 0 0 cm /Im0 Do Q");
        let content_id = w.alloc();
        w.write_stream(content_id, &Dict::new(), &content);

        let page_id = w.alloc();
        let resources = Dict::new().with("XObject", Object::Dict(Dict::new().with("Im0", Object::Ref(image))));
        let page_dict = Dict::new()
            .with("Type", Object::name("Page"))
            .with("Parent", Object::Ref(page_tree))
            .with(
                "MediaBox",
                Object::Array(vec![Object::Int(0), Object::Int(0), Object::Real(pw), Object::Real(ph)]),
            )
            .with("Resources", Object::Dict(resources))
            .with("Contents", Object::Ref(content_id));
        w.write_object(page_id, &Object::Dict(page_dict));
        kids.push(Object::Ref(page_id));
    }
    let count = kids.len() as i64;
    w.write_object(
        page_tree,
        &Object::Dict(
            Dict::new()
                .with("Type", Object::name("Pages"))
                .with("Kids", Object::Array(kids))
                .with("Count", Object::Int(count)),
        ),
    );
    w.write_stream(xmp_id, &xmp_stream_dict(), &xmp);
    w.write_object(info_id, &Object::Dict(info));
    w.write_object(
        catalog,
        &Object::Dict(
            Dict::new()
                .with("Type", Object::name("Catalog"))
                .with("Pages", Object::Ref(page_tree))
                .with("Metadata", Object::Ref(xmp_id)),
        ),
    );
    Ok(w.finish(
        Dict::new()
            .with("Root", Object::Ref(catalog))
            .with("Info", Object::Ref(info_id)),
    ))
}

/// Add hozon's metadata to an existing PDF (a scanner's) as an incremental update. Existing Info
/// entries are kept unless overridden; the XMP packet is replaced.
pub fn add_metadata(existing_pdf: Vec<u8>, meta: &PdfMetadata) -> Result<Vec<u8>, PdfError> {
    let chain = XrefChain::parse(&existing_pdf)?;
    let (catalog_id, mut catalog, old_info) = {
        let view = PdfView::latest(&existing_pdf, &chain)?;
        let (id, cat) = view.catalog()?;
        let old_info = match view.trailer.get("Info") {
            Some(o) => match view.resolve(o)? {
                Object::Dict(d) => Some(d),
                _ => None,
            },
            None => None,
        };
        (id, cat, old_info)
    };
    let info = info_dict(meta, old_info, meta.created)?;
    let xmp = xmp_packet(meta, meta.created)?;
    let mut w = RevisionWriter::update_of(&existing_pdf, &chain);
    let info_id = w.alloc();
    let xmp_id = w.alloc();
    w.write_object(info_id, &Object::Dict(info));
    w.write_stream(xmp_id, &xmp_stream_dict(), &xmp);
    catalog.set("Metadata", Object::Ref(xmp_id));
    w.write_object(catalog_id, &Object::Dict(catalog));
    Ok(w.finish_update(existing_pdf, Dict::new().with("Info", Object::Ref(info_id))))
}

#[cfg(test)]
#[path = "assemble_tests.rs"]
mod tests;
