//! PAdES signing phases over the PDF layer and CMS: prepare the placeholder, digest the byte
//! ranges exactly as they are in the file, sign the signed attributes, timestamp the signature
//! value (B-T), embed. The /Contents room is sized from the real chain and the largest token
//! seen this run; when the CMS would not fit, everything is redone with more room — never
//! truncated. A document timestamp (B-LTA) follows the same steps with a bare token.

use std::sync::atomic::{AtomicUsize, Ordering};

use openssl::hash::Hasher;
use time::OffsetDateTime;

use crate::cms::{self, CmsError};
use crate::pdf::{self, PdfError, SigKind, SignatureRequest};
use crate::sign::{DigestAlg, SignError, Signer};
use crate::tsp::{TimeStamper, TimestampToken, TspError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PadesError {
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error(transparent)]
    Cms(#[from] CmsError),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    Timestamp(#[from] TspError),
    #[error("the signature container ({needed} bytes) did not fit after {tries} attempts")]
    NoRoom { needed: usize, tries: u32 },
}

impl PadesError {
    pub fn code(&self) -> &'static str {
        match self {
            PadesError::Pdf(e) => e.code(),
            PadesError::Cms(e) => e.code(),
            PadesError::Sign(e) => e.code(),
            PadesError::Timestamp(e) => e.code(),
            PadesError::NoRoom { .. } => "signature-too-large",
        }
    }
}

/// Largest timestamp token seen so far in this process: sizes the next placeholder.
static LARGEST_TOKEN: AtomicUsize = AtomicUsize::new(0);
/// Room for a token before any was seen (a token with a two-certificate chain is ~3–5 KB).
const FIRST_TOKEN_GUESS: usize = 6 * 1024;
const ATTEMPTS: u32 = 3;

/// What goes into the signature dictionary.
#[derive(Debug, Clone, Default)]
pub struct SignatureFields {
    pub name: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub contact_info: Option<String>,
    /// /M: the claimed signing time (the trusted time is the timestamp's).
    pub signing_time: Option<OffsetDateTime>,
}

/// A signed PDF and the timestamp it got.
pub struct Signed {
    pub pdf: Vec<u8>,
    pub token: Option<TimestampToken>,
    /// SHA-256 over the file up to the signature's /Contents, when the signature digest was
    /// SHA-256: the archive's whole-file hash goes on from here.
    pub prefix: Option<PrefixHash>,
}

/// SHA-256 state over the first `len` bytes of a file that later only changes after them (the
/// part before a signature's /Contents holds every page): the file's SHA-256 for the catalog
/// continues from it instead of hashing the pages once more.
#[derive(Clone)]
pub struct PrefixHash {
    state: Hasher,
    len: usize,
}

impl PrefixHash {
    /// SHA-256 state over all of `bytes` (a file that will only be appended to).
    pub fn of(bytes: &[u8]) -> Result<PrefixHash, SignError> {
        let mut state = Hasher::new(DigestAlg::Sha256.message_digest())?;
        state.update(bytes)?;
        Ok(PrefixHash {
            state,
            len: bytes.len(),
        })
    }

    /// SHA-256 of `file`, given that its first `len` bytes are the ones hashed so far (`None`
    /// when `file` is shorter or OpenSSL fails: hash the whole file then).
    pub fn finish(mut self, file: &[u8]) -> Option<[u8; 32]> {
        self.state.update(file.get(self.len..)?).ok()?;
        self.state.finish().ok()?.as_ref().try_into().ok()
    }
}

/// Digest of the two byte ranges, as they are in the file.
pub fn digest_ranges(alg: DigestAlg, parts: [&[u8]; 2]) -> Result<Vec<u8>, SignError> {
    digest_ranges_keeping_prefix(alg, parts).map(|(d, _)| d)
}

/// Digest of the two byte ranges, and (for SHA-256) the state after the first one.
fn digest_ranges_keeping_prefix(alg: DigestAlg, parts: [&[u8]; 2]) -> Result<(Vec<u8>, Option<PrefixHash>), SignError> {
    digest_continuing(Hasher::new(alg.message_digest())?, 0, alg, parts)
}

