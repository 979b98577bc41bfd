//! Classify what the revisions after a signature changed. Allowed: validation data (/DSS and
//! everything under it), new signature or document-timestamp fields (field, widget, signature
//! dictionary, appearance), form updates that only add such fields, pages gaining only their
//! widgets, and Info or in-place XMP updates (reported). Anything else is `modified-after-signing`.

use std::collections::{HashMap, HashSet};

use super::error::PdfError;
use super::file::PdfView;
use super::object::{Dict, Object};
use super::xref::{Entry, XrefChain};

/// One finding about a later revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// End offset of the revision that made the change.
    pub revision_end: usize,
    /// The object concerned, when there is one.
    pub object: Option<u32>,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    Allowed(String),
    Disallowed(String),
}

impl Change {
    pub fn is_allowed(&self) -> bool {
        matches!(self.kind, ChangeKind::Allowed(_))
    }
    /// Stable reason code: `allowed-change` or `modified-after-signing`.
    pub fn code(&self) -> &'static str {
        if self.is_allowed() {
            "allowed-change"
        } else {
            "modified-after-signing"
        }
    }
}

/// Most objects followed when collecting what a structure reaches.
const REACH_BUDGET: usize = 200_000;

/// Classify every object written by revisions ending after `after_offset`.
pub fn classify_changes(pdf: &[u8], after_offset: usize) -> Result<Vec<Change>, PdfError> {
    let chain = XrefChain::parse(pdf)?;
    let mut out = Vec::new();
    for (i, section) in chain.sections.iter().enumerate() {
        let later = section.end > after_offset && !only_eol(pdf, after_offset, section.end);
        if i == 0 || !later {
            continue;
        }
        let before = PdfView::at(pdf, &chain, i)?;
        let after = PdfView::at(pdf, &chain, i + 1)?;
        let roles = Roles::collect(&after)?;
        let mut push = |object: Option<u32>, kind: ChangeKind| {
            out.push(Change {
                revision_end: section.end,
                object,
                kind,
            })
        };
        if before.trailer.get("Root") != after.trailer.get("Root") {
            push(None, ChangeKind::Disallowed("trailer /Root replaced".into()));
        }
        for (num, entry) in &section.entries {
            if matches!(entry, Entry::Free) {
                if before.entry(*num).is_some_and(|e| e != Entry::Free) {
                    push(Some(*num), ChangeKind::Disallowed(format!("object {num} deleted")));
                }
                continue;
            }
            let id = super::object::ObjId(*num, 0);
            let new = after.get(id)?;
            if new.as_dict().is_some_and(|d| d.name_is("Type", "XRef")) {
                continue;
            }
            let old = before.get(id)?;
            if same(&before, &old, &after, &new) {
                continue;
            }
            push(Some(*num), roles.judge(*num, &before, &old, &after, &new)?);
        }
    }
    Ok(out)
}

fn only_eol(pdf: &[u8], from: usize, to: usize) -> bool {
    pdf.get(from..to)
        .is_some_and(|s| s.iter().all(|b| matches!(b, b'\r' | b'\n')))
}

/// Equal objects; streams compare dictionaries (without /Length) and raw data.
fn same(bv: &PdfView, old: &Object, av: &PdfView, new: &Object) -> bool {
    match (old, new) {
        (Object::Stream(od, or), Object::Stream(nd, nr)) => {
            let strip = |d: &Dict| {
                let mut d = d.clone();
                d.remove("Length");
                d
            };
            strip(od) == strip(nd) && bv.raw(or) == av.raw(nr)
        }
        _ => old == new,
    }
}

/// What each object of the newer revision is for.
#[derive(Default)]
struct Roles {
    catalog: u32,
    info: Option<u32>,
    acroform: Option<u32>,
    fields_array: Option<u32>,
    /// Signature fields, widgets, signature dictionaries and their appearances.
    sig: HashSet<u32>,
    /// The DSS dictionary and everything it reaches.
    dss: HashSet<u32>,
    /// Page object number → page index (1-based).
    pages: HashMap<u32, usize>,
    /// Indirect /Annots arrays → page object number.
    annots: HashMap<u32, u32>,
    metadata: Option<u32>,
}

impl Roles {
    fn collect(v: &PdfView) -> Result<Roles, PdfError> {
        let (cat_id, cat) = v.catalog()?;
        let mut r = Roles {
            catalog: cat_id.0,
            ..Roles::default()
        };
        r.info = v.trailer.get("Info").and_then(Object::as_ref_id).map(|i| i.0);
        r.metadata = cat.get("Metadata").and_then(Object::as_ref_id).map(|i| i.0);
        if let Some(dss) = cat.get("DSS") {
            reach(v, dss, &mut r.dss)?;
        }
        for (n, (id, page)) in v.pages()?.into_iter().enumerate() {
            r.pages.insert(id.0, n + 1);
            if let Some(a) = page.get("Annots").and_then(Object::as_ref_id) {
                r.annots.insert(a.0, id.0);
            }
        }
        r.acroform = cat.get("AcroForm").and_then(Object::as_ref_id).map(|i| i.0);
        if let Some(Object::Dict(form)) = v.get_key(&cat, "AcroForm")? {
            r.fields_array = form.get("Fields").and_then(Object::as_ref_id).map(|i| i.0);
            if let Some(Object::Array(fields)) = v.get_key(&form, "Fields")? {
                let mut seen = HashSet::new();
                for f in &fields {
                    r.sig_fields(v, f, None, 0, &mut seen)?;
                }
            }
        }
        Ok(r)
    }

