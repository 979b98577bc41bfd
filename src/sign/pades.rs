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
}

/// Digest of the two byte ranges, as they are in the file.
pub fn digest_ranges(alg: DigestAlg, parts: [&[u8]; 2]) -> Result<Vec<u8>, SignError> {
    let mut h = Hasher::new(alg.message_digest())?;
    for p in parts {
        h.update(p)?;
    }
    Ok(h.finish()?.to_vec())
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
        let digest = digest_ranges(signer.algorithm().digest(), prepared.covered())?;
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
        let digest = digest_ranges(alg, prepared.covered())?;
        let tok = tsa.timestamp(alg, &digest)?;
        note_token(&tok);
        if tok.der.len() <= prepared.room() {
            let out = prepared.finish(&tok.der)?;
            return Ok((out, tok));
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
