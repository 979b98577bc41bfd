//! The four fuzzed entry points, shared by the cargo-fuzz targets (`fuzz_targets/`) and the
//! stable-Rust fallback fuzzer (`tests/fuzz_smoke.rs` includes this file by path). Each drives
//! one reader of hostile bytes as far as it goes; any panic, hang or runaway allocation is a bug.
//! Results are ignored on purpose: errors are the expected outcome for nearly every input.

use std::path::Path;

use hozon::config::Limits;

/// Header inspection and, when the headers pass, the integrity pass over the whole data.
pub fn scan_inspect(data: &[u8]) {
    // Small limits keep each run cheap; the limit checks themselves are under test too.
    let limits = Limits {
        max_pixels: 50_000_000,
        max_file_bytes: 1 << 20,
        max_pdf_bytes: 1 << 20,
        max_inflate_bytes: 64 << 20,
    };
    if let Ok(scan) = hozon::scan::inspect(Path::new("fuzz.bin"), data, &limits) {
        let _ = hozon::scan::verify_integrity(&scan, data);
    }
}

/// The verifier's PDF readers: revisions, signatures (with their /ByteRange checks), the DSS,
/// the change classifier and the page image extraction.
pub fn pdf_signatures(data: &[u8]) {
    let _ = hozon::pdf::revisions(data);
    if let Ok(sigs) = hozon::pdf::read_signatures(data) {
        for s in &sigs {
            let _ = s.covered(data);
            let _ = hozon::cms::parse_signed_data(s.der());
            let _ = hozon::pdf::classify_changes(data, s.covered_end());
        }
    }
    let _ = hozon::pdf::read_dss(data);
    let _ = hozon::pdf::page_count(data);
}

/// A TSA's reply to a fresh request, and the token inside verified against its own imprint
/// (so the fuzzer reaches the signature and certificate checks without guessing a nonce).
pub fn tsa_response(data: &[u8]) {
    let alg = hozon::sign::DigestAlg::Sha256;
    if let Ok(req) = hozon::tsp::TimestampRequest::new(alg, &[0x5a; 32], None) {
        let _ = req.check_response(data);
    }
    let token_bytes = token_of_response(data).unwrap_or(data);
    if let Ok(token) = hozon::tsp::TimestampToken::parse(token_bytes) {
        let _ = token.verify(token.info.imprint_alg, &token.info.imprint.clone());
        let _ = token.tsa_certificate();
    }
}

/// The second element of a TimeStampResp SEQUENCE, found with hozon's own bounded DER reader.
fn token_of_response(data: &[u8]) -> Option<&[u8]> {
    let outer = hozon::pdf::der_prefix(data);
    let (hl, _) = header(outer)?;
    let body = outer.get(hl..)?;
    let (shl, slen) = header(body)?;
    body.get(shl + slen..)
}

/// (header length, value length) of a DER TLV; None when undecidable.
fn header(d: &[u8]) -> Option<(usize, usize)> {
    match d {
        [_, l, ..] if *l < 0x80 => Some((2, usize::from(*l))),
        [_, l, rest @ ..] if (0x81..=0x83).contains(l) => {
            let n = usize::from(l - 0x80);
            let len = rest.get(..n)?.iter().fold(0usize, |a, b| a << 8 | usize::from(*b));
            Some((2 + n, len))
        }
        _ => None,
    }
}

/// CMS SignedData parsing and every accessor a verifier calls.
pub fn cms_parse(data: &[u8]) {
    if let Ok(p) = hozon::cms::parse_signed_data(data) {
        let _ = p.digest_algorithm();
        let _ = p.content_type_attribute();
        let _ = p.message_digest_attribute();
        let _ = p.has_signing_time();
        for t in p.timestamp_tokens() {
            let _ = hozon::tsp::TimestampToken::parse(t);
        }
        let _ = p.signer_certificate();
        let _ = p.encapsulated_content();
    }
}
