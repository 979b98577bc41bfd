//! Stable-Rust fallback fuzzer over the same four entry points as the cargo-fuzz targets
//! (`fuzz/src/lib.rs`, included by path). A seeded mutation fuzzer: seeds from `fuzz/seeds/`,
//! byte flips, interesting values, splices, truncations and ASCII number bumps (PDF offsets,
//! counts, lengths). Every saved finding in `fuzz/regressions/<target>/` is replayed first.
//!
//! - `cargo test --test fuzz_smoke`: fixed seed, a few thousand inputs per target (CI, < 30 s).
//! - `HOZON_FUZZ_SECS=600 cargo test --test fuzz_smoke -- --ignored --nocapture`: the long run
//!   (per target); HOZON_FUZZ_SEED picks the seed. Crashing inputs are written to
//!   `target/fuzz-findings/<target>/` and fail the test.

#[path = "../fuzz/src/lib.rs"]
mod entry;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Entry = fn(&[u8]);

const TARGETS: [(&str, Entry); 4] = [
    ("scan_inspect", entry::scan_inspect),
    ("pdf_signatures", entry::pdf_signatures),
    ("tsa_response", entry::tsa_response),
    ("cms_parse", entry::cms_parse),
];

/// One input slower than this is a finding (a hang in the making).
const SLOW: Duration = Duration::from_secs(3);

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_in(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_file() && !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

const INTERESTING: [u8; 10] = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff, b'0', b'9'];
const BIG_NUMBERS: [&str; 8] = [
    "0",
    "-1",
    "4294967295",
    "99999999999",
    "2147483648",
    "65536",
    "1e9",
    "00",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &mut Vec<u8>) {
    let rounds = 1 + rng.below(6);
    for _ in 0..rounds {
        let len = input.len();
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 1 => {
                // truncate
                input.truncate(rng.below(len));
            }
            3 if len > 1 => {
                // delete a range
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                input.drain(a..b);
            }
            4 if len > 1 => {
                // duplicate a chunk in place (nesting, repeated markers)
                let a = rng.below(len);
                let b = (a + 1 + rng.below(256)).min(len);
                let chunk = input[a..b].to_vec();
                let at = rng.below(len);
                for _ in 0..1 + rng.below(4) {
                    input.splice(at..at, chunk.iter().copied());
                }
            }
            5 if !seeds.is_empty() => {
                // splice with another seed
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + 1 + rng.below(512)).min(other.len());
                    let at = rng.below(len + 1);
                    input.splice(at..at, other[a..b].iter().copied());
                }
            }
            6 | 7 if len > 0 => {
                // replace an ASCII number (PDF offsets, /Length, /Count, ByteRange)
                let start = rng.below(len);
                if let Some(off) = input[start..].iter().position(|b| b.is_ascii_digit()) {
                    let a = start + off;
                    let b = a + input[a..].iter().take_while(|b| b.is_ascii_digit()).count();
                    let n = BIG_NUMBERS[rng.below(BIG_NUMBERS.len())];
                    input.splice(a..b, n.bytes());
                }
            }
            8 if len > 2 => {
                // a multi-byte length field made huge (DER, PNG chunk, TIFF count)
                let i = rng.below(len - 1);
                input[i] = 0x84;
                input[i + 1] = 0x7f;
            }
            _ => {
                let i = rng.below(len + 1);
                input.insert(i, rng.next() as u8);
            }
        }
    }
}

/// Run one input; Some(description) when it panicked or was too slow.
fn run_one(f: Entry, data: &[u8]) -> Option<String> {
    let t = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(|| f(data)));
    let took = t.elapsed();
    match r {
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            Some(format!("panic: {msg}"))
        }
        Ok(()) if took > SLOW => Some(format!("slow: {took:?}")),
        Ok(()) => None,
    }
}

fn save_finding(target: &str, data: &[u8], what: &str) -> PathBuf {
    let dir = root().join("target/fuzz-findings").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    let name = hex::encode(&sha2::Digest::finalize(sha2::Digest::chain_update(sha2::Sha256::default(), data))[..8]);
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    eprintln!("FINDING {target}: {what} → {}", p.display());
    p
}

/// Fuzz one target for `iterations` inputs or until `deadline`; returns (inputs run, findings).
fn fuzz_target(name: &str, f: Entry, seed: u64, iterations: u64, deadline: Option<Instant>) -> (u64, Vec<String>) {
    let seeds: Vec<Vec<u8>> = files_in(&root().join("fuzz/seeds").join(name))
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    assert!(!seeds.is_empty(), "no seeds for {name}");
    let mut rng = Rng(seed
        ^ name
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        | 1);
    let mut findings = Vec::new();
    let mut n = 0u64;
    // the seeds themselves first
    for s in &seeds {
        if let Some(w) = run_one(f, s) {
            findings.push(format!("{w} ({})", save_finding(name, s, &w).display()));
        }
    }
    loop {
        if n >= iterations || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let mut input = seeds[rng.below(seeds.len())].clone();
        mutate(&mut rng, &seeds, &mut input);
        n += 1;
        if let Some(w) = run_one(f, &input) {
            findings.push(format!("{w} ({})", save_finding(name, &input, &w).display()));
            if findings.len() >= 20 {
                break;
            }
        }
    }
    (n, findings)
}

/// Every finding kept under fuzz/regressions must now be handled without panic or hang.
#[test]
fn regressions_stay_fixed() {
    let mut ran = 0;
    for (name, f) in TARGETS {
        for (p, data) in files_in(&root().join("fuzz/regressions").join(name)) {
            ran += 1;
            assert_eq!(run_one(f, &data), None, "regression {} is back", p.display());
        }
    }
    eprintln!("replayed {ran} saved fuzz findings");
}

#[test]
fn fuzz_smoke_fixed_seed() {
    // Panics inside catch_unwind would spam stderr; keep the hook quiet and report ourselves.
    std::panic::set_hook(Box::new(|_| {}));
    let per_target: u64 = std::env::var("HOZON_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let mut all = Vec::new();
    for (name, f) in TARGETS {
        let t = Instant::now();
        let (n, findings) = fuzz_target(
            name,
            f,
            0x00f0_0d5e_ed00_0001,
            per_target,
            Some(t + Duration::from_secs(12)),
        );
        eprintln!(
            "fuzz {name}: {n} inputs in {:.1} s, {} finding(s)",
            t.elapsed().as_secs_f64(),
            findings.len()
        );
        all.extend(findings.into_iter().map(|f| format!("{name}: {f}")));
    }
    let _ = std::panic::take_hook();
    assert!(all.is_empty(), "fuzz findings:\n{}", all.join("\n"));
}

#[test]
#[ignore = "long run: HOZON_FUZZ_SECS per target (default 600)"]
fn fuzz_long() {
    std::panic::set_hook(Box::new(|_| {}));
    let secs: u64 = std::env::var("HOZON_FUZZ_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let seed: u64 = std::env::var("HOZON_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7)
        });
    let only = std::env::var("HOZON_FUZZ_TARGET").ok();
    let mut all = Vec::new();
    for (name, f) in TARGETS {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let t = Instant::now();
        let (n, findings) = fuzz_target(name, f, seed, u64::MAX, Some(t + Duration::from_secs(secs)));
        eprintln!(
            "fuzz {name}: seed {seed}, {n} inputs in {:.0} s, {} finding(s)",
            t.elapsed().as_secs_f64(),
            findings.len()
        );
        all.extend(findings.into_iter().map(|f| format!("{name}: {f}")));
    }
    let _ = std::panic::take_hook();
    assert!(all.is_empty(), "fuzz findings:\n{}", all.join("\n"));
}
