//! HPKI role (ISO 17090 hcRole) of a healthcare professional's certificate: read from and built
//! into subjectDirectoryAttributes (2.5.29.9), attribute 1.0.17090.0.1.
//!
//! The attribute value is HCActorData ::= SET OF HCActor (ISO 17090-3, and so in the MEDIS HPKI
//! certificates); HCActor ::= SEQUENCE { codedData [0] CodedData }; CodedData ::= SET {
//! codingSchemeReference [0] OID, codeDataFreeText [2] UTF8String } (explicit tags, JP HPKI
//! profile). Reading is lenient: a SEQUENCE OF actors (what hozon's demo certificates carried
//! before, and what asn1crypto — so pyHanko — cannot parse), implicit tags, and the role in [3]
//! (DirectoryString) are accepted too.

use openssl::x509::X509Ref;
use rasn::prelude::*;

use super::extensions::{find_extension, OID_SUBJECT_DIRECTORY_ATTRIBUTES};
use super::PkiError;

/// hcRole attribute type.
pub const OID_HC_ROLE: &[u32] = &[1, 0, 17090, 0, 1];
/// The JP HPKI coding scheme of roles.
pub const OID_HPKI_ROLE_SCHEME: &[u32] = &[1, 2, 392, 100495, 1, 6, 1, 1];

#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq, Hash)]
struct HcActor {
    #[rasn(tag(explicit(0)))]
    coded_data: Option<CodedData>,
    #[rasn(tag(explicit(1)))]
    regional: Option<Any>,
}

#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq, Hash)]
#[rasn(set)]
struct CodedData {
    #[rasn(tag(explicit(0)))]
    coding_scheme_reference: ObjectIdentifier,
    #[rasn(tag(explicit(1)))]
    coding_scheme_version: Option<Any>,
    #[rasn(tag(explicit(2)))]
    free_text: Option<Utf8String>,
    #[rasn(tag(explicit(3)))]
    directory_text: Option<Any>,
}

/// The same structures with implicit tags, seen in some issuers' certificates.
#[derive(AsnType, Decode, Debug, Clone, PartialEq, Eq, Hash)]
struct HcActorImplicit {
    #[rasn(tag(0))]
    coded_data: Option<CodedDataImplicit>,
}

#[derive(AsnType, Decode, Debug, Clone, PartialEq, Eq, Hash)]
#[rasn(set)]
struct CodedDataImplicit {
    #[rasn(tag(0))]
    _coding_scheme_reference: ObjectIdentifier,
    #[rasn(tag(2))]
    free_text: Option<Utf8String>,
}

/// The certificate's HPKI role text ("Medical Doctor", "Pharmacist", ...), if it has one.
/// Never fails: a missing or malformed extension is `None`.
pub fn hc_role(cert: &X509Ref) -> Option<String> {
    let ext = find_extension(cert, OID_SUBJECT_DIRECTORY_ATTRIBUTES).ok()??;
    role_from_extension_value(&ext.value)
}

/// The role from the DER of a subjectDirectoryAttributes extension value.
pub fn role_from_extension_value(der: &[u8]) -> Option<String> {
    let attrs: rasn_pkix::SubjectDirectoryAttributes = rasn::ber::decode(der).ok()?;
    attrs
        .iter()
        .filter(|a| a.r#type.as_ref() == OID_HC_ROLE)
        .flat_map(|a| a.values.to_vec())
        .find_map(|v| role_from_actor_data(v.as_bytes()))
}

fn role_from_actor_data(der: &[u8]) -> Option<String> {
    if let Ok(actors) = rasn::ber::decode::<SetOf<HcActor>>(der) {
        if let Some(r) = actors.iter().find_map(|a| a.coded_data.as_ref().and_then(text_of)) {
            return Some(r);
        }
    }
    if let Ok(actors) = rasn::ber::decode::<Vec<HcActor>>(der) {
        if let Some(r) = actors.iter().find_map(|a| a.coded_data.as_ref().and_then(text_of)) {
            return Some(r);
        }
    }
    let actors = match rasn::ber::decode::<SetOf<HcActorImplicit>>(der) {
        Ok(set) => set.to_vec().into_iter().cloned().collect(),
        Err(_) => rasn::ber::decode::<Vec<HcActorImplicit>>(der).ok()?,
    };
    actors.into_iter().find_map(|a| a.coded_data.and_then(|c| c.free_text))
}

fn text_of(c: &CodedData) -> Option<String> {
    if let Some(t) = &c.free_text {
        return Some(t.clone());
    }
    // [3] DirectoryString: UTF8String or PrintableString inside the explicit tag.
    let any = c.directory_text.as_ref()?;
    if let Ok(s) = rasn::ber::decode::<Utf8String>(any.as_bytes()) {
        return Some(s);
    }
    rasn::ber::decode::<PrintableString>(any.as_bytes())
        .ok()
        .map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned())
}

