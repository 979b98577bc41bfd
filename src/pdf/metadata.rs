//! Document metadata written twice, as the Info dictionary and as an XMP packet: standard
//! fields plus hozon's ordered custom key/values (source hashes, profile, checks, version).

use std::fmt::Write as _;

use time::OffsetDateTime;

use super::error::PdfError;
use super::object::{Dict, Object};
use super::text::{pdf_date, text_string};

/// XMP namespace of hozon's custom properties.
pub const HOZON_XMP_NS: &str = "urn:hozon:xmp:1.0/";

/// What a document says about itself.
#[derive(Debug, Clone)]
pub struct PdfMetadata {
    pub title: Option<String>,
    pub author: Option<String>,
    pub subject: Option<String>,
    pub keywords: Option<String>,
    /// e.g. "hozon 0.1.0".
    pub creator: String,
    pub producer: String,
    pub created: OffsetDateTime,
    /// Ordered custom entries: key (ASCII, unique, e.g. `HozonSourceSHA256`), value (any UTF-8).
    pub custom: Vec<(String, String)>,
}

const STANDARD_KEYS: [&str; 9] = [
    "Title",
    "Author",
    "Subject",
    "Keywords",
    "Creator",
    "Producer",
    "CreationDate",
    "ModDate",
    "Trapped",
];

/// Reject keys that cannot be Info keys or would shadow standard ones.
fn check_custom(meta: &PdfMetadata) -> Result<(), PdfError> {
    let mut seen = std::collections::HashSet::new();
    for (k, _) in &meta.custom {
        let ok = !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
        if !ok || STANDARD_KEYS.contains(&k.as_str()) || k.starts_with(|c: char| !c.is_ascii_alphabetic()) {
            return Err(PdfError::InvalidRequest(format!("bad custom metadata key {k:?}")));
        }
        if !seen.insert(k.as_str()) {
            return Err(PdfError::InvalidRequest(format!("duplicate custom metadata key {k:?}")));
        }
    }
    Ok(())
}

/// The Info dictionary (existing entries of `base` are kept unless overridden).
pub fn info_dict(meta: &PdfMetadata, base: Option<Dict>, modified: OffsetDateTime) -> Result<Dict, PdfError> {
    check_custom(meta)?;
    let mut d = base.unwrap_or_default();
    let fields = [
        ("Title", &meta.title),
        ("Author", &meta.author),
        ("Subject", &meta.subject),
        ("Keywords", &meta.keywords),
    ];
    for (k, v) in fields {
        if let Some(v) = v {
            d.set(k, text_string(v));
        }
    }
    d.set("Creator", text_string(&meta.creator));
    d.set("Producer", text_string(&meta.producer));
    d.set("CreationDate", Object::Str(pdf_date(meta.created).into_bytes()));
    d.set("ModDate", Object::Str(pdf_date(modified).into_bytes()));
    for (k, v) in &meta.custom {
        d.set(k, text_string(v));
    }
    Ok(d)
}

