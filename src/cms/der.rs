//! Bounded DER framing: find the exact byte span of each element so that signed bytes are
//! verified and kept as they are in the file, never re-serialised. Values themselves are decoded
//! with rasn; this module only reads tags and lengths (definite, single-byte tags, as DER has).

use rasn::types::Integer;

use super::CmsError;

/// Largest CMS / timestamp structure accepted (a PAdES CMS with chains is a few tens of KB).
pub const MAX_DER_BYTES: usize = 16 << 20;
/// Most children read from one constructed element (certificates, attributes, ...).
const MAX_CHILDREN: usize = 4096;

/// One element: its tag byte, the whole encoding and the content octets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub raw: &'a [u8],
    pub value: &'a [u8],
}

fn malformed(what: &str) -> CmsError {
    CmsError::Malformed(what.to_string())
}

/// Read one element from the front of `input`; returns it and the rest.
pub(crate) fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), CmsError> {
    let (&tag, rest) = input.split_first().ok_or_else(|| malformed("unexpected end of data"))?;
    if tag & 0x1f == 0x1f {
        return Err(malformed("multi-byte tag"));
    }
    let (&first, rest) = rest.split_first().ok_or_else(|| malformed("missing length"))?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 {
            return Err(malformed("indefinite length (BER) is not DER"));
        }
        if n > 4 || rest.len() < n {
            return Err(malformed("length field too long"));
        }
        let (bytes, rest) = rest.split_at(n);
        (bytes.iter().fold(0usize, |acc, &b| (acc << 8) | b as usize), rest)
    };
    if len > MAX_DER_BYTES {
        return Err(CmsError::TooLarge {
            size: len,
            max: MAX_DER_BYTES,
        });
    }
    if rest.len() < len {
        return Err(malformed("element longer than the data (truncated?)"));
    }
    let header = input.len() - rest.len();
    let (value, rest) = rest.split_at(len);
    let raw = input.get(..header + len).ok_or_else(|| malformed("length overflow"))?;
    Ok((Tlv { tag, raw, value }, rest))
}

/// Exactly one element filling `input`.
pub(crate) fn read_exact(input: &[u8]) -> Result<Tlv<'_>, CmsError> {
    let (t, rest) = read(input)?;
    if !rest.is_empty() {
        return Err(malformed("trailing bytes after element"));
    }
    Ok(t)
}

/// The children of a constructed element.
pub(crate) fn children(value: &[u8]) -> Result<Vec<Tlv<'_>>, CmsError> {
    let mut out = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        if out.len() >= MAX_CHILDREN {
            return Err(malformed("too many elements"));
        }
        let (t, r) = read(rest)?;
        out.push(t);
        rest = r;
    }
    Ok(out)
}

/// Check that `t` has the `want` tag.
pub(crate) fn expect<'a>(t: Option<&Tlv<'a>>, want: u8, what: &str) -> Result<Tlv<'a>, CmsError> {
    match t {
        Some(t) if t.tag == want => Ok(*t),
        _ => Err(malformed(what)),
    }
}

/// Offset of `part` inside `whole` (both slices of the same buffer).
pub(crate) fn offset_in(whole: &[u8], part: &[u8]) -> Option<usize> {
    let w = whole.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    (p >= w && p + part.len() <= w + whole.len()).then(|| p - w)
}

/// Encode a tag and definite length followed by `content`.
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|&b| b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The same element with another tag byte (e.g. `[0] IMPLICIT` signed attributes → SET).
pub(crate) fn retag(raw: &[u8], tag: u8) -> Vec<u8> {
    let mut v = raw.to_vec();
    if let Some(first) = v.first_mut() {
        *first = tag;
    }
    v
}

/// Two's-complement big-endian content octets of an INTEGER.
pub(crate) fn integer_bytes(i: &Integer) -> Result<Vec<u8>, CmsError> {
    let der = rasn::der::encode(i).map_err(|e| CmsError::Encode(e.to_string()))?;
    Ok(read_exact(&der)?.value.to_vec())
}

/// A non-negative INTEGER from unsigned big-endian bytes (serial numbers, nonces).
pub(crate) fn integer_from_unsigned(bytes: &[u8]) -> Result<Integer, CmsError> {
    let trimmed: &[u8] = match bytes.iter().position(|&b| b != 0) {
        Some(p) => bytes.get(p..).unwrap_or(&[]),
        None => &[0],
    };
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_some_and(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    rasn::der::decode(&encode(0x02, &content)).map_err(|e| CmsError::Encode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let small = encode(0x04, b"abc");
        assert_eq!(small, vec![0x04, 3, b'a', b'b', b'c']);
        let big = encode(0x04, &vec![7u8; 300]);
        assert_eq!(&big[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let t = read_exact(&big).unwrap();
        assert_eq!(t.value.len(), 300);
        assert_eq!(offset_in(&big, t.value), Some(4));
    }

    #[test]
    fn refuses_truncation_indefinite_and_huge_lengths() {
        let big = encode(0x30, &vec![0u8; 200]);
        assert!(read(&big[..100]).is_err());
        assert!(read(&[0x30, 0x80, 0, 0]).is_err());
        assert!(matches!(
            read(&[0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]),
            Err(CmsError::TooLarge { .. })
        ));
        assert!(read(&[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]).is_err());
        assert!(read(&[]).is_err());
        assert!(read_exact(&[0x05, 0x00, 0x00]).is_err());
    }

    #[test]
    fn integers_round_trip_as_unsigned() {
        for bytes in [vec![0x00u8], vec![0x7f], vec![0x80], vec![0x00, 0x00, 0xff, 0x01]] {
            let i = integer_from_unsigned(&bytes).unwrap();
            let back = integer_bytes(&i).unwrap();
            let want: Vec<u8> = {
                let t: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
                let t = if t.is_empty() { vec![0] } else { t };
                if t[0] & 0x80 != 0 {
                    [vec![0], t].concat()
                } else {
                    t
                }
            };
            assert_eq!(back, want);
        }
    }
}
