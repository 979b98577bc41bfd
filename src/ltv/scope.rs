//! One file's fetches (a document at ingest, a PDF at verify): they share one overall deadline,
//! whose clock starts with the file's first network request, and every URL tried is logged
//! with its outcome and time so the reports can say where validation data came from.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use serde::Serialize;

/// One URL tried for a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchAttempt {
    pub url: String,
    /// `ok`, or the failure's reason code (`rev-timeout`, `rev-address-refused`,
    /// `rev-redirect-refused`, `rev-deadline`, ...).
    pub outcome: String,
    /// Time the request took, milliseconds (for an answer from the run's cache: the time of the
    /// request that fetched it).
    pub ms: u64,
    /// The answer was fetched earlier in this run (for another file or certificate).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
    /// What went wrong, for a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl FetchAttempt {
    /// The attempt as a later asker sees it: answered from the cache.
    pub fn as_cached(&self) -> FetchAttempt {
        FetchAttempt {
            cached: true,
            ..self.clone()
        }
    }
}

/// The fetching context of one file: its deadline clock and its log.
#[derive(Debug, Default)]
pub struct FetchScope {
    started: Arc<OnceLock<Instant>>,
    log: Mutex<Vec<FetchAttempt>>,
}

impl FetchScope {
    pub fn new() -> FetchScope {
        FetchScope::default()
    }

    /// A scope on the same deadline clock with a log of its own (what one certificate's
    /// fetches tried, to keep beside its cached data).
    pub fn child(&self) -> FetchScope {
        FetchScope {
            started: self.started.clone(),
            log: Mutex::new(Vec::new()),
        }
    }

    /// When the file's first fetch began; now, for the first one.
    pub fn started(&self) -> Instant {
        *self.started.get_or_init(Instant::now)
    }

    pub fn record(&self, attempt: FetchAttempt) {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).push(attempt);
    }

    pub fn extend(&self, attempts: impl IntoIterator<Item = FetchAttempt>) {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).extend(attempts);
    }

    /// Every URL tried so far, in the order the answers came.
    pub fn attempts(&self) -> Vec<FetchAttempt> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// `f` over every item at once, one thread each (the calls mostly wait on the network, so a
/// hanging server costs its time once, not once per item); results in the items' order. One
/// item runs on the caller's thread, and so does an item whose thread cannot be started.
pub fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() <= 1 {
        return items.iter().map(&f).collect();
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .iter()
            .map(|item| (item, std::thread::Builder::new().spawn_scoped(s, move || f(item)).ok()))
            .collect();
        handles
            .into_iter()
            .map(|(item, h)| match h.map(|h| h.join()) {
                Some(Ok(r)) => r,
                // A panicking worker is re-raised: the fetchers do not panic on input.
                Some(Err(p)) => std::panic::resume_unwind(p),
                None => f(item),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parallel_calls_keep_order_and_overlap() {
        let t = Instant::now();
        let out = in_parallel(&[3u64, 1, 2], |n| {
            std::thread::sleep(Duration::from_millis(150));
            n * 10
        });
        assert_eq!(out, vec![30, 10, 20]);
        assert!(t.elapsed() < Duration::from_millis(400), "{:?}", t.elapsed());
        assert_eq!(in_parallel(&[] as &[u8], |n| *n), Vec::<u8>::new());
    }

    #[test]
    fn children_share_the_clock_not_the_log() {
        let s = FetchScope::new();
        let c = s.child();
        assert_eq!(c.started(), s.started());
        c.record(FetchAttempt {
            url: "http://ca.example/ca.crl".into(),
            outcome: "ok".into(),
            ms: 3,
            cached: false,
            detail: None,
        });
        assert!(s.attempts().is_empty());
        s.extend(c.attempts().iter().map(FetchAttempt::as_cached));
        assert!(s.attempts()[0].cached);
    }
}
