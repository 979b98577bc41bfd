//! Bounded stream decoding for the reader (Flate and PNG predictors) and deflating for the
//! writer. Decompression is capped so a Flate bomb yields an error, not an exhausted machine.

use std::io::{Read, Write};
use std::sync::{Condvar, Mutex};

use super::error::{malformed, PdfError};
use super::object::{Dict, Object};

/// Largest decoded size of one stream.
pub const MAX_STREAM: usize = 256 << 20;

/// Bytes stream inflation may hold at once in the whole process when the config says nothing
/// (`limits.max_inflate_bytes`): one stream at the per-stream cap.
pub const DEFAULT_PROCESS_BUDGET: u64 = MAX_STREAM as u64;

/// One memory budget for inflation shared by every worker of the process: each inflation
/// reserves what it may produce before it starts and gives it back when done, so `--jobs N`
/// workers cannot hold N times the per-stream cap. Reservations are served in arrival order
/// (a large one is not starved by a stream of small ones); one larger than the whole budget
/// waits until the budget is entirely free and then takes it all. A worker holds at most one
/// reservation at a time, so waiting cannot deadlock.
pub struct InflateBudget {
    state: Mutex<BudgetState>,
    freed: Condvar,
}

struct BudgetState {
    capacity: u64,
    in_use: u64,
    next_ticket: u64,
    serving: u64,
}

/// Bytes reserved from an [`InflateBudget`], returned when dropped.
pub struct Reservation<'a> {
    budget: &'a InflateBudget,
    bytes: u64,
}

impl Reservation<'_> {
    /// The bytes actually reserved (the request, or the capacity when it asked for more).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl InflateBudget {
    pub const fn new(capacity: u64) -> InflateBudget {
        InflateBudget {
            state: Mutex::new(BudgetState {
                capacity,
                in_use: 0,
                next_ticket: 0,
                serving: 0,
            }),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BudgetState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn capacity(&self) -> u64 {
        self.lock().capacity
    }

    /// Change the capacity (reservations already granted stay valid).
    pub fn set_capacity(&self, bytes: u64) {
        self.lock().capacity = bytes.max(1);
        self.freed.notify_all();
    }

    /// Reserve `bytes` (at most the capacity), waiting in line until they are free.
    pub fn reserve(&self, bytes: u64) -> Reservation<'_> {
        let mut st = self.lock();
        let ticket = st.next_ticket;
        st.next_ticket += 1;
        loop {
            let want = bytes.min(st.capacity);
            if st.serving == ticket && st.in_use + want <= st.capacity {
                st.in_use += want;
                st.serving += 1;
                drop(st);
                // The next in line may fit too.
                self.freed.notify_all();
                return Reservation { budget: self, bytes: want };
            }
            st = self.freed.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut st = self.budget.lock();
        st.in_use = st.in_use.saturating_sub(self.bytes);
        drop(st);
        self.budget.freed.notify_all();
    }
}

/// The process's inflation budget (`limits.max_inflate_bytes`; the scan reader sets it from
/// the config it is given).
pub fn process_budget() -> &'static InflateBudget {
    static BUDGET: InflateBudget = InflateBudget::new(DEFAULT_PROCESS_BUDGET);
    &BUDGET
}

/// Most bytes zlib data of `compressed` bytes can inflate to: deflate cannot do better than
/// 258 bytes per 2 bits (1032:1), plus slack for stored blocks and the zlib frame.
pub fn inflated_bound(compressed: usize) -> u64 {
    (compressed as u64).saturating_mul(1032).saturating_add(1024)
}

/// Inflate zlib data, failing once more than `cap` bytes come out.
pub fn inflate_capped(data: &[u8], cap: usize) -> Result<Vec<u8>, PdfError> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(cap).min(64 << 20));
    let mut dec = flate2::read::ZlibDecoder::new(data).take(cap as u64 + 1);
    dec.read_to_end(&mut out)
        .map_err(|e| malformed(format!("bad Flate data: {e}")))?;
    if out.len() > cap {
        return Err(PdfError::Limit(format!("stream inflates beyond {cap} bytes")));
    }
    Ok(out)
}

/// Inflate zlib data without keeping the output: how many bytes it yields, failing once more
/// than `cap` come out or on corrupt data. Constant memory, whatever the stream holds.
pub fn inflated_len(data: &[u8], cap: usize) -> Result<u64, PdfError> {
    let mut dec = flate2::read::ZlibDecoder::new(data);
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        match dec.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) => return Err(malformed(format!("bad Flate data: {e}"))),
        }
        if total > cap as u64 {
            return Err(PdfError::Limit(format!("stream inflates beyond {cap} bytes")));
        }
    }
}

/// Deflate for new streams (default level: images are already dense or predictor-filtered).
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::with_capacity(data.len() / 2), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Decode a stream's raw bytes according to its /Filter (Flate only) and /DecodeParms
/// (PNG predictors only), within `cap`.
pub fn decode_stream(dict: &Dict, raw: &[u8], cap: usize) -> Result<Vec<u8>, PdfError> {
    let filters: Vec<&[u8]> = match dict.get("Filter") {
        None => Vec::new(),
        Some(Object::Name(n)) => vec![n.as_slice()],
        Some(Object::Array(a)) => a.iter().filter_map(Object::as_name).collect(),
        Some(_) => return Err(malformed("bad /Filter")),
    };
    match filters.as_slice() {
        [] => Ok(raw.to_vec()),
        [b"FlateDecode"] => {
            let data = inflate_capped(raw, cap)?;
            let parms = match dict.get("DecodeParms") {
                Some(Object::Dict(p)) => Some(p),
                Some(Object::Array(a)) => a.first().and_then(Object::as_dict),
                _ => None,
            };
            match parms {
                Some(p) => unpredict(p, data),
                None => Ok(data),
            }
        }
        other => Err(malformed(format!(
            "unsupported filter chain {:?}",
            other
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect::<Vec<_>>()
        ))),
    }
}

