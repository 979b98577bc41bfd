//! Hostile inputs: a generated corpus of malformed images and PDFs (truncated, cyclic, deeply
//! nested, huge xref counts, Flate bombs, 10⁹-pixel headers, bad ByteRanges, giant /Contents)
//! through the `hozon` binary and through the library's PDF signature readers, each in a child
//! process under a 512 MB address-space limit (`prlimit --as`) and a time limit. Every file must
//! give a clean failure with a reason code: exit 1 or 2, never a signal, never a hang.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

const MEMORY_LIMIT: &str = "536870912";
const TIME_LIMIT: Duration = Duration::from_secs(60);

// ---- builders -------------------------------------------------------------------------------

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 3) as u8, (y * 5) as u8, 200]));
    let mut bytes = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80);
    enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(300));
    enc.encode_image(&img).unwrap();
    bytes
}

/// Overwrite the SOF0 frame size of a baseline JPEG.
fn jpeg_with_size(w: u16, h: u16) -> Vec<u8> {
    let mut j = jpeg(16, 16);
    let sof = j.windows(2).position(|p| p == [0xff, 0xc0]).unwrap();
    j[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    j[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    j
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

fn png(w: u32, h: u32, idat: &[u8]) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"pHYs", &[0, 0, 0x2e, 0x23, 0, 0, 0x2e, 0x23, 1]);
    png_chunk(&mut out, b"IDAT", idat);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

fn zlib_zeros(n: usize) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let block = vec![0u8; 1 << 20];
    let mut left = n;
    while left > 0 {
        let k = left.min(block.len());
        e.write_all(&block[..k]).unwrap();
        left -= k;
    }
    e.finish().unwrap()
}

/// A little-endian TIFF with one IFD of (tag, type, count, value) entries and a next-IFD offset.
fn tiff(entries: &[(u16, u16, u32, u32)], next_ifd: u32, tail: &[u8]) -> Vec<u8> {
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, ty, count, value) in entries {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&ty.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    }
    t.extend_from_slice(&next_ifd.to_le_bytes());
    t.extend_from_slice(tail);
    t
}

/// A classic PDF from numbered object bodies (object i+1 = bodies[i]) with a correct xref table.
fn pdf(bodies: &[Vec<u8>], trailer_extra: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, b) in bodies.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(b);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", bodies.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
            bodies.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut b = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    b.extend_from_slice(data);
    b.extend_from_slice(b"\nendstream");
    b
}

/// A one-page scanner PDF whose image XObject is `image`.
fn scan_pdf(image: Vec<u8>, extra_objects: Vec<Vec<u8>>, catalog_extra: &str) -> Vec<u8> {
    let mut objs = vec![
        format!("<< /Type /Catalog /Pages 2 0 R {catalog_extra} >>").into_bytes(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 144 144] /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>"
            .to_vec(),
        image,
        stream("", b"q 144 0 0 144 0 0 cm /Im0 Do Q"),
    ];
    objs.extend(extra_objects);
    pdf(&objs, "")
}

fn good_image() -> Vec<u8> {
    let j = jpeg(600, 600);
    stream("/Type /XObject /Subtype /Image /Width 600 /Height 600 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", &j)
}

/// A PDF with a signature field whose value has the given /ByteRange and /Contents text.
fn signed_pdf(byte_range: &str, contents: &[u8]) -> Vec<u8> {
    let mut sig = format!(
        "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange {byte_range} /Contents "
    )
    .into_bytes();
    sig.extend_from_slice(contents);
    sig.extend_from_slice(b" /M (D:20261127000000Z) >>");
    scan_pdf(
        good_image(),
        vec![
            b"<< /FT /Sig /T (Signature1) /V 7 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R >>".to_vec(),
            sig,
        ],
        "/AcroForm << /Fields [6 0 R] /SigFlags 3 >>",
    )
}

