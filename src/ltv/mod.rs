//! (filled in by the ltv work)
