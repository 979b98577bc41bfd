//! (filled in by the tsp work)
