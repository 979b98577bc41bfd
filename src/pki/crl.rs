//! Certificate revocation lists: reading one (issuer, times, entries, signature check against
//! the issuer) and issuing one (TBSCertList built with rasn-pkix, signed by OpenSSL).

use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKeyRef, Private};
use openssl::x509::{CrlStatus, ReasonCode, X509Crl, X509Ref};
use rasn::types::{Integer, ObjectIdentifier, OctetString};
use time::OffsetDateTime;

use super::asn1_time::to_offset;
use super::PkiError;

/// Largest CRL hozon parses (DSS or fetched); bigger ones are refused, not read.
pub const MAX_CRL_BYTES: usize = 64 << 20;

/// A parsed CRL with its original DER (embedded verbatim in DSS).
pub struct Crl {
    pub der: Vec<u8>,
    pub crl: X509Crl,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
}

/// What a CRL says about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrlEntry {
    NotListed,
    Revoked { at: OffsetDateTime, reason: String },
}

impl Crl {
    /// Parse DER (or PEM) bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Crl, PkiError> {
        if bytes.len() > MAX_CRL_BYTES {
            return Err(PkiError::Parse(format!(
                "CRL of {} bytes exceeds the limit",
                bytes.len()
            )));
        }
        let crl = if bytes.starts_with(b"-----BEGIN") {
            X509Crl::from_pem(bytes)
        } else {
            X509Crl::from_der(bytes)
        }
        .map_err(|e| PkiError::Parse(format!("CRL: {e}")))?;
        let der = crl.to_der().map_err(PkiError::ossl("encoding a CRL"))?;
        let this_update = to_offset(crl.last_update())?;
        let next_update = match crl.next_update() {
            Some(t) => Some(to_offset(t)?),
            None => None,
        };
        Ok(Crl {
            der,
            crl,
            this_update,
            next_update,
        })
    }

    /// True when `issuer` issued this CRL: same name and a valid signature by its key.
    pub fn is_issued_by(&self, issuer: &X509Ref) -> bool {
        let same_name = match (self.crl.issuer_name().to_der(), issuer.subject_name().to_der()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        same_name
            && issuer
                .public_key()
                .map(|k| self.crl.verify(&k).unwrap_or(false))
                .unwrap_or(false)
    }

    /// The entry for `cert` (by serial; the caller has checked the issuer).
    pub fn entry_for(&self, cert: &X509Ref) -> Result<CrlEntry, PkiError> {
        match self.crl.get_by_serial(cert.serial_number()) {
            CrlStatus::NotRevoked => Ok(CrlEntry::NotListed),
            CrlStatus::Revoked(r) | CrlStatus::RemoveFromCrl(r) => {
                let at = to_offset(r.revocation_date())?;
                let reason = match r.extension::<ReasonCode>() {
                    Ok(Some((_, code))) => reason_name(code.get_i64().unwrap_or(0)),
                    _ => "unspecified",
                };
                Ok(CrlEntry::Revoked {
                    at,
                    reason: reason.to_string(),
                })
            }
        }
    }
}

/// RFC 5280 CRLReason names.
pub fn reason_name(code: i64) -> &'static str {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "unknown",
    }
}

/// One revoked certificate in a CRL to issue.
#[derive(Debug, Clone)]
pub struct RevokedEntry {
    /// Serial number, big-endian.
    pub serial: Vec<u8>,
    pub at: OffsetDateTime,
    /// CRLReason code (RFC 5280 5.3.1); no entry extension when `None`.
    pub reason: Option<u8>,
}

/// A CRL to issue.
#[derive(Debug, Clone)]
pub struct CrlSpec {
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    /// cRLNumber, increasing with each CRL of an issuer.
    pub number: u64,
    pub revoked: Vec<RevokedEntry>,
}

