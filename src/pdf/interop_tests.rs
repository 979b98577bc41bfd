//! Interoperability with pyHanko (a peer PAdES implementation): it must read and sign our
//! files, accept our DSS and timestamp revisions as allowed updates, and we must read its
//! signatures (the CMS checked by `openssl cms -verify` over our byte ranges).

use crate::pdf::dss::{append_dss, Validation};
use crate::pdf::peers;
use crate::pdf::reader::read_signatures;
use crate::pdf::signature::tests::{base_pdf, sign_dummy};
use crate::pdf::signature::SigKind;
use crate::pdf::{classify_changes, ChangeKind};

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new(test: &str) -> Option<Pki> {
        if !peers::have("openssl", test) || !peers::have("pyhanko", test) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
        let (ok, out) = peers::run(
            "openssl",
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &p("key.pem"),
                "-out",
                &p("cert.pem"),
                "-subj",
                "/CN=Hozon Test Signer",
                "-days",
                "30",
            ],
        );
        assert!(ok, "{out}");
        Some(Pki { dir })
    }
    fn path(&self, n: &str) -> String {
        self.dir.path().join(n).to_str().unwrap().to_string()
    }
    /// A real CMS over the covered bytes, made by `openssl cms -sign` (pyHanko parses it).
    fn openssl_sign(&self, pdf: Vec<u8>, kind: SigKind) -> Vec<u8> {
        let mut req = crate::pdf::signature::tests::request(kind);
        req.contents_len = 8192;
        let prepared = crate::pdf::prepare_signature(pdf, &req).unwrap();
        std::fs::write(self.path("covered.bin"), prepared.covered().concat()).unwrap();
        let (ok, out) = peers::run(
            "openssl",
            &[
                "cms",
                "-sign",
                "-binary",
                "-outform",
                "DER",
                "-md",
                "sha256",
                "-nosmimecap",
                "-signer",
                &self.path("cert.pem"),
                "-inkey",
                &self.path("key.pem"),
                "-in",
                &self.path("covered.bin"),
                "-out",
                &self.path("cms.der"),
            ],
        );
        assert!(ok, "{out}");
        prepared.finish(&std::fs::read(self.path("cms.der")).unwrap()).unwrap()
    }

    /// pyHanko adds an invisible PAdES signature in field `field`.
    fn pyhanko_sign(&self, pdf: &[u8], field: &str) -> Vec<u8> {
        std::fs::write(self.path("in.pdf"), pdf).unwrap();
        let (ok, out) = peers::run(
            "pyhanko",
            &[
                "sign",
                "addsig",
                "--field",
                field,
                "--use-pades",
                "pemder",
                "--key",
                &self.path("key.pem"),
                "--cert",
                &self.path("cert.pem"),
                "--no-pass",
                &self.path("in.pdf"),
                &self.path("out.pdf"),
            ],
        );
        assert!(ok, "pyhanko sign: {out}");
        std::fs::read(self.path("out.pdf")).unwrap()
    }
}

#[test]
fn we_read_pyhanko_signatures_and_openssl_verifies_our_byte_ranges() {
    let Some(pki) = Pki::new("pyhanko_read") else {
        return;
    };
    let signed = pki.pyhanko_sign(&base_pdf(), "PyHanko");
    let sigs = read_signatures(&signed).unwrap();
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].field_name, "PyHanko");
    assert_eq!(sigs[0].sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
    assert_eq!(sigs[0].covered_end(), signed.len());
    let [first, second] = sigs[0].covered(&signed);
    std::fs::write(pki.path("content.bin"), [first, second].concat()).unwrap();
    std::fs::write(pki.path("sig.der"), sigs[0].der()).unwrap();
    let (ok, out) = peers::run(
        "openssl",
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            &pki.path("sig.der"),
            "-content",
            &pki.path("content.bin"),
            "-noverify",
            "-out",
            &pki.path("ignored"),
        ],
    );
    assert!(ok && out.contains("Verification successful"), "{out}");
}