/// The XMP packet (UTF-8).
pub fn xmp_packet(meta: &PdfMetadata, modified: OffsetDateTime) -> Result<Vec<u8>, PdfError> {
    check_custom(meta)?;
    let rfc = |t: OffsetDateTime| {
        t.to_offset(time::UtcOffset::UTC)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let mut x = String::with_capacity(2048);
    x.push_str("<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n");
    x.push_str(
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n",
    );
    let _ = writeln!(
        x,
        "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\" \
         xmlns:hozon=\"{HOZON_XMP_NS}\">"
    );
    if let Some(t) = &meta.title {
        let _ = writeln!(
            x,
            "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:title>",
            esc(t)
        );
    }
    if let Some(a) = &meta.author {
        let _ = writeln!(
            x,
            "<dc:creator><rdf:Seq><rdf:li>{}</rdf:li></rdf:Seq></dc:creator>",
            esc(a)
        );
    }
    if let Some(s) = &meta.subject {
        let _ = writeln!(
            x,
            "<dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:description>",
            esc(s)
        );
    }
    if let Some(k) = &meta.keywords {
        let _ = writeln!(x, "<pdf:Keywords>{}</pdf:Keywords>", esc(k));
    }
    let _ = writeln!(x, "<pdf:Producer>{}</pdf:Producer>", esc(&meta.producer));
    let _ = writeln!(x, "<xmp:CreatorTool>{}</xmp:CreatorTool>", esc(&meta.creator));
    let _ = writeln!(x, "<xmp:CreateDate>{}</xmp:CreateDate>", rfc(meta.created));
    let _ = writeln!(x, "<xmp:ModifyDate>{}</xmp:ModifyDate>", rfc(modified));
    let _ = writeln!(x, "<xmp:MetadataDate>{}</xmp:MetadataDate>", rfc(modified));
    if !meta.custom.is_empty() {
        // An ordered list of key/value pairs keeps the caller's order and any key spelling.
        x.push_str("<hozon:Properties><rdf:Seq>\n");
        for (k, v) in &meta.custom {
            let _ = writeln!(
                x,
                "<rdf:li rdf:parseType=\"Resource\"><hozon:key>{}</hozon:key><hozon:value>{}</hozon:value></rdf:li>",
                esc(k),
                esc(v)
            );
        }
        x.push_str("</rdf:Seq></hozon:Properties>\n");
    }
    x.push_str("</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>");
    Ok(x.into_bytes())
}

/// The dictionary of the XMP metadata stream (uncompressed, so archivists can read it).
pub fn xmp_stream_dict() -> Dict {
    Dict::new()
        .with("Type", Object::name("Metadata"))
        .with("Subtype", Object::name("XML"))
}

/// XML text escaping; characters XML 1.0 forbids are dropped.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use time::macros::datetime;

    pub fn sample() -> PdfMetadata {
        PdfMetadata {
            title: Some("診療録 <1>".into()),
            author: Some("山田 花子".into()),
            subject: None,
            keywords: Some("scan".into()),
            creator: "hozon 0.1.0".into(),
            producer: "hozon 0.1.0".into(),
            created: datetime!(2026-11-27 01:02:03 UTC),
            custom: vec![
                ("HozonSourceSHA256".into(), "p1.jpg ab12".into()),
                ("HozonProfile".into(), "標準".into()),
            ],
        }
    }

    #[test]
    fn info_uses_utf16_for_japanese_and_keeps_custom_order() {
        let d = info_dict(&sample(), None, datetime!(2026-11-27 01:02:03 UTC)).unwrap();
        let author = d.get("Author").unwrap().as_string().unwrap();
        assert_eq!(super::super::text::decode_text(author), "山田 花子");
        assert!(author.starts_with(&[0xFE, 0xFF]));
        assert_eq!(d.get("Keywords"), Some(&Object::Str(b"scan".to_vec())));
        let keys: Vec<_> =
            d.0.iter()
                .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
                .collect();
        assert_eq!(keys[keys.len() - 2..], ["HozonSourceSHA256", "HozonProfile"]);
    }

    #[test]
    fn xmp_is_escaped_utf8() {
        let x = String::from_utf8(xmp_packet(&sample(), datetime!(2026-11-27 01:02:03 UTC)).unwrap()).unwrap();
        assert!(x.contains("診療録 &lt;1&gt;"));
        assert!(x.contains("<hozon:key>HozonProfile</hozon:key><hozon:value>標準</hozon:value>"));
        assert!(x.find("HozonSourceSHA256") < x.find("HozonProfile"));
        assert!(x.contains("<xmp:CreateDate>2026-11-27T01:02:03Z</xmp:CreateDate>"));
    }

    #[test]
    fn bad_custom_keys_are_rejected() {
        for key in ["", "Title", "has space", "1abc", "日本"] {
            let mut m = sample();
            m.custom.push((key.into(), "x".into()));
            assert_eq!(
                info_dict(&m, None, m.created).unwrap_err().code(),
                "invalid-request",
                "{key}"
            );
        }
        let mut m = sample();
        m.custom.push(("HozonProfile".into(), "again".into()));
        assert!(xmp_packet(&m, m.created).is_err());
    }
}
