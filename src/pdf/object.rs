//! The PDF object model shared by the writer and the reader, and its serialisation.
//!
//! Parsed streams keep only the byte range of their data in the file, so reading never copies
//! image data; new streams are written straight from borrowed bytes by the revision writer.

use std::io::Write;

/// An indirect object's number and generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjId(pub u32, pub u16);

/// A PDF object.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    /// A literal string `( ... )`.
    Str(Vec<u8>),
    /// A hexadecimal string `< ... >`.
    Hex(Vec<u8>),
    Name(Vec<u8>),
    Array(Vec<Object>),
    Dict(Dict),
    Ref(ObjId),
    /// A stream as read from a file: its dictionary and the byte range of its raw data.
    Stream(Dict, std::ops::Range<usize>),
}

impl Object {
    pub fn name(n: &str) -> Object {
        Object::Name(n.as_bytes().to_vec())
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Object::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Object::Name(n) => Some(n),
            _ => None,
        }
    }
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Object::Dict(d) | Object::Stream(d, _) => Some(d),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Object]> {
        match self {
            Object::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_ref_id(&self) -> Option<ObjId> {
        match self {
            Object::Ref(r) => Some(*r),
            _ => None,
        }
    }
    /// The bytes of a literal or hexadecimal string.
    pub fn as_string(&self) -> Option<&[u8]> {
        match self {
            Object::Str(s) | Object::Hex(s) => Some(s),
            _ => None,
        }
    }
}

/// A dictionary; keys keep their order so output is deterministic.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict(pub Vec<(Vec<u8>, Object)>);

impl Dict {
    pub fn new() -> Dict {
        Dict(Vec::new())
    }
    pub fn get(&self, key: &str) -> Option<&Object> {
        self.0.iter().find(|(k, _)| k == key.as_bytes()).map(|(_, v)| v)
    }
    /// Insert or replace, keeping the position of an existing key.
    pub fn set(&mut self, key: &str, value: Object) {
        match self.0.iter_mut().find(|(k, _)| k == key.as_bytes()) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.as_bytes().to_vec(), value)),
        }
    }
    pub fn with(mut self, key: &str, value: Object) -> Dict {
        self.set(key, value);
        self
    }
    pub fn remove(&mut self, key: &str) -> Option<Object> {
        let pos = self.0.iter().position(|(k, _)| k == key.as_bytes())?;
        Some(self.0.remove(pos).1)
    }
    /// `/Type` (or another name-valued key) compared to `want`.
    pub fn name_is(&self, key: &str, want: &str) -> bool {
        self.get(key).and_then(Object::as_name) == Some(want.as_bytes())
    }
}

/// Serialise an object. Streams cannot be written this way (the writer owns stream data).
pub fn write_object(out: &mut Vec<u8>, obj: &Object) {
    match obj {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Object::Real(r) => write_real(out, *r),
        Object::Str(s) => write_literal(out, s),
        Object::Hex(s) => {
            out.push(b'<');
            out.extend_from_slice(hex::encode_upper(s).as_bytes());
            out.push(b'>');
        }
        Object::Name(n) => write_name(out, n),
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(out, item);
            }
            out.push(b']');
        }
        Object::Dict(d) => write_dict(out, d),
        Object::Ref(ObjId(n, g)) => {
            let _ = write!(out, "{n} {g} R");
        }
        // A parsed stream cannot be re-serialised without its data; writing its dictionary
        // would silently corrupt the output, so callers must never ask for it.
        Object::Stream(d, _) => write_dict(out, d),
    }
}

pub fn write_dict(out: &mut Vec<u8>, d: &Dict) {
    out.extend_from_slice(b"<<");
    for (k, v) in &d.0 {
        write_name(out, k);
        out.push(b' ');
        write_object(out, v);
    }
    out.extend_from_slice(b">>");
}

/// Reals without exponent notation (PDF has none), at most 4 decimals.
fn write_real(out: &mut Vec<u8>, r: f64) {
    let r = if r.is_finite() { r } else { 0.0 };
    let s = format!("{r:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    out.extend_from_slice(if s.is_empty() || s == "-" { "0" } else { s }.as_bytes());
}

fn write_literal(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'(');
    for &b in s {
        match b {
            b'(' | b')' | b'\\' => {
                out.push(b'\\');
                out.push(b);
            }
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
    out.push(b')');
}

fn write_name(out: &mut Vec<u8>, n: &[u8]) {
    out.push(b'/');
    for &b in n {
        let regular = b.is_ascii_graphic() && !b"#()<>[]{}/%".contains(&b);
        if regular {
            out.push(b);
        } else {
            let _ = write!(out, "#{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ser(o: &Object) -> String {
        let mut v = Vec::new();
        write_object(&mut v, o);
        String::from_utf8_lossy(&v).into_owned()
    }

    #[test]
    fn reals_have_no_exponent_and_trim_zeros() {
        assert_eq!(ser(&Object::Real(595.2)), "595.2");
        assert_eq!(ser(&Object::Real(841.92)), "841.92");
        assert_eq!(ser(&Object::Real(1e-9)), "0");
        assert_eq!(ser(&Object::Real(12.0)), "12");
        assert_eq!(ser(&Object::Real(1e20)), "100000000000000000000");
    }

    #[test]
    fn strings_and_names_are_escaped() {
        assert_eq!(ser(&Object::Str(b"a(b)\\c\r".to_vec())), "(a\\(b\\)\\\\c\\r)");
        assert_eq!(ser(&Object::Name(b"A B#/".to_vec())), "/A#20B#23#2F");
        assert_eq!(ser(&Object::Hex(vec![0xfe, 0xff])), "<FEFF>");
    }

    #[test]
    fn dict_set_replaces_in_place() {
        let mut d = Dict::new().with("A", Object::Int(1)).with("B", Object::Int(2));
        d.set("A", Object::Int(3));
        assert_eq!(ser(&Object::Dict(d)), "<</A 3/B 2>>");
    }
}
