//! Building SignedData with rasn-cms types. OpenSSL makes only the raw signature over the DER
//! SET of signed attributes (its own CMS signer would add signingTime). Signing runs in two
//! phases so the caller can timestamp the signature value before the CMS is finished.

use openssl::x509::X509;
use rasn::prelude::*;
use rasn_cms::{
    CertificateChoices, ContentInfo, EncapsulatedContentInfo, IssuerAndSerialNumber, SignedData, SignerIdentifier,
    SignerInfo,
};
use rasn_pkix::{Attribute, Certificate, Name};

use super::{algorithm, attributes, der, oids, parse_signed_data, CmsError};
use crate::sign::{DigestAlg, Signer};

/// What the SignedData encapsulates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encapsulated {
    /// id-data, content left out (PAdES: the PDF byte ranges are the content).
    DetachedData,
    /// id-ct-TSTInfo with the DER TSTInfo inside (RFC 3161 tokens).
    TstInfo(Vec<u8>),
}

/// Everything a SignedData with one signer is made of.
pub struct SignedDataParts<'a> {
    pub signer: &'a dyn Signer,
    pub digest_alg: DigestAlg,
    /// The signed attributes as a DER SET (tag 0x31), exactly as they were signed.
    pub signed_attrs_der: Vec<u8>,
    pub signature: Vec<u8>,
    /// Certificates to include (signer first, then its chain); duplicates are dropped.
    pub certs: Vec<X509>,
    /// A raw RFC 3161 token over `signature`, added as id-aa-signatureTimeStampToken.
    pub unsigned_timestamp: Option<Vec<u8>>,
    pub content: Encapsulated,
}

fn enc_err(e: impl std::fmt::Display) -> CmsError {
    CmsError::Encode(e.to_string())
}

/// DER ContentInfo(SignedData) from its parts.
pub fn encode_signed_data(parts: &SignedDataParts<'_>) -> Result<Vec<u8>, CmsError> {
    let cert = parts.signer.certificate();
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: rasn::der::decode::<Name>(&cert.issuer_name().to_der()?).map_err(enc_err)?,
        serial_number: der::integer_from_unsigned(&cert.serial_number().to_bn()?.to_vec())?,
    });
    let signed_attrs: SetOf<Attribute> =
        rasn::der::decode(&parts.signed_attrs_der).map_err(|e| CmsError::Encode(format!("signed attributes: {e}")))?;
    let unsigned_attrs = parts.unsigned_timestamp.as_ref().map(|tok| {
        SetOf::from_vec(vec![Attribute {
            r#type: oids::ID_AA_SIGNATURE_TIMESTAMP_TOKEN.to_owned(),
            values: SetOf::from_vec(vec![Any::new(tok.clone())]),
        }])
    });
    let signer_info = SignerInfo {
        version: Integer::from(1),
        sid,
        digest_algorithm: algorithm::digest_identifier(parts.digest_alg),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: algorithm::signature_identifier(parts.signer.algorithm())?,
        signature: OctetString::from(parts.signature.clone()),
        unsigned_attrs,
    };
    let mut cert_ders: Vec<Vec<u8>> = Vec::new();
    for c in &parts.certs {
        let d = c.to_der()?;
        if !cert_ders.contains(&d) {
            cert_ders.push(d);
        }
    }
    let certificates = cert_ders
        .iter()
        .map(|d| rasn::der::decode::<Certificate>(d).map(|c| CertificateChoices::Certificate(Box::new(c))))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CmsError::Encode(format!("certificate: {e}")))?;
    let (content_type, content, version) = match &parts.content {
        Encapsulated::DetachedData => (oids::ID_DATA, None, 1),
        // RFC 5652 §5.1: version 3 when eContentType is not id-data.
        Encapsulated::TstInfo(tst) => (oids::ID_CT_TST_INFO, Some(OctetString::from(tst.clone())), 3),
    };
    let sd = SignedData {
        version: Integer::from(version),
        digest_algorithms: SetOf::from_vec(vec![algorithm::digest_identifier(parts.digest_alg)]),
        encap_content_info: EncapsulatedContentInfo {
            content_type: content_type.to_owned(),
            content,
        },
        certificates: (!certificates.is_empty()).then(|| SetOf::from_vec(certificates)),
        crls: None,
        signer_infos: SetOf::from_vec(vec![signer_info]),
    };
    let sd_der = rasn::der::encode(&sd).map_err(enc_err)?;
    let ci = ContentInfo {
        content_type: oids::ID_SIGNED_DATA.to_owned(),
        content: Any::new(sd_der),
    };
    let out = rasn::der::encode(&ci).map_err(enc_err)?;

    // The signed bytes, the token and the certificates must come out exactly as given.
    let back = parse_signed_data(&out)?;
    let same_attrs = back.signed_attributes_der() == Some(parts.signed_attrs_der.as_slice());
    let same_token = back.timestamp_tokens().first().copied() == parts.unsigned_timestamp.as_deref();
    // DER sorts the certificate SET, so compare as sets.
    let mut got = back
        .certificates()
        .iter()
        .map(|c| c.to_der())
        .collect::<Result<Vec<_>, _>>()?;
    let mut want = cert_ders.clone();
    got.sort();
    want.sort();
    let same_certs = got == want;
    if !(same_attrs && same_token && same_certs) {
        return Err(CmsError::Encode("re-encoding changed signed bytes".into()));
    }
    Ok(out)
}

