//! One module per command flow, as cargo's `ops`: each takes typed options, drives the domain
//! layers and returns a typed report (serializable; the CLI renders it). Nothing here prints,
//! parses arguments or decides exit codes, and no flow imports another: what two flows share
//! lives in the layer below (`renewal`, `evidence`, `archive`, `check`, `services`).

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
