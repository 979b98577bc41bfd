//! Wires the configuration into the pipeline's seams: the `Signer` (software key from PKCS#12
//! or PEM, or a key on a PKCS#11 token), the `TimeStamper` (built-in demo TSA or HTTP), the `RevocationSource` (the demo
//! PKI's OCSP and CRLs, then CRL/OCSP over HTTP with a per-run cache), the trust store and the
//! `Clock`.
//! Built once per run; ingest, renew and verify share it.

use std::sync::Arc;

use openssl::x509::X509;
use time::OffsetDateTime;

use crate::clock::Clock;
use crate::config::{Config, SignerConfig};
use crate::ltv::{self, DemoRevocationSource, FetchScope, HttpRevocationSource, RevError, RevocationSource};
use crate::pdf;
use crate::pki::trust::{validate_path, RevocationData, Usage};
use crate::pki::{self, DemoPki, TrustStore};
use crate::sign::{DigestAlg, Pkcs11Signer, SoftwareSigner, Signer};
use crate::tsp::{BuiltinTsa, HttpTimeStamper, TimeStamper, TimestampToken};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    #[error("signer '{0}' is not configured in [signers]")]
    UnknownSigner(String),
    #[error("no signer: set default_signer in the config or use --signer NAME")]
    NoSigner,
    #[error("signer '{name}': {source}")]
    Signer { name: String, source: crate::sign::SignError },
    #[error("signer '{name}' refused before signing: {source}")]
    SignerRefused { name: String, source: pki::PkiError },
    #[error("demo PKI: {0}")]
    Demo(pki::PkiError),
    #[error("trust store: {0}")]
    Trust(pki::PkiError),
    #[error("TSA: {0}")]
    Tsa(crate::tsp::TspError),
    #[error("revocation source: {0}")]
    Revocation(RevError),
    #[error("tsa.url = builtin:demo needs the demo PKI ([demo] enabled = true)")]
    BuiltinNeedsDemo,
}

impl SetupError {
    pub fn code(&self) -> &'static str {
        match self {
            SetupError::UnknownSigner(_) | SetupError::NoSigner | SetupError::BuiltinNeedsDemo => "config-invalid",
            SetupError::Signer { source, .. } => source.code(),
            SetupError::SignerRefused { source, .. } => source.code(),
            SetupError::Demo(e) | SetupError::Trust(e) => e.code(),
            SetupError::Tsa(e) => e.code(),
            SetupError::Revocation(e) => e.code(),
        }
    }
}

/// Revocation sources asked in order until one has something (the demo PKI first, so a demo
/// run never waits on a network that is not there).
pub struct FirstOf(pub Vec<Arc<dyn RevocationSource>>);

impl RevocationSource for FirstOf {
    fn crls_for(&self, cert: &X509, issuer: &X509, scope: &FetchScope) -> Result<Vec<Vec<u8>>, RevError> {
        let mut last_err = None;
        for s in &self.0 {
            match s.crls_for(cert, issuer, scope) {
                Ok(v) if !v.is_empty() => return Ok(v),
                Ok(_) => {}
                Err(e) => last_err = Some(e),
            }
        }
        last_err.map_or(Ok(Vec::new()), Err)
    }
    fn ocsp_for(&self, cert: &X509, issuer: &X509, scope: &FetchScope) -> Result<Option<Vec<u8>>, RevError> {
        let mut last_err = None;
        for s in &self.0 {
            match s.ocsp_for(cert, issuer, scope) {
                Ok(Some(v)) => return Ok(Some(v)),
                Ok(None) => {}
                Err(e) => last_err = Some(e),
            }
        }
        last_err.map_or(Ok(None), Err)
    }
}

/// The trust store, demo PKI and revocation source: what verify needs (no signer, no TSA).
pub struct Trust {
    pub clock: Arc<dyn Clock>,
    pub trust: TrustStore,
    pub demo: Option<DemoPki>,
    pub revocation: Arc<dyn RevocationSource>,
}

