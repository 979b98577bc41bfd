//! OCSP: building requests (OpenSSL's OcspRequest/OcspCertId), reading responses, with the
//! responder's signature and authority checked by OpenSSL at a chosen time, and issuing the
//! demo PKI's responses (RFC 6960 structures encoded with rasn, signed by OpenSSL; the OpenSSL
//! crate has no OCSP response builder).

use openssl::hash::{hash, MessageDigest};
use openssl::ocsp::{
    OcspBasicResponse, OcspCertId, OcspCertStatus, OcspFlag, OcspRequest, OcspResponse, OcspResponseStatus,
};
use openssl::pkey::{PKeyRef, Private};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{X509Ref, X509};
use rasn::prelude::*;
use time::OffsetDateTime;

use super::asn1_time::generalized_to_offset;
use super::crl::{oid, reason_name, signature_algorithm};
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

// RFC 6960 4.2.1 (EXPLICIT TAGS module), only what a responder that answers "good" needs.

#[derive(AsnType, Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(enumerated)]
enum ResponseStatus {
    Successful = 0,
    MalformedRequest = 1,
    InternalError = 2,
    TryLater = 3,
    SigRequired = 5,
    Unauthorized = 6,
}

#[derive(AsnType, Encode, Decode, Debug, Clone)]
struct OcspResponseAsn {
    response_status: ResponseStatus,
    #[rasn(tag(explicit(0)))]
    response_bytes: Option<ResponseBytes>,
}

#[derive(AsnType, Encode, Decode, Debug, Clone)]
struct ResponseBytes {
    response_type: ObjectIdentifier,
    response: OctetString,
}

#[derive(AsnType, Encode, Decode, Debug, Clone)]
struct BasicOcspResponse {
    tbs_response_data: ResponseData,
    signature_algorithm: rasn_pkix::AlgorithmIdentifier,
    signature: BitString,
    /// Certificates as they are (DER), to hand them on byte for byte.
    #[rasn(tag(explicit(0)))]
    certs: Option<Vec<Any>>,
}

/// `version [0] EXPLICIT DEFAULT v1` is left out: DER omits a default value.
#[derive(AsnType, Encode, Decode, Debug, Clone)]
struct ResponseData {
    responder_id: ResponderId,
    produced_at: GeneralizedTime,
    responses: Vec<SingleResponse>,
}

#[derive(AsnType, Encode, Decode, Debug, Clone)]
#[rasn(choice)]
enum ResponderId {
    #[rasn(tag(explicit(1)))]
    ByName(rasn_pkix::Name),
    /// SHA-1 of the responder's subjectPublicKey bits.
    #[rasn(tag(explicit(2)))]
    ByKey(OctetString),
}

#[derive(AsnType, Encode, Decode, Debug, Clone)]
struct SingleResponse {
    cert_id: CertIdAsn,
    cert_status: CertStatus,
    this_update: GeneralizedTime,
    #[rasn(tag(explicit(0)))]
    next_update: Option<GeneralizedTime>,
}

#[derive(AsnType, Encode, Decode, Debug, Clone)]
struct CertIdAsn {
    hash_algorithm: rasn_pkix::AlgorithmIdentifier,
    issuer_name_hash: OctetString,
    issuer_key_hash: OctetString,
    serial_number: Integer,
}

#[derive(AsnType, Encode, Decode, Debug, Clone)]
#[rasn(choice)]
enum CertStatus {
    #[rasn(tag(0))]
    Good(()),
    #[rasn(tag(2))]
    Unknown(()),
}

/// What to say in an issued response about one certificate (always "good": the demo PKI
/// revokes nothing).
pub struct OcspSpec {
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
}

fn asn1_err(e: impl std::fmt::Display) -> PkiError {
    PkiError::Asn1(e.to_string())
}

