//! Writes one revision: a whole new file, or an incremental update appended after existing
//! bytes (which are never touched). New objects are written uncompressed and without object
//! streams, so signature placeholders stay patchable; the xref style follows the previous one.

use std::io::Write;

use sha2::{Digest, Sha256};

use super::object::{write_dict, write_object, Dict, ObjId, Object};
use super::xref::XrefChain;

/// What the new revision must link back to.
struct Previous {
    xref_offset: usize,
    is_stream: bool,
    trailer: Dict,
}

/// Accumulates one revision's objects and writes its xref and trailer on `finish`.
pub struct RevisionWriter {
    /// The new bytes only; for an update they go after the old file on `finish_update`.
    out: Vec<u8>,
    /// File offset of `out[0]`.
    origin: usize,
    base_len: usize,
    /// (object number, file offset, generation) of each object written.
    offsets: Vec<(u32, usize, u16)>,
    next: u32,
    prev: Option<Previous>,
}

impl RevisionWriter {
    /// A fresh file with room for `capacity` bytes.
    pub fn new_document(capacity: usize) -> RevisionWriter {
        let mut out = Vec::with_capacity(capacity + 1024);
        // The binary comment marks the file as binary for transfer tools.
        out.extend_from_slice(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
        RevisionWriter {
            out,
            origin: 0,
            base_len: 0,
            offsets: Vec::new(),
            next: 1,
            prev: None,
        }
    }

    /// An incremental update after `pdf` (not yet consumed: the caller may keep reading it),
    /// whose xref chain is `chain`. Finish with `finish_update`.
    pub fn update_of(pdf: &[u8], chain: &XrefChain) -> RevisionWriter {
        let mut out = Vec::with_capacity(4096);
        if !matches!(pdf.last(), Some(b'\n' | b'\r')) {
            out.push(b'\n');
        }
        let latest = chain.latest();
        RevisionWriter {
            out,
            origin: pdf.len(),
            base_len: pdf.len(),
            offsets: Vec::new(),
            next: chain.next_object_number().max(1),
            prev: Some(Previous {
                xref_offset: latest.offset,
                is_stream: latest.is_stream,
                trailer: latest.trailer.clone(),
            }),
        }
    }

    /// Length of the file this revision was appended to (0 for a new file).
    pub fn base_len(&self) -> usize {
        self.base_len
    }

    /// A new object number.
    pub fn alloc(&mut self) -> ObjId {
        let id = ObjId(self.next, 0);
        self.next += 1;
        id
    }

    pub fn write_object(&mut self, id: ObjId, obj: &Object) {
        self.begin(id);
        write_object(&mut self.out, obj);
        self.out.extend_from_slice(b"\nendobj\n");
    }

    /// An object whose body the caller serialised (placeholders); returns its offset.
    pub fn write_raw_object(&mut self, id: ObjId, body: &[u8]) -> usize {
        let at = self.origin + self.out.len();
        self.begin(id);
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(b"\nendobj\n");
        at
    }

    /// A stream whose /Length is set here from `data`.
    pub fn write_stream(&mut self, id: ObjId, dict: &Dict, data: &[u8]) {
        self.begin(id);
        let mut d = dict.clone();
        d.set("Length", Object::Int(data.len() as i64));
        write_dict(&mut self.out, &d);
        self.out.extend_from_slice(b"\nstream\n");
        self.out.extend_from_slice(data);
        self.out.extend_from_slice(b"\nendstream\nendobj\n");
    }

    fn begin(&mut self, id: ObjId) {
        self.offsets.push((id.0, self.origin + self.out.len(), id.1));
        let _ = writeln!(self.out, "{} {} obj", id.0, id.1);
    }

    /// Finish an update: the old file with this revision appended (old bytes untouched).
    pub fn finish_update(self, mut pdf: Vec<u8>, trailer: Dict) -> Vec<u8> {
        debug_assert_eq!(pdf.len(), self.base_len);
        let tail = self.finish(trailer);
        pdf.extend_from_slice(&tail);
        pdf
    }

    /// Write xref and trailer. `trailer` supplies /Root and /Info (for an update, the previous
    /// trailer's values are kept unless overridden); /Size, /Prev and /ID are set here.
    pub fn finish(mut self, trailer: Dict) -> Vec<u8> {
        let mut t = Dict::new();
        if let Some(prev) = &self.prev {
            for key in ["Root", "Info"] {
                if let Some(v) = prev.trailer.get(key) {
                    t.set(key, v.clone());
                }
            }
        }
        for (k, v) in trailer.0 {
            t.0.retain(|(old, _)| *old != k);
            t.0.push((k, v));
        }
        let prev_size = self
            .prev
            .as_ref()
            .and_then(|p| p.trailer.get("Size"))
            .and_then(Object::as_int)
            .unwrap_or(0);
        let use_stream = self.prev.as_ref().is_some_and(|p| p.is_stream);
        let xref_id = if use_stream { Some(self.alloc()) } else { None };
        t.set("Size", Object::Int(i64::from(self.next).max(prev_size)));
        if let Some(prev) = &self.prev {
            t.set("Prev", Object::Int(prev.xref_offset as i64));
        }
        t.set("ID", self.file_id());
        let xref_offset = self.origin + self.out.len();
        match xref_id {
            Some(id) => self.write_xref_stream(id, t),
            None => self.write_xref_table(t),
        }
        let _ = write!(self.out, "startxref\n{xref_offset}\n%%EOF\n");
        self.out
    }

    /// Keep the original first ID; the second one changes with each revision.
    fn file_id(&self) -> Object {
        // Hashing all image bytes would dominate assembly time; the offsets, the length and
        // both ends of the revision identify it well enough for an ID.
        let edge = 64 << 10;
        let mut h = Sha256::new();
        h.update((self.origin + self.out.len()).to_be_bytes());
        for (num, off, gen) in &self.offsets {
            h.update(num.to_be_bytes());
            h.update(off.to_be_bytes());
            h.update(gen.to_be_bytes());
        }
        h.update(&self.out[..self.out.len().min(edge)]);
        h.update(&self.out[self.out.len().saturating_sub(edge)..]);
        let digest = h.finalize();
        let fresh = digest[..16].to_vec();
        let first = self
            .prev
            .as_ref()
            .and_then(|p| p.trailer.get("ID"))
            .and_then(Object::as_array)
            .and_then(|a| a.first())
            .and_then(Object::as_string)
            .map(<[u8]>::to_vec)
            .unwrap_or_else(|| fresh.clone());
        Object::Array(vec![Object::Hex(first), Object::Hex(fresh)])
    }

    /// Contiguous runs of object numbers; an object written twice keeps its last version.
    fn runs(&mut self) -> Vec<(u32, Vec<(usize, u16)>)> {
        self.offsets.sort_by_key(|(num, _, _)| *num);
        let mut runs: Vec<(u32, Vec<(usize, u16)>)> = Vec::new();
        for &(num, off, gen) in &self.offsets {
            match runs.last_mut() {
                Some((start, offs)) if *start + offs.len() as u32 == num + 1 => {
                    if let Some(last) = offs.last_mut() {
                        *last = (off, gen);
                    }
                }
                Some((start, offs)) if *start + offs.len() as u32 == num => offs.push((off, gen)),
                _ => runs.push((num, vec![(off, gen)])),
            }
        }
        runs
    }

    fn write_xref_table(&mut self, trailer: Dict) {
        let mut runs = self.runs();
        self.out.extend_from_slice(b"xref\n");
        if self.prev.is_none() {
            // A new file lists object 0 as the head of the free list.
            let count = runs.first().filter(|(s, _)| *s == 1).map_or(0, |(_, o)| o.len());
            let _ = write!(self.out, "0 {}\n0000000000 65535 f \n", count + 1);
            if count > 0 {
                let (_, offs) = runs.remove(0);
                for (off, gen) in offs {
                    let _ = writeln!(self.out, "{off:010} {gen:05} n ");
                }
            }
        }
        for (start, offs) in runs {
            let _ = writeln!(self.out, "{start} {}", offs.len());
            for (off, gen) in offs {
                let _ = writeln!(self.out, "{off:010} {gen:05} n ");
            }
        }
        self.out.extend_from_slice(b"trailer\n");
        write_dict(&mut self.out, &trailer);
        self.out.push(b'\n');
    }

    fn write_xref_stream(&mut self, id: ObjId, mut trailer: Dict) {
        self.offsets.push((id.0, self.origin + self.out.len(), 0));
        let runs = self.runs();
        let wide = self.origin + self.out.len() > u32::MAX as usize;
        let w1 = if wide { 8 } else { 4 };
        let mut data = Vec::with_capacity(self.offsets.len() * (w1 + 3));
        let mut index = Vec::new();
        for (start, offs) in &runs {
            index.push(Object::Int(i64::from(*start)));
            index.push(Object::Int(offs.len() as i64));
            for (off, gen) in offs {
                data.push(1);
                data.extend_from_slice(&(*off as u64).to_be_bytes()[8 - w1..]);
                data.extend_from_slice(&gen.to_be_bytes());
            }
        }
        trailer.set("Type", Object::name("XRef"));
        trailer.set(
            "W",
            Object::Array(vec![Object::Int(1), Object::Int(w1 as i64), Object::Int(2)]),
        );
        trailer.set("Index", Object::Array(index));
        trailer.set("Length", Object::Int(data.len() as i64));
        let _ = writeln!(self.out, "{} 0 obj", id.0);
        write_dict(&mut self.out, &trailer);
        self.out.extend_from_slice(b"\nstream\n");
        self.out.extend_from_slice(&data);
        self.out.extend_from_slice(b"\nendstream\nendobj\n");
    }
}