impl Trust {
    pub fn build(cfg: &Config, clock: Arc<dyn Clock>, fetch: bool) -> Result<Trust, SetupError> {
        let demo = if cfg.demo.enabled {
            let mut lt = pki::demo::Lifetimes::default();
            let days = |d: u32| time::Duration::days(i64::from(d));
            if let Some(d) = cfg.demo.signer_days {
                lt.signer = days(d);
                lt.signer_margin = days(d / 10);
            }
            if let Some(d) = cfg.demo.tsa_days {
                lt.tsa = days(d);
            }
            if let Some(d) = cfg.demo.tsa_rotate_days {
                lt.tsa_margin = days(d);
            }
            Some(DemoPki::ensure_with(&cfg.resolve(&cfg.demo.dir), &cfg.demo.base_url, clock.as_ref(), &lt).map_err(SetupError::Demo)?)
        } else {
            None
        };
        let mut trust = TrustStore::from_config(cfg).map_err(SetupError::Trust)?;
        for p in &cfg.tsa.trust {
            trust.add_root_pem(&cfg.resolve(p)).map_err(SetupError::Trust)?;
        }
        if let Some(d) = &demo {
            trust.add_root(d.root.clone());
        }
        let mut sources: Vec<Arc<dyn RevocationSource>> = Vec::new();
        if let Some(d) = &demo {
            sources.push(Arc::new(DemoRevocationSource::new(d, clock.clone())));
        }
        if fetch {
            let mut http = HttpRevocationSource::new(&cfg.revocation).map_err(SetupError::Revocation)?;
            if cfg.demo.enabled {
                // The demo certificates point at `hozon tsa serve` on loopback: the one private
                // origin fetched from without revocation.allow_private_addresses.
                http = http.trusting_origin(&cfg.demo.base_url);
            }
            sources.push(Arc::new(http));
        }
        Ok(Trust { clock, trust, demo, revocation: Arc::new(FirstOf(sources)) })
    }

    /// The chain of `cert` as far as the trust store and `extra` allow (end entity first).
    pub fn chain_of(&self, cert: &X509, extra: &[X509], at: OffsetDateTime) -> Vec<X509> {
        validate_path(cert, extra, &self.trust, at, &RevocationData::default(), Usage::Any, false).chain
    }
}

/// Everything a signing run needs, built once.
pub struct Services {
    pub clock: Arc<dyn Clock>,
    pub trust: Trust,
    pub signer: Arc<dyn Signer>,
    pub signer_key_name: String,
    /// /Name of signatures: the configured display name, else the certificate's subject.
    pub signer_name: String,
    pub signer_role: Option<String>,
    pub signer_config: SignerConfig,
    pub tsa: Arc<dyn TimeStamper>,
    pub digest_alg: DigestAlg,
}

impl Services {
    pub fn build(cfg: &Config, signer: Option<&str>, clock: Arc<dyn Clock>) -> Result<Services, SetupError> {
        let trust = Trust::build(cfg, clock.clone(), cfg.revocation.fetch)?;
        let key_name = signer.map(str::to_string).or_else(|| cfg.default_signer.clone()).ok_or(SetupError::NoSigner)?;
        let sc = cfg.signers.get(&key_name).ok_or_else(|| SetupError::UnknownSigner(key_name.clone()))?.clone();
        let signer: Arc<dyn Signer> = match sc.pkcs11 {
            Some(_) => Arc::new(Pkcs11Signer::from_config(&sc, cfg).map_err(|source| SetupError::Signer { name: key_name.clone(), source })?),
            None => Arc::new(SoftwareSigner::from_config(&sc, cfg).map_err(|source| SetupError::Signer { name: key_name.clone(), source })?),
        };
        pki::trust::check_signer_before_signing(signer.certificate(), signer.chain(), &trust.trust, clock.now())
            .map_err(|source| SetupError::SignerRefused { name: key_name.clone(), source })?;
        let signer_role = pki::hc_role(signer.certificate());
        let signer_name = sc.name.clone().unwrap_or_else(|| pki::subject_line(signer.certificate()));
        let digest_alg = DigestAlg::from_name(&cfg.tsa.hash).unwrap_or(DigestAlg::Sha256);
        let tsa = time_stamper(cfg, &trust, digest_alg)?;
        Ok(Services {
            clock,
            trust,
            signer,
            signer_key_name: key_name,
            signer_name,
            signer_role,
            signer_config: sc,
            tsa,
            digest_alg,
        })
    }

