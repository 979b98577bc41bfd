//! `hozon verify` for people: per file the verdict, level and path; each signature with its
//! timestamps; the evidence record; the reasons and what to do; the summary.

use std::fmt::Write as _;

use hozon::i18n::{advice, tr, Lang};
use hozon::verify::{Level, TimestampKind, VerifyReport};

use super::pad;

pub fn human(lang: Lang, report: &VerifyReport) -> String {
    let mut s = String::new();
    for f in &report.files {
        let verdict = tr(lang, &format!("verify.verdict.{}", f.verdict.as_str()), &[]);
        let level = f.level.map(Level::as_str).unwrap_or("-");
        let _ = writeln!(s, "{} {level:<6} {}", pad(&verdict, 13), f.path);
        for sig in &f.signatures {
            let who = sig.signer.as_deref().unwrap_or("?");
            let role = sig.role.as_deref().map(|r| format!(" [{r}]")).unwrap_or_default();
            let when = sig.signed_at.as_deref().unwrap_or("-");
            let line = tr(
                lang,
                "verify.signature",
                &[
                    ("field", &sig.field),
                    ("signer", &format!("{who}{role}")),
                    ("time", &when),
                ],
            );
            let _ = writeln!(s, "    {line}");
            for t in &sig.timestamps {
                let key = match t.kind {
                    TimestampKind::Signature => "verify.signature_timestamp",
                    TimestampKind::Document => "verify.document_timestamp",
                };
                let mark = if t.valid { "" } else { " (!)" };
                let _ = writeln!(
                    s,
                    "      {}{mark}",
                    tr(lang, key, &[("time", &t.time), ("tsa", &t.tsa)])
                );
            }
        }
        if let Some(e) = &f.evidence_record {
            let stamps: usize = e.chains.iter().map(|c| c.timestamps.len()).sum();
            let line = tr(
                lang,
                "verify.evidence_record",
                &[
                    ("path", &e.path),
                    ("status", &tr(lang, &format!("verify.ers_status.{}", e.status), &[])),
                    ("existed", &e.existed_at.as_deref().unwrap_or("-")),
                    ("until", &e.valid_until.as_deref().unwrap_or("-")),
                    ("timestamps", &stamps),
                    ("chains", &e.chains.len()),
                ],
            );
            let _ = writeln!(s, "    {line}");
            for n in &e.notes {
                let _ = writeln!(s, "      {n}");
            }
        }
        let mut advised = Vec::new();
        for r in &f.reasons {
            let _ = writeln!(s, "    ✗ {}: {}", r.code.as_str(), r.message);
            if !advised.contains(&r.code) {
                advised.push(r.code);
            }
        }
        for code in advised {
            if let Some(a) = advice(lang, code.as_str()) {
                let _ = writeln!(s, "      → {a}");
            }
        }
    }
    let sum = &report.summary;
    let _ = writeln!(
        s,
        "{}",
        tr(
            lang,
            "verify.summary",
            &[
                ("valid", &sum.valid),
                ("invalid", &sum.invalid),
                ("indeterminate", &sum.indeterminate)
            ]
        )
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use hozon::verify::{Code, FileReport, Reason, SignatureReport, TimestampReport};

    #[test]
    fn signer_role_reasons_and_advice_in_japanese() {
        let mut ok = FileReport::new("a/カルテ.pdf");
        ok.level = Some(Level::BLTA);
        ok.signatures.push(SignatureReport {
            field: "Sig1".into(),
            signer: Some("医師 山田".into()),
            signer_subject: None,
            role: Some("Medical Doctor".into()),
            signed_at: Some("2030-01-01T00:00:00Z".into()),
            claimed_time: None,
            level: Some(Level::BLTA),
            timestamps: vec![TimestampReport {
                kind: TimestampKind::Signature,
                time: "2030-01-01T00:00:00Z".into(),
                tsa: "TSA".into(),
                field: None,
                valid: true,
            }],
            judged_at: None,
            notes: vec![],
        });
        let mut bad = FileReport::new("c.pdf");
        bad.add(Reason::new(Code::RevocationUnknown, "m"));
        bad.add(Reason::new(Code::Revoked, "m"));
        let r = VerifyReport::new("2031-01-01T00:00:00Z".into(), vec![ok, bad]);
        assert_eq!(pad("有効", 6), "有効  ");
        assert_eq!(pad("VALID", 6), "VALID ");
        let human = human(Lang::Ja, &r);
        assert!(human.contains("医師 山田 [Medical Doctor]"), "{human}");
        assert!(human.contains("✗ revoked"), "{human}");
        assert!(human.contains("→ 署名時刻として"), "advice missing: {human}");
        assert!(!human.contains('{'), "{human}");
    }
}
