//! `BuiltinTsa`: the demo time-stamping authority. It builds TSTInfo with rasn, signs it with
//! hozon's own CMS builder (content-type, message-digest, ESS v2), takes genTime from a
//! `Clock` so tests can simulate time, and uses random 128-bit serial numbers.

use std::sync::Arc;

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use rasn::prelude::*;
use rasn_cms::tsp::{Accuracy, TimeStampReq, TstInfo};
use rasn_pkix::{GeneralName, Name};

use super::request::{parse_oid, status_only_response};
use super::{check_timestamping_eku, TimeStamper, TimestampRequest, TimestampToken, TspError};
use crate::clock::Clock;
use crate::cms::{der, sign_encapsulated};
use crate::sign::{DigestAlg, Signer, SoftwareSigner};

/// Policy OID of the demo TSA (placeholder arc; not a real policy).
pub const DEMO_POLICY: &str = "1.3.6.1.4.1.99999.1.1";

/// PKIFailureInfo bits (RFC 3161 §2.4.2).
const BAD_ALG: usize = 0;
const BAD_DATA_FORMAT: usize = 5;
const UNACCEPTED_POLICY: usize = 15;
const SYSTEM_FAILURE: usize = 25;

/// A TSA that signs tokens in-process (demo and tests; not legally valid).
pub struct BuiltinTsa {
    signer: SoftwareSigner,
    clock: Arc<dyn Clock>,
    policy: ObjectIdentifier,
    hash: DigestAlg,
}

impl BuiltinTsa {
    /// TSA key, its certificate (critical EKU timeStamping only) and the issuers.
    pub fn new(key: PKey<Private>, cert: X509, chain: Vec<X509>, clock: Arc<dyn Clock>) -> Result<Self, TspError> {
        check_timestamping_eku(&cert).map_err(|e| TspError::Config(e.to_string()))?;
        let signer = SoftwareSigner::new(key, cert, chain)?;
        Ok(BuiltinTsa {
            signer,
            clock,
            policy: parse_oid(DEMO_POLICY)?,
            hash: DigestAlg::Sha256,
        })
    }

    /// Use another policy OID.
    pub fn with_policy(mut self, oid: &str) -> Result<Self, TspError> {
        self.policy = parse_oid(oid)?;
        Ok(self)
    }

    /// The imprint hash `timestamp_data` uses (requests may use any of SHA-256/384/512).
    pub fn with_hash(mut self, hash: DigestAlg) -> Self {
        self.hash = hash;
        self
    }

    pub fn certificate(&self) -> &X509 {
        self.signer.certificate()
    }

    fn generalized_time(&self) -> Result<GeneralizedTime, TspError> {
        let t = self.clock.now().to_offset(time::UtcOffset::UTC);
        let text = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        rasn::der::decode(&der::encode(0x18, text.as_bytes())).map_err(|e| TspError::Config(format!("genTime: {e}")))
    }

    fn serial() -> Result<Integer, TspError> {
        let mut b = [0u8; 16];
        openssl::rand::rand_bytes(&mut b).map_err(|e| TspError::Config(e.to_string()))?;
        b[0] &= 0x7f;
        Ok(der::integer_from_unsigned(&b)?)
    }