/// The hostile corpus: (file name, bytes). Names say what each one is.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut c: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |n: &str, b: Vec<u8>| c.push((n.to_string(), b));

    // ---- JPEG
    let j = jpeg(300, 300);
    add("jpeg-truncated-header.jpg", j[..40].to_vec());
    add("jpeg-truncated-scan.jpg", j[..j.len() / 2].to_vec());
    add("jpeg-4-gigapixel-sof.jpg", jpeg_with_size(65535, 65535));
    add("jpeg-zero-size-sof.jpg", jpeg_with_size(0, 0));
    let mut seg = j.clone();
    seg[4] = 0xff; // APP0 length runs past the end
    seg[5] = 0xff;
    add("jpeg-segment-past-end.jpg", seg[..200].to_vec());
    let mut fill = j[..20].to_vec();
    fill.extend(std::iter::repeat_n(0xffu8, 4 << 20)); // endless fill bytes
    add("jpeg-fill-bytes.jpg", fill);

    // ---- PNG
    add("png-10-gigapixel-ihdr.png", png(100_000, 100_000, &zlib_zeros(1000)));
    // 2000×2000 grey needs 4 MB; the IDAT inflates to 400 MB
    add("png-flate-bomb.png", png(2000, 2000, &zlib_zeros(400 << 20)));
    let mut long = png(10, 10, &zlib_zeros(110));
    long[33..37].copy_from_slice(&0x7fff_fff0u32.to_be_bytes()); // chunk length near 2 GB
    add("png-chunk-length-2gb.png", long);
    let p = png(300, 300, &zlib_zeros(300 * 301));
    add("png-truncated.png", p[..p.len() - 30].to_vec());

    // ---- TIFF (width 256, height 257, BitsPerSample 278, Compression 259, Photometric 262,
    // StripOffsets 273, RowsPerStrip 278, StripByteCounts 279, XResolution 282)
    let base = |w: u32, h: u32, strips: u32, off: u32, next: u32| {
        tiff(
            &[
                (256, 4, 1, w),
                (257, 4, 1, h),
                (258, 3, 1, 8),
                (259, 3, 1, 1),
                (262, 3, 1, 1),
                (273, 4, strips, off),
                (277, 3, 1, 1),
                (278, 4, 1, h),
                (279, 4, strips, off),
            ],
            next,
            &[0u8; 64],
        )
    };
    add("tiff-ifd-self-loop.tif", base(8, 8, 1, 8, 8));
    add("tiff-2-gigapixel.tif", base(0x7fff_ffff, 0x7fff_ffff, 1, 8, 0));
    add("tiff-billion-strips.tif", base(64, 64, 1 << 30, 200, 0));
    add("tiff-strip-past-end.tif", base(64, 64, 1, 0x7fff_0000, 0));
    add("tiff-truncated.tif", base(8, 8, 1, 8, 0)[..20].to_vec());

    // ---- PDF
    let good = scan_pdf(good_image(), vec![], "");
    add("pdf-truncated.pdf", good[..good.len() / 2].to_vec());
    add("pdf-header-only.pdf", b"%PDF-1.7\n".to_vec());
    let mut huge_xref = good.clone();
    let at = huge_xref.windows(5).rposition(|w| w == b"xref\n").unwrap();
    huge_xref.truncate(at);
    huge_xref
        .extend_from_slice(b"xref\n0 2147483647\n0000000000 65535 f \ntrailer\n<< /Size 2147483647 /Root 1 0 R >>\n");
    huge_xref.extend_from_slice(format!("startxref\n{at}\n%%EOF\n").as_bytes());
    add("pdf-huge-xref-count.pdf", huge_xref);
    let xs = stream(
        "/Type /XRef /Size 2147483647 /W [1 8 8] /Index [0 2147483647] /Root 1 0 R",
        &[1u8; 17],
    );
    let mut xref_stream = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n".to_vec();
    let at = xref_stream.len();
    xref_stream.extend_from_slice(b"9 0 obj\n");
    xref_stream.extend_from_slice(&xs);
    xref_stream.extend_from_slice(format!("\nendobj\nstartxref\n{at}\n%%EOF\n").as_bytes());
    add("pdf-huge-xref-stream-index.pdf", xref_stream);
    let mut prev_loop = good.clone();
    let sx = prev_loop.windows(9).rposition(|w| w == b"startxref").unwrap();
    let xref_at: usize = String::from_utf8_lossy(&prev_loop[sx + 10..])
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let tr = prev_loop.windows(7).rposition(|w| w == b"trailer").unwrap();
    prev_loop.truncate(tr);
    prev_loop.extend_from_slice(
        format!("trailer\n<< /Size 6 /Root 1 0 R /Prev {xref_at} >>\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
    );
    add("pdf-prev-loop.pdf", prev_loop);
    add(
        "pdf-cyclic-page-tree.pdf",
        pdf(
            &[
                b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
                b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>".to_vec(),
                b"<< /Type /Pages /Parent 2 0 R /Kids [3 0 R 2 0 R] /Count 1 >>".to_vec(),
            ],
            "",
        ),
    );
    let deep = 200_000;
    let mut nested = "[".repeat(deep).into_bytes();
    nested.extend_from_slice("]".repeat(deep).as_bytes());
    add(
        "pdf-deep-array.pdf",
        scan_pdf(good_image(), vec![nested], "/Deep 6 0 R"),
    );
    let mut dicts = "<< /A ".repeat(deep).into_bytes();
    dicts.extend_from_slice(">>".repeat(deep).as_bytes());
    add("pdf-deep-dict.pdf", scan_pdf(good_image(), vec![dicts], "/Deep 6 0 R"));
    add(
        "pdf-flate-bomb-image.pdf",
        scan_pdf(
            stream(
                "/Type /XObject /Subtype /Image /Width 1000 /Height 1000 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode",
                &zlib_zeros(1 << 30),
            ),
            vec![],
            "",
        ),
    );
    add(
        "pdf-gigapixel-image.pdf",
        scan_pdf(
            stream(
                "/Type /XObject /Subtype /Image /Width 40000 /Height 25000 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode",
                &jpeg(8, 8),
            ),
            vec![],
            "",
        ),
    );
    let mut lying = good.clone();
    let l = lying.windows(8).position(|w| w == b"/Length ").unwrap();
    lying.splice(l + 8..l + 8, b"99999999999".iter().copied());
    add("pdf-length-lies.pdf", lying);
    add(
        "pdf-objstm-billion-objects.pdf",
        scan_pdf(
            good_image(),
            vec![stream("/Type /ObjStm /N 1000000000 /First 0", b"1 0 2 0 3 0")],
            "",
        ),
    );
    add(
        "pdf-flate-bomb-objstm.pdf",
        scan_pdf(
            good_image(),
            vec![stream(
                "/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode",
                &zlib_zeros(1 << 30),
            )],
            "",
        ),
    );
    let zeros = vec![b'0'; 1024];
    add(
        "pdf-sig-byterange-past-end.pdf",
        signed_pdf("[0 10 20 99999999999]", &[&b"<"[..], &zeros, b">"].concat()),
    );
    add(
        "pdf-sig-byterange-negative.pdf",
        signed_pdf("[0 -5 20 -3]", &[&b"<"[..], &zeros, b">"].concat()),
    );
    add(
        "pdf-sig-byterange-overlap.pdf",
        signed_pdf("[0 500 100 200]", &[&b"<"[..], &zeros, b">"].concat()),
    );
    add(
        "pdf-sig-byterange-not-array.pdf",
        signed_pdf("(0 1 2 3)", &[&b"<"[..], &zeros, b">"].concat()),
    );
    let giant: Vec<u8> = [&b"<"[..], &vec![b'3'; 96 << 20], b">"].concat();
    add("pdf-sig-giant-contents.pdf", signed_pdf("[0 100 200 300]", &giant));
    add(
        "pdf-sig-field-cycle.pdf",
        scan_pdf(
            good_image(),
            vec![
                b"<< /FT /Sig /T (a) /Kids [6 0 R 7 0 R] /Parent 7 0 R >>".to_vec(),
                b"<< /T (b) /Kids [6 0 R] /Parent 6 0 R >>".to_vec(),
            ],
            "/AcroForm << /Fields [6 0 R 7 0 R] >>",
        ),
    );
    c
}

