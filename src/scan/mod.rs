//! (filled in by the scan work)
