//! One `exec` per command: arguments → the library's options → `hozon::ops` → render → exit code.

pub mod audit;
pub mod check;
pub mod correct;
pub mod ingest;
pub mod keys;
pub mod reindex;
pub mod renew;
pub mod report;
pub mod status;
pub mod tsa;
pub mod verify;