// ---- running under limits ---------------------------------------------------------------------

/// True when `prlimit` exists (it imposes the address-space limit); otherwise a loud skip of the
/// memory bound (timeouts still apply).
fn have_prlimit() -> bool {
    have("prlimit", &["--version"])
}

/// Run `program args` with the memory limit (when possible) and TIME_LIMIT. Returns the output
/// and the time taken; panics on timeout.
fn run_limited(program: &Path, args: &[&str], env: &[(&str, &str)], cwd: &Path) -> (Output, Duration) {
    let mut c = if have_prlimit() {
        let mut c = Command::new("prlimit");
        c.arg(format!("--as={MEMORY_LIMIT}")).arg("--").arg(program);
        c
    } else {
        Command::new(program)
    };
    c.args(args).env("RUST_TEST_THREADS", "1");
    let (out, took, _) = run_watched(c, env, cwd);
    (out, took)
}

/// Run `c` to its end within TIME_LIMIT (panics past it): its output, the time taken and its
/// peak resident memory in bytes — the largest VmHWM read from /proc while it ran, polled every
/// few milliseconds (a peak needs more time than that to build up). Not wait4's ru_maxrss:
/// Linux carries the high-water mark of the forked test process, whose corpus is large, across
/// exec into the child's figure.
fn run_watched(mut c: Command, env: &[(&str, &str)], cwd: &Path) -> (Output, Duration, u64) {
    c.current_dir(cwd)
        .env_remove("HOZON_CONFIG")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let start = Instant::now();
    let mut child = c.spawn().unwrap();
    // Drain pipes on threads so a chatty child cannot block on a full pipe.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut so, &mut v);
        v
    });
    let t2 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut se, &mut v);
        v
    });
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            let hwm = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak_kib = peak_kib.max(hwm.unwrap_or(0));
        }
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{c:?} did not finish within {TIME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(3));
    };
    let out = Output {
        status,
        stdout: t1.join().unwrap(),
        stderr: t2.join().unwrap(),
    };
    (out, start.elapsed(), peak_kib * 1024)
}

