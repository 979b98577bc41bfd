//! Signed attributes: content-type, message-digest and ESS signing-certificate-v2, DER-encoded
//! as a SET OF (tag 0x31) — the exact bytes that are signed. PAdES forbids signingTime.

use openssl::x509::X509;
use rasn::prelude::*;
use rasn_pkix::Attribute;

use super::{ess, oids, CmsError};
use crate::sign::DigestAlg;

fn enc<T: rasn::Encode>(v: &T) -> Result<Vec<u8>, CmsError> {
    rasn::der::encode(v).map_err(|e| CmsError::Encode(e.to_string()))
}

fn attribute(oid: &Oid, value_der: Vec<u8>) -> Attribute {
    Attribute {
        r#type: oid.to_owned(),
        values: SetOf::from_vec(vec![Any::new(value_der)]),
    }
}

/// The DER SET of signed attributes for a PAdES signature over id-data content.
pub fn pades_signed_attributes(
    digest_alg: DigestAlg,
    message_digest: &[u8],
    signer_cert: &X509,
) -> Result<Vec<u8>, CmsError> {
    signed_attributes(oids::ID_DATA, digest_alg, message_digest, signer_cert)
}

/// Signed attributes for any eContentType (id-data for PAdES, id-ct-TSTInfo for tokens).
pub(crate) fn signed_attributes(
    content_type: &Oid,
    digest_alg: DigestAlg,
    message_digest: &[u8],
    signer_cert: &X509,
) -> Result<Vec<u8>, CmsError> {
    if message_digest.len() != digest_alg.len() {
        return Err(CmsError::Encode(format!(
            "message digest of {} bytes for {}",
            message_digest.len(),
            digest_alg.name()
        )));
    }
    let attrs: SetOf<Attribute> = SetOf::from_vec(vec![
        attribute(oids::ID_CONTENT_TYPE, enc(&content_type.to_owned())?),
        attribute(
            oids::ID_MESSAGE_DIGEST,
            enc(&OctetString::from(message_digest.to_vec()))?,
        ),
        attribute(
            oids::ID_AA_SIGNING_CERTIFICATE_V2,
            ess::signing_certificate_v2(signer_cert, digest_alg)?,
        ),
    ]);
    enc(&attrs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cms::der;
    use crate::sign::test_pki::{self, KeyKind, Usage};
    use crate::sign::Signer;

    #[test]
    fn signed_attributes_are_a_sorted_der_set_without_signing_time() {
        let ca = test_pki::ca("CA");
        let s = test_pki::signer(&ca, KeyKind::Rsa2048, "署名者", Usage::Signer);
        let md = DigestAlg::Sha256.digest(b"content").unwrap();
        let set = pades_signed_attributes(DigestAlg::Sha256, &md, s.certificate()).unwrap();
        let t = der::read_exact(&set).unwrap();
        assert_eq!(t.tag, 0x31);
        let kids = der::children(t.value).unwrap();
        assert_eq!(kids.len(), 3);
        // DER SET OF: elements in ascending order of their encodings.
        for w in kids.windows(2) {
            assert!(w[0].raw <= w[1].raw, "SET OF not sorted");
        }
        let oid_of = |k: &der::Tlv| -> ObjectIdentifier {
            let f = der::children(k.value).unwrap();
            rasn::der::decode(f[0].raw).unwrap()
        };
        let oids_seen: Vec<ObjectIdentifier> = kids.iter().map(oid_of).collect();
        assert!(!oids_seen.iter().any(|o| o == oids::ID_SIGNING_TIME));
        assert!(oids_seen.iter().any(|o| o == oids::ID_MESSAGE_DIGEST));
        assert!(pades_signed_attributes(DigestAlg::Sha384, &md, s.certificate()).is_err());
    }
}
