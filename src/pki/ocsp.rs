//! OCSP: building requests (OpenSSL's OcspRequest/OcspCertId) and reading responses, with the
//! responder's signature and authority checked by OpenSSL at a chosen time.

use openssl::hash::MessageDigest;
use openssl::ocsp::{
    OcspBasicResponse, OcspCertId, OcspCertStatus, OcspFlag, OcspRequest, OcspResponse, OcspResponseStatus,
};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{X509Ref, X509};
use time::OffsetDateTime;

use super::asn1_time::generalized_to_offset;
use super::crl::reason_name;
use super::PkiError;

/// Largest OCSP response hozon parses.
pub const MAX_OCSP_BYTES: usize = 1 << 20;

/// DER of an OCSP request for `cert` issued by `issuer` (SHA-1 CertID, what responders expect).
pub fn request_der(cert: &X509Ref, issuer: &X509Ref) -> Result<Vec<u8>, PkiError> {
    let id =
        OcspCertId::from_cert(MessageDigest::sha1(), cert, issuer).map_err(PkiError::ossl("making an OCSP CertID"))?;
    let mut req = OcspRequest::new().map_err(PkiError::ossl("making an OCSP request"))?;
    req.add_id(id).map_err(PkiError::ossl("making an OCSP request"))?;
    req.to_der().map_err(PkiError::ossl("encoding an OCSP request"))
}

/// What one OCSP response says about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspAnswer {
    pub status: OcspCertState,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcspCertState {
    Good,
    Revoked { at: OffsetDateTime, reason: String },
    Unknown,
}

/// Parse `der`, check it is a successful response whose signature verifies and whose responder
/// is authorised for `issuer` (the issuer itself, or a delegate it certified with EKU
/// OCSPSigning) with the responder's certificate valid at `at`, then find `cert`'s status.
/// `Ok(None)`: a valid response that does not mention `cert`.
pub fn check_response(
    der: &[u8],
    cert: &X509Ref,
    issuer: &X509Ref,
    roots: &[X509],
    helpers: &[X509],
    at: OffsetDateTime,
) -> Result<Option<OcspAnswer>, PkiError> {
    let basic = parse_basic(der)?;
    // OpenSSL builds and checks the responder's chain against a store pinned to time `at`.
    let mut store = X509StoreBuilder::new().map_err(PkiError::ossl("making a store"))?;
    for r in roots {
        store.add_cert(r.clone()).map_err(PkiError::ossl("adding a root"))?;
    }
    let mut param = X509VerifyParam::new().map_err(PkiError::ossl("making verify params"))?;
    param.set_time(at.unix_timestamp());
    store.set_param(&param).map_err(PkiError::ossl("setting the time"))?;
    let store = store.build();
    let mut certs = Stack::new().map_err(PkiError::ossl("making a stack"))?;
    certs
        .push(issuer.to_owned())
        .map_err(PkiError::ossl("making a stack"))?;
    for h in helpers {
        certs.push(h.clone()).map_err(PkiError::ossl("making a stack"))?;
    }
    basic
        .verify(&certs, &store, OcspFlag::NO_EXPLICIT)
        .map_err(|e| PkiError::Parse(format!("OCSP response signature or responder not accepted: {e}")))?;
    find(&basic, cert, issuer)
}

/// Signature check only (responder = a certificate in the response or `issuer`, not
/// chain-validated): used when collecting, before the data is stored for later validation.
pub fn check_signature_only(der: &[u8], cert: &X509Ref, issuer: &X509Ref) -> Result<Option<OcspAnswer>, PkiError> {
    let basic = parse_basic(der)?;
    let store = X509StoreBuilder::new()
        .map_err(PkiError::ossl("making a store"))?
        .build();
    let mut certs = Stack::new().map_err(PkiError::ossl("making a stack"))?;
    certs
        .push(issuer.to_owned())
        .map_err(PkiError::ossl("making a stack"))?;
    basic
        .verify(&certs, &store, OcspFlag::NO_VERIFY)
        .map_err(|e| PkiError::Parse(format!("OCSP response signature: {e}")))?;
    find(&basic, cert, issuer)
}

fn parse_basic(der: &[u8]) -> Result<OcspBasicResponse, PkiError> {
    if der.len() > MAX_OCSP_BYTES {
        return Err(PkiError::Parse(format!(
            "OCSP response of {} bytes exceeds the limit",
            der.len()
        )));
    }
    let resp = OcspResponse::from_der(der).map_err(|e| PkiError::Parse(format!("OCSP response: {e}")))?;
    if resp.status() != OcspResponseStatus::SUCCESSFUL {
        return Err(PkiError::Parse(format!(
            "OCSP response status {}",
            resp.status().as_raw()
        )));
    }
    resp.basic()
        .map_err(|e| PkiError::Parse(format!("OCSP basic response: {e}")))
}