fn signal_of(o: &Output) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    o.status.signal()
}

fn write_corpus(dir: &Path) -> Vec<(String, PathBuf)> {
    corpus()
        .into_iter()
        .map(|(n, b)| {
            let p = dir.join(&n);
            std::fs::write(&p, b).unwrap();
            (n, p)
        })
        .collect()
}

fn config(dir: &Path) -> PathBuf {
    let shipped = std::fs::read_to_string(repo_root().join("config/hozon.toml")).unwrap();
    let p = dir.join("hozon.toml");
    std::fs::write(&p, shipped.replace("\"../.hozon/", "\".hozon/")).unwrap();
    p
}

/// Files whose damage lies outside what a scan check reads (unused objects, signature
/// dictionaries, a /Prev loop a reader can settle): `hozon check` may pass them; the signature
/// ones are the verifier's business (see the readers test).
const BENIGN: [&str; 11] = [
    "pdf-prev-loop.pdf",
    "pdf-deep-array.pdf",
    "pdf-deep-dict.pdf",
    "pdf-objstm-billion-objects.pdf",
    "pdf-sig-byterange-past-end.pdf",
    "pdf-sig-byterange-negative.pdf",
    "pdf-sig-byterange-overlap.pdf",
    "pdf-sig-byterange-not-array.pdf",
    "pdf-sig-giant-contents.pdf",
    "pdf-sig-field-cycle.pdf",
    "pdf-length-lies.pdf",
];

const SCAN_CODES: [&str; 5] = [
    "unreadable",
    "too-large",
    "unsupported-format",
    "empty-file",
    "no-pages",
];

