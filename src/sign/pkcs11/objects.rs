//! The objects on a token that signing needs: private keys (visible after login on most
//! tokens), public keys and certificates (public), read into plain values.

use cryptoki::error::Error as CkError;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;

/// Which key a signer names: by CKA_LABEL or by CKA_ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySelector {
    Label(String),
    Id(Vec<u8>),
}

impl std::fmt::Display for KeySelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySelector::Label(l) => write!(f, "\"{l}\""),
            KeySelector::Id(id) => write!(f, "with id {}", hex::encode(id)),
        }
    }
}

/// A key object (private or public) and what hozon reads of it.
#[derive(Debug, Clone)]
pub struct KeyObject {
    pub handle: ObjectHandle,
    pub label: String,
    pub id: Vec<u8>,
    /// "RSA", "EC" or the module's number for other types.
    pub key_type: Option<KeyType>,
    /// CKA_SIGN (private keys) or CKA_VERIFY (public keys).
    pub usable: bool,
    /// CKA_ALWAYS_AUTHENTICATE: the PIN for every signature.
    pub always_authenticate: bool,
    /// RSA modulus, big-endian (public on most tokens, private keys included).
    pub modulus: Option<Vec<u8>>,
    /// DER of the EC curve's OID.
    pub ec_params: Option<Vec<u8>>,
    /// DER OCTET STRING of the EC public point (public keys).
    pub ec_point: Option<Vec<u8>>,
}

impl KeyObject {
    /// "label (id 01)", as messages and listings show a key.
    pub fn describe(&self) -> String {
        describe(&self.label, &self.id)
    }

    pub fn matches(&self, want: &KeySelector) -> bool {
        match want {
            KeySelector::Label(l) => self.label == *l,
            KeySelector::Id(id) => self.id == *id,
        }
    }

    /// "RSA 2048", "EC P-256", as far as the attributes tell.
    pub fn kind(&self) -> String {
        match self.key_type {
            Some(t) if t == KeyType::RSA => match &self.modulus {
                Some(m) => format!("RSA {}", significant_bits(m)),
                None => "RSA".into(),
            },
            Some(t) if t == KeyType::EC => match self.ec_params.as_deref().map(curve_name) {
                Some(c) => format!("EC {c}"),
                None => "EC".into(),
            },
            Some(t) => format!("{t}"),
            None => "?".into(),
        }
    }
}

/// A certificate object.
#[derive(Debug, Clone)]
pub struct CertObject {
    pub label: String,
    pub id: Vec<u8>,
    pub der: Vec<u8>,
}

pub fn describe(label: &str, id: &[u8]) -> String {
    match (label.is_empty(), id.is_empty()) {
        (false, false) => format!("\"{label}\" (id {})", hex::encode(id)),
        (false, true) => format!("\"{label}\""),
        (true, false) => format!("id {}", hex::encode(id)),
        (true, true) => "(no label, no id)".into(),
    }
}

fn significant_bits(be: &[u8]) -> usize {
    let skip = be.iter().take_while(|b| **b == 0).count();
    let rest = &be[skip..];
    rest.first().map_or(0, |b| (rest.len() - 1) * 8 + (8 - b.leading_zeros() as usize))
}

/// Name of a named curve as PKCS#11 listings and certificates show it.
pub fn nid_curve_name(nid: Option<openssl::nid::Nid>) -> Option<&'static str> {
    use openssl::nid::Nid;
    match nid? {
        Nid::X9_62_PRIME256V1 => Some("P-256"),
        Nid::SECP384R1 => Some("P-384"),
        Nid::SECP521R1 => Some("P-521"),
        _ => None,
    }
}

/// "RSA 2048", "EC P-256": the kind of a certificate's public key.
pub fn public_key_kind(k: &openssl::pkey::PKeyRef<openssl::pkey::Public>) -> String {
    use openssl::pkey::Id;
    match k.id() {
        Id::RSA | Id::RSA_PSS => format!("RSA {}", k.bits()),
        Id::EC => match k.ec_key().ok().and_then(|e| nid_curve_name(e.group().curve_name())) {
            Some(c) => format!("EC {c}"),
            None => "EC".into(),
        },
        other => format!("{other:?}"),
    }
}