/// DER of a subjectDirectoryAttributes extension value holding hcRole `role` (JP HPKI coding
/// scheme), for issuing test and demo HPKI certificates.
pub fn hc_role_extension(role: &str) -> Result<Vec<u8>, PkiError> {
    let actor = HcActor {
        coded_data: Some(CodedData {
            coding_scheme_reference: ObjectIdentifier::new_unchecked(OID_HPKI_ROLE_SCHEME.to_vec().into()),
            coding_scheme_version: None,
            free_text: Some(role.to_string()),
            directory_text: None,
        }),
        regional: None,
    };
    // HCActorData is a SET OF (ISO 17090-3), not a SEQUENCE OF.
    let actor_data = rasn::der::encode(&SetOf::from_vec(vec![actor])).map_err(|e| PkiError::Asn1(e.to_string()))?;
    let mut values = SetOf::new();
    values.insert(Any::new(actor_data));
    let attrs: rasn_pkix::SubjectDirectoryAttributes = vec![rasn_pkix::Attribute {
        r#type: ObjectIdentifier::new_unchecked(OID_HC_ROLE.to_vec().into()),
        values,
    }];
    rasn::der::encode(&attrs).map_err(|e| PkiError::Asn1(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::issue::{issue, new_ec_key, CertSpec};
    use time::macros::datetime;

    /// DER wrapper: tag, short or long length, content.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if content.len() < 128 {
            v.push(content.len() as u8);
        } else {
            v.extend([0x81, content.len() as u8]);
        }
        v.extend_from_slice(content);
        v
    }

    const OID_HC_ROLE_DER: &[u8] = &[0x06, 0x06, 0x28, 0x81, 0x85, 0x42, 0x00, 0x01];

    /// HCActorData as a SET OF (ISO 17090-3, MEDIS) with explicit tags, as hozon writes it.
    fn hand_written(explicit: bool, text_tag: u8, role: &str) -> Vec<u8> {
        hand_written_as(0x31, explicit, text_tag, role)
    }

    /// `actor_data_tag` 0x31 (SET OF) or 0x30 (SEQUENCE OF, hozon's demo certificates before).
    fn hand_written_as(actor_data_tag: u8, explicit: bool, text_tag: u8, role: &str) -> Vec<u8> {
        // 1.2.392.100495.1.6.1.1 → 2a 83 08 86 91 0f 01 06 01 01
        let scheme = tlv(0x06, &[0x2a, 0x83, 0x08, 0x86, 0x91, 0x0f, 0x01, 0x06, 0x01, 0x01]);
        let text = tlv(0x0c, role.as_bytes());
        let coded = if explicit {
            tlv(0x31, &[tlv(0xa0, &scheme), tlv(0xa0 | text_tag, &text)].concat())
        } else {
            let scheme_i = [&[0x80u8][..], &scheme[1..]].concat();
            let text_i = [&[0x80u8 | text_tag][..], &text[1..]].concat();
            tlv(0xa0, &[scheme_i, text_i].concat())
        };
        let actor = if explicit {
            tlv(0x30, &tlv(0xa0, &coded))
        } else {
            tlv(0x30, &coded)
        };
        let actor_data = tlv(actor_data_tag, &actor);
        let attr = tlv(0x30, &[OID_HC_ROLE_DER.to_vec(), tlv(0x31, &actor_data)].concat());
        tlv(0x30, &attr)
    }

    #[test]
    fn hand_written_der_parses() {
        // 1.0.17090.0.1: 1*40+0 = 0x28, 17090 = 0x81 0x85 0x42, 0, 1
        assert_eq!(
            rasn::der::encode(&ObjectIdentifier::new_unchecked(OID_HC_ROLE.to_vec().into())).unwrap(),
            OID_HC_ROLE_DER
        );
        assert_eq!(
            role_from_extension_value(&hand_written(true, 2, "Pharmacist")).as_deref(),
            Some("Pharmacist")
        );
        assert_eq!(
            role_from_extension_value(&hand_written(false, 2, "Medical Doctor")).as_deref(),
            Some("Medical Doctor")
        );
        assert_eq!(
            role_from_extension_value(&hand_written(true, 3, "Nurse")).as_deref(),
            Some("Nurse")
        );
        // Our builder produces exactly the hand-written explicit SET OF form...
        assert_eq!(
            hc_role_extension("Pharmacist").unwrap(),
            hand_written(true, 2, "Pharmacist")
        );
        // ...and certificates with the SEQUENCE OF form still read.
        for explicit in [true, false] {
            assert_eq!(
                role_from_extension_value(&hand_written_as(0x30, explicit, 2, "Pharmacist")).as_deref(),
                Some("Pharmacist")
            );
        }
    }

    #[test]
    fn hostile_input_gives_none() {
        let good = hand_written(true, 2, "Medical Doctor");
        for cut in 0..good.len() {
            assert_eq!(role_from_extension_value(&good[..cut]), None, "cut at {cut}");
        }
        let mut bad = good.clone();
        bad[1] = 0x7f; // length beyond the input
        assert_eq!(role_from_extension_value(&bad), None);
        assert_eq!(role_from_extension_value(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
    }

    #[test]
    fn certificate_round_trip() {
        let key = new_ec_key().unwrap();
        let mut spec = CertSpec::signer(
            "医師 太郎",
            datetime!(2024-01-01 0:00 UTC),
            datetime!(2027-01-01 0:00 UTC),
        );
        spec.hc_role = Some("Medical Doctor".into());
        let cert = issue(&spec, &key, None).unwrap();
        assert_eq!(hc_role(&cert).as_deref(), Some("Medical Doctor"));
        let plain = issue(
            &CertSpec::signer(
                "事務 花子",
                datetime!(2024-01-01 0:00 UTC),
                datetime!(2027-01-01 0:00 UTC),
            ),
            &key,
            None,
        )
        .unwrap();
        assert_eq!(hc_role(&plain), None);
    }
}