    /// Append a DSS revision with the certificates and revocation data of the signer's chain
    /// and the timestamp's TSA chain (PAdES B-LT).
    pub fn add_validation_data(&self, pdf_bytes: Vec<u8>, token: Option<&TimestampToken>) -> Result<(Vec<u8>, Vec<String>), pdf::PdfError> {
        let now = self.clock.now();
        let mut chains = Vec::new();
        let signer_chain = self.trust.chain_of(self.signer.certificate(), self.signer.chain(), now);
        chains.push(signer_chain);
        if let Some(t) = token {
            chains.extend(self.trust.tsa_chain(t, now));
        }
        let m = ltv::collect_validation(&chains, self.trust.revocation.as_ref());
        let v = pdf::Validation { certs: m.certs, crls: m.crls, ocsps: m.ocsps };
        Ok((pdf::append_dss(pdf_bytes, &v)?, m.problems))
    }
}

/// A time stamper whose every token must come from a TSA that chains to the trust store and is
/// valid (and not revoked, as far as the run's revocation source knows) at the token's time.
/// The inner client already checked the reply itself (nonce, imprint, signature, EKU).
pub struct TrustedTimeStamper {
    inner: Arc<dyn TimeStamper>,
    trust: TrustStore,
}

impl TimeStamper for TrustedTimeStamper {
    fn timestamp(&self, alg: DigestAlg, digest: &[u8]) -> Result<TimestampToken, crate::tsp::TspError> {
        let token = self.inner.timestamp(alg, digest)?;
        let cert = token.tsa_certificate().ok_or_else(|| crate::tsp::TspError::Untrusted("the token names no TSA certificate".into()))?;
        let report = validate_path(cert, token.signed.certificates(), &self.trust, token.info.gen_time, &RevocationData::default(), Usage::TimeStamping, false);
        match report.status {
            pki::trust::PathStatus::Valid => Ok(token),
            other => Err(crate::tsp::TspError::Untrusted(format!("{}: {other:?}", pki::subject_line(cert)))),
        }
    }
    fn hash_algorithm(&self) -> DigestAlg {
        self.inner.hash_algorithm()
    }
    fn respond(&self, request_der: &[u8]) -> Vec<u8> {
        self.inner.respond(request_der)
    }
}

/// The configured time stamper (the built-in demo TSA or an RFC 3161 server over HTTP(S)),
/// with its tokens' TSA certificates checked against the trust store.
pub fn time_stamper(cfg: &Config, trust: &Trust, digest_alg: DigestAlg) -> Result<Arc<dyn TimeStamper>, SetupError> {
    Ok(Arc::new(TrustedTimeStamper { inner: raw_time_stamper(cfg, trust, digest_alg)?, trust: trust.trust.clone() }))
}

fn raw_time_stamper(cfg: &Config, trust: &Trust, digest_alg: DigestAlg) -> Result<Arc<dyn TimeStamper>, SetupError> {
    if cfg.tsa.url.starts_with("builtin:") {
        let d = trust.demo.as_ref().ok_or(SetupError::BuiltinNeedsDemo)?;
        let chain: Vec<X509> = d.tsa_chain.iter().skip(1).cloned().collect();
        let mut b = BuiltinTsa::new(d.tsa_private_key.clone(), d.tsa_certificate.clone(), chain, trust.clock.clone())
            .map_err(SetupError::Tsa)?
            .with_hash(digest_alg);
        if let Some(p) = &cfg.tsa.policy {
            b = b.with_policy(p).map_err(SetupError::Tsa)?;
        }
        Ok(Arc::new(b))
    } else {
        Ok(Arc::new(HttpTimeStamper::new(&cfg.tsa, cfg).map_err(SetupError::Tsa)?))
    }
}

impl Trust {
    /// The TSA chain of a token (from the token's certificates and the trust store).
    pub fn tsa_chain(&self, token: &TimestampToken, at: OffsetDateTime) -> Option<Vec<X509>> {
        let cert = token.tsa_certificate()?;
        Some(self.chain_of(cert, token.signed.certificates(), at))
    }

    /// DSS material for the given chains.
    pub fn validation_for(&self, chains: &[Vec<X509>]) -> ltv::ValidationMaterial {
        ltv::collect_validation(chains, self.revocation.as_ref())
    }
}
