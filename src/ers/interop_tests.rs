//! BouncyCastle interop, both ways, through `tests/support/ers-check.sh` (the project's own BC
//! checker) and the throw-away openssl TSA: BC must accept every record hozon writes (creation,
//! both renewals, 1/2/3/100 leaves) and hozon must accept records BC writes; tampered documents,
//! a record paired with the wrong file, a broken chain and an untrusted TSA must fail on both.
//! Skips loudly without java or the BC jars unless HOZON_REQUIRE_PEERS=1.

use std::path::{Path, PathBuf};
use std::process::Command;

use time::OffsetDateTime;

use super::test_tsa::{skip, OpensslCheck, TestTsa};
use super::{build_records, renew_hash_tree, renew_timestamps, verify, DigestAlgorithm, EvidenceRecord};

const A: DigestAlgorithm = DigestAlgorithm::Sha256;
const BC_JARS: [&str; 3] = [
    "/usr/share/java/bcprov.jar",
    "/usr/share/java/bcpkix.jar",
    "/usr/share/java/bcutil.jar",
];

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/ers-check.sh")
}

fn bc_ready() -> bool {
    let java = Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    let javac = Command::new("javac")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    let jars = std::env::var("BC_JARS").is_ok() || BC_JARS.iter().all(|j| Path::new(j).exists());
    if !(java && javac && jars) {
        skip("java/javac with BouncyCastle jars (/usr/share/java/bc*.jar)");
    }
    java && javac && jars
}

