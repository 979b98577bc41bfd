//! The demo PKI (see below).
pub struct DemoPki;
