//! hozon (保存): scanned paper records → signed, timestamped, long-term verifiable PDF archives.
//!
//! The modules follow the data's path:
//! scan inspection (`scan`) → documents and sidecars (`document`) → profile rules (`rules`, `check`,
//! `workflow`) → PDF assembly (`pdf`) → signing (`sign`, `cms`) → timestamping (`tsp`) → validation
//! data (`ltv`) → archive (`archive`), driven by `ingest`; `verify`, `renew` and `ers` read archives
//! back. `pki` holds certificate handling (trust paths, the demo PKI); `services` wires the config
//! into the seams; `clock`, `config` and `i18n` serve all.

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
pub mod pdf;
pub mod pki;
pub mod services;
pub mod sign;
pub mod tsp;

pub mod archive;
pub mod correct;
pub mod ingest;
pub mod renew;
pub mod reindex;
pub mod ers;
pub mod evidence;
pub mod ops;
pub mod report;
pub mod verify;