/// Undo a PNG predictor (/Predictor >= 10); other predictors are rejected.
pub fn unpredict(parms: &Dict, data: Vec<u8>) -> Result<Vec<u8>, PdfError> {
    let get = |k: &str, d: i64| parms.get(k).and_then(Object::as_int).unwrap_or(d);
    let predictor = get("Predictor", 1);
    if predictor == 1 {
        return Ok(data);
    }
    if !(10..=15).contains(&predictor) {
        return Err(malformed(format!("unsupported predictor {predictor}")));
    }
    let (colors, bpc, columns) = (get("Colors", 1), get("BitsPerComponent", 8), get("Columns", 1));
    if !(1..=32).contains(&colors) || ![1, 2, 4, 8, 16].contains(&bpc) || !(1..=1 << 24).contains(&columns) {
        return Err(malformed("bad predictor parameters"));
    }
    let bits_per_pixel = (colors * bpc) as usize;
    let row_len = (bits_per_pixel * columns as usize).div_ceil(8);
    let bpp = bits_per_pixel.div_ceil(8).max(1);
    png_unfilter(&data, row_len, bpp)
}

/// Reverse PNG row filters: each row is a filter byte followed by `row_len` bytes.
pub fn png_unfilter(data: &[u8], row_len: usize, bpp: usize) -> Result<Vec<u8>, PdfError> {
    let stride = row_len + 1;
    let rows = data.len() / stride;
    let mut out = vec![0u8; rows * row_len];
    let mut prev = vec![0u8; row_len];
    for r in 0..rows {
        let src = &data[r * stride..(r + 1) * stride];
        let (filter, line) = (src[0], &src[1..]);
        let dst = &mut out[r * row_len..(r + 1) * row_len];
        for i in 0..row_len {
            let a = if i >= bpp { dst[i - bpp] } else { 0 };
            let b = prev[i];
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            let x = line[i];
            dst[i] = match filter {
                0 => x,
                1 => x.wrapping_add(a),
                2 => x.wrapping_add(b),
                3 => x.wrapping_add(((u16::from(a) + u16::from(b)) / 2) as u8),
                4 => x.wrapping_add(paeth(a, b, c)),
                f => return Err(malformed(format!("bad PNG filter type {f}"))),
            };
        }
        prev.copy_from_slice(dst);
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flate_bomb_is_capped() {
        let bomb = deflate(&vec![0u8; 4 << 20]);
        assert!(bomb.len() < 64 << 10);
        assert_eq!(inflate_capped(&bomb, 1 << 20).unwrap_err().code(), "limit-exceeded");
        assert_eq!(inflate_capped(&bomb, 4 << 20).unwrap().len(), 4 << 20);
        assert_eq!(inflated_len(&bomb, 1 << 20).unwrap_err().code(), "limit-exceeded");
        assert_eq!(inflated_len(&bomb, 4 << 20).unwrap(), 4 << 20);
        assert_eq!(inflated_len(b"not zlib at all", 100).unwrap_err().code(), "malformed");
    }

    #[test]
    fn the_budget_is_shared_and_never_exceeded() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let budget = InflateBudget::new(100);
        let held = AtomicU64::new(0);
        let peak = AtomicU64::new(0);
        std::thread::scope(|s| {
            for i in 0..8u64 {
                let (budget, held, peak) = (&budget, &held, &peak);
                s.spawn(move || {
                    for _ in 0..50 {
                        // 30..=70 bytes each, and once in a while more than the whole budget
                        let want = if i == 7 { 500 } else { 30 + i * 5 };
                        let r = budget.reserve(want);
                        assert_eq!(r.bytes(), want.min(100));
                        let now = held.fetch_add(r.bytes(), Ordering::SeqCst) + r.bytes();
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        held.fetch_sub(r.bytes(), Ordering::SeqCst);
                    }
                });
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 100, "peak {}", peak.load(Ordering::SeqCst));
        assert_eq!(budget.lock().in_use, 0);
        budget.set_capacity(10);
        assert_eq!(budget.reserve(64).bytes(), 10);
    }

    #[test]
    fn inflated_bound_holds_for_the_densest_data() {
        let zeros = deflate(&vec![0u8; 8 << 20]);
        assert!(inflated_bound(zeros.len()) >= 8 << 20);
        assert!(inflated_bound(zeros.len()) < 16 << 20, "not far above what it can be");
    }

    #[test]
    fn garbage_is_an_error() {
        assert_eq!(inflate_capped(b"not zlib at all", 100).unwrap_err().code(), "malformed");
    }

    #[test]
    fn png_up_and_sub_filters_are_undone() {
        // Two rows of 3 bytes: row 0 Sub, row 1 Up.
        let data = [1, 10, 5, 5, 2, 1, 1, 1];
        assert_eq!(png_unfilter(&data, 3, 1).unwrap(), vec![10, 15, 20, 11, 16, 21]);
        assert!(png_unfilter(&[9, 0, 0, 0], 3, 1).is_err());
    }
}
