//! Deterministic crash injection for the crash-consistency suite (`tests/crash.rs`).
//!
//! With `HOZON_TEST_CRASH_AT=N` the process kills itself with SIGKILL at the N-th crash point it
//! passes; crash points sit between the durable steps of the archive's write protocols (catalog
//! row, temp file, rename, audit entry, row update) and of recovery. SIGKILL, not a panic or an
//! exit: nothing is flushed, no destructor removes a temp file, exactly as when the operator's
//! machine loses the process. Random-moment kills miss the narrow windows; enumerating every
//! point does not. Unset (always, outside the tests), a crash point costs one relaxed load.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The environment variable read once per process. Test-only; documented in the README.
pub const ENV: &str = "HOZON_TEST_CRASH_AT";

static PASSED: AtomicU64 = AtomicU64::new(0);

fn target() -> Option<u64> {
    static TARGET: OnceLock<Option<u64>> = OnceLock::new();
    *TARGET.get_or_init(|| {
        std::env::var(ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|n| *n > 0)
    })
}

/// A point between two durable steps. `_name` documents the step in the code and in a debugger.
#[inline]
pub fn hit(_name: &'static str) {
    let Some(n) = target() else { return };
    if PASSED.fetch_add(1, Ordering::SeqCst) + 1 == n {
        // SAFETY: getpid and kill have no memory-safety preconditions.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        // SIGKILL to ourselves is not caught or delayed; never continue past the point.
        std::process::abort();
    }
}
