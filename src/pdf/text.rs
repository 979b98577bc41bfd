//! PDF text strings and dates: PDFDocEncoding when the text is plain ASCII, UTF-16BE with a
//! byte-order mark otherwise (Japanese names), and `D:YYYYMMDDHHmmSS+00'00'` dates.

use time::OffsetDateTime;

use super::object::Object;

/// Encode a text string for the PDF.
pub fn text_string(s: &str) -> Object {
    // Printable ASCII is identical in PDFDocEncoding; control characters go the UTF-16 way too.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::Str(s.as_bytes().to_vec())
    } else {
        let mut v = Vec::with_capacity(2 + s.len() * 2);
        v.extend_from_slice(&[0xFE, 0xFF]);
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_be_bytes());
        }
        Object::Str(v)
    }
}

/// Decode a text string: UTF-16BE with BOM, UTF-8 with BOM (PDF 2.0), else PDFDocEncoding
/// (decoded as Latin-1, which agrees on the printable ASCII range that matters here).
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    }
}

/// `D:YYYYMMDDHHmmSS+00'00'` in UTC.
pub fn pdf_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+00'00'",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parse a PDF date (`D:` prefix optional, fields after the year optional, offset optional).
pub fn parse_pdf_date(s: &str) -> Option<OffsetDateTime> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return None;
    }
    let field = |from: usize, len: usize, default: u32| -> Option<u32> {
        match digits.get(from..from + len) {
            Some(f) => f.parse().ok(),
            None => Some(default),
        }
    };
    let year = i32::try_from(field(0, 4, 0)?).ok()?;
    let month = time::Month::try_from(u8::try_from(field(4, 2, 1)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(field(6, 2, 1)?).ok()?).ok()?;
    let tod = time::Time::from_hms(
        u8::try_from(field(8, 2, 0)?).ok()?,
        u8::try_from(field(10, 2, 0)?).ok()?,
        u8::try_from(field(12, 2, 0)?).ok()?,
    )
    .ok()?;
    let rest = &s[digits.len()..];
    let offset = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let nums: Vec<i8> = rest[1..]
                .split('\'')
                .filter(|p| !p.is_empty())
                .filter_map(|p| p.parse().ok())
                .collect();
            let (h, m) = (nums.first().copied().unwrap_or(0), nums.get(1).copied().unwrap_or(0));
            let k = if sign == '-' { -1 } else { 1 };
            time::UtcOffset::from_hms(k * h, k * m, 0).ok()?
        }
        _ => time::UtcOffset::UTC,
    };
    Some(time::PrimitiveDateTime::new(date, tod).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn ascii_stays_plain_and_japanese_becomes_utf16be() {
        assert_eq!(text_string("Dr. Who"), Object::Str(b"Dr. Who".to_vec()));
        let Object::Str(b) = text_string("山田 花子") else {
            panic!()
        };
        assert_eq!(
            b,
            vec![0xFE, 0xFF, 0x5C, 0x71, 0x75, 0x30, 0x00, 0x20, 0x82, 0xB1, 0x5B, 0x50]
        );
        assert_eq!(decode_text(&b), "山田 花子");
        assert_eq!(decode_text(b"plain"), "plain");
    }

    #[test]
    fn dates_round_trip() {
        let t = datetime!(2026-11-27 04:05:06 UTC);
        assert_eq!(pdf_date(t), "D:20261127040506+00'00'");
        assert_eq!(parse_pdf_date(&pdf_date(t)), Some(t));
        assert_eq!(parse_pdf_date("D:20261127130506+09'00'"), Some(t));
        assert_eq!(parse_pdf_date("D:2026"), Some(datetime!(2026-01-01 00:00 UTC)));
        assert_eq!(parse_pdf_date("garbage"), None);
    }
}
