//! (filled in by the sign work)