#[test]
fn hostile_files_fail_cleanly_in_hozon_check() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let files = write_corpus(dir.path());
    let mut report = Vec::new();
    let mut passed = Vec::new();
    for (name, path) in &files {
        let (o, took) = run_limited(
            &hozon_bin(),
            &[
                "--config",
                cfg.to_str().unwrap(),
                "check",
                path.to_str().unwrap(),
                "--json",
                "-",
            ],
            &[],
            dir.path(),
        );
        assert_eq!(signal_of(&o), None, "{name}: killed by a signal\n{}", text(&o));
        let v: Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{name}: no JSON ({e})\n{}", text(&o)));
        let doc = &v["documents"][0];
        let codes: Vec<&str> = doc["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["code"].as_str())
            .collect();
        assert!(
            matches!(o.status.code(), Some(0) | Some(1)),
            "{name}: exit code\n{}",
            text(&o)
        );
        if o.status.code() == Some(0) {
            passed.push(name.clone());
        } else {
            assert_eq!(doc["verdict"], "fail", "{name}: {doc:#}");
            assert!(
                codes.iter().any(|c| SCAN_CODES.contains(c)),
                "{name}: no scan reason code: {doc:#}"
            );
        }
        report.push(format!("{name:<34} {:>6} ms  {}", took.as_millis(), codes.join(",")));
    }
    eprintln!(
        "hozon check on {} hostile files (limit {MEMORY_LIMIT} bytes):\n{}",
        files.len(),
        report.join("\n")
    );
    let unexpected: Vec<&String> = passed.iter().filter(|n| !BENIGN.contains(&n.as_str())).collect();
    assert!(
        unexpected.is_empty(),
        "hostile files that passed the check: {unexpected:?}"
    );
}

/// The same corpus through the verifier's readers (signatures, DSS, revisions, pages, changes),
/// each file in a fresh child process (this test binary, re-run as `hostile_child`) under the
/// memory limit, so a runaway allocation or a stack overflow shows as a failure here.
#[test]
fn hostile_files_fail_cleanly_in_pdf_readers() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_corpus(dir.path());
    let me = std::env::current_exe().unwrap();
    let mut report = Vec::new();
    for (name, path) in files.iter().filter(|(n, _)| n.ends_with(".pdf")) {
        let (o, took) = run_limited(
            &me,
            &[
                "--exact",
                "hostile_child",
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ],
            &[("HOZON_HOSTILE_FILE", path.to_str().unwrap())],
            dir.path(),
        );
        assert_eq!(signal_of(&o), None, "{name}: killed by a signal\n{}", text(&o));
        assert_eq!(
            o.status.code(),
            Some(0),
            "{name}: the readers panicked or ran out of memory\n{}",
            text(&o)
        );
        let line = String::from_utf8_lossy(&o.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&o.stderr).lines())
            .find(|l| l.starts_with("READERS "))
            .map(str::to_string)
            .unwrap_or_default();
        assert!(!line.is_empty(), "{name}: child printed no verdict\n{}", text(&o));
        if name.starts_with("pdf-sig-") {
            assert!(
                line.contains("signatures=err:"),
                "{name}: a broken signature must be an error: {line}"
            );
        }
        if name.starts_with("pdf-truncated") || name.starts_with("pdf-header-only") || name.starts_with("pdf-huge-xref")
        {
            assert!(line.contains("revisions=err:"), "{name}: {line}");
        }
        report.push(format!("{name:<34} {:>6} ms  {line}", took.as_millis()));
    }
    eprintln!("PDF readers on hostile files:\n{}", report.join("\n"));
}

/// Child side of `hostile_files_fail_cleanly_in_pdf_readers`.
#[test]
#[ignore = "run by hostile_files_fail_cleanly_in_pdf_readers in a memory-limited child"]
fn hostile_child() {
    let Ok(path) = std::env::var("HOZON_HOSTILE_FILE") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let code = |r: Result<String, hozon::pdf::PdfError>| match r {
        Ok(s) => s,
        Err(e) => format!("err:{}", e.code()),
    };
    let sigs = code(hozon::pdf::read_signatures(&bytes).map(|s| {
        for e in &s {
            let _ = hozon::cms::parse_signed_data(e.der());
            let _ = hozon::pdf::classify_changes(&bytes, e.covered_end());
        }
        format!("{} sig", s.len())
    }));
    let revs = code(hozon::pdf::revisions(&bytes).map(|r| format!("{} rev", r.len())));
    let dss = code(hozon::pdf::read_dss(&bytes).map(|_| "dss".to_string()));
    let pages = code(hozon::pdf::page_count(&bytes).map(|n| format!("{n} pages")));
    let images = code(hozon::pdf::extract_page_images(&bytes).map(|v| format!("{} images", v.len())));
    eprintln!("READERS signatures={sigs} revisions={revs} dss={dss} pages={pages} images={images}");
}

