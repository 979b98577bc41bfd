//! Full disk and read-only archives: ENOSPC mid-write gives a clear `disk-full` failure and no
//! partial file, the catalog never claims a file that is not complete on disk, and a rerun after
//! space is freed archives the rest; a read-only archive is refused up front.
//!
//! Needs a small tmpfs (`mount -t tmpfs`, root with CAP_SYS_ADMIN). Where mounting is not allowed
//! the tests print a loud SKIP (HOZON_REQUIRE_PEERS=1 makes that a failure).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::*;

/// A tmpfs mounted for the test's lifetime.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755"), "tmpfs"])
            .arg(dir)
            .output()
            .ok()?;
        if !o.status.success() {
            let msg = format!(
                "\n*** SKIP full-disk test: cannot mount a tmpfs here ({}) ***\n",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            if peers_required() {
                panic!("{msg}");
            }
            eprintln!("{msg}");
            return None;
        }
        Some(Tmpfs { dir: dir.to_path_buf() })
    }

    fn remount(&self, opts: &str) {
        let st = Command::new("mount")
            .args(["-o", &format!("remount,{opts}")])
            .arg(&self.dir)
            .status()
            .unwrap();
        assert!(st.success(), "remount {opts}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// A noisy 300 dpi JPEG (compresses badly, so each archive is a few hundred KB).
fn noisy_jpeg(path: &Path, seed: u32) {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    let img = image::RgbImage::from_fn(420, 560, |_, _| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        image::Rgb([x as u8, (x >> 8) as u8, (x >> 16) as u8])
    });
    let mut bytes = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 92);
    enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(300));
    enc.encode_image(&img).unwrap();
    std::fs::write(path, bytes).unwrap();
}

struct World {
    dir: tempfile::TempDir,
    input: PathBuf,
    config: PathBuf,
}

impl World {
    fn new(docs: u32) -> World {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        std::fs::create_dir_all(&input).unwrap();
        for i in 0..docs {
            noisy_jpeg(&input.join(format!("文書{i}.jpg")), i + 1);
        }
        let shipped = std::fs::read_to_string(repo_root().join("config/hozon.toml")).unwrap();
        let config = dir.path().join("hozon.toml");
        std::fs::write(
            &config,
            shipped
                .replace("\"../.hozon/", "\".hozon/")
                .replace("fetch = true", "fetch = false"),
        )
        .unwrap();
        World { dir, input, config }
    }

    fn ingest(&self, out: &Path) -> (std::process::Output, Value) {
        let o = hozon(
            &[
                "--config",
                self.config.to_str().unwrap(),
                "ingest",
                self.input.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--jobs",
                "2",
                "--json",
                "-",
            ],
            self.dir.path(),
            &[],
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
        (o, v)
    }
}

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn audit(w: &World, out: &Path) -> (Option<i32>, Value) {
    let o = hozon(&["audit", out.to_str().unwrap(), "--json", "-"], w.dir.path(), &[]);
    (
        o.status.code(),
        serde_json::from_slice(&o.stdout).unwrap_or(Value::Null),
    )
}

/// No temp file, every catalog row's file complete with its hash, no PDF without a row. With
/// `interrupted`, rows left `writing` (`row-unfinished`) are allowed: when the disk is full SQLite
/// cannot even delete the row of a document whose write failed, but such a row claims nothing
/// and the next open settles it (dropped, or finished when its file is complete).
fn assert_consistent(w: &World, out: &Path, when: &str, interrupted: bool) {
    let temps: Vec<PathBuf> = files(out)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(hozon::archive::atomic::TEMP_PREFIX))
        })
        .collect();
    assert!(temps.is_empty(), "{when}: partial files left: {temps:?}");
    let (code, v) = audit(w, out);
    let problems: Vec<&Value> = v["problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| !(interrupted && p["code"] == "row-unfinished"))
                .collect()
        })
        .unwrap_or_default();
    assert!(problems.is_empty(), "{when}: hozon audit (exit {code:?}): {v:#}");
    let claimed = v["documents"].as_u64().unwrap_or(0) - if interrupted { unfinished(&v) } else { 0 };
    let pdfs = files(out)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .count() as u64;
    if interrupted {
        // a `writing` row's file may or may not have reached the disk
        assert!(
            (claimed..=claimed + unfinished(&v)).contains(&pdfs),
            "{when}: rows vs PDFs: {v:#}"
        );
    } else {
        assert_eq!(code, Some(0), "{when}: hozon audit: {v:#}");
        assert_eq!(claimed, pdfs, "{when}: rows vs PDFs: {v:#}");
    }
}

