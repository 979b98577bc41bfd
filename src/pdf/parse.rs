//! A bounded parser for PDF objects: nesting depth is capped, every allocation is bounded by
//! the input, and every failure is an error rather than a panic.

use super::error::{malformed, PdfError};
use super::object::{Dict, ObjId, Object};

/// Deepest array/dictionary nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// Most entries in one dictionary (lookups are linear; real dictionaries are small).
pub const MAX_DICT_ENTRIES: usize = 4096;

/// A cursor over the file's bytes.
pub struct Parser<'a> {
    pub src: &'a [u8],
    pub pos: usize,
}

pub fn is_white(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

pub fn is_delim(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

impl<'a> Parser<'a> {
    pub fn new(src: &'a [u8], pos: usize) -> Parser<'a> {
        Parser { src, pos }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    /// Skip whitespace and comments.
    pub fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_white(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\r' || c == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// The next regular-character token (keyword or number) without consuming it.
    fn peek_word(&self) -> &'a [u8] {
        let rest = self.src.get(self.pos..).unwrap_or(&[]);
        let len = rest
            .iter()
            .position(|&b| is_white(b) || is_delim(b))
            .unwrap_or(rest.len());
        &rest[..len]
    }

    pub fn word(&mut self) -> &'a [u8] {
        self.skip_ws();
        let w = self.peek_word();
        self.pos += w.len();
        w
    }

    /// Consume `kw` (after whitespace) or fail.
    pub fn expect_keyword(&mut self, kw: &str) -> Result<(), PdfError> {
        let at = self.pos;
        if self.word() == kw.as_bytes() {
            Ok(())
        } else {
            Err(malformed(format!("expected '{kw}' at offset {at}")))
        }
    }

    pub fn parse_uint(&mut self) -> Result<u64, PdfError> {
        let at = self.pos;
        let w = self.word();
        parse_u64(w).ok_or_else(|| malformed(format!("expected an unsigned integer at offset {at}")))
    }

    /// One direct object (references `n g R` included; streams are handled by the caller).
    pub fn parse_object(&mut self, depth: usize) -> Result<Object, PdfError> {
        if depth > MAX_DEPTH {
            return Err(PdfError::Limit(format!("nesting deeper than {MAX_DEPTH}")));
        }
        self.skip_ws();
        let start = self.pos;
        let b = self.peek().ok_or_else(|| malformed("unexpected end of file"))?;
        match b {
            b'/' => {
                self.pos += 1;
                Ok(Object::Name(self.parse_name_body()?))
            }
            b'(' => Ok(Object::Str(self.parse_literal()?)),
            b'<' if self.src.get(self.pos + 1) == Some(&b'<') => Ok(Object::Dict(self.parse_dict_body(depth)?)),
            b'<' => Ok(Object::Hex(self.parse_hex()?)),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Object::Array(items));
                        }
                        Some(_) => items.push(self.parse_object(depth + 1)?),
                        None => return Err(malformed("unterminated array")),
                    }
                }
            }
            _ => {
                let w = self.word();
                match w {
                    b"null" => Ok(Object::Null),
                    b"true" => Ok(Object::Bool(true)),
                    b"false" => Ok(Object::Bool(false)),
                    _ => self.number_or_ref(w, start),
                }
            }
        }
    }

    fn number_or_ref(&mut self, w: &[u8], start: usize) -> Result<Object, PdfError> {
        if let Some(n) = parse_u64(w) {
            // Look ahead for "g R" without committing.
            let save = self.pos;
            let g = self.word();
            if let Some(gen) = parse_u64(g) {
                if self.word() == b"R" {
                    let num = u32::try_from(n).map_err(|_| malformed("object number too large"))?;
                    let gen = u16::try_from(gen).map_err(|_| malformed("generation too large"))?;
                    return Ok(Object::Ref(ObjId(num, gen)));
                }
            }
            self.pos = save;
        }
        let text = std::str::from_utf8(w).map_err(|_| malformed(format!("bad token at {start}")))?;
        if text.is_empty() {
            return Err(malformed(format!("unexpected byte at offset {start}")));
        }
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Object::Int(i));
        }
        let looks_real = text
            .bytes()
            .all(|c| c.is_ascii_digit() || c == b'.' || c == b'-' || c == b'+');
        match text.parse::<f64>() {
            Ok(r) if looks_real => Ok(Object::Real(r)),
            _ => Err(malformed(format!(
                "unknown token '{}' at offset {start}",
                text.escape_debug()
            ))),
        }
    }

    fn parse_name_body(&mut self) -> Result<Vec<u8>, PdfError> {
        let raw = self.peek_word();
        self.pos += raw.len();
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            let c = raw[i];
            if c == b'#' && i + 2 < raw.len() {
                if let (Some(h), Some(l)) = (hex_val(raw[i + 1]), hex_val(raw[i + 2])) {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
            }
            out.push(c);
            i += 1;
        }
        Ok(out)
    }

    fn parse_literal(&mut self) -> Result<Vec<u8>, PdfError> {
        self.pos += 1; // '('
        let mut out = Vec::new();
        let mut level = 1usize;
        loop {
            let c = self.peek().ok_or_else(|| malformed("unterminated string"))?;
            self.pos += 1;
            match c {
                b'(' => {
                    level += 1;
                    out.push(c);
                }
                b')' => {
                    level -= 1;
                    if level == 0 {
                        return Ok(out);
                    }
                    out.push(c);
                }
                b'\\' => {
                    let e = self.peek().ok_or_else(|| malformed("unterminated string"))?;
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xff) as u8);
                        }
                        other => out.push(other),
                    }
                }
                _ => out.push(c),
            }
        }
    }

    fn parse_hex(&mut self) -> Result<Vec<u8>, PdfError> {
        self.pos += 1; // '<'
        let rest = self.src.get(self.pos..).unwrap_or(&[]);
        let end = memchr::memchr(b'>', rest).ok_or_else(|| malformed("unterminated hex string"))?;
        // Signature /Contents are tens of KB of hex without white space: decode those in one go.
        if end % 2 == 0 {
            if let Some(out) = decode_hex_pairs(&rest[..end]) {
                self.pos += end + 1;
                return Ok(out);
            }
        }
        let mut out = Vec::with_capacity(end / 2 + 1);
        let mut pending: Option<u8> = None;
        for &c in &rest[..end] {
            if is_white(c) {
                continue;
            }
            let v = hex_val(c).ok_or_else(|| malformed("bad hex digit"))?;
            match pending.take() {
                Some(h) => out.push(h << 4 | v),
                None => pending = Some(v),
            }
        }
        if let Some(h) = pending {
            out.push(h << 4);
        }
        self.pos += end + 1;
        Ok(out)
    }

    fn parse_dict_body(&mut self, depth: usize) -> Result<Dict, PdfError> {
        self.pos += 2; // "<<"
        let mut d = Dict::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'>') if self.src.get(self.pos + 1) == Some(&b'>') => {
                    self.pos += 2;
                    return Ok(d);
                }
                Some(b'/') => {
                    self.pos += 1;
                    let key = self.parse_name_body()?;
                    let value = self.parse_object(depth + 1)?;
                    if d.0.len() >= MAX_DICT_ENTRIES {
                        return Err(PdfError::Limit(format!(
                            "dictionary with more than {MAX_DICT_ENTRIES} entries"
                        )));
                    }
                    // Later duplicates lose, as in most readers.
                    if !d.0.iter().any(|(k, _)| *k == key) {
                        d.0.push((key, value));
                    }
                }
                Some(_) => return Err(malformed(format!("expected a name key at offset {}", self.pos))),
                None => return Err(malformed("unterminated dictionary")),
            }
        }
    }
}