/// `hozon verify` on the PDFs, once verify exists (it is being written in parallel).
#[test]
fn hostile_files_fail_cleanly_in_hozon_verify() {
    let probe = Command::new(hozon_bin()).args(["verify", "--help"]).output().unwrap();
    if !probe.status.success() {
        eprintln!("\n*** SKIP hozon verify on hostile files: `hozon verify` is not in this build yet ***\n");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    for (name, path) in write_corpus(dir.path()).iter().filter(|(n, _)| n.ends_with(".pdf")) {
        let (o, _) = run_limited(
            &hozon_bin(),
            &[
                "--config",
                cfg.to_str().unwrap(),
                "verify",
                path.to_str().unwrap(),
                "--json",
                "-",
            ],
            &[],
            dir.path(),
        );
        assert_eq!(signal_of(&o), None, "{name}: killed by a signal\n{}", text(&o));
        assert!(
            matches!(o.status.code(), Some(1) | Some(2)),
            "{name}: hostile file must not verify\n{}",
            text(&o)
        );
    }
}

/// Flate bombs (in image streams and in object streams) checked by six workers at once: each
/// fails cleanly, and together they stay within one inflation budget (`limits.max_inflate_bytes`,
/// here 64 MiB) instead of a 256 MiB stream cap per worker.
#[test]
fn flate_bombs_checked_in_parallel_share_one_inflate_budget() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(config(dir.path())).unwrap();
    assert!(shipped.contains("max_inflate_bytes = 268435456\n"));
    let cfg = dir.path().join("budget.toml");
    std::fs::write(&cfg, shipped.replace("max_inflate_bytes = 268435456\n", "max_inflate_bytes = 67108864\n")).unwrap();
    let bombs = dir.path().join("bombs");
    std::fs::create_dir_all(&bombs).unwrap();
    let corpus = corpus();
    for name in ["pdf-flate-bomb-image.pdf", "pdf-flate-bomb-objstm.pdf"] {
        let bytes = &corpus.iter().find(|(n, _)| n == name).unwrap().1;
        for i in 0..3 {
            // one folder per file: each is its own document
            let d = bombs.join(format!("{name}-{i}"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(name), bytes).unwrap();
        }
    }
    let mut check = Command::new(hozon_bin());
    check.args(["--config", cfg.to_str().unwrap(), "check", bombs.to_str().unwrap(), "--json", "-"]);
    let (o, _, rss) = run_watched(check, &[("RAYON_NUM_THREADS", "6")], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("no JSON ({e})\n{}", text(&o)));
    let docs = v["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 6, "{v:#}");
    for d in docs {
        assert_eq!(d["verdict"], "fail", "{d:#}");
        let codes: Vec<&str> = d["reasons"].as_array().unwrap().iter().filter_map(|r| r["code"].as_str()).collect();
        assert!(codes.iter().any(|c| SCAN_CODES.contains(c)), "{d:#}");
    }
    eprintln!("hozon check, 6 Flate bombs, 6 workers, 64 MiB budget: peak RSS {} MiB", rss >> 20);
    // One budget plus the program and the six 4.6 MB files (read, and parsed by lopdf); with a
    // 256 MiB stream cap per worker it went past 1 GB.
    assert!(rss > 0, "no memory figure read from /proc");
    assert!(rss < 3 * (64 << 20), "peak RSS {} MiB: the budget was not shared", rss >> 20);
}
