//! hozon (保存): scanned paper records → signed, timestamped, long-term verifiable PDF archives.
//!
//! The map is [ARCHITECTURE.md](../ARCHITECTURE.md). In short, the domain layers follow the
//! data's path — scan inspection (`scan`) → documents and sidecars (`document`) → profile and
//! workflow rules (`rules`, `workflow`, `check`) → PDF assembly (`pdf`) → PAdES signing (`pades`
//! over `sign` and `cms`) → timestamping (`tsp`) → validation data (`ltv`) → archive
//! (`archive`); `verify`, `renewal`, `evidence` and `ers` read and extend archives. `pki` holds
//! certificates (trust paths, the demo PKI), `services` wires the config into the seams, and
//! `clock`, `config` and `i18n` serve all. One module per command flow lives in `ops`; the
//! binary (`main.rs`, `cli/`) only parses, dispatches and renders.

pub mod clock;
pub mod config;
pub mod i18n;

pub mod check;
pub mod document;
pub mod rules;
pub mod scan;
pub mod workflow;

pub mod cms;
pub mod ltv;
pub mod pades;
pub mod pdf;
pub mod pki;
pub mod services;
pub mod sign;
pub mod tsp;

pub mod archive;
pub mod ers;
pub mod evidence;
pub mod renewal;
pub mod verify;

pub mod ops;