/// A signature made, the CMS not yet finished: timestamp `signature_value()`, then `finish`.
pub struct PendingSignature<'a> {
    signer: &'a dyn Signer,
    digest_alg: DigestAlg,
    signed_attrs_der: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> PendingSignature<'a> {
    pub fn signature_value(&self) -> &[u8] {
        &self.signature
    }
    pub fn digest_algorithm(&self) -> DigestAlg {
        self.digest_alg
    }
    /// The DER ContentInfo, with the timestamp token (raw TSA bytes) when given.
    pub fn finish(self, timestamp_token: Option<Vec<u8>>) -> Result<Vec<u8>, CmsError> {
        let mut certs = vec![self.signer.certificate().clone()];
        certs.extend(self.signer.chain().iter().cloned());
        encode_signed_data(&SignedDataParts {
            signer: self.signer,
            digest_alg: self.digest_alg,
            signed_attrs_der: self.signed_attrs_der,
            signature: self.signature,
            certs,
            unsigned_timestamp: timestamp_token,
            content: Encapsulated::DetachedData,
        })
    }
}

/// Phase one of a PAdES signature: sign the signed attributes over `content_digest` (made
/// with the signer's digest algorithm over the PDF ByteRange).
pub fn sign_detached<'a>(signer: &'a dyn Signer, content_digest: &[u8]) -> Result<PendingSignature<'a>, CmsError> {
    let digest_alg = signer.algorithm().digest();
    let signed_attrs_der = attributes::pades_signed_attributes(digest_alg, content_digest, signer.certificate())?;
    let signature = signer.sign(&signed_attrs_der)?;
    Ok(PendingSignature {
        signer,
        digest_alg,
        signed_attrs_der,
        signature,
    })
}

/// A complete SignedData encapsulating `tst_info` (RFC 3161 token), certificates included.
pub(crate) fn sign_encapsulated(
    signer: &dyn Signer,
    tst_info: Vec<u8>,
    include_certs: bool,
) -> Result<Vec<u8>, CmsError> {
    let digest_alg = signer.algorithm().digest();
    let md = digest_alg.digest(&tst_info)?;
    let signed_attrs_der = attributes::signed_attributes(oids::ID_CT_TST_INFO, digest_alg, &md, signer.certificate())?;
    let signature = signer.sign(&signed_attrs_der)?;
    let mut certs = Vec::new();
    if include_certs {
        certs.push(signer.certificate().clone());
        certs.extend(signer.chain().iter().cloned());
    }
    encode_signed_data(&SignedDataParts {
        signer,
        digest_alg,
        signed_attrs_der,
        signature,
        certs,
        unsigned_timestamp: None,
        content: Encapsulated::TstInfo(tst_info),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::test_pki::{self, openssl, peer_available, KeyKind, Usage};
    use crate::sign::SignatureAlg;

    /// `openssl cms -verify` over the real content accepts hozon's detached CMS for every
    /// algorithm, checks the ESS binding (-cades), and refuses changed content.
    #[test]
    fn openssl_cms_verifies_detached_signatures() {
        if !peer_available("openssl", "openssl_cms_verifies_detached_signatures") {
            return;
        }
        let ca = test_pki::ca("テスト ルート");
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
        std::fs::write(p("ca.pem"), ca.cert.to_pem().unwrap()).unwrap();
        let content = "診療録 page 1 — scanned".repeat(1000);
        std::fs::write(p("content.bin"), &content).unwrap();
        std::fs::write(p("other.bin"), content.replace("page 1", "page 2")).unwrap();
        for (i, (kind, alg)) in [
            (KeyKind::Rsa2048, None),
            (KeyKind::Rsa2048, Some(SignatureAlg::RsaPss(DigestAlg::Sha256))),
            (KeyKind::P256, None),
            (KeyKind::P384, None),
        ]
        .into_iter()
        .enumerate()
        {
            let mut s = test_pki::signer(&ca, kind, "署名者 花子", Usage::Signer);
            if let Some(a) = alg {
                s = s.with_algorithm(a).unwrap();
            }
            let digest = s.algorithm().digest().digest(content.as_bytes()).unwrap();
            let cms = sign_detached(&s, &digest).unwrap().finish(None).unwrap();
            let sig = p(&format!("sig{i}.der"));
            std::fs::write(&sig, &cms).unwrap();
            let verify = |file: &str| {
                openssl(&[
                    "cms",
                    "-verify",
                    "-binary",
                    "-inform",
                    "DER",
                    "-in",
                    &sig,
                    "-content",
                    file,
                    "-CAfile",
                    &p("ca.pem"),
                    "-purpose",
                    "any",
                    "-cades",
                    "-out",
                    "/dev/null",
                ])
            };
            let (ok, out) = verify(&p("content.bin"));
            assert!(ok, "{:?}: openssl cms -verify failed: {out}", s.algorithm());
            let (ok, _) = verify(&p("other.bin"));
            assert!(!ok, "{:?}: changed content verified", s.algorithm());
            let (ok, dump) = openssl(&["asn1parse", "-inform", "DER", "-in", &sig]);
            assert!(ok);
            assert!(
                dump.contains("messageDigest") && dump.contains("id-smime-aa-signingCertificateV2"),
                "{dump}"
            );
            assert!(!dump.contains("signingTime"), "signingTime present:\n{dump}");
        }
    }
}