/// An indirect object's header and body as found at `offset`; for a stream, the dictionary and
/// the offset where its data starts.
pub enum Indirect {
    Plain(ObjId, Object),
    Stream(ObjId, Dict, usize),
}

/// Parse `n g obj <object> [stream]` at `offset`.
pub fn parse_indirect(src: &[u8], offset: usize) -> Result<Indirect, PdfError> {
    if offset >= src.len() {
        return Err(malformed(format!("object offset {offset} beyond end of file")));
    }
    let mut p = Parser::new(src, offset);
    let num = p.parse_uint()?;
    let gen = p.parse_uint()?;
    p.expect_keyword("obj")?;
    let id = ObjId(
        u32::try_from(num).map_err(|_| malformed("object number too large"))?,
        u16::try_from(gen).map_err(|_| malformed("generation too large"))?,
    );
    let obj = p.parse_object(0)?;
    p.skip_ws();
    if let Object::Dict(d) = &obj {
        if p.peek_word() == b"stream" {
            p.pos += 6;
            // The keyword is followed by CRLF or LF (a lone CR is tolerated).
            if src.get(p.pos) == Some(&b'\r') {
                p.pos += 1;
            }
            if src.get(p.pos) == Some(&b'\n') {
                p.pos += 1;
            }
            return Ok(Indirect::Stream(id, d.clone(), p.pos));
        }
    }
    Ok(Indirect::Plain(id, obj))
}

