//! The TSA certificate rule of RFC 3161 §2.3: extendedKeyUsage present, critical, and
//! timeStamping as its only purpose. Read with rasn from the certificate's DER.

use openssl::x509::X509;
use rasn::prelude::*;
use rasn_pkix::Certificate;

use super::TspError;

const ID_CE_EXT_KEY_USAGE: &Oid = Oid::const_new(&[2, 5, 29, 37]);
const ID_KP_TIME_STAMPING: &Oid = Oid::const_new(&[1, 3, 6, 1, 5, 5, 7, 3, 8]);

/// Ok when `cert` carries a critical extendedKeyUsage of exactly id-kp-timeStamping.
pub fn check_timestamping_eku(cert: &X509) -> Result<(), TspError> {
    let der = cert.to_der().map_err(|e| TspError::BadEku(e.to_string()))?;
    let c: Certificate = rasn::der::decode(&der).map_err(|e| TspError::BadEku(format!("certificate: {e}")))?;
    let exts = c.tbs_certificate.extensions.as_ref();
    let eku = exts
        .and_then(|e| e.iter().find(|x| x.extn_id == *ID_CE_EXT_KEY_USAGE))
        .ok_or_else(|| TspError::BadEku("no extendedKeyUsage".into()))?;
    if !eku.critical {
        return Err(TspError::BadEku("extendedKeyUsage is not critical".into()));
    }
    let purposes: SequenceOf<ObjectIdentifier> =
        rasn::der::decode(eku.extn_value.as_ref()).map_err(|e| TspError::BadEku(format!("extendedKeyUsage: {e}")))?;
    if purposes.len() != 1 || purposes.first().map(|p| p != ID_KP_TIME_STAMPING).unwrap_or(true) {
        return Err(TspError::BadEku("extendedKeyUsage must be timeStamping only".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::test_pki::{self, KeyKind, Usage};

    #[test]
    fn only_critical_timestamping_alone_passes() {
        let ca = test_pki::ca("CA");
        let k = test_pki::key(KeyKind::P256);
        assert!(check_timestamping_eku(&test_pki::issue(&ca, &k, "tsa", Usage::Tsa)).is_ok());
        for u in [
            Usage::TsaNonCritical,
            Usage::TsaExtraPurpose,
            Usage::NoEku,
            Usage::Signer,
        ] {
            let e = check_timestamping_eku(&test_pki::issue(&ca, &k, "x", u)).unwrap_err();
            assert_eq!(e.code(), "timestamp-bad-eku", "{u:?}");
        }
    }
}
