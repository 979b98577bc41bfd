//! A read-only view of a PDF as of one revision: resolves object references through the
//! merged xref sections, including compressed object streams, within inflate and recursion
//! budgets.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use super::error::{malformed, PdfError};
use super::inflate::{decode_stream, MAX_STREAM};
use super::object::{Dict, ObjId, Object};
use super::parse::{parse_indirect, Indirect, Parser};
use super::xref::{find, Entry, XrefChain};

/// Total decompressed bytes one view may produce.
pub const INFLATE_BUDGET: usize = 256 << 20;
/// Reference chains deeper than this are treated as cycles.
const MAX_RESOLVE_DEPTH: usize = 32;

struct ObjStm {
    data: Vec<u8>,
    first: usize,
    offsets: Vec<(u32, usize)>,
}

/// The file as of a given revision.
pub struct PdfView<'a> {
    pub bytes: &'a [u8],
    pub trailer: Dict,
    map: HashMap<u32, Entry>,
    budget: Cell<usize>,
    depth: Cell<usize>,
    objstms: RefCell<HashMap<u32, Rc<ObjStm>>>,
}

impl<'a> PdfView<'a> {
    /// The view after the first `upto` sections (oldest first) of `chain`.
    pub fn at(bytes: &'a [u8], chain: &XrefChain, upto: usize) -> Result<PdfView<'a>, PdfError> {
        let sections = chain
            .sections
            .get(..upto)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed("no such revision"))?;
        let mut map = HashMap::new();
        for s in sections {
            for (n, e) in &s.entries {
                map.insert(*n, *e);
            }
        }
        let trailer = sections[sections.len() - 1].trailer.clone();
        if trailer.get("Encrypt").is_some() {
            return Err(PdfError::Encrypted);
        }
        Ok(PdfView {
            bytes,
            trailer,
            map,
            budget: Cell::new(INFLATE_BUDGET),
            depth: Cell::new(0),
            objstms: RefCell::new(HashMap::new()),
        })
    }

    /// The latest revision.
    pub fn latest(bytes: &'a [u8], chain: &XrefChain) -> Result<PdfView<'a>, PdfError> {
        PdfView::at(bytes, chain, chain.sections.len())
    }

    pub fn entry(&self, num: u32) -> Option<Entry> {
        self.map.get(&num).copied()
    }

    /// The object `id` (null when absent or free, as the specification says).
    pub fn get(&self, id: ObjId) -> Result<Object, PdfError> {
        let d = self.depth.get();
        if d >= MAX_RESOLVE_DEPTH {
            return Err(malformed(format!(
                "reference cycle or chain too deep at object {}",
                id.0
            )));
        }
        self.depth.set(d + 1);
        let r = self.get_inner(id);
        self.depth.set(d);
        r
    }

    fn get_inner(&self, id: ObjId) -> Result<Object, PdfError> {
        match self.map.get(&id.0) {
            None | Some(Entry::Free) => Ok(Object::Null),
            Some(Entry::InFile { offset }) => match parse_indirect(self.bytes, *offset)? {
                Indirect::Plain(found, obj) => {
                    check_id(found, id)?;
                    Ok(obj)
                }
                Indirect::Stream(found, dict, start) => {
                    check_id(found, id)?;
                    let range = self.stream_range(&dict, start)?;
                    Ok(Object::Stream(dict, range))
                }
            },
            Some(Entry::InStream { stream, index }) => {
                let stm = self.objstm(*stream)?;
                let (num, off) = *stm
                    .offsets
                    .get(*index)
                    .ok_or_else(|| malformed("object stream index out of range"))?;
                if num != id.0 {
                    return Err(malformed(format!("object stream {stream} holds {num}, not {}", id.0)));
                }
                let at = stm
                    .first
                    .checked_add(off)
                    .filter(|a| *a < stm.data.len())
                    .ok_or_else(|| malformed("bad object stream offset"))?;
                Parser::new(&stm.data, at).parse_object(0)
            }
        }
    }

    /// Follow a reference (or a chain of them) to a direct object.
    pub fn resolve(&self, obj: &Object) -> Result<Object, PdfError> {
        let mut cur = obj.clone();
        for _ in 0..MAX_RESOLVE_DEPTH {
            match cur {
                Object::Ref(id) => cur = self.get(id)?,
                other => return Ok(other),
            }
        }
        Err(malformed("reference chain too long"))
    }

    /// `dict[key]`, resolved.
    pub fn get_key(&self, dict: &Dict, key: &str) -> Result<Option<Object>, PdfError> {
        match dict.get(key) {
            None => Ok(None),
            Some(o) => Ok(Some(self.resolve(o)?).filter(|o| *o != Object::Null)),
        }
    }

    /// A resolved dictionary value, or an error naming `what`.
    pub fn dict_at(&self, obj: &Object, what: &str) -> Result<Dict, PdfError> {
        match self.resolve(obj)? {
            Object::Dict(d) | Object::Stream(d, _) => Ok(d),
            _ => Err(malformed(format!("{what} is not a dictionary"))),
        }
    }

    /// The document catalog.
    pub fn catalog(&self) -> Result<(ObjId, Dict), PdfError> {
        let id = self
            .trailer
            .get("Root")
            .and_then(Object::as_ref_id)
            .ok_or_else(|| malformed("trailer without /Root"))?;
        let d = self.dict_at(&Object::Ref(id), "/Root")?;
        Ok((id, d))
    }

    /// Raw bytes of a stream's data.
    pub fn raw(&self, range: &std::ops::Range<usize>) -> &'a [u8] {
        self.bytes.get(range.clone()).unwrap_or(&[])
    }

