//! `hozon verify`: builds the trust (the config's, plus `--trust` roots; no config needed),
//! collects the files, optionally the archive catalog, and runs the `verify` layer's
//! `Verifier` over them in parallel. Returns the report; rendering and exit codes are the CLI's.

use std::path::PathBuf;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::clock::Clock;
use crate::config::{Config, Limits};
use crate::ltv::{HttpRevocationSource, NoRevocationSource, RevocationSource};
use crate::pki::{PkiError, TrustStore};
use crate::services::{SetupError, Trust};
use crate::verify::{collect_files, CatalogIndex, Verifier, VerifyOptions as CheckOptions, VerifyReport};

/// What `hozon verify` was asked.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub paths: Vec<PathBuf>,
    /// Extra trusted roots (PEM files), added to the config's.
    pub trust: Vec<PathBuf>,
    /// Fetch revocation data the files lack.
    pub online: bool,
    /// Validation time (default: the clock's now).
    pub at: Option<OffsetDateTime>,
    /// Compare each file with the archive catalog above it.
    pub catalog: bool,
    /// The evidence record of the (single) file, instead of `<name>.ers` beside it.
    pub ers: Option<PathBuf>,
}

/// What the run is about to do, before the first file: for the operator's information.
#[derive(Debug, Clone, Copy)]
pub struct Started {
    pub files: usize,
    /// No trusted root at all: every signer will be untrusted.
    pub no_trust_roots: bool,
    pub at: OffsetDateTime,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyRunError {
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Trust(#[from] PkiError),
    #[error(transparent)]
    Input(#[from] crate::verify::VerifyError),
    #[error(transparent)]
    Revocation(#[from] crate::ltv::RevError),
    #[error("--ers names the evidence record of one file, but {0} files were given")]
    ErsNeedsOneFile(usize),
}

impl VerifyRunError {
    pub fn code(&self) -> &'static str {
        match self {
            VerifyRunError::Setup(e) => e.code(),
            VerifyRunError::Trust(e) => e.code(),
            VerifyRunError::Input(e) => e.code(),
            VerifyRunError::Revocation(e) => e.code(),
            VerifyRunError::ErsNeedsOneFile(_) => "usage",
        }
    }
}

/// Verify everything `opts` names. `on_start` is called once the trust and the files are known,
/// `tick` once per file verified.
pub fn run(
    cfg: Option<&Config>,
    clock: Arc<dyn Clock>,
    opts: &VerifyOptions,
    on_start: &dyn Fn(Started),
    tick: &(dyn Fn() + Sync),
) -> Result<VerifyReport, VerifyRunError> {
    let at = opts.at.unwrap_or_else(|| clock.now());
    let (mut trust, source, max_bytes) = match cfg {
        Some(cfg) => {
            let t = Trust::build(cfg, clock.clone(), opts.online)?;
            (t.trust, t.revocation, cfg.limits.max_pdf_bytes)
        }
        None => {
            // The HTTP client loads the system's TLS roots: build it only when it will be used.
            let src: Arc<dyn RevocationSource> = if opts.online {
                Arc::new(HttpRevocationSource::new(&Default::default())?)
            } else {
                Arc::new(NoRevocationSource)
            };
            (TrustStore::new(), src, Limits::default().max_pdf_bytes)
        }
    };
    for p in &opts.trust {
        trust.add_root_pem(p)?;
    }
    let no_trust_roots = trust.roots().is_empty();
    let files = collect_files(&opts.paths)?;
    if opts.ers.is_some() && files.len() != 1 {
        return Err(VerifyRunError::ErsNeedsOneFile(files.len()));
    }
    let catalog = if opts.catalog {
        Some(CatalogIndex::load(&opts.paths)?)
    } else {
        None
    };
    let check = CheckOptions {
        at,
        max_file_bytes: max_bytes,
    };
    let mut verifier = Verifier::new(trust, opts.online.then_some(source), check);
    if let Some(cfg) = cfg {
        verifier = verifier.with_weak_algorithms(cfg.renew.weak_algorithms.clone());
    }
    if let Some(e) = &opts.ers {
        verifier = verifier.with_record(e.clone());
    }
    on_start(Started {
        files: files.len(),
        no_trust_roots,
        at,
    });
    Ok(verifier.run(&files, catalog.as_ref(), tick))
}