/// Finish the digest of the two ranges from `state`, which has hashed the first `hashed` bytes
/// of the first range; also the state after the first range (for SHA-256).
fn digest_continuing(
    mut state: Hasher,
    hashed: usize,
    alg: DigestAlg,
    [head, tail]: [&[u8]; 2],
) -> Result<(Vec<u8>, Option<PrefixHash>), SignError> {
    state.update(head.get(hashed..).unwrap_or_default())?;
    let prefix = (alg == DigestAlg::Sha256).then(|| PrefixHash {
        state: state.clone(),
        len: head.len(),
    });
    state.update(tail)?;
    Ok((state.finish()?.to_vec(), prefix))
}

fn token_room() -> usize {
    LARGEST_TOKEN.load(Ordering::Relaxed).max(FIRST_TOKEN_GUESS)
}

fn note_token(t: &TimestampToken) {
    LARGEST_TOKEN.fetch_max(t.der.len(), Ordering::Relaxed);
}

fn signature_room(signer: &dyn Signer, with_token: bool) -> usize {
    let certs: usize = std::iter::once(signer.certificate())
        .chain(signer.chain().iter())
        .map(|c| c.to_der().map(|d| d.len()).unwrap_or(2048))
        .sum();
    // attributes and structure ~1 KB, signature ≤ 512 bytes for RSA-4096, plus slack
    certs + 2048 + if with_token { token_room() } else { 0 }
}

/// Sign `pdf` (PAdES B-B, or B-T with a time stamper) by incremental update.
pub fn sign_pdf(
    pdf: Vec<u8>,
    signer: &dyn Signer,
    tsa: Option<&dyn TimeStamper>,
    fields: &SignatureFields,
) -> Result<Signed, PadesError> {
    let mut room = signature_room(signer, tsa.is_some());
    let mut pdf = pdf;
    let mut needed = 0;
    for _ in 0..ATTEMPTS {
        let req = SignatureRequest {
            kind: SigKind::Cades,
            name: fields.name.clone(),
            reason: fields.reason.clone(),
            location: fields.location.clone(),
            contact_info: fields.contact_info.clone(),
            signing_time: fields.signing_time,
            contents_len: room,
        };
        let prepared = pdf::prepare_signature(pdf, &req)?;
        let (digest, prefix) = digest_ranges_keeping_prefix(signer.algorithm().digest(), prepared.covered())?;
        let pending = cms::sign_detached(signer, &digest)?;
        let token = match tsa {
            Some(t) => {
                let tok = t.timestamp_data(pending.signature_value())?;
                note_token(&tok);
                Some(tok)
            }
            None => None,
        };
        let der = pending.finish(token.as_ref().map(|t| t.der.clone()))?;
        if der.len() <= prepared.room() {
            return Ok(Signed {
                pdf: prepared.finish(&der)?,
                token,
                prefix,
            });
        }
        needed = der.len();
        room = der.len() + der.len() / 4 + 1024;
        pdf = prepared.into_unsigned();
    }
    Err(PadesError::NoRoom {
        needed,
        tries: ATTEMPTS,
    })
}

/// Add a document timestamp (PAdES B-LTA) over the whole file by incremental update.
pub fn add_document_timestamp(pdf: Vec<u8>, tsa: &dyn TimeStamper) -> Result<(Vec<u8>, TimestampToken), PadesError> {
    add_document_timestamp_continuing(pdf, tsa, None).map(|(pdf, token, _)| (pdf, token))
}