fn generalized(t: OffsetDateTime) -> Result<GeneralizedTime, PkiError> {
    chrono::DateTime::from_timestamp(t.unix_timestamp(), 0)
        .map(|d| d.fixed_offset())
        .ok_or_else(|| PkiError::Time(format!("{t} is out of range")))
}

/// SHA-1 of `cert`'s subjectPublicKey bits: the CertID issuerKeyHash and ResponderID byKey.
fn key_hash(cert: &X509Ref) -> Result<Vec<u8>, PkiError> {
    let der = cert.to_der().map_err(PkiError::ossl("encoding a certificate"))?;
    let parsed: rasn_pkix::Certificate =
        rasn::der::decode(&der).map_err(|e| PkiError::Parse(format!("certificate: {e}")))?;
    let bits = parsed.tbs_certificate.subject_public_key_info.subject_public_key;
    Ok(hash(MessageDigest::sha1(), bits.as_raw_slice())
        .map_err(PkiError::ossl("hashing a key"))?
        .to_vec())
}

/// A successful DER OCSP response saying `cert` (issued by `issuer`) is good from
/// `spec.this_update` to `spec.next_update`, signed by `responder`: `issuer` itself, or a
/// delegate `issuer` certified with EKU OCSPSigning, whose certificate then goes into the
/// response. The CertID uses SHA-1, as OpenSSL's and most clients' requests do.
pub fn issue_response(
    spec: &OcspSpec,
    cert: &X509Ref,
    issuer: &X509Ref,
    responder: (&X509Ref, &PKeyRef<Private>),
) -> Result<Vec<u8>, PkiError> {
    let (responder_cert, responder_key) = responder;
    let cert_der = cert.to_der().map_err(PkiError::ossl("encoding a certificate"))?;
    let parsed: rasn_pkix::Certificate =
        rasn::der::decode(&cert_der).map_err(|e| PkiError::Parse(format!("certificate: {e}")))?;
    let issuer_name = issuer
        .subject_name()
        .to_der()
        .map_err(PkiError::ossl("encoding the issuer name"))?;
    let key_hash = key_hash(issuer)?;
    let cert_id = CertIdAsn {
        hash_algorithm: rasn_pkix::AlgorithmIdentifier {
            algorithm: oid(&[1, 3, 14, 3, 2, 26]),
            parameters: Some(Any::new(vec![0x05, 0x00])),
        },
        issuer_name_hash: OctetString::from(
            hash(MessageDigest::sha1(), &issuer_name)
                .map_err(PkiError::ossl("hashing the issuer name"))?
                .to_vec(),
        ),
        issuer_key_hash: OctetString::from(key_hash),
        serial_number: parsed.tbs_certificate.serial_number,
    };
    let tbs = ResponseData {
        responder_id: ResponderId::ByKey(OctetString::from(self::key_hash(responder_cert)?)),
        produced_at: generalized(spec.this_update)?,
        responses: vec![SingleResponse {
            cert_id,
            cert_status: CertStatus::Good(()),
            this_update: generalized(spec.this_update)?,
            next_update: Some(generalized(spec.next_update)?),
        }],
    };
    let tbs_der = rasn::der::encode(&tbs).map_err(asn1_err)?;
    let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), responder_key)
        .map_err(PkiError::ossl("starting an OCSP signature"))?;
    let signature = signer
        .sign_oneshot_to_vec(&tbs_der)
        .map_err(PkiError::ossl("signing an OCSP response"))?;
    let delegated = responder_cert.to_der().ok() != issuer.to_der().ok();
    let certs = if delegated {
        let der = responder_cert
            .to_der()
            .map_err(PkiError::ossl("encoding a certificate"))?;
        Some(vec![Any::new(der)])
    } else {
        None
    };
    let basic = BasicOcspResponse {
        tbs_response_data: tbs,
        signature_algorithm: signature_algorithm(responder_key)?,
        signature: BitString::from_vec(signature),
        certs,
    };
    let basic_der = rasn::der::encode(&basic).map_err(asn1_err)?;
    encode_response(ResponseStatus::Successful, Some(basic_der))
}

