//! Parsing any CMS SignedData a PDF may carry (hozon, pyHanko, Acrobat): the element spans come
//! from bounded DER framing so signed attributes and certificates keep their exact file bytes;
//! values are decoded with rasn. Only the first SignerInfo is interpreted (PDF signatures have one).

use openssl::x509::{X509Crl, X509};
use rasn::prelude::*;
use rasn_pkix::AlgorithmIdentifier;

use super::der::{self, Tlv};
use super::{oids, CmsError};
use crate::sign::DigestAlg;

/// One attribute: its type and the raw DER of each value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAttribute {
    pub oid: ObjectIdentifier,
    pub values: Vec<Vec<u8>>,
}

/// How the SignerInfo names its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerIdentifier {
    /// Issuer name (DER) and serial number (unsigned big-endian).
    IssuerSerial {
        issuer_der: Vec<u8>,
        serial: Vec<u8>,
    },
    SubjectKeyId(Vec<u8>),
}

/// A parsed SignedData with one signer.
#[derive(Debug, Clone)]
pub struct ParsedSignedData {
    pub(crate) der: Vec<u8>,
    pub(crate) digest_algorithms: Vec<ObjectIdentifier>,
    pub(crate) econtent_type: ObjectIdentifier,
    pub(crate) econtent: Option<Vec<u8>>,
    pub(crate) certificates: Vec<X509>,
    /// Raw DER of each CRL in the SignedData (checked to parse).
    pub(crate) crls: Vec<Vec<u8>>,
    pub(crate) signer_info_count: usize,
    pub(crate) sid: SignerIdentifier,
    pub(crate) digest_oid: ObjectIdentifier,
    pub(crate) signed_attrs: Option<Vec<u8>>,
    pub(crate) attributes: Vec<ParsedAttribute>,
    pub(crate) signature_algorithm: AlgorithmIdentifier,
    pub(crate) signature: Vec<u8>,
    pub(crate) unsigned: Vec<ParsedAttribute>,
    pub(crate) signer_index: Option<usize>,
}

fn bad(what: &str) -> CmsError {
    CmsError::Malformed(what.to_string())
}

fn decode<T: rasn::Decode>(raw: &[u8], what: &str) -> Result<T, CmsError> {
    rasn::der::decode(raw).map_err(|e| CmsError::Malformed(format!("{what}: {e}")))
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&x| x == 0).count();
    b.get(n..).unwrap_or(&[])
}

fn parse_attributes(set_value: &[u8]) -> Result<Vec<ParsedAttribute>, CmsError> {
    der::children(set_value)?
        .iter()
        .map(|a| {
            let seq = der::expect(Some(a), 0x30, "attribute is not a SEQUENCE")?;
            let f = der::children(seq.value)?;
            let oid_tlv = der::expect(f.first(), 0x06, "attribute type")?;
            let set = der::expect(f.get(1), 0x31, "attribute values")?;
            Ok(ParsedAttribute {
                oid: decode(oid_tlv.raw, "attribute type")?,
                values: der::children(set.value)?.iter().map(|v| v.raw.to_vec()).collect(),
            })
        })
        .collect()
}

