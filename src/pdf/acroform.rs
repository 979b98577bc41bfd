//! Adding a signature field to a document: the merged field/widget on page 1, the page's
//! /Annots, and the catalog's /AcroForm (/Fields, /SigFlags 3). Shared by signatures and
//! document timestamps.

use std::collections::HashSet;

use super::error::{malformed, PdfError};
use super::file::PdfView;
use super::object::{Dict, ObjId, Object};
use super::writer::RevisionWriter;

/// Fully qualified names of all form fields, walking /Kids with a bounded, cycle-safe search.
pub fn field_names(view: &PdfView) -> Result<HashSet<String>, PdfError> {
    let mut names = HashSet::new();
    let (_, cat) = view.catalog()?;
    let Some(form) = view.get_key(&cat, "AcroForm")? else {
        return Ok(names);
    };
    let form = form
        .as_dict()
        .cloned()
        .ok_or_else(|| malformed("/AcroForm is not a dictionary"))?;
    let mut seen = HashSet::new();
    if let Some(Object::Array(fields)) = view.get_key(&form, "Fields")? {
        for f in fields {
            collect(view, &f, String::new(), 0, &mut seen, &mut names)?;
        }
    }
    Ok(names)
}

fn collect(
    view: &PdfView,
    f: &Object,
    prefix: String,
    depth: usize,
    seen: &mut HashSet<u32>,
    out: &mut HashSet<String>,
) -> Result<(), PdfError> {
    if depth > super::parse::MAX_DEPTH {
        return Err(malformed("form field tree too deep"));
    }
    if let Some(id) = f.as_ref_id() {
        if !seen.insert(id.0) {
            return Err(malformed("cyclic form field tree"));
        }
    }
    let Ok(d) = view.dict_at(f, "field") else {
        return Ok(());
    };
    let part = d.get("T").and_then(Object::as_string).map(super::text::decode_text);
    let name = match (&part, prefix.is_empty()) {
        (Some(p), true) => p.clone(),
        (Some(p), false) => format!("{prefix}.{p}"),
        (None, _) => prefix.clone(),
    };
    if part.is_some() {
        out.insert(name.clone());
    }
    if let Some(Object::Array(kids)) = view.get_key(&d, "Kids")? {
        for k in kids {
            collect(view, &k, name.clone(), depth + 1, seen, out)?;
        }
    }
    Ok(())
}

/// The first of `Signature1`, `Signature2`, ... not yet used.
pub fn unique_field_name(existing: &HashSet<String>) -> String {
    (1..)
        .map(|n| format!("Signature{n}"))
        .find(|n| !existing.contains(n))
        .unwrap_or_default()
}

/// Write the field/widget (pointing at `value`), the updated page 1 and the updated form.
pub fn add_signature_field(
    view: &PdfView,
    w: &mut RevisionWriter,
    field_name: &str,
    value: ObjId,
) -> Result<(), PdfError> {
    let (cat_id, mut catalog) = view.catalog()?;
    let (page_id, mut page) = view
        .pages()?
        .into_iter()
        .next()
        .ok_or_else(|| malformed("document has no pages"))?;
    let field = w.alloc();
    let widget = Dict::new()
        .with("Type", Object::name("Annot"))
        .with("Subtype", Object::name("Widget"))
        .with("FT", Object::name("Sig"))
        .with("T", super::text::text_string(field_name))
        .with("V", Object::Ref(value))
        .with("Rect", Object::Array(vec![Object::Int(0); 4]))
        .with("F", Object::Int(132))
        .with("P", Object::Ref(page_id));
    w.write_object(field, &Object::Dict(widget));

    let mut annots = match view.get_key(&page, "Annots")? {
        Some(Object::Array(a)) => a,
        None => Vec::new(),
        Some(_) => return Err(malformed("page /Annots is not an array")),
    };
    annots.push(Object::Ref(field));
    page.set("Annots", Object::Array(annots));
    w.write_object(page_id, &Object::Dict(page));

    // The form dictionary: rewrite it where it lives (its own object or inside the catalog).
    let form_ref = catalog.get("AcroForm").and_then(Object::as_ref_id);
    let mut form = match view.get_key(&catalog, "AcroForm")? {
        Some(Object::Dict(d)) => d,
        None => Dict::new(),
        Some(_) => return Err(malformed("/AcroForm is not a dictionary")),
    };
    let mut fields = match view.get_key(&form, "Fields")? {
        Some(Object::Array(a)) => a,
        None => Vec::new(),
        Some(_) => return Err(malformed("/Fields is not an array")),
    };
    fields.push(Object::Ref(field));
    form.set("Fields", Object::Array(fields));
    form.set("SigFlags", Object::Int(3));
    match form_ref {
        Some(id) => w.write_object(id, &Object::Dict(form)),
        None => {
            catalog.set("AcroForm", Object::Dict(form));
            w.write_object(cat_id, &Object::Dict(catalog));
        }
    }
    Ok(())
}
