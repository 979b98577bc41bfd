//! Collecting validation material (certificates, CRLs, OCSP responses) for every non-root
//! certificate of the given chains (the signer's and the TSA's), for a PDF's DSS. Every CRL is
//! checked to be signed by the certificate's issuer, and every OCSP response to be signed and
//! to answer for the certificate, before it is kept.

use openssl::x509::{X509Ref, X509VerifyResult, X509};

use super::scope::{in_parallel, FetchAttempt, FetchScope};
use super::RevocationSource;
use crate::pki::crl::Crl;
use crate::pki::memo::{Key, Recent};
use crate::pki::ocsp::check_signature_only;
use crate::pki::subject_line;

/// DER items for a DSS, each once.
#[derive(Debug, Clone, Default)]
pub struct ValidationMaterial {
    pub certs: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    pub ocsps: Vec<Vec<u8>>,
    /// Certificates for which nothing usable was found, and why (for warnings in reports).
    pub problems: Vec<String>,
    /// Every URL tried, with its outcome.
    pub fetches: Vec<FetchAttempt>,
}

fn push_unique(list: &mut Vec<Vec<u8>>, der: Vec<u8>) {
    if !list.contains(&der) {
        list.push(der);
    }
}

fn self_issued(cert: &X509Ref) -> bool {
    cert.issued(cert) == X509VerifyResult::OK
}

/// Gather certificates and revocation data for each chain (end entity first, root last). An
/// OCSP answer is preferred; CRLs are fetched when there is none. The certificates are worked on
/// in parallel, under one deadline for all their fetches (one document's); the material comes
/// out in chain order all the same.
pub fn collect_validation(chains: &[Vec<X509>], source: &dyn RevocationSource) -> ValidationMaterial {
    let mut m = ValidationMaterial::default();
    let mut done: Vec<Vec<u8>> = Vec::new();
    let mut todo: Vec<(&X509, &X509)> = Vec::new();
    for chain in chains {
        for (i, cert) in chain.iter().enumerate() {
            let Ok(der) = cert.to_der() else { continue };
            push_unique(&mut m.certs, der.clone());
            if self_issued(cert) || done.contains(&der) {
                continue;
            }
            done.push(der);
            let Some(issuer) = chain.get(i + 1) else {
                m.problems
                    .push(format!("{}: issuer not in the chain", subject_line(cert)));
                continue;
            };
            todo.push((cert, issuer));
        }
    }
    let scope = FetchScope::new();
    for found in in_parallel(&todo, |(cert, issuer)| {
        let mut one = ValidationMaterial::default();
        collect_one(cert, issuer, source, &scope, &mut one);
        one
    }) {
        for c in found.certs {
            push_unique(&mut m.certs, c);
        }
        for c in found.crls {
            push_unique(&mut m.crls, c);
        }
        for o in found.ocsps {
            push_unique(&mut m.ocsps, o);
        }
        m.problems.extend(found.problems);
    }
    m.fetches = scope.attempts();
    m
}

/// Responses already checked in this process, with the certificates they carry: a batch gets
/// the same response for every document, and parsing and verifying it each time was a tenth of
/// an ingest. Only acceptances are kept.
static CHECKED_OCSP: Recent<Vec<Vec<u8>>> = Recent::new(64);

/// `check_signature_only`, remembered: `Some(certificates in the response)` when it answers
/// for `cert` with a valid signature by `issuer`.
fn checked_ocsp(der: &[u8], cert: &X509, issuer: &X509) -> Result<Option<Vec<Vec<u8>>>, crate::pki::PkiError> {
    let mut k = Key::new();
    k.part(der)
        .part(&cert.to_der().unwrap_or_default())
        .part(&issuer.to_der().unwrap_or_default());
    let key = k.finish();
    if let Some(certs) = CHECKED_OCSP.get(&key) {
        return Ok(Some(certs));
    }
    if check_signature_only(der, cert, issuer)?.is_none() {
        return Ok(None);
    }
    let certs = crate::pki::ocsp::response_certs(der);
    CHECKED_OCSP.put(key, certs.clone());
    Ok(Some(certs))
}

