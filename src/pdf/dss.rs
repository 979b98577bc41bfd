//! The Document Security Store (PAdES B-LT): validation data (certificates, CRLs, OCSP
//! responses) appended as an incremental revision, merged with what is already there.

use super::error::{malformed, PdfError};
use super::file::PdfView;
use super::object::{Dict, Object};
use super::writer::RevisionWriter;
use super::xref::XrefChain;

/// DER blobs for long-term validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validation {
    pub certs: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    pub ocsps: Vec<Vec<u8>>,
}

const KEYS: [&str; 3] = ["Certs", "CRLs", "OCSPs"];

impl Validation {
    fn lists(&self) -> [&Vec<Vec<u8>>; 3] {
        [&self.certs, &self.crls, &self.ocsps]
    }
    fn lists_mut(&mut self) -> [&mut Vec<Vec<u8>>; 3] {
        [&mut self.certs, &mut self.crls, &mut self.ocsps]
    }
}

/// Append a revision whose /DSS holds the old entries plus the new ones not already present.
pub fn append_dss(pdf: Vec<u8>, v: &Validation) -> Result<Vec<u8>, PdfError> {
    let chain = XrefChain::parse(&pdf)?;
    let mut w = RevisionWriter::update_of(&pdf, &chain);
    {
        let view = PdfView::latest(&pdf, &chain)?;
        let (cat_id, mut catalog) = view.catalog()?;
        let mut dss = match view.get_key(&catalog, "DSS")? {
            Some(Object::Dict(d)) => d,
            None => Dict::new(),
            Some(_) => return Err(malformed("/DSS is not a dictionary")),
        };
        let old = read_store(&view, &dss)?;
        for ((key, new), have) in KEYS.iter().zip(v.lists()).zip(old.lists()) {
            let mut refs = match view.get_key(&dss, key)? {
                Some(Object::Array(a)) => a,
                _ => Vec::new(),
            };
            let mut added: Vec<&[u8]> = Vec::new();
            for blob in new {
                if have.iter().any(|h| h == blob) || added.contains(&blob.as_slice()) {
                    continue;
                }
                let id = w.alloc();
                w.write_stream(id, &Dict::new(), blob);
                refs.push(Object::Ref(id));
                added.push(blob);
            }
            if !refs.is_empty() {
                dss.set(key, Object::Array(refs));
            }
        }
        let dss_id = w.alloc();
        w.write_object(dss_id, &Object::Dict(dss));
        catalog.set("DSS", Object::Ref(dss_id));
        w.write_object(cat_id, &Object::Dict(catalog));
    }
    Ok(w.finish_update(pdf, Dict::new()))
}

/// The validation data in the latest /DSS (empty when there is none).
pub fn read_dss(pdf: &[u8]) -> Result<Validation, PdfError> {
    let chain = XrefChain::parse(pdf)?;
    let view = PdfView::latest(pdf, &chain)?;
    let (_, catalog) = view.catalog()?;
    match view.get_key(&catalog, "DSS")? {
        Some(Object::Dict(d)) => read_store(&view, &d),
        None => Ok(Validation::default()),
        Some(_) => Err(malformed("/DSS is not a dictionary")),
    }
}

fn read_store(view: &PdfView, dss: &Dict) -> Result<Validation, PdfError> {
    let mut v = Validation::default();
    for (key, list) in KEYS.iter().zip(v.lists_mut()) {
        if let Some(Object::Array(items)) = view.get_key(dss, key)? {
            for item in items {
                match view.resolve(&item)? {
                    Object::Stream(d, r) => list.push(view.decode(&d, &r)?),
                    _ => return Err(malformed(format!("/DSS /{key} entry is not a stream"))),
                }
            }
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::peers;
    use crate::pdf::signature::tests::{base_pdf, sign_dummy};
    use crate::pdf::signature::SigKind;

    fn v(certs: &[&[u8]], crls: &[&[u8]], ocsps: &[&[u8]]) -> Validation {
        let own = |l: &[&[u8]]| l.iter().map(|b| b.to_vec()).collect();
        Validation {
            certs: own(certs),
            crls: own(crls),
            ocsps: own(ocsps),
        }
    }

    #[test]
    fn appending_twice_keeps_old_bytes_and_merges_without_duplicates() {
        let signed = sign_dummy(base_pdf(), SigKind::Cades);
        assert_eq!(read_dss(&signed).unwrap(), Validation::default());
        let once = append_dss(signed.clone(), &v(&[b"cert-a", b"cert-b", b"cert-a"], &[b"crl-1"], &[])).unwrap();
        assert!(once.starts_with(&signed));
        assert_eq!(read_dss(&once).unwrap(), v(&[b"cert-a", b"cert-b"], &[b"crl-1"], &[]));
        let twice = append_dss(once.clone(), &v(&[b"cert-b", b"cert-c"], &[b"crl-1"], &[b"ocsp-x"])).unwrap();
        assert!(twice.starts_with(&once));
        assert_eq!(
            read_dss(&twice).unwrap(),
            v(&[b"cert-a", b"cert-b", b"cert-c"], &[b"crl-1"], &[b"ocsp-x"])
        );
        // The signature still covers its own revision, not the whole file.
        let sig = &crate::pdf::read_signatures(&twice).unwrap()[0];
        assert_eq!(sig.covered_end(), signed.len());
        assert_eq!(sig.revision, Some(1));
        peers::qpdf_check(&twice, "dss_twice");
    }
}
