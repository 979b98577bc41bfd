//! Object identifiers hozon's CMS uses that rasn does not name.

use rasn::types::Oid;

pub const ID_DATA: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 7, 1]);
pub const ID_SIGNED_DATA: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 7, 2]);
pub const ID_CT_TST_INFO: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 9, 16, 1, 4]);
pub const ID_CONTENT_TYPE: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 9, 3]);
pub const ID_MESSAGE_DIGEST: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 9, 4]);
pub const ID_SIGNING_TIME: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 9, 5]);
/// ESS signing-certificate (RFC 2634, SHA-1 only).
pub const ID_AA_SIGNING_CERTIFICATE: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 9, 16, 2, 12]);
/// ESS signing-certificate-v2 (RFC 5035).
pub const ID_AA_SIGNING_CERTIFICATE_V2: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 9, 16, 2, 47]);
/// Unsigned attribute carrying an RFC 3161 token over the signature value.
pub const ID_AA_SIGNATURE_TIMESTAMP_TOKEN: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 9, 16, 2, 14]);

pub const RSA_ENCRYPTION: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 1, 1]);
pub const ID_MGF1: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 1, 8]);
pub const ID_RSASSA_PSS: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 1, 10]);
pub const SHA256_WITH_RSA: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 1, 11]);
pub const SHA384_WITH_RSA: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 1, 12]);
pub const SHA512_WITH_RSA: &Oid = Oid::const_new(&[1, 2, 840, 113549, 1, 1, 13]);
pub const ID_EC_PUBLIC_KEY: &Oid = Oid::const_new(&[1, 2, 840, 10045, 2, 1]);
pub const ECDSA_WITH_SHA256: &Oid = Oid::const_new(&[1, 2, 840, 10045, 4, 3, 2]);
pub const ECDSA_WITH_SHA384: &Oid = Oid::const_new(&[1, 2, 840, 10045, 4, 3, 3]);
pub const ECDSA_WITH_SHA512: &Oid = Oid::const_new(&[1, 2, 840, 10045, 4, 3, 4]);