/// Name of a curve from the DER of its OID (CKA_EC_PARAMS).
pub fn curve_name(params: &[u8]) -> String {
    match hex::encode(params).as_str() {
        "06082a8648ce3d030107" => "P-256".into(),
        "06052b81040022" => "P-384".into(),
        "06052b81040023" => "P-521".into(),
        other => other.to_string(),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Private keys the session sees (after login, on tokens that keep keys private).
pub fn private_keys(s: &Session) -> Result<Vec<KeyObject>, CkError> {
    keys(s, ObjectClass::PRIVATE_KEY)
}

/// Public key objects (often stored beside a generated key pair).
pub fn public_keys(s: &Session) -> Result<Vec<KeyObject>, CkError> {
    keys(s, ObjectClass::PUBLIC_KEY)
}

fn keys(s: &Session, class: ObjectClass) -> Result<Vec<KeyObject>, CkError> {
    let usable = if class == ObjectClass::PRIVATE_KEY { AttributeType::Sign } else { AttributeType::Verify };
    let mut out = Vec::new();
    for handle in s.find_objects(&[Attribute::Class(class)])? {
        let attrs = s.get_attributes(
            handle,
            &[
                AttributeType::Label,
                AttributeType::Id,
                AttributeType::KeyType,
                usable,
                AttributeType::AlwaysAuthenticate,
                AttributeType::Modulus,
                AttributeType::EcParams,
                AttributeType::EcPoint,
            ],
        )?;
        let mut k = KeyObject {
            handle,
            label: String::new(),
            id: Vec::new(),
            key_type: None,
            usable: false,
            always_authenticate: false,
            modulus: None,
            ec_params: None,
            ec_point: None,
        };
        for a in attrs {
            match a {
                Attribute::Label(v) => k.label = text(&v),
                Attribute::Id(v) => k.id = v,
                Attribute::KeyType(t) => k.key_type = Some(t),
                Attribute::Sign(b) | Attribute::Verify(b) => k.usable = b,
                Attribute::AlwaysAuthenticate(b) => k.always_authenticate = b,
                Attribute::Modulus(v) => k.modulus = Some(v),
                Attribute::EcParams(v) => k.ec_params = Some(v),
                Attribute::EcPoint(v) => k.ec_point = Some(v),
                _ => {}
            }
        }
        out.push(k);
    }
    Ok(out)
}

/// X.509 certificate objects.
pub fn certificates(s: &Session) -> Result<Vec<CertObject>, CkError> {
    let mut out = Vec::new();
    for handle in s.find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)])? {
        let attrs = s.get_attributes(handle, &[AttributeType::Label, AttributeType::Id, AttributeType::Value])?;
        let mut c = CertObject { label: String::new(), id: Vec::new(), der: Vec::new() };
        for a in attrs {
            match a {
                Attribute::Label(v) => c.label = text(&v),
                Attribute::Id(v) => c.id = v,
                Attribute::Value(v) => c.der = v,
                _ => {}
            }
        }
        if !c.der.is_empty() {
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_curves_read_as_people_say_them() {
        let mut m = vec![0u8; 257];
        m[1] = 0xc1;
        assert_eq!(significant_bits(&m), 2048);
        assert_eq!(significant_bits(&[0, 0]), 0);
        assert_eq!(curve_name(&hex::decode("06082a8648ce3d030107").unwrap()), "P-256");
        assert_eq!(curve_name(&hex::decode("06052b81040022").unwrap()), "P-384");
        assert_eq!(describe("署名鍵", &[1]), "\"署名鍵\" (id 01)");
        assert_eq!(describe("", &[]), "(no label, no id)");
    }
}
