//! Reading the document Info dictionary back (text values decoded from PDFDocEncoding or
//! UTF-16BE): `hozon reindex` rebuilds catalog rows from what ingest wrote there.

use super::file::PdfView;
use super::object::Object;
use super::text::decode_text;
use super::xref::XrefChain;
use super::PdfError;

/// The latest revision's Info entries whose values are strings, in file order.
pub fn read_info(pdf: &[u8]) -> Result<Vec<(String, String)>, PdfError> {
    let chain = XrefChain::parse(pdf)?;
    let view = PdfView::latest(pdf, &chain)?;
    let Some(info) = view.trailer.get("Info") else {
        return Ok(Vec::new());
    };
    let dict = view.dict_at(info, "Info")?;
    let mut out = Vec::new();
    for (k, v) in &dict.0 {
        let v = view.resolve(v)?;
        if let Object::Str(b) | Object::Hex(b) = v {
            out.push((String::from_utf8_lossy(k).into_owned(), decode_text(&b)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_japanese_values_round_trip() {
        let jpg = super::super::fixtures::jpeg(100, 141, true);
        let mut meta = super::super::metadata::tests::sample();
        meta.custom = vec![("HozonPatientId".into(), "P-000123".into()), ("HozonScannedBy".into(), "山田 花子".into())];
        let pdf = super::super::assemble(&[super::super::ImagePage { data: &jpg, kind: super::super::ImageKind::Jpeg, dpi_x: 300.0, dpi_y: 300.0 }], &meta).unwrap();
        let info = read_info(&pdf).unwrap();
        assert!(info.contains(&("HozonScannedBy".to_string(), "山田 花子".to_string())), "{info:?}");
        assert!(info.contains(&("HozonPatientId".to_string(), "P-000123".to_string())));
    }
}