/// Value of each hex digit; 0xFF for anything else.
const HEX: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Hex digits in pairs, nothing else (`None` otherwise): a table look-up per digit, since a
/// signature's /Contents is read for every file verified.
fn decode_hex_pairs(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 2);
    let mut bad = 0u8;
    for pair in s.chunks_exact(2) {
        let (h, l) = (HEX[usize::from(pair[0])], HEX[usize::from(pair[1])]);
        bad |= h | l;
        out.push(h << 4 | (l & 0x0F));
    }
    (bad & 0xF0 == 0 && s.len() % 2 == 0).then_some(out)
}

pub fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

pub fn parse_u64(w: &[u8]) -> Option<u64> {
    if w.is_empty() || w.len() > 19 || !w.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(w).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> Result<Object, PdfError> {
        Parser::new(s.as_bytes(), 0).parse_object(0)
    }

    #[test]
    fn hex_strings_decode_alike_on_the_fast_and_the_slow_path() {
        let all: Vec<u8> = (0..=255).collect();
        for text in [hex::encode(&all), hex::encode_upper(&all)] {
            assert_eq!(obj(&format!("<{text}>")).unwrap().as_string(), Some(&all[..]));
            // White space and an odd digit count take the slow path, with the same bytes.
            let spaced = format!("<{} {}0>", &text[..10], &text[10..]);
            let mut want = all.clone();
            want.push(0);
            assert_eq!(obj(&spaced).unwrap().as_string(), Some(&want[..]));
        }
        assert_eq!(obj("<4>").unwrap().as_string(), Some(&b"@"[..]));
        assert_eq!(obj("<>").unwrap().as_string(), Some(&b""[..]));
        for bad in ["<4g>", "<g4>", "<41:2>", "<00\u{1}41>"] {
            assert_eq!(obj(bad).unwrap_err().code(), obj("<zz>").unwrap_err().code(), "{bad}");
        }
        assert!(obj("<4142").is_err(), "unterminated");
    }

    #[test]
    fn parses_nested_structures_and_refs() {
        let o = obj("<</Type/Page/Kids[1 0 R 2 0 R]/N -3/R 1.5/S(a\\(b\\)\\101)/H<4142 4>>>").unwrap();
        let d = o.as_dict().unwrap();
        assert!(d.name_is("Type", "Page"));
        assert_eq!(d.get("Kids").unwrap().as_array().unwrap()[1], Object::Ref(ObjId(2, 0)));
        assert_eq!(d.get("N"), Some(&Object::Int(-3)));
        assert_eq!(d.get("R"), Some(&Object::Real(1.5)));
        assert_eq!(d.get("S").unwrap().as_string(), Some(&b"a(b)A"[..]));
        assert_eq!(d.get("H").unwrap().as_string(), Some(&b"AB@"[..]));
    }

    #[test]
    fn integers_not_followed_by_r_stay_integers() {
        assert_eq!(
            obj("[0 5 10]").unwrap(),
            Object::Array(vec![Object::Int(0), Object::Int(5), Object::Int(10)])
        );
        assert_eq!(obj("/A#20B").unwrap(), Object::Name(b"A B".to_vec()));
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let s = "[".repeat(100) + &"]".repeat(100);
        assert_eq!(obj(&s).unwrap_err().code(), "limit-exceeded");
        let s = "[".repeat(60) + &"]".repeat(60);
        assert!(obj(&s).is_ok());
    }

    #[test]
    fn oversized_dictionaries_are_rejected() {
        let big: String = (0..5000).map(|i| format!("/K{i} 1")).collect();
        assert_eq!(obj(&format!("<<{big}>>")).unwrap_err().code(), "limit-exceeded");
    }

    #[test]
    fn truncated_input_is_an_error() {
        for s in ["<</A 1", "[1 2", "(abc", "<41", "<</A>>", "", "@@"] {
            assert!(obj(s).is_err(), "{s}");
        }
    }

    #[test]
    fn indirect_stream_header() {
        let src = b"7 0 obj\n<</Length 3>>\nstream\r\nabc\nendstream endobj";
        match parse_indirect(src, 0).unwrap() {
            Indirect::Stream(id, d, start) => {
                assert_eq!(id, ObjId(7, 0));
                assert_eq!(d.get("Length"), Some(&Object::Int(3)));
                assert_eq!(&src[start..start + 3], b"abc");
            }
            Indirect::Plain(..) => panic!("expected a stream"),
        }
    }
}
