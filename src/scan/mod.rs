//! Scan inspection: what a scanned file is (sniffed from its bytes, never its name), its pages'
//! size, resolution and colour from the headers, and an integrity pass that walks the whole data so
//! that a corrupt or truncated scan is caught before anything is signed.
//!
//! `inspect` reads headers only and enforces [`Limits`] before anything the size of the image is
//! allocated; `verify_integrity` then streams through the data (marker walk, CRCs, inflate).

mod cursor;
mod error;
mod jpeg;
mod pdf;
mod png;
mod sniff;
mod tiff;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{ColorMode, FormatName, Limits};

pub use error::ScanError;
pub use sniff::{extension_matches, sniff};

/// One page of a scan as its headers describe it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageInfo {
    /// 0-based index of the page within its file.
    pub index: usize,
    pub format: FormatName,
    pub width: u32,
    pub height: u32,
    pub dpi_x: Option<f64>,
    pub dpi_y: Option<f64>,
    pub color: ColorMode,
    pub bits_per_channel: u8,
    /// Samples per pixel as stored (alpha included).
    pub components: u8,
    /// JPEG only: progressive (SOF2/6/10/14) coding.
    pub progressive: bool,
    /// JPEG only: the Adobe APP14 colour transform byte (0 none/CMYK, 1 YCbCr, 2 YCCK).
    pub adobe_transform: Option<u8>,
    /// TIFF compression scheme or PDF image filter.
    pub compression: Option<String>,
}

/// A scanned file: its format and its pages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanFile {
    pub path: PathBuf,
    pub format: FormatName,
    /// File size in bytes.
    pub size: u64,
    pub pages: Vec<PageInfo>,
    /// The file name's extension does not name the sniffed format.
    pub extension_mismatch: bool,
}

/// Headers only: sniffs the format, reads every page's header and enforces `limits`
/// (`max_file_bytes`, `max_pixels`) before any pixel buffer could be allocated.
pub fn inspect(path: &Path, bytes: &[u8], limits: &Limits) -> Result<ScanFile, ScanError> {
    if bytes.is_empty() {
        return Err(ScanError::Empty);
    }
    let size = bytes.len() as u64;
    if size > limits.max_file_bytes {
        return Err(ScanError::TooLarge {
            reason: format!("file is {size} bytes, limit is {} bytes", limits.max_file_bytes),
        });
    }
    let format = sniff(bytes).ok_or_else(|| ScanError::Unsupported {
        reason: "not a JPEG, PNG, TIFF or PDF file (content sniffed)".into(),
    })?;
    let pages = match format {
        FormatName::Jpeg => vec![jpeg::inspect(bytes)?],
        FormatName::Png => vec![png::inspect(bytes)?],
        FormatName::Tiff => tiff::inspect(bytes)?,
        FormatName::Pdf => pdf::inspect(bytes, limits)?,
    };
    if pages.is_empty() {
        return Err(ScanError::Unreadable {
            reason: "the file holds no page".into(),
        });
    }
    for p in &pages {
        check_pixels(p, limits)?;
    }
    Ok(ScanFile {
        path: path.to_path_buf(),
        format,
        size,
        pages,
        extension_mismatch: !extension_matches(path, format),
    })
}

/// Integrity pass over the whole data: JPEG marker walk to EOI with every segment length checked;
/// PNG chunk CRCs and a streaming inflate of IDAT to the exact expected size; TIFF strips/tiles
/// inside the file and decodable; PDF parses and its image streams are intact.
/// Call after [`inspect`] succeeded on the same bytes (limits are already enforced then).
pub fn verify_integrity(scan: &ScanFile, bytes: &[u8]) -> Result<(), ScanError> {
    match scan.format {
        FormatName::Jpeg => jpeg::verify(bytes),
        FormatName::Png => png::verify(bytes),
        FormatName::Tiff => tiff::verify(bytes),
        FormatName::Pdf => pdf::verify(bytes),
    }
}

fn check_pixels(page: &PageInfo, limits: &Limits) -> Result<(), ScanError> {
    let pixels = u64::from(page.width) * u64::from(page.height);
    if pixels > limits.max_pixels {
        return Err(ScanError::TooLarge {
            reason: format!(
                "page {} is {}×{} = {pixels} pixels, limit is {}",
                page.index + 1,
                page.width,
                page.height,
                limits.max_pixels
            ),
        });
    }
    if page.width == 0 || page.height == 0 {
        return Err(ScanError::Unreadable {
            reason: format!("page {} has zero width or height", page.index + 1),
        });
    }
    Ok(())
}

/// Resolution in dots per inch from a density and its unit.
pub(crate) fn dpi_from(value: f64, unit: DensityUnit) -> Option<f64> {
    if !(value.is_finite() && value > 0.0) {
        return None;
    }
    match unit {
        DensityUnit::Inch => Some(value),
        DensityUnit::Centimetre => Some(value * 2.54),
        DensityUnit::Metre => Some(value * 0.0254),
        DensityUnit::None => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DensityUnit {
    Inch,
    Centimetre,
    Metre,
    /// Aspect ratio only (JFIF units 0, PNG unit 0, TIFF ResolutionUnit 1).
    None,
}

/// A small real JPEG for tests of other modules.
#[cfg(test)]
pub(crate) fn jpeg_fixture(w: u32, h: u32, dpi: u16) -> Vec<u8> {
    jpeg::tests::encode(w, h, false, Some(dpi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_its_own_error() {
        let e = inspect(Path::new("a.jpg"), &[], &Limits::default()).unwrap_err();
        assert_eq!(e.code(), "empty-file");
    }

    #[test]
    fn unknown_content_is_unsupported_whatever_the_name() {
        let e = inspect(Path::new("scan.jpg"), b"GIF89a.......", &Limits::default()).unwrap_err();
        assert_eq!(e.code(), "unsupported-format");
    }

    #[test]
    fn file_size_limit_is_enforced() {
        let limits = Limits {
            max_file_bytes: 4,
            ..Limits::default()
        };
        let e = inspect(Path::new("a.pdf"), b"%PDF-1.7 and more", &limits).unwrap_err();
        assert_eq!(e.code(), "too-large");
    }

    #[test]
    fn dots_per_cm_and_metre_convert_to_dpi() {
        assert!((dpi_from(118.0, DensityUnit::Centimetre).unwrap() - 299.72).abs() < 1e-9);
        assert!((dpi_from(11811.0, DensityUnit::Metre).unwrap() - 299.9994).abs() < 1e-9);
        assert_eq!(dpi_from(300.0, DensityUnit::None), None);
        assert_eq!(dpi_from(0.0, DensityUnit::Inch), None);
    }
}
