//! The cryptographic checks of one CMS signature field: sub-filter, message digest over the
//! covered bytes, the signature over the signed attributes, the ESS signing-certificate(-v2)
//! binding, and its signature timestamps. Trust in the signer is `longterm`'s job.

use openssl::x509::X509;

use super::reason::{Code, Reason};
use super::timestamp::{check_token, CheckedTimestamp, TimestampKind};
use crate::cms::{CmsError, ParsedSignedData};
use crate::pdf::SignatureEntry;

/// Sub-filters whose CMS is a detached signature over the /ByteRange bytes.
const DETACHED: [&str; 2] = ["ETSI.CAdES.detached", "adbe.pkcs7.detached"];

/// What the checks of one signature found.
#[derive(Debug, Clone)]
pub struct CheckedSignature {
    /// The signer's certificate, when the CMS names one it carries.
    pub signer: Option<X509>,
    /// Certificates and CRLs carried in the CMS.
    pub certs: Vec<X509>,
    pub crls: Vec<Vec<u8>>,
    pub covered_end: usize,
    /// Digest, signature and binding all hold.
    pub intact: bool,
    pub has_ess: bool,
    pub problems: Vec<Reason>,
    /// Notes that do not change the verdict.
    pub notes: Vec<String>,
    pub timestamps: Vec<CheckedTimestamp>,
}

/// The reason a CMS verification error gives.
pub fn cms_reason(e: &CmsError, field: &str) -> Reason {
    let code = match e {
        CmsError::DigestMismatch => Code::DigestMismatch,
        CmsError::BadSignature
        | CmsError::EssMismatch
        | CmsError::SignerNotFound
        | CmsError::ContentTypeMismatch
        | CmsError::Crypto(_) => Code::BadSignature,
        CmsError::Unsupported(_) => Code::Unsupported,
        _ => Code::Malformed,
    };
    Reason::new(code, format!("signature {field}: {e}"))
}

/// Whether hozon evaluates this sub-filter (None: assume a detached CMS, as readers do).
pub fn supported_sub_filter(sub_filter: Option<&str>) -> bool {
    sub_filter.is_none_or(|s| DETACHED.contains(&s))
}

/// Check `cms` (parsed from `entry`) against `digest`, the hash of the covered bytes with the
/// CMS's digest algorithm (None when they could not be hashed).
pub fn check_signature(entry: &SignatureEntry, cms: &ParsedSignedData, digest: Option<&[u8]>) -> CheckedSignature {
    let field = entry.field_name.clone();
    let mut out = CheckedSignature {
        signer: cms.signer_certificate().cloned(),
        certs: cms.certificates().to_vec(),
        crls: cms.crls().to_vec(),
        covered_end: entry.covered_end(),
        intact: false,
        has_ess: false,
        problems: Vec::new(),
        notes: Vec::new(),
        timestamps: Vec::new(),
    };
    if cms.signer_info_count() != 1 {
        out.notes.push(format!(
            "{} SignerInfos; only the first is evaluated",
            cms.signer_info_count()
        ));
    }
    match digest.map(|d| cms.verify(d)) {
        None => out.problems.push(Reason::new(
            Code::Malformed,
            format!("signature {field}: covered bytes unreadable"),
        )),
        Some(Err(e)) => out.problems.push(cms_reason(&e, &field)),
        Some(Ok(check)) => {
            out.intact = true;
            out.has_ess = check.ess.is_some();
            if !out.has_ess {
                out.notes
                    .push("no ESS signing-certificate attribute binds the signer certificate".into());
            }
            if check.has_signing_time {
                out.notes
                    .push("signingTime attribute present (PAdES baseline uses /M instead)".into());
            }
        }
    }
    let sig_value = cms.signature_value();
    for raw in cms.timestamp_tokens() {
        let checked = check_token(TimestampKind::Signature, None, raw, out.covered_end, |alg| {
            alg.digest(sig_value).ok()
        });
        match checked {
            Ok(t) => out.timestamps.push(t),
            Err(r) => out.problems.push(r),
        }
    }
    out
}