/// Issue a v2 CRL signed (SHA-256) by `issuer_key`; returns its DER.
pub fn issue_crl(spec: &CrlSpec, issuer: &X509Ref, issuer_key: &PKeyRef<Private>) -> Result<Vec<u8>, PkiError> {
    let asn1 = |e: rasn::error::EncodeError| PkiError::Asn1(e.to_string());
    let issuer_name_der = issuer
        .subject_name()
        .to_der()
        .map_err(PkiError::ossl("encoding the issuer name"))?;
    let issuer_name: rasn_pkix::Name =
        rasn::der::decode(&issuer_name_der).map_err(|e| PkiError::Parse(format!("issuer name: {e}")))?;
    let algorithm = signature_algorithm(issuer_key)?;

    let mut crl_extensions = vec![rasn_pkix::Extension {
        extn_id: oid(&[2, 5, 29, 20]),
        critical: false,
        extn_value: OctetString::from(rasn::der::encode(&Integer::from(spec.number)).map_err(asn1)?),
    }];
    if let Some(ski) = issuer.subject_key_id() {
        // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }
        let aki = rasn_pkix::AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::from(ski.as_slice().to_vec())),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        };
        crl_extensions.push(rasn_pkix::Extension {
            extn_id: oid(&[2, 5, 29, 35]),
            critical: false,
            extn_value: OctetString::from(rasn::der::encode(&aki).map_err(asn1)?),
        });
    }

    let mut revoked = Vec::with_capacity(spec.revoked.len());
    for r in &spec.revoked {
        let entry_extensions = match r.reason {
            Some(code) => Some(rasn_pkix::Extensions::from(vec![rasn_pkix::Extension {
                extn_id: oid(&[2, 5, 29, 21]),
                critical: false,
                extn_value: OctetString::from(rasn::der::encode(&crl_reason(code)?).map_err(asn1)?),
            }])),
            None => None,
        };
        revoked.push(rasn_pkix::RevokedCertificate {
            user_certificate: Integer::from(serial_from_be(&r.serial)?),
            revocation_date: rasn_time(r.at)?,
            crl_entry_extensions: entry_extensions,
        });
    }

    let tbs = rasn_pkix::TbsCertList {
        version: rasn_pkix::Version::V2,
        signature: algorithm.clone(),
        issuer: issuer_name,
        this_update: rasn_time(spec.this_update)?,
        next_update: spec.next_update.map(rasn_time).transpose()?,
        revoked_certificates: revoked,
        crl_extensions: Some(rasn_pkix::Extensions::from(crl_extensions)),
    };
    let tbs_der = rasn::der::encode(&tbs).map_err(asn1)?;
    let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), issuer_key)
        .map_err(PkiError::ossl("starting a CRL signature"))?;
    let signature = signer
        .sign_oneshot_to_vec(&tbs_der)
        .map_err(PkiError::ossl("signing a CRL"))?;
    let list = rasn_pkix::CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
        signature: rasn::types::BitString::from_vec(signature),
    };
    rasn::der::encode(&list).map_err(asn1)
}

fn crl_reason(code: u8) -> Result<rasn_pkix::CrlReason, PkiError> {
    use rasn_pkix::CrlReason as R;
    Ok(match code {
        0 => R::Unspecified,
        1 => R::KeyCompromise,
        2 => R::CaCompromise,
        3 => R::AffiliationChanged,
        4 => R::Superseded,
        5 => R::CessationOfOperation,
        6 => R::CertificateHold,
        8 => R::RemoveFromCRL,
        9 => R::PrivilegeWithdrawn,
        10 => R::AaCompromise,
        other => return Err(PkiError::Asn1(format!("no CRLReason {other}"))),
    })
}

pub(crate) fn oid(arcs: &[u32]) -> ObjectIdentifier {
    ObjectIdentifier::new_unchecked(arcs.to_vec().into())
}

/// A serial as a positive integer; CRLs hozon issues cover its own PKIs, whose serials fit in
/// 127 bits (see `issue::random_serial`).
fn serial_from_be(bytes: &[u8]) -> Result<u128, PkiError> {
    let digits = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => &[][..],
    };
    if digits.len() > 16 {
        return Err(PkiError::Asn1(format!(
            "serial of {} bytes is too long for a hozon CRL",
            digits.len()
        )));
    }
    Ok(digits.iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b)))
}

/// sha256WithRSAEncryption (NULL parameters) or ecdsa-with-SHA256 (no parameters).
pub(crate) fn signature_algorithm(key: &PKeyRef<Private>) -> Result<rasn_pkix::AlgorithmIdentifier, PkiError> {
    match key.id() {
        Id::RSA => Ok(rasn_pkix::AlgorithmIdentifier {
            algorithm: oid(&[1, 2, 840, 113549, 1, 1, 11]),
            parameters: Some(rasn::types::Any::new(vec![0x05, 0x00])),
        }),
        Id::EC => Ok(rasn_pkix::AlgorithmIdentifier {
            algorithm: oid(&[1, 2, 840, 10045, 4, 3, 2]),
            parameters: None,
        }),
        other => Err(PkiError::Parse(format!("unsupported CRL signing key type {other:?}"))),
    }
}

/// UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 5.1.2.4).
fn rasn_time(t: OffsetDateTime) -> Result<rasn_pkix::Time, PkiError> {
    let dt = chrono::DateTime::from_timestamp(t.unix_timestamp(), 0)
        .ok_or_else(|| PkiError::Time(format!("{t} is out of range")))?;
    if t.year() < 2050 && t.year() >= 1950 {
        Ok(rasn_pkix::Time::Utc(dt))
    } else {
        Ok(rasn_pkix::Time::General(dt.fixed_offset()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::fixtures::{openssl_cli, TestPki};
    use time::macros::datetime;

    fn spec_with(serial: Vec<u8>) -> CrlSpec {
        CrlSpec {
            this_update: datetime!(2025-01-01 0:00 UTC),
            next_update: Some(datetime!(2055-01-01 0:00 UTC)),
            number: 7,
            revoked: vec![RevokedEntry {
                serial,
                at: datetime!(2025-06-01 12:00 UTC),
                reason: Some(1),
            }],
        }
    }

    #[test]
    fn issued_crl_reads_back() {
        let pki = TestPki::new();
        let serial = pki.signer.cert.serial_number().to_bn().unwrap().to_vec();
        let der = issue_crl(&spec_with(serial), &pki.inter.cert, &pki.inter.key).unwrap();
        let crl = Crl::from_bytes(&der).unwrap();
        assert_eq!(crl.der, der);
        assert!(crl.is_issued_by(&pki.inter.cert));
        assert!(!crl.is_issued_by(&pki.root.cert));
        assert_eq!(crl.this_update, datetime!(2025-01-01 0:00 UTC));
        assert_eq!(crl.next_update, Some(datetime!(2055-01-01 0:00 UTC)));
        assert_eq!(
            crl.entry_for(&pki.signer.cert).unwrap(),
            CrlEntry::Revoked {
                at: datetime!(2025-06-01 12:00 UTC),
                reason: "keyCompromise".into()
            }
        );
        assert_eq!(crl.entry_for(&pki.tsa.cert).unwrap(), CrlEntry::NotListed);
    }

    #[test]
    fn tampered_or_truncated_crl_is_refused() {
        let pki = TestPki::new();
        let der = issue_crl(&spec_with(vec![5]), &pki.inter.cert, &pki.inter.key).unwrap();
        for cut in [0, 1, 10, der.len() / 2, der.len() - 1] {
            assert!(Crl::from_bytes(&der[..cut]).is_err(), "cut {cut}");
        }
        // Flip a byte inside the revoked serial (inside the signed part): parses, fails the signature.
        let mut bad = der.clone();
        let pos = der.windows(3).position(|w| w == [0x02, 0x01, 0x05]).unwrap();
        bad[pos + 2] = 0x06;
        let crl = Crl::from_bytes(&bad).unwrap();
        assert!(!crl.is_issued_by(&pki.inter.cert));
    }

    #[test]
    fn openssl_cli_accepts_issued_crl() {
        let Some(dir) = openssl_cli("crl::openssl_cli_accepts_issued_crl") else {
            return;
        };
        let pki = TestPki::new();
        let serial = pki.signer.cert.serial_number().to_bn().unwrap().to_vec();
        let mut spec = spec_with(serial);
        spec.this_update = OffsetDateTime::now_utc() - time::Duration::days(1);
        spec.revoked[0].at = OffsetDateTime::now_utc() - time::Duration::hours(1);
        let der = issue_crl(&spec, &pki.inter.cert, &pki.inter.key).unwrap();
        let p = |n: &str| dir.path().join(n);
        std::fs::write(p("inter.crl"), &der).unwrap();
        std::fs::write(p("inter.pem"), pki.inter.cert.to_pem().unwrap()).unwrap();
        std::fs::write(p("root.pem"), pki.root.cert.to_pem().unwrap()).unwrap();
        std::fs::write(p("tsa.pem"), pki.tsa.cert.to_pem().unwrap()).unwrap();
        std::fs::write(p("signer.pem"), pki.signer.cert.to_pem().unwrap()).unwrap();
        let run = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .current_dir(dir.path())
                .args(args)
                .output()
                .unwrap();
            (
                out.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            )
        };
        let (ok, text) = run(&[
            "crl",
            "-inform",
            "DER",
            "-in",
            "inter.crl",
            "-noout",
            "-verify",
            "-CAfile",
            "inter.pem",
        ]);
        assert!(ok && text.contains("verify OK"), "{text}");
        let (ok, text) = run(&["crl", "-inform", "DER", "-in", "inter.crl", "-noout", "-text"]);
        assert!(
            ok && text.contains("Key Compromise") && text.contains("X509v3 CRL Number"),
            "{text}"
        );
        // Full chain check with CRLs: the root needs a CRL too for -crl_check_all.
        let root_crl = issue_crl(
            &CrlSpec {
                this_update: spec.this_update,
                next_update: spec.next_update,
                number: 1,
                revoked: vec![],
            },
            &pki.root.cert,
            &pki.root.key,
        )
        .unwrap();
        let pem = X509Crl::from_der(&root_crl).unwrap().to_pem().unwrap();
        let mut both = X509Crl::from_der(&der).unwrap().to_pem().unwrap();
        both.extend(pem);
        std::fs::write(p("crls.pem"), both).unwrap();
        let verify = |leaf: &str| {
            run(&[
                "verify",
                "-crl_check_all",
                "-CRLfile",
                "crls.pem",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "inter.pem",
                leaf,
            ])
        };
        let (ok, text) = verify("tsa.pem");
        assert!(ok, "tsa should verify: {text}");
        let (ok, text) = verify("signer.pem");
        assert!(!ok && text.contains("revoked"), "signer should be revoked: {text}");
    }
}
