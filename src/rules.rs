//! Profile rules: a page's format, resolution and colour mode, and a document's page count,
//! judged against the profile (運用管理規程). Each finding carries a stable reason code.

use serde::Serialize;

use crate::config::{ColorMode, Profile};
use crate::scan::PageInfo;

/// Resolution may fall short of `min_dpi` by this fraction: dots per centimetre and per metre
/// cannot state 300 dpi exactly (118 dots/cm = 299.7 dpi) and PDF page sizes are rounded.
const DPI_TOLERANCE: f64 = 0.005;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One rule outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub message: String,
    /// 1-based page number within the document, when the finding is about one page.
    pub page: Option<usize>,
    pub severity: Severity,
}

impl Finding {
    pub fn error(code: &'static str, message: impl Into<String>, page: Option<usize>) -> Self {
        Finding {
            code,
            message: message.into(),
            page,
            severity: Severity::Error,
        }
    }
    pub fn warning(code: &'static str, message: impl Into<String>, page: Option<usize>) -> Self {
        Finding {
            code,
            message: message.into(),
            page,
            severity: Severity::Warning,
        }
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Findings for one page (`page` numbers are left unset; the caller knows the document page).
pub fn check_page(page: &PageInfo, profile: &Profile) -> Vec<Finding> {
    let mut out = Vec::new();
    if !profile.formats.contains(&page.format) {
        out.push(Finding::error(
            "unsupported-format",
            format!(
                "{} is not an accepted format ({})",
                page.format.as_str(),
                list(profile.formats.iter().map(|f| f.as_str()))
            ),
            None,
        ));
    }
    match (page.dpi_x, page.dpi_y) {
        (Some(x), Some(y)) => {
            let floor = profile.min_dpi * (1.0 - DPI_TOLERANCE);
            if x < floor || y < floor {
                out.push(Finding::error(
                    "low-resolution",
                    format!(
                        "{} × {} dpi is below the required {} dpi",
                        round(x),
                        round(y),
                        profile.min_dpi
                    ),
                    None,
                ));
            }
        }
        _ => out.push(Finding::error(
            "missing-resolution",
            "the file states no resolution (dpi); the precision cannot be confirmed",
            None,
        )),
    }
    if let Some(f) = check_color(page, profile) {
        out.push(f);
    }
    out
}

fn check_color(page: &PageInfo, profile: &Profile) -> Option<Finding> {
    let allowed = &profile.color_modes;
    let allowed_names = list(allowed.iter().map(|m| m.as_str()));
    if !allowed.contains(&page.color) {
        let same_family = allowed.iter().any(|m| family(*m) == family(page.color));
        let code = if same_family { "color-depth" } else { "color-space" };
        return Some(Finding::error(
            code,
            format!("colour mode {} is not allowed ({allowed_names})", page.color.as_str()),
            None,
        ));
    }
    // 2- and 4-bit grey is reported as gray8 with its real depth: fewer levels than gray8 promises.
    if page.color == ColorMode::Gray8 && page.bits_per_channel < 8 {
        return Some(Finding::error(
            "color-depth",
            format!(
                "{}-bit grey is below the 8 bits of gray8 ({allowed_names})",
                page.bits_per_channel
            ),
            None,
        ));
    }
    None
}

#[derive(PartialEq, Eq)]
enum Family {
    Gray,
    Rgb,
    Cmyk,
    Indexed,
}

fn family(m: ColorMode) -> Family {
    match m {
        ColorMode::Bilevel | ColorMode::Gray8 | ColorMode::Gray16 => Family::Gray,
        ColorMode::Rgb8 | ColorMode::Rgb16 => Family::Rgb,
        ColorMode::Cmyk8 => Family::Cmyk,
        ColorMode::Indexed => Family::Indexed,
    }
}

/// Findings for a whole document of `pages` pages.
pub fn check_document(pages: usize, profile: &Profile) -> Vec<Finding> {
    let mut out = Vec::new();
    if pages > profile.max_pages {
        out.push(Finding::error(
            "too-many-pages",
            format!("{pages} pages exceed the profile's maximum of {}", profile.max_pages),
            None,
        ));
    }
    out
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

fn round(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{}", v.round())
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FormatName;

    fn profile(modes: &[ColorMode], formats: &[FormatName]) -> Profile {
        let text = format!(
            "min_dpi = 300\ncolor_modes = [{}]\nformats = [{}]\nmax_pages = 3\n",
            modes
                .iter()
                .map(|m| format!("{:?}", m.as_str()))
                .collect::<Vec<_>>()
                .join(","),
            formats
                .iter()
                .map(|f| format!("{:?}", f.as_str()))
                .collect::<Vec<_>>()
                .join(",")
        );
        toml::from_str(&text).unwrap()
    }

    fn page(color: ColorMode, bits: u8, dpi: Option<f64>) -> PageInfo {
        PageInfo {
            index: 0,
            format: FormatName::Jpeg,
            width: 2480,
            height: 3508,
            dpi_x: dpi,
            dpi_y: dpi,
            color,
            bits_per_channel: bits,
            components: 3,
            progressive: false,
            adobe_transform: None,
            compression: None,
        }
    }

    fn codes(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.code).collect()
    }

    const STD: &[ColorMode] = &[ColorMode::Rgb8, ColorMode::Gray8];

    #[test]
    fn compliant_page_has_no_findings_even_with_cm_rounding() {
        let p = profile(STD, &[FormatName::Jpeg]);
        assert!(check_page(&page(ColorMode::Rgb8, 8, Some(300.0)), &p).is_empty());
        assert!(check_page(&page(ColorMode::Gray8, 8, Some(299.72)), &p).is_empty());
    }

    #[test]
    fn resolution_rules() {
        let p = profile(STD, &[FormatName::Jpeg]);
        let low = check_page(&page(ColorMode::Rgb8, 8, Some(150.0)), &p);
        assert_eq!(codes(&low), ["low-resolution"]);
        assert!(low[0].message.contains("150"));
        assert_eq!(
            codes(&check_page(&page(ColorMode::Rgb8, 8, Some(295.0)), &p)),
            ["low-resolution"]
        );
        assert_eq!(
            codes(&check_page(&page(ColorMode::Rgb8, 8, None), &p)),
            ["missing-resolution"]
        );
        let mut one_axis = page(ColorMode::Rgb8, 8, Some(300.0));
        one_axis.dpi_y = Some(200.0);
        assert_eq!(codes(&check_page(&one_axis, &p)), ["low-resolution"]);
    }

    #[test]
    fn colour_depth_versus_colour_space() {
        let p = profile(STD, &[FormatName::Jpeg]);
        for (mode, bits, code) in [
            (ColorMode::Bilevel, 1, "color-depth"),
            (ColorMode::Gray16, 16, "color-depth"),
            (ColorMode::Rgb16, 16, "color-depth"),
            (ColorMode::Gray8, 4, "color-depth"),
            (ColorMode::Cmyk8, 8, "color-space"),
            (ColorMode::Indexed, 8, "color-space"),
        ] {
            assert_eq!(
                codes(&check_page(&page(mode, bits, Some(300.0)), &p)),
                [code],
                "{mode:?}"
            );
        }
        let bilevel_ok = profile(&[ColorMode::Rgb8, ColorMode::Bilevel], &[FormatName::Jpeg]);
        assert!(check_page(&page(ColorMode::Bilevel, 1, Some(300.0)), &bilevel_ok).is_empty());
        // Grey where only colour is allowed is the wrong family.
        let rgb_only = profile(&[ColorMode::Rgb8], &[FormatName::Jpeg]);
        assert_eq!(
            codes(&check_page(&page(ColorMode::Gray8, 8, Some(300.0)), &rgb_only)),
            ["color-space"]
        );
    }

    #[test]
    fn format_and_page_count() {
        let p = profile(STD, &[FormatName::Pdf]);
        assert_eq!(
            codes(&check_page(&page(ColorMode::Rgb8, 8, Some(300.0)), &p)),
            ["unsupported-format"]
        );
        assert!(check_document(3, &p).is_empty());
        assert_eq!(codes(&check_document(4, &p)), ["too-many-pages"]);
    }
}
