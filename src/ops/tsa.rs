//! `hozon tsa serve`: the configured time stamper (the built-in demo TSA), the demo CRLs and the
//! demo OCSP responder over HTTP, for other tools and on-line revocation checks.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::services::{time_stamper, SetupError, Trust};
use crate::sign::DigestAlg;
use crate::tsp::server::{stop_on_signals, OcspAnswerer, TsaServer};
use crate::tsp::TspError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Server(#[from] TspError),
}

impl ServeError {
    pub fn code(&self) -> &'static str {
        match self {
            ServeError::Setup(e) => e.code(),
            ServeError::Server(e) => e.code(),
        }
    }
}

/// Where the server answers, once it listens.
#[derive(Debug, Clone)]
pub struct Listening {
    pub addr: String,
    /// The demo PKI is configured (CRLs and OCSP are served).
    pub demo: bool,
}

/// Bind `listen`, call `on_ready`, then serve until SIGTERM or SIGINT (a clean stop within a
/// second).
pub fn serve(
    cfg: &Config,
    clock: Arc<dyn Clock>,
    listen: &str,
    on_ready: &dyn Fn(&Listening),
) -> Result<(), ServeError> {
    let trust = Trust::build(cfg, clock, false)?;
    let digest = DigestAlg::from_name(&cfg.tsa.hash).unwrap_or(DigestAlg::Sha256);
    let tsa = time_stamper(cfg, &trust, digest)?;
    let server = TsaServer::bind(listen)?;
    let demo = trust.demo.as_ref();
    on_ready(&Listening {
        addr: listen.to_string(),
        demo: demo.is_some(),
    });
    let stop = stop_on_signals();
    let answer = |request: &[u8]| match demo {
        Some(d) => d.answer_ocsp_request(request, trust.clock.now()),
        None => crate::pki::ocsp::error_response(true),
    };
    let ocsp: Option<&OcspAnswerer<'_>> = demo.map(|_| &answer as &OcspAnswerer<'_>);
    server.run_with_ocsp(tsa, demo.map(|d| d.crl_dir.as_path()), ocsp, stop)?;
    Ok(())
}