    fn sig_fields(
        &mut self,
        v: &PdfView,
        f: &Object,
        ft: Option<Vec<u8>>,
        depth: usize,
        seen: &mut HashSet<u32>,
    ) -> Result<(), PdfError> {
        let Some(id) = f.as_ref_id() else {
            return Ok(());
        };
        if depth > super::parse::MAX_DEPTH || !seen.insert(id.0) {
            return Err(super::error::malformed("cyclic or too deep form field tree"));
        }
        let d = v.dict_at(f, "form field")?;
        let ft = d.get("FT").and_then(Object::as_name).map(<[u8]>::to_vec).or(ft);
        if ft.as_deref() == Some(b"Sig") {
            self.sig.insert(id.0);
            for key in ["V", "AP"] {
                if let Some(o) = d.get(key) {
                    reach(v, o, &mut self.sig)?;
                }
            }
        }
        if let Some(Object::Array(kids)) = v.get_key(&d, "Kids")? {
            for k in &kids {
                self.sig_fields(v, k, ft.clone(), depth + 1, seen)?;
            }
        }
        Ok(())
    }

    fn judge(&self, num: u32, bv: &PdfView, old: &Object, av: &PdfView, new: &Object) -> Result<ChangeKind, PdfError> {
        use ChangeKind::{Allowed, Disallowed};
        let is_new = *old == Object::Null;
        if self.dss.contains(&num) {
            return Ok(Allowed(format!("validation data (DSS) object {num}")));
        }
        if self.sig.contains(&num) {
            return Ok(if is_new {
                Allowed(format!("new signature field or signature object {num}"))
            } else {
                Disallowed(format!("existing signature object {num} modified"))
            });
        }
        if num == self.catalog {
            return catalog_change(bv, old, av, new);
        }
        if Some(num) == self.info {
            return Ok(Allowed(format!("document Info dictionary (object {num}) updated")));
        }
        if Some(num) == self.acroform {
            return self.form_change(bv, old, av, new, num);
        }
        if Some(num) == self.fields_array {
            let grows = self.only_adds_sig(bv, old, av, new)?;
            return Ok(if grows {
                Allowed("form /Fields gained signature fields".into())
            } else {
                Disallowed("form /Fields changed beyond adding signature fields".into())
            });
        }
        if let Some(page_no) = self.pages.get(&num) {
            return self.page_change(bv, old, av, new, *page_no);
        }
        if let Some(page) = self.annots.get(&num) {
            let n = self.pages.get(page).copied().unwrap_or(0);
            return Ok(if self.only_adds_sig(bv, old, av, new)? {
                Allowed(format!("page {n} /Annots gained signature widgets"))
            } else {
                Disallowed(format!("page {n} annotations changed"))
            });
        }
        if Some(num) == self.metadata && !is_new {
            // pyHanko refreshes the XMP packet when it signs; like Info, allowed but reported.
            // Pointing the catalog at a different /Metadata object stays disallowed.
            return Ok(Allowed(format!("XMP metadata stream (object {num}) updated in place")));
        }
        Ok(Disallowed(describe(num, new, is_new)))
    }

    fn form_change(
        &self,
        bv: &PdfView,
        old: &Object,
        av: &PdfView,
        new: &Object,
        num: u32,
    ) -> Result<ChangeKind, PdfError> {
        let (od, nd) = (
            old.as_dict().cloned().unwrap_or_default(),
            new.as_dict().cloned().unwrap_or_default(),
        );
        let mut a = od.clone();
        let mut b = nd.clone();
        for d in [&mut a, &mut b] {
            d.remove("Fields");
            d.remove("SigFlags");
        }
        if a != b {
            return Ok(ChangeKind::Disallowed(format!(
                "form dictionary (object {num}) changed beyond signature fields"
            )));
        }
        let of = bv.get_key(&od, "Fields")?.unwrap_or(Object::Array(Vec::new()));
        let nf = av.get_key(&nd, "Fields")?.unwrap_or(Object::Array(Vec::new()));
        Ok(if self.only_adds_sig(bv, &of, av, &nf)? {
            ChangeKind::Allowed("form gained signature fields".into())
        } else {
            ChangeKind::Disallowed("form /Fields changed beyond adding signature fields".into())
        })
    }