/// Parse a DER ContentInfo(SignedData). Trailing zero bytes (PDF /Contents padding) are ignored.
pub fn parse_signed_data(input: &[u8]) -> Result<ParsedSignedData, CmsError> {
    let (ci, rest) = der::read(input)?;
    if rest.iter().any(|&b| b != 0) {
        return Err(bad("data after the ContentInfo"));
    }
    let ci = der::expect(Some(&ci), 0x30, "ContentInfo is not a SEQUENCE")?;
    let f = der::children(ci.value)?;
    let ct = der::expect(f.first(), 0x06, "ContentInfo contentType")?;
    let ct: ObjectIdentifier = decode(ct.raw, "contentType")?;
    if ct != *oids::ID_SIGNED_DATA {
        return Err(CmsError::Unsupported(format!("content type {ct} (not SignedData)")));
    }
    let explicit = der::expect(f.get(1), 0xa0, "ContentInfo content")?;
    let sd = der::expect(
        Some(&der::read_exact(explicit.value)?),
        0x30,
        "SignedData is not a SEQUENCE",
    )?;
    let mut fields = der::children(sd.value)?.into_iter().peekable();
    der::expect(fields.next().as_ref(), 0x02, "SignedData version")?;
    let algs = der::expect(fields.next().as_ref(), 0x31, "digestAlgorithms")?;
    let digest_algorithms = der::children(algs.value)?
        .iter()
        .map(|a| decode::<AlgorithmIdentifier>(a.raw, "digest algorithm").map(|ai| ai.algorithm))
        .collect::<Result<Vec<_>, _>>()?;
    let eci = der::expect(fields.next().as_ref(), 0x30, "encapContentInfo")?;
    let ef = der::children(eci.value)?;
    let econtent_type: ObjectIdentifier = decode(der::expect(ef.first(), 0x06, "eContentType")?.raw, "eContentType")?;
    let econtent = match ef.get(1) {
        Some(t) if t.tag == 0xa0 => {
            let inner = der::read_exact(t.value)?;
            Some(decode::<OctetString>(inner.raw, "eContent")?.to_vec())
        }
        Some(_) => return Err(bad("eContent")),
        None => None,
    };
    let mut certificates = Vec::new();
    if let Some(t) = fields.next_if(|t| t.tag == 0xa0) {
        for c in der::children(t.value)? {
            // Attribute certificates and other formats ([1]..[3]) are skipped.
            if c.tag == 0x30 {
                certificates.push(crate::pki::certcache::x509_from_der(c.raw).map_err(|_| bad("certificate"))?);
            }
        }
    }
    let mut crls = Vec::new();
    if let Some(t) = fields.next_if(|t| t.tag == 0xa1) {
        for c in der::children(t.value)? {
            if c.tag == 0x30 {
                X509Crl::from_der(c.raw).map_err(|_| bad("CRL"))?;
                crls.push(c.raw.to_vec());
            }
        }
    }
    let infos = der::expect(fields.next().as_ref(), 0x31, "signerInfos")?;
    if fields.next().is_some() {
        return Err(bad("elements after signerInfos"));
    }
    let infos = der::children(infos.value)?;
    let si = der::expect(infos.first(), 0x30, "no SignerInfo")?;
    let mut parsed = parse_signer_info(&si)?;
    parsed.der = input.get(..ci.raw.len()).unwrap_or(ci.raw).to_vec();
    parsed.digest_algorithms = digest_algorithms;
    parsed.econtent_type = econtent_type;
    parsed.econtent = econtent;
    parsed.certificates = certificates;
    parsed.crls = crls;
    parsed.signer_info_count = infos.len();
    parsed.signer_index = parsed.find_signer();
    Ok(parsed)
}

fn parse_signer_info(si: &Tlv<'_>) -> Result<ParsedSignedData, CmsError> {
    let mut f = der::children(si.value)?.into_iter().peekable();
    der::expect(f.next().as_ref(), 0x02, "SignerInfo version")?;
    let sid = match f.next() {
        Some(t) if t.tag == 0x30 => {
            let parts = der::children(t.value)?;
            let issuer = der::expect(parts.first(), 0x30, "sid issuer")?;
            let serial = der::expect(parts.get(1), 0x02, "sid serial")?;
            SignerIdentifier::IssuerSerial {
                issuer_der: issuer.raw.to_vec(),
                serial: strip_zeros(serial.value).to_vec(),
            }
        }
        Some(t) if t.tag == 0x80 => SignerIdentifier::SubjectKeyId(t.value.to_vec()),
        _ => return Err(bad("SignerInfo sid")),
    };
    let dig = der::expect(f.next().as_ref(), 0x30, "SignerInfo digestAlgorithm")?;
    let digest_oid = decode::<AlgorithmIdentifier>(dig.raw, "digestAlgorithm")?.algorithm;
    let (signed_attrs, attributes) = match f.next_if(|t| t.tag == 0xa0) {
        // Verified over the bytes as found, re-tagged [0] IMPLICIT → SET (RFC 5652 §5.4).
        Some(t) => (Some(der::retag(t.raw, 0x31)), parse_attributes(t.value)?),
        None => (None, Vec::new()),
    };
    let sa = der::expect(f.next().as_ref(), 0x30, "signatureAlgorithm")?;
    let signature_algorithm: AlgorithmIdentifier = decode(sa.raw, "signatureAlgorithm")?;
    let sig = der::expect(f.next().as_ref(), 0x04, "signature")?;
    let unsigned = match f.next_if(|t| t.tag == 0xa1) {
        Some(t) => parse_attributes(t.value)?,
        None => Vec::new(),
    };
    if f.next().is_some() {
        return Err(bad("elements after SignerInfo unsignedAttrs"));
    }
    Ok(ParsedSignedData {
        der: Vec::new(),
        digest_algorithms: Vec::new(),
        econtent_type: oids::ID_DATA.to_owned(),
        econtent: None,
        certificates: Vec::new(),
        crls: Vec::new(),
        signer_info_count: 0,
        sid,
        digest_oid,
        signed_attrs,
        attributes,
        signature_algorithm,
        signature: sig.value.to_vec(),
        unsigned,
        signer_index: None,
    })
}