fn find(basic: &OcspBasicResponse, cert: &X509Ref, issuer: &X509Ref) -> Result<Option<OcspAnswer>, PkiError> {
    // CertIDs compare with their hash algorithm; responders echo the request's, usually SHA-1.
    for md in [MessageDigest::sha1(), MessageDigest::sha256()] {
        let id = OcspCertId::from_cert(md, cert, issuer).map_err(PkiError::ossl("making an OCSP CertID"))?;
        let Some(st) = basic.find_status(&id) else {
            continue;
        };
        let this_update = generalized_to_offset(st.this_update)?;
        let next_update = match st.next_update() {
            Some(t) => Some(generalized_to_offset(t)?),
            None => None,
        };
        let status = if st.status == OcspCertStatus::GOOD {
            OcspCertState::Good
        } else if st.status == OcspCertStatus::REVOKED {
            let at = match st.revocation_time {
                Some(t) => generalized_to_offset(t)?,
                None => return Err(PkiError::Parse("OCSP revoked status without time".into())),
            };
            let code = st.reason.as_raw();
            let reason = if code < 0 {
                "unspecified"
            } else {
                reason_name(i64::from(code))
            };
            OcspCertState::Revoked {
                at,
                reason: reason.to_string(),
            }
        } else {
            OcspCertState::Unknown
        };
        return Ok(Some(OcspAnswer {
            status,
            this_update,
            next_update,
        }));
    }
    Ok(None)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pki::fixtures::{openssl_cli, party, TestPki};
    use crate::pki::issue::CertSpec;
    use std::path::Path;
    use std::process::Command;

    /// Answer `req` with `openssl ocsp` as responder `rsigner` for CA `ca`; `revoked` lists
    /// (serial hex, YYMMDDHHMMSSZ, reason) entries of the index.
    pub(crate) fn openssl_ocsp_response(
        dir: &Path,
        req: &[u8],
        ca: &X509,
        responder: &crate::pki::fixtures::Party,
        valid: &[&X509],
        revoked: &[(&X509, &str, &str)],
    ) -> Vec<u8> {
        let mut index = String::new();
        for c in valid {
            index.push_str(&format!(
                "V\t300101000000Z\t\t{}\tunknown\t/CN=x\n",
                crate::pki::serial_hex(c).to_uppercase()
            ));
        }
        for (c, when, reason) in revoked {
            index.push_str(&format!(
                "R\t300101000000Z\t{when},{reason}\t{}\tunknown\t/CN=x\n",
                crate::pki::serial_hex(c).to_uppercase()
            ));
        }
        std::fs::write(dir.join("index.txt"), index).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.to_pem().unwrap()).unwrap();
        std::fs::write(dir.join("rsigner.pem"), responder.cert.to_pem().unwrap()).unwrap();
        std::fs::write(dir.join("rkey.pem"), responder.key.private_key_to_pem_pkcs8().unwrap()).unwrap();
        std::fs::write(dir.join("req.der"), req).unwrap();
        let out = Command::new("openssl")
            .current_dir(dir)
            .args([
                "ocsp",
                "-index",
                "index.txt",
                "-rsigner",
                "rsigner.pem",
                "-rkey",
                "rkey.pem",
                "-CA",
                "ca.pem",
            ])
            .args(["-reqin", "req.der", "-respout", "resp.der", "-ndays", "7"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::read(dir.join("resp.der")).unwrap()
    }

    #[test]
    fn openssl_responder_answers_are_read_and_checked() {
        let Some(dir) = openssl_cli("ocsp::openssl_responder_answers_are_read_and_checked") else {
            return;
        };
        let pki = TestPki::new();
        let now = OffsetDateTime::now_utc();
        let responder = party(
            &CertSpec::ocsp_responder("OCSP 応答者", crate::pki::fixtures::T0, crate::pki::fixtures::T_END),
            Some(&pki.inter),
        );
        let roots = [pki.root.cert.clone()];
        let helpers = [pki.inter.cert.clone()];

        let req = request_der(&pki.signer.cert, &pki.inter.cert).unwrap();
        let good = openssl_ocsp_response(dir.path(), &req, &pki.inter.cert, &responder, &[&pki.signer.cert], &[]);
        let a = check_response(&good, &pki.signer.cert, &pki.inter.cert, &roots, &helpers, now)
            .unwrap()
            .unwrap();
        assert_eq!(a.status, OcspCertState::Good);
        assert!((a.this_update - now).abs() < time::Duration::minutes(5));
        assert!(a.next_update.unwrap() > now + time::Duration::days(6));
        // The same response says nothing about another certificate.
        assert_eq!(
            check_response(&good, &pki.tsa.cert, &pki.inter.cert, &roots, &helpers, now).unwrap(),
            None
        );
        // Not trusted without the right root, and not at a time the responder cert was not valid.
        let other = party(
            &CertSpec::ca("Other Root", crate::pki::fixtures::T0, crate::pki::fixtures::T_END),
            None,
        );
        assert!(check_response(
            &good,
            &pki.signer.cert,
            &pki.inter.cert,
            &[other.cert.clone()],
            &helpers,
            now
        )
        .is_err());
        let before = crate::pki::fixtures::T0 - time::Duration::days(1);
        assert!(check_response(&good, &pki.signer.cert, &pki.inter.cert, &roots, &helpers, before).is_err());
        // A responder the issuer did not certify is refused even though its chain is trusted.
        let stranger = party(
            &CertSpec::ocsp_responder("Stranger", crate::pki::fixtures::T0, crate::pki::fixtures::T_END),
            Some(&pki.root),
        );
        let forged = openssl_ocsp_response(dir.path(), &req, &pki.inter.cert, &stranger, &[&pki.signer.cert], &[]);
        assert!(check_response(&forged, &pki.signer.cert, &pki.inter.cert, &roots, &helpers, now).is_err());

        let revoked = openssl_ocsp_response(
            dir.path(),
            &req,
            &pki.inter.cert,
            &responder,
            &[],
            &[(&pki.signer.cert, "250301120000Z", "keyCompromise")],
        );
        let a = check_signature_only(&revoked, &pki.signer.cert, &pki.inter.cert)
            .unwrap()
            .unwrap();
        assert_eq!(
            a.status,
            OcspCertState::Revoked {
                at: time::macros::datetime!(2025-03-01 12:00 UTC),
                reason: "keyCompromise".into()
            }
        );
        // Hostile bytes: errors, no panic.
        for cut in [0, 5, revoked.len() / 2, revoked.len() - 1] {
            assert!(check_signature_only(&revoked[..cut], &pki.signer.cert, &pki.inter.cert).is_err());
        }
    }
}