fn unfinished(v: &Value) -> u64 {
    v["problems"]
        .as_array()
        .map(|a| a.iter().filter(|p| p["code"] == "row-unfinished").count() as u64)
        .unwrap_or(0)
}

#[test]
fn full_disk_fails_cleanly_and_the_rerun_completes() {
    let w = World::new(8);
    let mnt = w.dir.path().join("small");
    // warm up (demo PKI) outside the small disk
    let (o, _) = w.ingest(&w.dir.path().join("warm"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let one_pdf = files(&w.dir.path().join("warm"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|x| x == "pdf"))
        .map(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    // room for the catalog, the log and about three of the eight documents
    let size = 200 * 1024 + one_pdf * 3;
    let Some(fs) = Tmpfs::mount(&mnt, &size.to_string()) else {
        return;
    };
    let out = mnt.join("archive");
    let (o, v) = w.ingest(&out);
    eprintln!("full disk run: exit {:?}\n{}", o.status.code(), text(&o));
    assert!(
        matches!(o.status.code(), Some(1) | Some(2)),
        "a full disk must fail the run\n{}",
        text(&o)
    );
    if o.status.code() == Some(1) {
        let docs = v["documents"].as_array().unwrap();
        let failed: Vec<&Value> = docs.iter().filter(|d| d["outcome"] == "failed").collect();
        assert!(!failed.is_empty(), "{v:#}");
        for d in &failed {
            let codes: Vec<&str> = d["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|r| r["code"].as_str())
                .collect();
            assert!(codes.contains(&"disk-full"), "a full disk should say so: {d:#}");
        }
    } else {
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("[disk-full]")
                || String::from_utf8_lossy(&o.stderr).contains("No space"),
            "{}",
            text(&o)
        );
    }
    assert_consistent(&w, &out, "after ENOSPC", true);

    // space freed: the rerun archives the rest, each document once
    fs.remount("size=64m");
    let (o, v) = w.ingest(&out);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = &v["summary"];
    assert_eq!(
        s["archived"].as_u64().unwrap() + s["already_archived"].as_u64().unwrap(),
        8,
        "{v:#}"
    );
    assert_consistent(&w, &out, "after the rerun", false);
    let (_, a) = audit(&w, &out);
    assert_eq!(a["documents"], 8);
}

#[test]
fn read_only_archive_is_refused_and_left_alone() {
    let w = World::new(2);
    let mnt = w.dir.path().join("ro");
    let Some(fs) = Tmpfs::mount(&mnt, "64m") else { return };
    let out = mnt.join("archive");
    let (o, _) = w.ingest(&out);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let before: Vec<(PathBuf, Vec<u8>)> = files(&out)
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    noisy_jpeg(&w.input.join("新しい文書.jpg"), 99);
    fs.remount("ro");
    let (o, _) = w.ingest(&out);
    fs.remount("rw");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("[archive-not-writable]"),
        "a read-only archive should say so:\n{}",
        text(&o)
    );
    let after: Vec<(PathBuf, Vec<u8>)> = files(&out)
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    assert_eq!(before.len(), after.len());
    assert!(before == after, "a refused run changed the archive");
    assert_consistent(&w, &out, "after the read-only run", false);
}
