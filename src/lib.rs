//! hozon (保存): scanned paper records → signed, timestamped, long-term verifiable PDF archives.
//!
//! The modules follow the data's path:
//! scan inspection (`scan`) → documents and sidecars (`document`) → profile rules (`rules`, `check`)
//! → PDF assembly (`pdf`) → signing (`sign`, `cms`) → timestamping (`tsp`) → validation data
//! (`ltv`) → archive (`archive`), driven by `ingest`; `verify` and `renew` read archives back.
//! `pki` holds certificate handling (trust paths, the demo PKI); `clock` and `config` serve all.

pub mod clock;
pub mod config;

pub mod scan;
pub mod document;
pub mod rules;
pub mod check;

pub mod pdf;
pub mod cms;
pub mod sign;
pub mod tsp;
pub mod pki;
pub mod ltv;

pub mod archive;
pub mod ingest;