fn collect_one(cert: &X509, issuer: &X509, source: &dyn RevocationSource, scope: &FetchScope, m: &mut ValidationMaterial) {
    let who = subject_line(cert);
    match source.ocsp_for(cert, issuer, scope) {
        Ok(Some(der)) => match checked_ocsp(&der, cert, issuer) {
            Ok(Some(certs)) => {
                // A delegated responder's certificate goes beside the response: validators need
                // it, and proof that it existed, when they judge the response years later.
                for c in certs {
                    push_unique(&mut m.certs, c);
                }
                push_unique(&mut m.ocsps, der);
                return;
            }
            Ok(None) => m.problems.push(format!("{who}: OCSP response does not answer for it")),
            Err(e) => m.problems.push(format!("{who}: OCSP response refused: {e}")),
        },
        Ok(None) => {}
        Err(e) => m.problems.push(format!("{who}: OCSP: {e}")),
    }
    let mut kept = 0;
    match source.crls_for(cert, issuer, scope) {
        Ok(list) => {
            for bytes in list {
                match Crl::from_bytes(&bytes) {
                    Ok(crl) if crl.is_issued_by(issuer) => {
                        push_unique(&mut m.crls, crl.der);
                        kept += 1;
                    }
                    Ok(_) => m
                        .problems
                        .push(format!("{who}: CRL not signed by {}", subject_line(issuer))),
                    Err(e) => m.problems.push(format!("{who}: {e}")),
                }
            }
        }
        Err(e) => m.problems.push(format!("{who}: CRL: {e}")),
    }
    if kept == 0 {
        m.problems.push(format!("{who}: no revocation data"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ltv::http::tests::{local_source, Route, TestServer};
    use crate::pki::crl::{issue_crl, CrlSpec};
    use crate::pki::fixtures::{openssl_cli, party, Party, T0, T_END};
    use crate::pki::issue::CertSpec;
    use crate::pki::trust::{validate_path, PathStatus, RevocationData, TrustStore, Usage};
    use std::collections::HashMap;
    use std::time::Duration;
    use time::macros::datetime;

    fn crl_of(p: &Party) -> Vec<u8> {
        issue_crl(
            &CrlSpec {
                this_update: T0,
                next_update: Some(T_END),
                number: 1,
                revoked: vec![],
            },
            &p.cert,
            &p.key,
        )
        .unwrap()
    }

    /// A free loopback port and its base URL: the URLs go into certificates before the server
    /// exists.
    fn reserved_base() -> (u16, String) {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        (port, format!("http://127.0.0.1:{port}"))
    }

    /// root → inter (CDP root.crl) → signer, tsa (both CDP inter.crl; signer also OCSP when asked).
    fn pki(base: &str, ocsp: bool) -> (Party, Party, Party, Party) {
        let root = party(&CertSpec::ca("Root", T0, T_END), None);
        let mut s = CertSpec::ca("Inter", T0, T_END);
        s.crl_urls = vec![format!("{base}/root.crl")];
        let inter = party(&s, Some(&root));
        let mut s = CertSpec::signer("署名者", T0, T_END);
        s.crl_urls = vec![format!("{base}/inter.crl")];
        if ocsp {
            s.ocsp_urls = vec![format!("{base}/ocsp")];
        }
        let signer = party(&s, Some(&inter));
        let mut s = CertSpec::tsa("TSA", T0, T_END);
        s.crl_urls = vec![format!("{base}/inter.crl")];
        let tsa = party(&s, Some(&inter));
        (root, inter, signer, tsa)
    }

    #[test]
    fn collects_each_crl_once_for_signer_and_tsa_chains() {
        let (port, base) = reserved_base();
        let (root, inter, signer, tsa) = pki(&base, false);
        let routes = HashMap::from([
            ("/root.crl".to_string(), Route::Body(crl_of(&root))),
            ("/inter.crl".to_string(), Route::Body(crl_of(&inter))),
        ]);
        let server = TestServer::start_on(port, routes);
        let src = local_source(Duration::from_secs(5));
        let chains = vec![
            vec![signer.cert.clone(), inter.cert.clone(), root.cert.clone()],
            vec![tsa.cert.clone(), inter.cert.clone(), root.cert.clone()],
        ];
        let m = collect_validation(&chains, &src);
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(m.certs.len(), 4, "signer, tsa, inter, root once each");
        assert_eq!(m.crls.len(), 2);
        assert_eq!(server.count("/inter.crl"), 1);
        assert_eq!(server.count("/root.crl"), 1);

        // What was collected is enough for validation with revocation required.
        let mut trust = TrustStore::new();
        trust.add_root(root.cert.clone());
        let rev = RevocationData {
            crls: m.crls.clone(),
            ocsps: m.ocsps.clone(),
        };
        let at = datetime!(2030-01-01 0:00 UTC);
        let r = validate_path(
            &signer.cert,
            &[inter.cert.clone()],
            &trust,
            at,
            &rev,
            Usage::DocumentSigning,
            true,
        );
        assert_eq!(r.status, PathStatus::Valid, "{:?}", r.status);
        let r = validate_path(
            &tsa.cert,
            &[inter.cert.clone()],
            &trust,
            at,
            &rev,
            Usage::TimeStamping,
            true,
        );
        assert_eq!(r.status, PathStatus::Valid, "{:?}", r.status);
    }

    /// Two certificates whose CRL servers hang cost one timeout, not one each: a document's
    /// fetches run in parallel. Each URL tried is recorded with its outcome.
    #[test]
    fn two_hanging_urls_cost_one_timeout() {
        let (port, base) = reserved_base();
        let (root, inter, signer, _) = pki(&base, false);
        let hang = Route::Slow(Duration::from_secs(6), crl_of(&root));
        let routes = HashMap::from([("/root.crl".to_string(), hang.clone()), ("/inter.crl".to_string(), hang)]);
        let server = TestServer::start_on(port, routes);
        let src = local_source(Duration::from_secs(1));
        let t = std::time::Instant::now();
        let m = collect_validation(&[vec![signer.cert.clone(), inter.cert.clone(), root.cert.clone()]], &src);
        let took = t.elapsed();
        assert!(took < Duration::from_millis(1800), "two hanging URLs took {took:?}");
        assert_eq!((server.count("/root.crl"), server.count("/inter.crl")), (1, 1));
        let mut tried: Vec<(String, String)> = m.fetches.iter().map(|a| (a.url.clone(), a.outcome.clone())).collect();
        tried.sort();
        assert_eq!(
            tried,
            vec![
                (format!("{base}/inter.crl"), "rev-timeout".to_string()),
                (format!("{base}/root.crl"), "rev-timeout".to_string())
            ]
        );
        assert!(m.fetches.iter().all(|a| (900..1800).contains(&a.ms)), "{:?}", m.fetches);
        assert_eq!(m.problems.iter().filter(|p| p.contains("no revocation data")).count(), 2, "{:?}", m.problems);
    }

    #[test]
    fn crl_not_signed_by_the_issuer_is_not_kept() {
        let (port, base) = reserved_base();
        let (root, inter, signer, _) = pki(&base, false);
        // inter.crl served with the root's CRL: a different issuer.
        let routes = HashMap::from([
            ("/root.crl".to_string(), Route::Body(crl_of(&root))),
            ("/inter.crl".to_string(), Route::Body(crl_of(&root))),
        ]);
        let _server = TestServer::start_on(port, routes);
        let src = local_source(Duration::from_secs(5));
        let m = collect_validation(
            &[vec![signer.cert.clone(), inter.cert.clone(), root.cert.clone()]],
            &src,
        );
        assert_eq!(m.crls.len(), 1, "only the root's CRL, for the intermediate");
        assert!(Crl::from_bytes(&m.crls[0]).unwrap().is_issued_by(&root.cert));
        assert!(
            m.problems
                .iter()
                .any(|p| p.contains("署名者") && p.contains("not signed")),
            "{:?}",
            m.problems
        );
    }

    #[test]
    fn ocsp_is_posted_and_preferred() {
        let Some(dir) = openssl_cli("collect::ocsp_is_posted_and_preferred") else {
            return;
        };
        let (port, base) = reserved_base();
        let (root, inter, signer, _) = pki(&base, true);
        let responder = party(&CertSpec::ocsp_responder("OCSP", T0, T_END), Some(&inter));
        let req = crate::pki::ocsp::request_der(&signer.cert, &inter.cert).unwrap();
        let resp = crate::pki::ocsp::tests::openssl_ocsp_response(
            dir.path(),
            &req,
            &inter.cert,
            &responder,
            &[&signer.cert],
            &[],
        );
        let routes = HashMap::from([
            ("/root.crl".to_string(), Route::Body(crl_of(&root))),
            ("/ocsp".to_string(), Route::Body(resp.clone())),
        ]);
        let server = TestServer::start_on(port, routes);
        let src = local_source(Duration::from_secs(5));
        let m = collect_validation(
            &[vec![signer.cert.clone(), inter.cert.clone(), root.cert.clone()]],
            &src,
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(m.ocsps, vec![resp]);
        assert_eq!(server.count("/inter.crl"), 0, "CRL not fetched when OCSP answered");
        let bodies = server.bodies.lock().unwrap();
        let (_, ctype, body) = bodies.iter().find(|(p, _, _)| p == "/ocsp").unwrap();
        assert_eq!(ctype, "application/ocsp-request");
        assert_eq!(body, &req);
    }
}
