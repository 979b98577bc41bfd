//! Parsed certificates shared by DER bytes. OpenSSL 3 decodes a certificate's public key through
//! its provider/decoder machinery, which costs more than an RSA verification; the same few CA,
//! signer and TSA certificates come back in every CMS, token and DSS of a run. One process-wide
//! map from the exact DER bytes to the parsed `X509` (reference-counted, so a hit is a clone) makes
//! each distinct certificate a single parse. Bounded: when full it starts over, so hostile input
//! with many distinct certificates costs parses, never unbounded memory.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use openssl::error::ErrorStack;
use openssl::x509::X509;

/// Most certificates kept, and most DER bytes kept in all.
const MAX_ENTRIES: usize = 512;
const MAX_BYTES: usize = 4 * 1024 * 1024;

#[derive(Default)]
struct Cache {
    map: HashMap<Vec<u8>, X509>,
    bytes: usize,
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// `X509::from_der(der)`, parsed once per distinct DER per process.
pub fn x509_from_der(der: &[u8]) -> Result<X509, ErrorStack> {
    if let Some(c) = cache().lock().unwrap_or_else(|p| p.into_inner()).map.get(der) {
        return Ok(c.clone());
    }
    // Parse outside the lock: two threads may parse the same certificate once each, harmlessly.
    let cert = X509::from_der(der)?;
    if der.len() <= MAX_BYTES / 8 {
        let mut c = cache().lock().unwrap_or_else(|p| p.into_inner());
        if c.map.len() >= MAX_ENTRIES || c.bytes + der.len() > MAX_BYTES {
            c.map.clear();
            c.bytes = 0;
        }
        if c.map.insert(der.to_vec(), cert.clone()).is_none() {
            c.bytes += der.len();
        }
    }
    Ok(cert)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::test_pki;

    #[test]
    fn same_der_gives_the_same_certificate_and_garbage_is_refused() {
        let ca = test_pki::ca("キャッシュ ルート");
        let der = ca.cert.to_der().unwrap();
        let a = x509_from_der(&der).unwrap();
        let b = x509_from_der(&der).unwrap();
        assert_eq!(a.to_der().unwrap(), der);
        assert_eq!(b.to_der().unwrap(), der);
        assert!(x509_from_der(&der[..der.len() - 1]).is_err());
        assert!(x509_from_der(b"not a certificate").is_err());
    }
}