    /// A stream's decoded data, charged to the view's inflate budget.
    pub fn decode(&self, dict: &Dict, range: &std::ops::Range<usize>) -> Result<Vec<u8>, PdfError> {
        let cap = self.budget.get().min(MAX_STREAM);
        let data = decode_stream(dict, self.raw(range), cap)?;
        self.budget.set(self.budget.get().saturating_sub(data.len()));
        Ok(data)
    }

    fn stream_range(&self, dict: &Dict, start: usize) -> Result<std::ops::Range<usize>, PdfError> {
        let len = match dict.get("Length") {
            Some(Object::Int(l)) => Some(*l),
            Some(Object::Ref(r)) => self.get(*r)?.as_int(),
            _ => None,
        };
        if let Some(end) = len
            .and_then(|l| usize::try_from(l).ok())
            .and_then(|l| start.checked_add(l))
        {
            if end <= self.bytes.len() {
                let mut p = Parser::new(self.bytes, end);
                if p.word() == b"endstream" {
                    return Ok(start..end);
                }
            }
        }
        // A wrong /Length: fall back to the keyword, as viewers do.
        let at = find(self.bytes, b"endstream", start).ok_or_else(|| malformed("stream without endstream"))?;
        let mut end = at;
        if end > start && self.bytes[end - 1] == b'\n' {
            end -= 1;
            if end > start && self.bytes[end - 1] == b'\r' {
                end -= 1;
            }
        }
        Ok(start..end)
    }

    fn objstm(&self, num: u32) -> Result<Rc<ObjStm>, PdfError> {
        if let Some(s) = self.objstms.borrow().get(&num) {
            return Ok(Rc::clone(s));
        }
        if !matches!(self.map.get(&num), Some(Entry::InFile { .. })) {
            return Err(malformed(format!("object stream {num} is not a plain object")));
        }
        let (dict, range) = match self.get(ObjId(num, 0))? {
            Object::Stream(d, r) => (d, r),
            _ => return Err(malformed(format!("object stream {num} is not a stream"))),
        };
        let data = self.decode(&dict, &range)?;
        let n = dict
            .get("N")
            .and_then(Object::as_int)
            .filter(|n| *n >= 0)
            .ok_or_else(|| malformed("object stream /N"))? as usize;
        let first = dict
            .get("First")
            .and_then(Object::as_int)
            .filter(|f| *f >= 0)
            .ok_or_else(|| malformed("object stream /First"))? as usize;
        if n > data.len() / 2 || first > data.len() {
            return Err(malformed("object stream header does not fit"));
        }
        let mut p = Parser::new(&data[..first], 0);
        let mut offsets = Vec::with_capacity(n);
        for _ in 0..n {
            let obj = p.parse_uint()?;
            let off = p.parse_uint()?;
            offsets.push((
                u32::try_from(obj).map_err(|_| malformed("object number"))?,
                off as usize,
            ));
        }
        let stm = Rc::new(ObjStm { data, first, offsets });
        self.objstms.borrow_mut().insert(num, Rc::clone(&stm));
        Ok(stm)
    }

    /// The page objects in order, with a bounded walk of the page tree.
    pub fn pages(&self) -> Result<Vec<(ObjId, Dict)>, PdfError> {
        let (_, cat) = self.catalog()?;
        let root = cat
            .get("Pages")
            .and_then(Object::as_ref_id)
            .ok_or_else(|| malformed("catalog without /Pages"))?;
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        self.walk_pages(root, 0, &mut out, &mut seen)?;
        Ok(out)
    }

    fn walk_pages(
        &self,
        id: ObjId,
        depth: usize,
        out: &mut Vec<(ObjId, Dict)>,
        seen: &mut std::collections::HashSet<u32>,
    ) -> Result<(), PdfError> {
        if depth > super::parse::MAX_DEPTH || !seen.insert(id.0) {
            return Err(malformed("cyclic or too deep page tree"));
        }
        let node = self.dict_at(&Object::Ref(id), "page tree node")?;
        if node.name_is("Type", "Page") || node.get("Kids").is_none() {
            out.push((id, node));
            return Ok(());
        }
        let kids = match self.get_key(&node, "Kids")? {
            Some(Object::Array(k)) => k,
            _ => return Err(malformed("/Kids is not an array")),
        };
        for kid in kids {
            let kid = kid
                .as_ref_id()
                .ok_or_else(|| malformed("page tree kid is not a reference"))?;
            self.walk_pages(kid, depth + 1, out, seen)?;
        }
        Ok(())
    }
}

fn check_id(found: ObjId, want: ObjId) -> Result<(), PdfError> {
    if found.0 == want.0 {
        Ok(())
    } else {
        Err(malformed(format!(
            "xref points at object {} for object {}",
            found.0, want.0
        )))
    }
}
