//! Bounds-checked big/little-endian reads over a byte slice: every header reader goes through
//! here, so a lying length or offset becomes an error instead of a panic.

use super::ScanError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    Big,
    Little,
}

/// The bytes `data[offset..offset + len]`, or a truncation error naming `what`.
pub(crate) fn slice<'a>(data: &'a [u8], offset: usize, len: usize, what: &str) -> Result<&'a [u8], ScanError> {
    let end = offset.checked_add(len).ok_or_else(|| ScanError::truncated(what))?;
    data.get(offset..end).ok_or_else(|| ScanError::truncated(what))
}

pub(crate) fn u8_at(data: &[u8], offset: usize, what: &str) -> Result<u8, ScanError> {
    data.get(offset).copied().ok_or_else(|| ScanError::truncated(what))
}

pub(crate) fn u16_at(data: &[u8], offset: usize, e: Endian, what: &str) -> Result<u16, ScanError> {
    let a: [u8; 2] = slice(data, offset, 2, what)?
        .try_into()
        .map_err(|_| ScanError::truncated(what))?;
    Ok(match e {
        Endian::Big => u16::from_be_bytes(a),
        Endian::Little => u16::from_le_bytes(a),
    })
}

pub(crate) fn u32_at(data: &[u8], offset: usize, e: Endian, what: &str) -> Result<u32, ScanError> {
    let a: [u8; 4] = slice(data, offset, 4, what)?
        .try_into()
        .map_err(|_| ScanError::truncated(what))?;
    Ok(match e {
        Endian::Big => u32::from_be_bytes(a),
        Endian::Little => u32::from_le_bytes(a),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_byte_orders_and_refuses_past_end() {
        let d = [0x12, 0x34, 0x56, 0x78];
        assert_eq!(u16_at(&d, 0, Endian::Big, "x").unwrap(), 0x1234);
        assert_eq!(u16_at(&d, 2, Endian::Little, "x").unwrap(), 0x7856);
        assert_eq!(u32_at(&d, 0, Endian::Big, "x").unwrap(), 0x12345678);
        assert_eq!(u32_at(&d, 1, Endian::Big, "x").unwrap_err().code(), "unreadable");
        assert!(slice(&d, usize::MAX, 2, "x").is_err());
        assert!(u8_at(&d, 4, "x").is_err());
    }
}
