//! (filled in by the pki work)