/// Run ers-check.sh; (exit success, stdout + stderr).
fn bc(args: &[&str]) -> (bool, String) {
    let out = Command::new("bash")
        .arg(script())
        .args(args)
        .output()
        .expect("run ers-check.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// BC verify of (record, data) pairs; returns (all passed, output).
fn bc_verify(root: &Path, pairs: &[(PathBuf, PathBuf)]) -> (bool, String) {
    let mut args = vec!["verify".to_string(), "--trust".into(), root.display().to_string()];
    for (e, d) in pairs {
        args.push(e.display().to_string());
        args.push(d.display().to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = bc(&refs);
    eprintln!("ers-check: {}", r.1.trim());
    r
}

/// `n` documents with Japanese names in a fresh directory.
fn documents(dir: &Path, n: usize, tag: &str) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let p = dir.join(format!("診療録-{tag}-{i}.pdf"));
            std::fs::write(&p, format!("%PDF-1.7 {tag} document {i} 患者 {}", i * 7919)).unwrap();
            p
        })
        .collect()
}

fn write_records(recs: &[EvidenceRecord], docs: &[PathBuf]) -> Vec<(PathBuf, PathBuf)> {
    recs.iter()
        .zip(docs)
        .map(|(r, d)| {
            let e = d.with_extension("ers");
            std::fs::write(&e, r.to_der().unwrap()).unwrap();
            (e, d.clone())
        })
        .collect()
}

fn digests(docs: &[PathBuf], alg: DigestAlgorithm) -> Vec<Vec<u8>> {
    docs.iter().map(|d| alg.digest(&std::fs::read(d).unwrap())).collect()
}

fn sample<T: Clone>(v: &[T]) -> Vec<T> {
    if v.len() <= 4 {
        v.to_vec()
    } else {
        [0, 1, v.len() / 2, v.len() - 1].iter().map(|&i| v[i].clone()).collect()
    }
}

#[test]
fn bouncycastle_accepts_hozon_records_and_rejects_bad_pairs() {
    let Some(tsa) = TestTsa::shared() else { return };
    let Some(other) = TestTsa::other() else {
        return;
    };
    if !bc_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for n in [1usize, 2, 3, 100] {
        let docs = documents(dir.path(), n, &format!("h{n}"));
        let recs = build_records(&digests(&docs, A), A, tsa).unwrap();
        let pairs = write_records(&recs, &docs);
        let (ok, out) = bc_verify(&tsa.root_pem, &sample(&pairs));
        assert!(ok, "BC rejects hozon's {n}-leaf records:\n{out}");
        assert_eq!(out.matches("PASS ers").count(), sample(&pairs).len(), "{out}");
    }
    // negative cases on a 3-leaf batch
    let docs = documents(dir.path(), 3, "neg");
    let recs = build_records(&digests(&docs, A), A, tsa).unwrap();
    let pairs = write_records(&recs, &docs);
    let wrong = vec![(pairs[0].0.clone(), pairs[1].1.clone())];
    let (ok, out) = bc_verify(&tsa.root_pem, &wrong);
    assert!(
        !ok && out.contains("FAIL"),
        "BC accepted a record with the wrong file:\n{out}"
    );
    let tampered = dir.path().join("tampered.pdf");
    let mut bytes = std::fs::read(&docs[2]).unwrap();
    bytes[3] ^= 1;
    std::fs::write(&tampered, bytes).unwrap();
    let (ok, out) = bc_verify(&tsa.root_pem, &[(pairs[2].0.clone(), tampered)]);
    assert!(!ok && out.contains("FAIL"), "BC accepted a tampered document:\n{out}");
    let (ok, out) = bc_verify(&other.root_pem, &pairs[..1]);
    assert!(
        !ok && out.contains("TSA not trusted"),
        "BC trusted an unrelated TSA:\n{out}"
    );
}

#[test]
fn bouncycastle_accepts_hozon_renewals_and_rejects_a_broken_chain() {
    let Some(tsa) = TestTsa::shared() else { return };
    if !bc_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let docs = documents(dir.path(), 3, "renew");
    let recs = build_records(&digests(&docs, A), A, tsa).unwrap();
    let once = renew_timestamps(&recs, tsa).unwrap();
    let twice = renew_timestamps(&once, tsa).unwrap();
    let b = DigestAlgorithm::Sha512;
    let items: Vec<_> = twice.iter().cloned().zip(digests(&docs, b)).collect();
    let rehashed = renew_hash_tree(&items, b, tsa).unwrap();
    let after = renew_timestamps(&rehashed, tsa).unwrap();
    for (stage, set) in [
        ("timestamp renewal", &once),
        ("second renewal", &twice),
        ("hash-tree renewal", &rehashed),
        ("renewal after rehash", &after),
    ] {
        let pairs = write_records(set, &docs);
        let (ok, out) = bc_verify(&tsa.root_pem, &pairs);
        assert!(ok, "BC rejects hozon's records after {stage}:\n{out}");
    }
    // broken chain: the middle timestamp of chain 0 removed
    let mut broken = after[0].clone();
    broken.chains[0].remove(1);
    let e = dir.path().join("broken.ers");
    std::fs::write(&e, broken.to_der().unwrap()).unwrap();
    let (ok, out) = bc_verify(&tsa.root_pem, &[(e, docs[0].clone())]);
    assert!(!ok && out.contains("FAIL"), "BC accepted a broken chain:\n{out}");
    let now = OffsetDateTime::now_utc();
    let doc0 = std::fs::read(&docs[0]).unwrap();
    assert_eq!(
        verify(&broken, &doc0, &OpensslCheck::trusting(tsa), now)
            .unwrap_err()
            .code(),
        "ers-chain-broken"
    );
}

#[test]
fn hozon_accepts_bouncycastle_records_and_renews_them() {
    let Some(tsa) = TestTsa::shared() else { return };
    let Some(other) = TestTsa::other() else {
        return;
    };
    if !bc_ready() {
        return;
    }
    let check = OpensslCheck::trusting(tsa);
    let now = OffsetDateTime::now_utc;
    let dir = tempfile::tempdir().unwrap();
    for n in [1usize, 2, 3, 100] {
        let docs = documents(dir.path(), n, &format!("b{n}"));
        let out_dir = dir.path().join(format!("bc{n}"));
        let mut args = vec![
            "make".to_string(),
            "--tsa".into(),
            tsa.url().into(),
            "--out-dir".into(),
            out_dir.display().to_string(),
        ];
        args.extend(docs.iter().map(|d| d.display().to_string()));
        let (ok, out) = bc(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(ok, "BC make failed:\n{out}");
        for (i, d) in docs.iter().enumerate() {
            let file_name = d.file_name().unwrap().to_string_lossy();
            let der = std::fs::read(out_dir.join(format!("{file_name}.ers"))).unwrap();
            let rec = EvidenceRecord::from_der(&der).unwrap();
            assert_eq!(rec.to_der().unwrap(), der, "re-encoding changes BC's record");
            let data = std::fs::read(d).unwrap();
            verify(&rec, &data, &check, now())
                .unwrap_or_else(|e| panic!("hozon rejects BC's {n}-leaf record {i}: {e}"));
            if n > 1 && (i == 0 || i == n - 1) {
                let wrong = std::fs::read(&docs[(i + 1) % n]).unwrap();
                assert_eq!(
                    verify(&rec, &wrong, &check, now()).unwrap_err().code(),
                    "ers-digest-mismatch"
                );
            }
        }
    }
    // BC's renewals, then hozon's renewal of a BC record checked by BC again
    let docs = documents(dir.path(), 2, "bcrenew");
    let out_dir = dir.path().join("bcrenew");
    let (ok, out) = bc(&[
        "make",
        "--tsa",
        tsa.url(),
        "--out-dir",
        out_dir.to_str().unwrap(),
        docs[0].to_str().unwrap(),
        docs[1].to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let e0 = out_dir.join(format!("{}.ers", docs[0].file_name().unwrap().to_string_lossy()));
    let (ok, out) = bc(&["renew", "--tsa", tsa.url(), e0.to_str().unwrap()]);
    assert!(ok, "{out}");
    let (ok, out) = bc(&[
        "rehash",
        "--tsa",
        tsa.url(),
        e0.to_str().unwrap(),
        docs[0].to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let (ok, out) = bc(&["renew", "--tsa", tsa.url(), e0.to_str().unwrap()]);
    assert!(ok, "{out}");
    let rec = EvidenceRecord::from_der(&std::fs::read(&e0).unwrap()).unwrap();
    assert_eq!(rec.chains.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2]);
    let data = std::fs::read(&docs[0]).unwrap();
    let rep = verify(&rec, &data, &check, now()).unwrap();
    assert_eq!(rep.chains[1].algorithm, DigestAlgorithm::Sha512);
    let e = verify(&rec, &data, &OpensslCheck::trusting(other), now()).unwrap_err();
    assert_eq!(e.code(), "ers-timestamp-invalid");
    let mut tampered = data.clone();
    tampered[0] ^= 1;
    assert_eq!(
        verify(&rec, &tampered, &check, now()).unwrap_err().code(),
        "ers-digest-mismatch"
    );

    let renewed = renew_timestamps(&[rec], tsa).unwrap().remove(0);
    std::fs::write(&e0, renewed.to_der().unwrap()).unwrap();
    let (ok, out) = bc_verify(&tsa.root_pem, &[(e0, docs[0].clone())]);
    assert!(ok, "BC rejects hozon's renewal of a BC record:\n{out}");
}