    fn page_change(
        &self,
        bv: &PdfView,
        old: &Object,
        av: &PdfView,
        new: &Object,
        page_no: usize,
    ) -> Result<ChangeKind, PdfError> {
        let (od, nd) = match (old.as_dict(), new.as_dict()) {
            (Some(o), Some(n)) => (o, n),
            _ => return Ok(ChangeKind::Disallowed(format!("page {page_no} replaced"))),
        };
        let (mut a, mut b) = (od.clone(), nd.clone());
        a.remove("Annots");
        b.remove("Annots");
        if a != b {
            let keys: Vec<String> =
                nd.0.iter()
                    .chain(od.0.iter())
                    .filter(|(k, _)| {
                        k != b"Annots" && od.0.iter().find(|(ok, _)| ok == k) != nd.0.iter().find(|(nk, _)| nk == k)
                    })
                    .map(|(k, _)| format!("/{}", String::from_utf8_lossy(k)))
                    .collect();
            return Ok(ChangeKind::Disallowed(format!(
                "page {page_no} changed: {}",
                keys.join(", ")
            )));
        }
        let oa = bv.get_key(od, "Annots")?.unwrap_or(Object::Array(Vec::new()));
        let na = av.get_key(nd, "Annots")?.unwrap_or(Object::Array(Vec::new()));
        Ok(if self.only_adds_sig(bv, &oa, av, &na)? {
            ChangeKind::Allowed(format!("page {page_no} gained signature widgets"))
        } else {
            ChangeKind::Disallowed(format!("page {page_no} annotations changed beyond signature widgets"))
        })
    }

    /// Whether `new` (an array) is `old` plus references to signature objects only.
    fn only_adds_sig(&self, bv: &PdfView, old: &Object, av: &PdfView, new: &Object) -> Result<bool, PdfError> {
        let old = bv.resolve(old)?;
        let new = av.resolve(new)?;
        let (Some(o), Some(n)) = (
            old.as_array().or(Some(&[][..]).filter(|_| old == Object::Null)),
            new.as_array(),
        ) else {
            return Ok(false);
        };
        // Annotation and field arrays hold references; compare them as sets.
        let refs = |a: &[Object]| a.iter().map(Object::as_ref_id).collect::<Option<HashSet<_>>>();
        let (Some(o), Some(n)) = (refs(o), refs(n)) else {
            return Ok(false);
        };
        if !o.is_subset(&n) {
            return Ok(false);
        }
        Ok(n.difference(&o).all(|id| self.sig.contains(&id.0)))
    }
}

fn catalog_change(bv: &PdfView, old: &Object, av: &PdfView, new: &Object) -> Result<ChangeKind, PdfError> {
    let (Some(od), Some(nd)) = (old.as_dict(), new.as_dict()) else {
        return Ok(ChangeKind::Disallowed("catalog replaced".into()));
    };
    // Keys a signing or LTV update may touch; the form itself is judged separately.
    const FREE: [&[u8]; 3] = [b"DSS", b"AcroForm", b"Extensions"];
    let mut changed = Vec::new();
    for (k, _) in od.0.iter().chain(nd.0.iter()) {
        let key = String::from_utf8_lossy(k).into_owned();
        if FREE.contains(&k.as_slice()) || changed.contains(&key) {
            continue;
        }
        if od.get(&key) != nd.get(&key) {
            changed.push(key);
        }
    }
    if !changed.is_empty() {
        let list: Vec<String> = changed.iter().map(|k| format!("/{k}")).collect();
        return Ok(ChangeKind::Disallowed(format!("catalog changed: {}", list.join(", "))));
    }
    // A direct form dictionary inside the catalog: same rule as an indirect one.
    if let (Some(Object::Dict(of)), Some(Object::Dict(nf))) = (od.get("AcroForm"), nd.get("AcroForm")) {
        if of != nf {
            let roles = Roles::collect(av)?;
            return roles.form_change(bv, &Object::Dict(of.clone()), av, &Object::Dict(nf.clone()), 0);
        }
    }
    Ok(ChangeKind::Allowed(
        "catalog updated (/DSS, /AcroForm or /Extensions)".into(),
    ))
}

fn describe(num: u32, new: &Object, is_new: bool) -> String {
    let ty = new
        .as_dict()
        .and_then(|d| d.get("Type").or_else(|| d.get("Subtype")))
        .and_then(Object::as_name)
        .map(|n| format!(" (/{})", String::from_utf8_lossy(n)))
        .unwrap_or_default();
    if is_new {
        format!("new object {num}{ty} outside any signature, form or DSS structure")
    } else {
        format!("object {num}{ty} modified")
    }
}

/// Every object number reachable from `start`, bounded.
fn reach(v: &PdfView, start: &Object, set: &mut HashSet<u32>) -> Result<(), PdfError> {
    let mut stack = vec![start.clone()];
    let mut steps = 0usize;
    while let Some(o) = stack.pop() {
        steps += 1;
        if steps > REACH_BUDGET {
            return Err(PdfError::Limit("object graph too large".into()));
        }
        match o {
            Object::Ref(id) if set.insert(id.0) => stack.push(v.get(id)?),
            Object::Array(a) => stack.extend(a),
            Object::Dict(d) | Object::Stream(d, _) => stack.extend(
                d.0.into_iter()
                    .filter(|(k, _)| k != b"P" && k != b"Parent")
                    .map(|(_, v)| v),
            ),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "changes_tests.rs"]
mod tests;
