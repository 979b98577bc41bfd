//! (filled in by the pdf work)
