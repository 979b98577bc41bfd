//! `hozon audit`: does the archive agree with itself? The consistency check itself
//! (`archive::inspect`: the audit log's hash chain, catalog rows vs files vs log entries) runs
//! read-only and takes no lock, so it can run beside a nightly job. Reports; never repairs.

use std::path::PathBuf;

pub use crate::archive::inspect::{AuditReport, InspectError, Problem};

#[derive(Debug, Clone)]
pub struct AuditOptions {
    pub archive: PathBuf,
}

pub fn run(opts: &AuditOptions) -> Result<AuditReport, InspectError> {
    crate::archive::inspect::audit_archive(&opts.archive)
}