// RFC 6960 4.1.1, as far as a responder reads it (the other fields are decoded so that the
// structure is checked, not used).

#[derive(AsnType, Decode, Debug, Clone)]
#[allow(dead_code)]
struct OcspRequestAsn {
    tbs_request: TbsRequest,
    #[rasn(tag(explicit(0)))]
    optional_signature: Option<Any>,
}

#[derive(AsnType, Decode, Debug, Clone)]
#[allow(dead_code)]
struct TbsRequest {
    #[rasn(tag(explicit(0)))]
    version: Option<Integer>,
    #[rasn(tag(explicit(1)))]
    requestor_name: Option<Any>,
    request_list: Vec<RequestAsn>,
    #[rasn(tag(explicit(2)))]
    request_extensions: Option<Any>,
}

#[derive(AsnType, Decode, Debug, Clone)]
#[allow(dead_code)]
struct RequestAsn {
    req_cert: CertIdAsn,
    #[rasn(tag(explicit(0)))]
    single_request_extensions: Option<Any>,
}

/// Whether the DER OCSP request `der` asks about `cert` issued by `issuer` (CertID with SHA-1 or
/// SHA-256). Unreadable requests ask about nothing.
pub fn request_asks_for(der: &[u8], cert: &X509Ref, issuer: &X509Ref) -> Result<bool, PkiError> {
    if der.len() > MAX_OCSP_BYTES {
        return Ok(false);
    }
    let Ok(req) = rasn::der::decode::<OcspRequestAsn>(der) else {
        return Ok(false);
    };
    let cert_der = cert.to_der().map_err(PkiError::ossl("encoding a certificate"))?;
    let parsed: rasn_pkix::Certificate =
        rasn::der::decode(&cert_der).map_err(|e| PkiError::Parse(format!("certificate: {e}")))?;
    let name = issuer
        .subject_name()
        .to_der()
        .map_err(PkiError::ossl("encoding the issuer name"))?;
    let issuer_der = issuer.to_der().map_err(PkiError::ossl("encoding a certificate"))?;
    let issuer_parsed: rasn_pkix::Certificate =
        rasn::der::decode(&issuer_der).map_err(|e| PkiError::Parse(format!("certificate: {e}")))?;
    let key_bits = issuer_parsed
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .as_raw_slice()
        .to_vec();
    for r in &req.tbs_request.request_list {
        let id = &r.req_cert;
        let md = match id.hash_algorithm.algorithm.as_ref() {
            [1, 3, 14, 3, 2, 26] => MessageDigest::sha1(),
            [2, 16, 840, 1, 101, 3, 4, 2, 1] => MessageDigest::sha256(),
            _ => continue,
        };
        let name_hash = hash(md, &name).map_err(PkiError::ossl("hashing the issuer name"))?;
        let key_hash = hash(md, &key_bits).map_err(PkiError::ossl("hashing a key"))?;
        if id.serial_number == parsed.tbs_certificate.serial_number
            && id.issuer_name_hash.as_ref() == &name_hash[..]
            && id.issuer_key_hash.as_ref() == &key_hash[..]
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The certificates a response carries (DER, as they are), e.g. a delegated responder's: they
/// belong in a DSS beside the response, so validators have proof they existed in time too.
/// Unreadable input gives none (the response itself was checked with OpenSSL before).
pub fn response_certs(der: &[u8]) -> Vec<Vec<u8>> {
    let Ok(outer) = rasn::der::decode::<OcspResponseAsn>(der) else {
        return Vec::new();
    };
    let Some(bytes) = outer.response_bytes else {
        return Vec::new();
    };
    match rasn::der::decode::<BasicOcspResponse>(&bytes.response) {
        Ok(basic) => basic
            .certs
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.as_bytes().to_vec())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// An OCSP response without a body: the responder does not answer for that certificate
/// (RFC 6960 2.3 "unauthorized"), or the request was unreadable ("malformedRequest").
pub fn error_response(unauthorized: bool) -> Vec<u8> {
    let status = if unauthorized {
        ResponseStatus::Unauthorized
    } else {
        ResponseStatus::MalformedRequest
    };
    // Encoding a two-field constant cannot fail; an empty body would still be refused by clients.
    encode_response(status, None).unwrap_or_default()
}

fn encode_response(status: ResponseStatus, basic_der: Option<Vec<u8>>) -> Result<Vec<u8>, PkiError> {
    let response = OcspResponseAsn {
        response_status: status,
        response_bytes: basic_der.map(|der| ResponseBytes {
            // id-pkix-ocsp-basic
            response_type: oid(&[1, 3, 6, 1, 5, 5, 7, 48, 1, 1]),
            response: OctetString::from(der),
        }),
    };
    rasn::der::encode(&response).map_err(asn1_err)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pki::fixtures::{openssl_cli, party, TestPki, T0, T_END};
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

    #[test]
    fn issued_responses_are_accepted_by_openssl() {
        let pki = TestPki::new();
        let roots = [pki.root.cert.clone()];
        let helpers = [pki.inter.cert.clone()];
        let t = time::macros::datetime!(2030-01-01 0:00 UTC);
        let spec = OcspSpec {
            this_update: t,
            next_update: t + time::Duration::days(7),
        };
        let der = issue_response(
            &spec,
            &pki.signer.cert,
            &pki.inter.cert,
            (&pki.inter.cert, &pki.inter.key),
        )
        .unwrap();
        assert!(response_certs(&der).is_empty());
        // OpenSSL parses it, verifies the issuer's signature and finds the certificate by CertID.
        let a = check_response(&der, &pki.signer.cert, &pki.inter.cert, &roots, &helpers, t)
            .unwrap()
            .unwrap();
        assert_eq!(
            a,
            OcspAnswer {
                status: OcspCertState::Good,
                this_update: t,
                next_update: Some(t + time::Duration::days(7)),
            }
        );
        assert_eq!(
            check_response(&der, &pki.tsa.cert, &pki.inter.cert, &roots, &helpers, t).unwrap(),
            None
        );
        // Signed by the wrong key: refused.
        let forged = issue_response(
            &spec,
            &pki.signer.cert,
            &pki.inter.cert,
            (&pki.inter.cert, &pki.root.key),
        )
        .unwrap();
        assert!(check_response(&forged, &pki.signer.cert, &pki.inter.cert, &roots, &helpers, t).is_err());
        // A delegated responder: its certificate travels in the response and is handed on.
        let responder = party(&CertSpec::ocsp_responder("OCSP 応答者", T0, T_END), Some(&pki.inter));
        let der = issue_response(
            &spec,
            &pki.signer.cert,
            &pki.inter.cert,
            (&responder.cert, &responder.key),
        )
        .unwrap();
        let a = check_response(&der, &pki.signer.cert, &pki.inter.cert, &roots, &helpers, t)
            .unwrap()
            .unwrap();
        assert_eq!(a.status, OcspCertState::Good);
        assert_eq!(response_certs(&der), vec![responder.cert.to_der().unwrap()]);
        // A request (OpenSSL's) is matched to the certificate it asks about.
        let req = request_der(&pki.signer.cert, &pki.inter.cert).unwrap();
        assert!(request_asks_for(&req, &pki.signer.cert, &pki.inter.cert).unwrap());
        assert!(!request_asks_for(&req, &pki.tsa.cert, &pki.inter.cert).unwrap());
        assert!(!request_asks_for(&req, &pki.signer.cert, &pki.root.cert).unwrap());
        assert!(!request_asks_for(&req[..req.len() / 2], &pki.signer.cert, &pki.inter.cert).unwrap());
        for unauthorized in [true, false] {
            assert!(check_signature_only(&error_response(unauthorized), &pki.signer.cert, &pki.inter.cert).is_err());
        }
    }
}