#[test]
fn pyhanko_finds_our_updates_allowed_and_we_find_its_signature_allowed() {
    let Some(pki) = Pki::new("pyhanko_updates") else {
        return;
    };
    // hozon signature (dummy CMS) then a pyHanko signature: an allowed later revision for us.
    let ours = sign_dummy(base_pdf(), SigKind::Cades);
    let our_end = read_signatures(&ours).unwrap()[0].covered_end();
    let both = pki.pyhanko_sign(&ours, "Theirs");
    let changes = classify_changes(&both, our_end).unwrap();
    assert!(!changes.is_empty());
    let bad: Vec<_> = changes.iter().filter(|c| !c.is_allowed()).collect();
    assert!(bad.is_empty(), "{bad:?}");

    // pyHanko signature, then our DSS and document timestamp: pyHanko must still call its
    // signature intact with only allowed modifications.
    let theirs = pki.pyhanko_sign(&base_pdf(), "Theirs");
    let v = Validation {
        certs: vec![std::fs::read(pki.path("cert.pem")).unwrap()],
        ..Validation::default()
    };
    let updated = pki.openssl_sign(append_dss(theirs, &v).unwrap(), SigKind::DocTimestamp);
    std::fs::write(pki.path("updated.pdf"), &updated).unwrap();
    let script = "import sys\n\
from pyhanko.pdf_utils.reader import PdfFileReader\n\
from pyhanko.sign.validation import validate_pdf_signature\n\
from pyhanko.sign.diff_analysis import ModificationLevel\n\
r = PdfFileReader(open(sys.argv[1], 'rb'))\n\
s = r.embedded_signatures[0]\n\
st = validate_pdf_signature(s)\n\
print('intact', st.intact, 'level', st.modification_level, 'coverage', st.coverage)\n\
assert st.intact and st.modification_level in (ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING)\n";
    let (ok, out) = peers::run("python3", &["-c", script, &pki.path("updated.pdf")]);
    assert!(ok, "pyHanko rejected our updates:\n{out}");
    let changes = classify_changes(&updated, read_signatures(&updated).unwrap()[0].covered_end()).unwrap();
    assert!(
        changes.iter().all(|c| matches!(c.kind, ChangeKind::Allowed(_))),
        "{changes:?}"
    );
}

#[test]
fn pdfsig_and_pyhanko_verify_a_real_cms_in_our_placeholder() {
    let Some(pki) = Pki::new("real_cms") else {
        return;
    };
    let signed = pki.openssl_sign(base_pdf(), SigKind::Cades);
    let with_dss = append_dss(
        signed,
        &Validation {
            certs: vec![b"x".to_vec()],
            ..Validation::default()
        },
    )
    .unwrap();
    std::fs::write(pki.path("ours.pdf"), &with_dss).unwrap();
    if peers::have("pdfsig", "real_cms") {
        let (_, out) = peers::run("pdfsig", &[&pki.path("ours.pdf")]);
        assert!(out.contains("Signature Validation: Signature is Valid."), "{out}");
        assert!(
            out.contains("Signer full Distinguished Name: CN=Hozon Test Signer"),
            "{out}"
        );
    }
    let script = "import sys\n\
from pyhanko.pdf_utils.reader import PdfFileReader\n\
from pyhanko.sign.validation import validate_pdf_signature\n\
from pyhanko.sign.diff_analysis import ModificationLevel\n\
st = validate_pdf_signature(PdfFileReader(open(sys.argv[1], 'rb')).embedded_signatures[0])\n\
print(st.intact, st.modification_level)\n\
assert st.intact and st.modification_level == ModificationLevel.LTA_UPDATES\n";
    let (ok, out) = peers::run("python3", &["-c", script, &pki.path("ours.pdf")]);
    assert!(ok, "pyHanko: {out}");
}