/// `add_document_timestamp` for a file whose start is already hashed (`prefix`, SHA-256): when
/// the TSA's hash is SHA-256 too, the old bytes are not hashed again. Returns the state over
/// the file up to the new /Contents, from which the final file's SHA-256 follows.
pub fn add_document_timestamp_continuing(
    pdf: Vec<u8>,
    tsa: &dyn TimeStamper,
    prefix: Option<PrefixHash>,
) -> Result<(Vec<u8>, TimestampToken, Option<PrefixHash>), PadesError> {
    let mut room = token_room() + 1024;
    let mut pdf = pdf;
    let mut needed = 0;
    for _ in 0..ATTEMPTS {
        let req = SignatureRequest {
            kind: SigKind::DocTimestamp,
            name: None,
            reason: None,
            location: None,
            contact_info: None,
            signing_time: None,
            contents_len: room,
        };
        let prepared = pdf::prepare_signature(pdf, &req)?;
        let alg = tsa.hash_algorithm();
        let [head, tail] = prepared.covered();
        let (digest, after_head) = match prefix
            .as_ref()
            .filter(|p| alg == DigestAlg::Sha256 && p.len <= head.len())
        {
            Some(p) => digest_continuing(p.state.clone(), p.len, alg, [head, tail])?,
            None => digest_ranges_keeping_prefix(alg, [head, tail])?,
        };
        let tok = tsa.timestamp(alg, &digest)?;
        note_token(&tok);
        if tok.der.len() <= prepared.room() {
            let out = prepared.finish(&tok.der)?;
            return Ok((out, tok, after_head));
        }
        needed = tok.der.len();
        room = tok.der.len() + 2048;
        pdf = prepared.into_unsigned();
    }
    Err(PadesError::NoRoom {
        needed,
        tries: ATTEMPTS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::test_pki::{self, KeyKind, Usage};
    use sha2::{Digest, Sha256};

    #[test]
    fn the_prefix_hash_continues_to_the_whole_files_sha256() {
        let ca = test_pki::ca("テスト認証局");
        let signer = test_pki::signer(&ca, KeyKind::Rsa2048, "署名者 太郎", Usage::Signer);
        let pdf = crate::pdf::fixtures::raw_pdf(&crate::pdf::fixtures::MINIMAL, "/Root 1 0 R/Size 4");
        let signed = sign_pdf(pdf, &signer, None, &SignatureFields::default()).unwrap();
        let prefix = signed.prefix.expect("RSA-2048 signs with SHA-256");
        let mut file = signed.pdf;
        assert_eq!(
            prefix.clone().finish(&file),
            Some(<[u8; 32]>::from(Sha256::digest(&file)))
        );
        // A later revision appended after the signature (DSS, document timestamp).
        file.extend_from_slice(b"\n1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n");
        assert_eq!(
            prefix.clone().finish(&file),
            Some(<[u8; 32]>::from(Sha256::digest(&file)))
        );
        let cut = file[..prefix.len - 1].to_vec();
        assert_eq!(
            prefix.finish(&cut),
            None,
            "a file shorter than the prefix has no hash from it"
        );
    }

    /// Renewal hashes the old file once: the document timestamp's imprint and the new file's
    /// SHA-256 continue from that state and equal what hashing from scratch gives.
    #[test]
    fn a_document_timestamp_continues_from_the_old_files_hash() {
        let ca = test_pki::ca("CA");
        let key = test_pki::key(KeyKind::P256);
        let cert = test_pki::issue(&ca, &key, "時刻 TSA", Usage::Tsa);
        let clock = std::sync::Arc::new(crate::clock::FixedClock(time::macros::datetime!(2030-05-01 12:00 UTC)));
        let tsa = crate::tsp::BuiltinTsa::new(key, cert, vec![ca.cert.clone()], clock).unwrap();
        let old = crate::pdf::fixtures::raw_pdf(&crate::pdf::fixtures::MINIMAL, "/Root 1 0 R/Size 4");
        let hashed = PrefixHash::of(&old).unwrap();
        let (file, token, prefix) = add_document_timestamp_continuing(old.clone(), &tsa, Some(hashed)).unwrap();
        assert!(file.starts_with(&old));
        assert_eq!(
            prefix.unwrap().finish(&file),
            Some(<[u8; 32]>::from(Sha256::digest(&file)))
        );
        let covered = |f: &[u8]| {
            let sig = crate::pdf::read_signatures(f).unwrap().pop().unwrap();
            let [a, b, c, d] = sig.byte_range;
            digest_ranges(DigestAlg::Sha256, [&f[a..a + b], &f[c..c + d]]).unwrap()
        };
        assert_eq!(token.info.imprint, covered(&file));
        // A prefix longer than the part the timestamp covers is not used (hashed from scratch).
        let mut long = PrefixHash::of(&file).unwrap();
        long.len = file.len() + 1;
        let (file2, token2, _) = add_document_timestamp_continuing(old, &tsa, Some(long)).unwrap();
        assert_eq!(token2.info.imprint, covered(&file2));
    }
}
