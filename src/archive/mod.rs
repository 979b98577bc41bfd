//! The archive: folder layout, atomic writes, the SQLite catalog and the hash-chained audit log.

pub mod atomic;
pub mod audit;
pub mod catalog;
pub mod crashpoint;
pub mod docline;
pub mod inspect;
pub mod layout;
pub mod store;