    /// Grant a parsed request: the DER TimeStampToken.
    fn grant(&self, req: &TimeStampReq) -> Result<Vec<u8>, TspError> {
        let cert_name: Name = rasn::der::decode(
            &self
                .signer
                .certificate()
                .subject_name()
                .to_der()
                .map_err(crate::cms::CmsError::from)?,
        )
        .map_err(|e| TspError::Config(format!("TSA name: {e}")))?;
        let tst = TstInfo {
            version: Integer::from(1),
            policy: self.policy.clone(),
            message_imprint: req.message_imprint.clone(),
            serial_number: Self::serial()?,
            gen_time: self.generalized_time()?,
            accuracy: Some(Accuracy {
                seconds: Some(Integer::from(1)),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce: req.nonce.clone(),
            tsa: Some(GeneralName::DirectoryName(cert_name)),
            extensions: None,
        };
        let tst_der = rasn::der::encode(&tst).map_err(|e| TspError::Config(format!("TSTInfo: {e}")))?;
        Ok(sign_encapsulated(&self.signer, tst_der, req.cert_req)?)
    }
}

impl TimeStamper for BuiltinTsa {
    fn timestamp(&self, alg: DigestAlg, digest: &[u8]) -> Result<TimestampToken, TspError> {
        let req = TimestampRequest::new(alg, digest, None)?;
        req.check_response(&self.respond(&req.der))
    }

    fn hash_algorithm(&self) -> DigestAlg {
        self.hash
    }

    fn respond(&self, request_der: &[u8]) -> Vec<u8> {
        let req: TimeStampReq = match rasn::der::decode(request_der) {
            Ok(r) => r,
            Err(_) => return status_only_response(2, "malformed TimeStampReq", Some(BAD_DATA_FORMAT)),
        };
        let alg = DigestAlg::from_oid(&req.message_imprint.hash_algorithm.algorithm);
        match alg {
            Some(a) if a.len() == req.message_imprint.hashed_message.len() => {}
            _ => return status_only_response(2, "unsupported message imprint", Some(BAD_ALG)),
        }
        if req.req_policy.as_ref().is_some_and(|p| *p != self.policy) {
            return status_only_response(2, "unaccepted policy", Some(UNACCEPTED_POLICY));
        }
        if req.extensions.is_some() {
            return status_only_response(2, "extensions are not supported", Some(16));
        }
        match self.grant(&req) {
            Ok(token) => {
                let status = der::encode(0x30, &der::encode(0x02, &[0]));
                der::encode(0x30, &[status, token].concat())
            }
            Err(_) => status_only_response(2, "system failure", Some(SYSTEM_FAILURE)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::sign::test_pki::{self, openssl, peer_available, KeyKind, Usage};

    fn tsa(clock_at: &str) -> (BuiltinTsa, test_pki::TestCa) {
        let ca = test_pki::ca("デモ TSA ルート");
        let k = test_pki::key(KeyKind::Rsa2048);
        let cert = test_pki::issue(&ca, &k, "デモ タイムスタンプ局", Usage::Tsa);
        let clock = Arc::new(FixedClock(crate::clock::parse_datetime(clock_at).unwrap()));
        (BuiltinTsa::new(k, cert, vec![ca.cert.clone()], clock).unwrap(), ca)
    }

    #[test]
    fn tokens_carry_simulated_time_policy_and_unique_serials() {
        let (tsa, _ca) = tsa("2040-02-29T12:34:56Z");
        let d = DigestAlg::Sha256.digest(b"signature value").unwrap();
        let a = tsa.timestamp(DigestAlg::Sha256, &d).unwrap();
        let b = tsa.timestamp(DigestAlg::Sha256, &d).unwrap();
        assert_eq!(crate::clock::rfc3339(a.info.gen_time), "2040-02-29T12:34:56Z");
        assert_eq!(a.info.policy, DEMO_POLICY);
        assert_eq!(a.info.accuracy, Some(time::Duration::seconds(1)));
        assert_ne!(a.info.serial, b.info.serial);
        assert!(a.info.tsa_name.as_deref().unwrap().contains("デモ タイムスタンプ局"));
        assert_eq!(
            a.verify(DigestAlg::Sha256, &d).unwrap().to_der().unwrap(),
            tsa.certificate().to_der().unwrap()
        );
        let other = DigestAlg::Sha256.digest(b"other").unwrap();
        assert_eq!(
            a.verify(DigestAlg::Sha256, &other).unwrap_err().code(),
            "timestamp-imprint-mismatch"
        );
        let d512 = DigestAlg::Sha512.digest(b"x").unwrap();
        assert_eq!(
            tsa.timestamp(DigestAlg::Sha512, &d512).unwrap().info.imprint_alg,
            DigestAlg::Sha512
        );
    }

    #[test]
    fn refuses_certificates_without_critical_timestamping_eku() {
        let ca = test_pki::ca("CA");
        let k = test_pki::key(KeyKind::P256);
        let cert = test_pki::issue(&ca, &k, "not a tsa", Usage::TsaNonCritical);
        let clock = Arc::new(crate::clock::SystemClock);
        assert_eq!(
            BuiltinTsa::new(k, cert, vec![], clock).err().unwrap().code(),
            "tsa-config"
        );
    }

    #[test]
    fn bad_requests_get_rejections_not_panics() {
        let (tsa, _ca) = tsa("2030-01-01");
        let d = DigestAlg::Sha256.digest(b"x").unwrap();
        let req = TimestampRequest::new(DigestAlg::Sha256, &d, Some("1.2.3.4")).unwrap();
        let e = req.check_response(&tsa.respond(&req.der)).unwrap_err();
        assert_eq!(e.code(), "tsa-rejected");
        let r = TimestampRequest::new(DigestAlg::Sha256, &d, None).unwrap();
        for n in 0..r.der.len() {
            let got = r.check_response(&tsa.respond(&r.der[..n])).err().map(|e| e.code());
            assert_eq!(got, Some("tsa-rejected"), "prefix {n} of {}", r.der.len());
        }
    }

    /// `openssl ts -verify` accepts the built-in TSA's reply over the data, against the root.
    #[test]
    fn openssl_ts_verifies_builtin_tokens() {
        if !peer_available("openssl", "openssl_ts_verifies_builtin_tokens") {
            return;
        }
        let (tsa, ca) = tsa("2031-04-01T09:00:00+09:00");
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
        let data = "署名値 signature bytes".repeat(50);
        std::fs::write(p("data.bin"), &data).unwrap();
        std::fs::write(p("ca.pem"), ca.cert.to_pem().unwrap()).unwrap();
        for alg in [DigestAlg::Sha256, DigestAlg::Sha384] {
            let d = alg.digest(data.as_bytes()).unwrap();
            let req = TimestampRequest::new(alg, &d, None).unwrap();
            let resp = tsa.respond(&req.der);
            req.check_response(&resp).unwrap();
            std::fs::write(p("resp.tsr"), &resp).unwrap();
            std::fs::write(p("req.tsq"), &req.der).unwrap();
            // The token was made at a simulated time; check the signature, not the clock.
            let (ok, out) = openssl(&[
                "ts",
                "-verify",
                "-data",
                &p("data.bin"),
                "-in",
                &p("resp.tsr"),
                "-CAfile",
                &p("ca.pem"),
                "-no_check_time",
            ]);
            assert!(ok && out.contains("Verification: OK"), "{alg:?}: {out}");
            let (ok, out) = openssl(&[
                "ts",
                "-verify",
                "-queryfile",
                &p("req.tsq"),
                "-in",
                &p("resp.tsr"),
                "-CAfile",
                &p("ca.pem"),
                "-no_check_time",
            ]);
            assert!(ok, "{out}");
            std::fs::write(p("data2.bin"), "other").unwrap();
            let (ok, _) = openssl(&[
                "ts",
                "-verify",
                "-data",
                &p("data2.bin"),
                "-in",
                &p("resp.tsr"),
                "-CAfile",
                &p("ca.pem"),
                "-no_check_time",
            ]);
            assert!(!ok);
        }
    }
}
