//! Adding a signature timestamp to an existing SignedData by splicing bytes: the token becomes
//! an id-aa-signatureTimeStampToken unsigned attribute, only the lengths of the enclosing
//! elements change, and every other byte (signed attributes, certificates) stays as it was.

use super::der::{self, Tlv};
use super::{oids, CmsError};

fn malformed(what: &str) -> CmsError {
    CmsError::Malformed(what.to_string())
}

/// Rebuild `outer` with its child `old` replaced by `new` (a complete TLV).
fn replace_child(outer: &Tlv<'_>, old: &[u8], new: &[u8]) -> Result<Vec<u8>, CmsError> {
    let start = der::offset_in(outer.value, old).ok_or_else(|| malformed("span"))?;
    let end = start + old.len();
    let mut content = Vec::with_capacity(outer.value.len() + new.len());
    content.extend_from_slice(outer.value.get(..start).ok_or_else(|| malformed("span"))?);
    content.extend_from_slice(new);
    content.extend_from_slice(outer.value.get(end..).ok_or_else(|| malformed("span"))?);
    Ok(der::encode(outer.tag, &content))
}

/// Add `token` (a raw RFC 3161 TimeStampToken) to the first SignerInfo of `cms_der`.
pub fn add_signature_timestamp(cms_der: &[u8], token: &[u8]) -> Result<Vec<u8>, CmsError> {
    let tok = der::read_exact(token)?;
    if tok.tag != 0x30 {
        return Err(malformed("timestamp token is not a SEQUENCE"));
    }
    // Validate the whole CMS first; this also trims PDF padding.
    let parsed = super::parse_signed_data(cms_der)?;
    let whole = parsed.der();
    let ci = der::read_exact(whole)?;
    let ci_kids = der::children(ci.value)?;
    let explicit = der::expect(ci_kids.get(1), 0xa0, "ContentInfo content")?;
    let sd = der::read_exact(explicit.value)?;
    let sd_kids = der::children(sd.value)?;
    let infos = der::expect(sd_kids.last(), 0x31, "signerInfos")?;
    let si = der::expect(der::children(infos.value)?.first(), 0x30, "SignerInfo")?;
    let si_kids = der::children(si.value)?;

    let oid = rasn::der::encode(&oids::ID_AA_SIGNATURE_TIMESTAMP_TOKEN.to_owned())
        .map_err(|e| CmsError::Encode(e.to_string()))?;
    let attr = der::encode(0x30, &[oid, der::encode(0x31, token)].concat());
    let new_si = match si_kids.last() {
        Some(last) if last.tag == 0xa1 => {
            // DER SET OF order: insert the attribute where its encoding sorts.
            let mut attrs: Vec<Vec<u8>> = der::children(last.value)?.iter().map(|a| a.raw.to_vec()).collect();
            attrs.push(attr);
            attrs.sort();
            replace_child(&si, last.raw, &der::encode(0xa1, &attrs.concat()))?
        }
        _ => {
            let mut content = si.value.to_vec();
            content.extend(der::encode(0xa1, &attr));
            der::encode(0x30, &content)
        }
    };
    let new_infos = replace_child(&infos, si.raw, &new_si)?;
    let new_sd = replace_child(&sd, infos.raw, &new_infos)?;
    let new_explicit = der::encode(0xa0, &new_sd);
    replace_child(&ci, explicit.raw, &new_explicit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cms::{parse_signed_data, sign_detached};
    use crate::sign::test_pki::{self, KeyKind, Usage};
    use crate::sign::DigestAlg;

    #[test]
    fn splicing_keeps_signed_bytes_and_adds_the_token() {
        let ca = test_pki::ca("CA");
        let s = test_pki::signer(&ca, KeyKind::Rsa2048, "x", Usage::Signer);
        let d = DigestAlg::Sha256.digest(b"c").unwrap();
        let cms = sign_detached(&s, &d).unwrap().finish(None).unwrap();
        let fake_token = der::encode(0x30, &der::encode(0x04, &[0xAB; 300]));
        let out = add_signature_timestamp(&cms, &fake_token).unwrap();
        let before = parse_signed_data(&cms).unwrap();
        let after = parse_signed_data(&out).unwrap();
        assert_eq!(after.timestamp_tokens(), vec![fake_token.as_slice()]);
        assert_eq!(after.signed_attributes_der(), before.signed_attributes_der());
        after.verify(&d).unwrap();
        // A second token joins the same unsigned attribute set.
        let tok2 = der::encode(0x30, &der::encode(0x04, &[0xCD; 10]));
        let twice = add_signature_timestamp(&out, &tok2).unwrap();
        assert_eq!(parse_signed_data(&twice).unwrap().timestamp_tokens().len(), 2);
        assert!(add_signature_timestamp(&cms, &[0x04, 0x01, 0x00]).is_err());
    }
}
