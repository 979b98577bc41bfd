//! What the benches work on, made once per process: a scan page like the pipeline's (A4 at
//! 300 dpi, RGB, JPEG quality 85, a few hundred KB), a demo PKI in a temporary folder with its
//! signer and built-in TSA, and a finished archive file (PAdES B-T plus DSS) built by the library.

use std::io::Cursor;
use std::sync::{Arc, OnceLock};

use hozon::clock::SystemClock;
use hozon::pdf::{self, ImageKind, ImagePage, PdfMetadata};
use hozon::pki::DemoPki;
use hozon::pades::{self, SignatureFields};
use hozon::sign::{Signer, SoftwareSigner};
use hozon::tsp::{BuiltinTsa, TimeStamper};
use image::codecs::jpeg::{JpegEncoder, PixelDensity};
use image::{Rgb, RgbImage};

pub const WIDTH: u32 = 2480;
pub const HEIGHT: u32 = 3508;
pub const DPI: f64 = 300.0;

/// Small deterministic generator (xorshift64*): the bench needs variety, not quality.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n.max(1))) as u32
    }
}

fn fill(img: &mut RgbImage, x0: u32, y0: u32, x1: u32, y1: u32, c: Rgb<u8>) {
    for y in y0..y1.min(HEIGHT) {
        for x in x0..x1.min(WIDTH) {
            img.put_pixel(x, y, c);
        }
    }
}

/// A scan-like page: off-white paper with grain, a colour letterhead, lines of dark word strokes.
fn render_page(seed: u64) -> RgbImage {
    let mut rng = Rng(seed | 1);
    let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, Rgb([247, 245, 238]));
    fill(&mut img, 150, 140, WIDTH - 150, 300, Rgb([40, 70, 170]));
    let mut y = 650;
    while y < HEIGHT - 350 {
        let mut x = 180;
        while x < WIDTH - 180 {
            let w = 30 + rng.below(220);
            let ink = 20 + rng.below(40) as u8;
            fill(&mut img, x, y, x + w, y + 18 + rng.below(8), Rgb([ink, ink, ink + 10]));
            for _ in 0..w / 40 {
                let cx = x + rng.below(w);
                fill(&mut img, cx, y.saturating_sub(10), cx + 3, y + 32, Rgb([ink, ink, ink]));
            }
            x += w + 22 + rng.below(16);
        }
        y += 95;
    }
    // sensor grain: ±1 level in 4×4 cells (finer or stronger grain makes the JPEG far larger
    // than a real 300 dpi scan at quality 85)
    for py in (0..HEIGHT).step_by(4) {
        for px in (0..WIDTH).step_by(4) {
            let d = rng.below(3) as i16 - 1;
            for k in 0..16 {
                let p = img.get_pixel_mut(px + k % 4, py + k / 4);
                for c in p.0.iter_mut() {
                    *c = (i16::from(*c) + d).clamp(0, 255) as u8;
                }
            }
        }
    }
    img
}

/// The page as a JPEG file with a JFIF density of 300 dpi.
pub fn page_jpeg() -> &'static [u8] {
    static PAGE: OnceLock<Vec<u8>> = OnceLock::new();
    PAGE.get_or_init(|| {
        let img = render_page(3161);
        let mut out = Cursor::new(Vec::new());
        let mut enc = JpegEncoder::new_with_quality(&mut out, 85);
        enc.set_pixel_density(PixelDensity::dpi(300));
        enc.encode_image(&img).expect("encode bench page");
        let bytes = out.into_inner();
        eprintln!("bench page: {}×{} px, {} KB JPEG", WIDTH, HEIGHT, bytes.len() / 1024);
        bytes
    })
}

pub struct Pki {
    /// Keeps the PKI's folder alive for the process.
    _dir: tempfile::TempDir,
    pub demo: DemoPki,
    pub signer: SoftwareSigner,
    pub tsa: BuiltinTsa,
}

/// Demo PKI (RSA-2048 signer and TSA under an RSA-3072 root), as `hozon ingest` uses by default.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let demo = DemoPki::ensure(&dir.path().join("demo"), "http://127.0.0.1:9", &SystemClock).expect("demo PKI");
        let (key, cert) = demo.signer_key().expect("signer key");
        let signer = SoftwareSigner::new(key, cert, vec![demo.root.clone()]).expect("signer");
        let tsa = BuiltinTsa::new(
            demo.tsa_private_key.clone(),
            demo.tsa_certificate.clone(),
            demo.tsa_chain.iter().skip(1).cloned().collect(),
            Arc::new(SystemClock),
        )
        .expect("built-in TSA");
        Pki {
            _dir: dir,
            demo,
            signer,
            tsa,
        }
    })
}

pub fn metadata() -> PdfMetadata {
    PdfMetadata {
        title: Some("診療録 ベンチマーク".into()),
        author: Some("デモ 作業責任者".into()),
        subject: None,
        keywords: None,
        creator: "hozon bench".into(),
        producer: "hozon bench".into(),
        created: time::OffsetDateTime::now_utc(),
        custom: vec![("HozonDocumentId".into(), "bench-0001".into())],
    }
}

pub fn image_page(data: &[u8]) -> ImagePage<'_> {
    ImagePage {
        data,
        kind: ImageKind::Jpeg,
        dpi_x: DPI,
        dpi_y: DPI,
    }
}

/// The unsigned one-page PDF of the bench page.
pub fn unsigned_pdf() -> &'static [u8] {
    static PDF: OnceLock<Vec<u8>> = OnceLock::new();
    PDF.get_or_init(|| pdf::assemble(&[image_page(page_jpeg())], &metadata()).expect("assemble"))
}

pub fn fields() -> SignatureFields {
    SignatureFields {
        name: Some("デモ 作業責任者".into()),
        reason: Some("スキャン文書の作業責任者による電子署名".into()),
        location: Some("診療情報管理室".into()),
        contact_info: None,
        signing_time: Some(time::OffsetDateTime::now_utc()),
    }
}

/// An archive file as ingest writes it: PAdES B-T (built-in TSA) plus a DSS with both chains.
pub fn archive_pdf() -> &'static [u8] {
    static ARCHIVE: OnceLock<Vec<u8>> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let p = pki();
        let tsa: &dyn TimeStamper = &p.tsa;
        let signed = pades::sign_pdf(unsigned_pdf().to_vec(), &p.signer, Some(tsa), &fields()).expect("sign");
        let der = |c: &openssl::x509::X509| c.to_der().expect("certificate DER");
        let mut certs = vec![der(p.signer.certificate()), der(&p.demo.root)];
        certs.extend(p.demo.tsa_chain.iter().map(der));
        let crls = std::fs::read_dir(&p.demo.crl_dir)
            .expect("demo CRL folder")
            .filter_map(|e| e.ok().and_then(|e| std::fs::read(e.path()).ok()))
            .collect();
        let v = pdf::Validation {
            certs,
            crls,
            ocsps: Vec::new(),
        };
        pdf::append_dss(signed.pdf, &v).expect("DSS")
    })
}
