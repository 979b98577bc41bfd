//! Tests of change classification on hozon's own update patterns and on forbidden edits.

use super::*;
use crate::pdf::dss::{append_dss, Validation};
use crate::pdf::object::Object;
use crate::pdf::reader::read_signatures;
use crate::pdf::signature::tests::{base_pdf, sign_dummy};
use crate::pdf::signature::SigKind;
use crate::pdf::writer::RevisionWriter;

fn signed() -> (Vec<u8>, usize) {
    let s = sign_dummy(base_pdf(), SigKind::Cades);
    let end = read_signatures(&s).unwrap()[0].covered_end();
    (s, end)
}

/// Append a revision that rewrites objects chosen by `edit` from the latest view.
fn append_edit(pdf: Vec<u8>, edit: impl Fn(&PdfView, &mut RevisionWriter)) -> Vec<u8> {
    let chain = XrefChain::parse(&pdf).unwrap();
    let mut w = RevisionWriter::update_of(&pdf, &chain);
    {
        let view = PdfView::latest(&pdf, &chain).unwrap();
        edit(&view, &mut w);
    }
    w.finish_update(pdf, Dict::new())
}

fn disallowed(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .filter_map(|c| match &c.kind {
            ChangeKind::Disallowed(m) => Some(m.clone()),
            ChangeKind::Allowed(_) => None,
        })
        .collect()
}

#[test]
fn nothing_after_the_signature_means_no_changes() {
    let (s, end) = signed();
    assert!(classify_changes(&s, end).unwrap().is_empty());
}

#[test]
fn dss_and_document_timestamp_are_allowed() {
    let (s, end) = signed();
    let v = Validation {
        certs: vec![b"c1".to_vec(), b"c2".to_vec()],
        crls: vec![b"r".to_vec()],
        ocsps: vec![],
    };
    let lta = sign_dummy(
        append_dss(append_dss(s, &v).unwrap(), &v).unwrap(),
        SigKind::DocTimestamp,
    );
    let changes = classify_changes(&lta, end).unwrap();
    assert!(changes.len() >= 6, "{changes:?}");
    assert_eq!(disallowed(&changes), Vec::<String>::new());
    assert!(changes
        .iter()
        .any(|c| matches!(&c.kind, ChangeKind::Allowed(m) if m.contains("DSS"))));
    assert!(changes
        .iter()
        .any(|c| matches!(&c.kind, ChangeKind::Allowed(m) if m.contains("signature widgets"))));
    assert_eq!(crate::pdf::reader::revisions(&lta).unwrap().len(), 5);
}

#[test]
fn adding_a_page_is_disallowed_and_named() {
    let (s, end) = signed();
    let edited = append_edit(s, |view, w| {
        let (_, cat) = view.catalog().unwrap();
        let pages_id = cat.get("Pages").and_then(Object::as_ref_id).unwrap();
        let mut pages = view.dict_at(&Object::Ref(pages_id), "pages").unwrap();
        let new_page = w.alloc();
        let page = Dict::new()
            .with("Type", Object::name("Page"))
            .with("Parent", Object::Ref(pages_id));
        w.write_object(new_page, &Object::Dict(page));
        let mut kids = pages.get("Kids").and_then(Object::as_array).unwrap().to_vec();
        kids.push(Object::Ref(new_page));
        pages.set("Count", Object::Int(kids.len() as i64));
        pages.set("Kids", Object::Array(kids));
        w.write_object(pages_id, &Object::Dict(pages));
    });
    let bad = disallowed(&classify_changes(&edited, end).unwrap());
    assert!(bad.iter().any(|m| m.contains("(/Pages) modified")), "{bad:?}");
    assert!(!classify_changes(&edited, end).unwrap().iter().all(Change::is_allowed));
    assert_eq!(
        classify_changes(&edited, end)
            .unwrap()
            .iter()
            .find(|c| !c.is_allowed())
            .unwrap()
            .code(),
        "modified-after-signing"
    );
}

#[test]
fn changing_a_content_stream_is_disallowed() {
    let (s, end) = signed();
    let edited = append_edit(s, |view, w| {
        let (_, page) = view.pages().unwrap().remove(0);
        let content = page.get("Contents").and_then(Object::as_ref_id).unwrap();
        w.write_stream(content, &Dict::new(), b"q 1 0 0 1 0 0 cm /Im0 Do Q");
    });
    let bad = disallowed(&classify_changes(&edited, end).unwrap());
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].contains("modified"), "{bad:?}");
}

#[test]
fn page_and_catalog_edits_are_named() {
    let (s, end) = signed();
    let edited = append_edit(s, |view, w| {
        let (id, mut page) = view.pages().unwrap().remove(0);
        page.set("Rotate", Object::Int(90));
        w.write_object(id, &Object::Dict(page));
        let (cid, mut cat) = view.catalog().unwrap();
        cat.set("OpenAction", Object::Array(vec![Object::Ref(id), Object::name("Fit")]));
        w.write_object(cid, &Object::Dict(cat));
    });
    let bad = disallowed(&classify_changes(&edited, end).unwrap());
    assert!(bad.iter().any(|m| m == "page 1 changed: /Rotate"), "{bad:?}");
    assert!(bad.iter().any(|m| m == "catalog changed: /OpenAction"), "{bad:?}");
}

#[test]
fn info_update_is_allowed_but_reported_and_annotations_are_not() {
    let (s, end) = signed();
    let edited = append_edit(s, |view, w| {
        let info = view.trailer.get("Info").and_then(Object::as_ref_id).unwrap();
        let mut d = view.dict_at(&Object::Ref(info), "info").unwrap();
        d.set("ModDate", Object::Str(b"D:20270101000000Z".to_vec()));
        w.write_object(info, &Object::Dict(d));
    });
    let changes = classify_changes(&edited, end).unwrap();
    assert_eq!(changes.len(), 1);
    assert!(
        matches!(&changes[0].kind, ChangeKind::Allowed(m) if m.contains("Info")),
        "{changes:?}"
    );

    let edited = append_edit(edited, |view, w| {
        let (id, mut page) = view.pages().unwrap().remove(0);
        let note = w.alloc();
        w.write_object(
            note,
            &Object::Dict(
                Dict::new()
                    .with("Type", Object::name("Annot"))
                    .with("Subtype", Object::name("Text")),
            ),
        );
        let mut annots = view
            .get_key(&page, "Annots")
            .unwrap()
            .and_then(|a| a.as_array().map(<[Object]>::to_vec))
            .unwrap();
        annots.push(Object::Ref(note));
        page.set("Annots", Object::Array(annots));
        w.write_object(id, &Object::Dict(page));
    });
    let bad = disallowed(&classify_changes(&edited, end).unwrap());
    assert!(bad.iter().any(|m| m.contains("page 1 annotations changed")), "{bad:?}");
    assert!(
        bad.iter().any(|m| m.contains("new object") && m.contains("/Annot")),
        "{bad:?}"
    );
}