impl ParsedSignedData {
    fn find_signer(&self) -> Option<usize> {
        self.certificates.iter().position(|c| match &self.sid {
            SignerIdentifier::IssuerSerial { issuer_der, serial } => {
                let same_serial =
                    c.serial_number().to_bn().map(|b| b.to_vec()).ok().as_deref() == Some(strip_zeros(serial));
                let same_issuer = c.issuer_name().to_der().ok().as_deref() == Some(issuer_der.as_slice())
                    || openssl::x509::X509Name::from_der(issuer_der)
                        .ok()
                        .and_then(|n| n.try_cmp(c.issuer_name()).ok())
                        == Some(std::cmp::Ordering::Equal);
                same_serial && same_issuer
            }
            SignerIdentifier::SubjectKeyId(ski) => c.subject_key_id().map(|k| k.as_slice()) == Some(ski.as_slice()),
        })
    }

    /// The whole ContentInfo, exactly as read (without trailing padding).
    pub fn der(&self) -> &[u8] {
        &self.der
    }
    pub fn signer_certificate(&self) -> Option<&X509> {
        self.signer_index.and_then(|i| self.certificates.get(i))
    }
    pub fn signer_identifier(&self) -> &SignerIdentifier {
        &self.sid
    }
    pub fn signature_value(&self) -> &[u8] {
        &self.signature
    }
    pub fn certificates(&self) -> &[X509] {
        &self.certificates
    }
    /// DER of the CRLs carried in the SignedData.
    pub fn crls(&self) -> &[Vec<u8>] {
        &self.crls
    }
    pub fn signer_info_count(&self) -> usize {
        self.signer_info_count
    }
    pub fn digest_algorithms(&self) -> &[ObjectIdentifier] {
        &self.digest_algorithms
    }
    /// The signer's digest algorithm (hash the signed content with this).
    pub fn digest_algorithm(&self) -> Result<DigestAlg, CmsError> {
        DigestAlg::from_oid(&self.digest_oid)
            .ok_or_else(|| CmsError::Unsupported(format!("digest algorithm {}", self.digest_oid)))
    }
    pub fn signature_algorithm(&self) -> &AlgorithmIdentifier {
        &self.signature_algorithm
    }
    pub fn encapsulated_content_type(&self) -> &ObjectIdentifier {
        &self.econtent_type
    }
    pub fn encapsulated_content(&self) -> Option<&[u8]> {
        self.econtent.as_deref()
    }
    /// The signed attributes as a DER SET (tag 0x31), the bytes the signature covers.
    pub fn signed_attributes_der(&self) -> Option<&[u8]> {
        self.signed_attrs.as_deref()
    }
    pub fn signed_attributes(&self) -> &[ParsedAttribute] {
        &self.attributes
    }
    pub fn unsigned_attributes(&self) -> &[ParsedAttribute] {
        &self.unsigned
    }
    /// The single value of a signed attribute; an error when it repeats.
    pub(crate) fn signed_attribute(&self, oid: &Oid) -> Result<Option<&[u8]>, CmsError> {
        let mut found = self.attributes.iter().filter(|a| a.oid == *oid);
        let Some(a) = found.next() else { return Ok(None) };
        if found.next().is_some() || a.values.len() != 1 {
            return Err(CmsError::Malformed(format!(
                "attribute {oid} must occur once with one value"
            )));
        }
        Ok(a.values.first().map(Vec::as_slice))
    }
    pub fn content_type_attribute(&self) -> Result<Option<ObjectIdentifier>, CmsError> {
        self.signed_attribute(oids::ID_CONTENT_TYPE)?
            .map(|v| decode(v, "content-type attribute"))
            .transpose()
    }
    pub fn message_digest_attribute(&self) -> Result<Option<Vec<u8>>, CmsError> {
        self.signed_attribute(oids::ID_MESSAGE_DIGEST)?
            .map(|v| decode::<OctetString>(v, "message-digest attribute").map(|o| o.to_vec()))
            .transpose()
    }
    pub fn has_signing_time(&self) -> bool {
        self.attributes.iter().any(|a| a.oid == *oids::ID_SIGNING_TIME)
    }
    /// Raw RFC 3161 tokens in id-aa-signatureTimeStampToken unsigned attributes.
    pub fn timestamp_tokens(&self) -> Vec<&[u8]> {
        self.unsigned
            .iter()
            .filter(|a| a.oid == *oids::ID_AA_SIGNATURE_TIMESTAMP_TOKEN)
            .flat_map(|a| a.values.iter().map(Vec::as_slice))
            .collect()
    }
}
