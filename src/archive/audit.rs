//! The append-only audit log `<archive>/audit.jsonl`: one JSON object per line, each carrying
//! the SHA-256 of the line before it (`prev`), so deleting, altering or inserting a line breaks
//! the chain. Appends are serialized by the caller (one writer per archive) and fsynced.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    #[error("audit log {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("audit log {path}, line {line}: {message}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

impl AuditError {
    pub fn code(&self) -> &'static str {
        match self {
            AuditError::Io { source, .. } => match super::atomic::io_code(source) {
                "archive-io" => "audit-io",
                code => code,
            },
            AuditError::Corrupt { .. } => "audit-chain-broken",
        }
    }
}

/// One audit event. `details` carries event-specific fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub seq: u64,
    pub time: String,
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
    pub prev: String,
}

/// An open audit log, positioned for appending.
pub struct AuditLog {
    path: PathBuf,
    file: File,
    next_seq: u64,
    last_hash: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl AuditLog {
    /// Open (creating if absent) and read the tail to continue the chain. A torn last line
    /// (crash mid-append, no newline) is cut off: it was never acknowledged.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        let io = |source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        let mut text = Vec::new();
        file.read_to_end(&mut text).map_err(io)?;
        let complete = match text.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None => 0,
        };
        if complete < text.len() {
            file.set_len(complete as u64).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        let (mut next_seq, mut last_hash) = (0, GENESIS.to_string());
        if let Some(last) = text[..complete]
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .next_back()
        {
            let e: Entry = serde_json::from_slice(last).map_err(|e| AuditError::Corrupt {
                path: path.to_path_buf(),
                line: 0,
                message: format!("last line is not an audit entry: {e}"),
            })?;
            next_seq = e.seq + 1;
            last_hash = sha256_hex(last);
        }
        Ok(AuditLog {
            path: path.to_path_buf(),
            file,
            next_seq,
            last_hash,
        })
    }

    /// Append one event and fsync it.
    pub fn append(
        &mut self,
        time: &str,
        event: &str,
        document_id: Option<&str>,
        details: serde_json::Value,
    ) -> Result<Entry, AuditError> {
        let mut v = self.append_many(vec![NewEntry {
            time,
            event,
            document_id,
            details,
        }])?;
        v.pop().ok_or_else(|| AuditError::Corrupt {
            path: self.path.clone(),
            line: 0,
            message: "no entry appended".into(),
        })
    }

    /// Append several events with one write and one fsync (group commit): all of them are in
    /// the log, chained in order, or — on an error — none (the file is cut back).
    pub fn append_many(&mut self, new: Vec<NewEntry<'_>>) -> Result<Vec<Entry>, AuditError> {
        let (mut seq, mut last_hash) = (self.next_seq, self.last_hash.clone());
        let mut entries = Vec::with_capacity(new.len());
        let mut buf = Vec::new();
        for n in new {
            let entry = Entry {
                seq,
                time: n.time.to_string(),
                event: n.event.to_string(),
                document_id: n.document_id.map(str::to_string),
                details: n.details,
                prev: last_hash,
            };
            let line = serde_json::to_vec(&entry).map_err(|e| AuditError::Corrupt {
                path: self.path.clone(),
                line: 0,
                message: e.to_string(),
            })?;
            last_hash = sha256_hex(&line);
            seq += 1;
            buf.extend_from_slice(&line);
            buf.push(b'\n');
            entries.push(entry);
        }
        if entries.is_empty() {
            return Ok(entries);
        }
        let io = |source| AuditError::Io {
            path: self.path.clone(),
            source,
        };
        // A failed append (ENOSPC, EIO) must not leave a torn line for the next append to
        // follow: that would break the chain for good. Cut the file back to where it was.
        let before = self.file.metadata().map_err(io)?.len();
        if let Err(e) = self.file.write_all(&buf).and_then(|()| self.file.sync_data()) {
            let _ = self.file.set_len(before);
            return Err(io(e));
        }
        self.next_seq = seq;
        self.last_hash = last_hash;
        Ok(entries)
    }
}

/// An event to append.
pub struct NewEntry<'a> {
    pub time: &'a str,
    pub event: &'a str,
    pub document_id: Option<&'a str>,
    pub details: serde_json::Value,
}

/// Result of checking a log's chain.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ChainReport {
    pub entries: usize,
    /// Problems: (1-based line, message).
    pub problems: Vec<(usize, String)>,
}

/// Read every entry, checking the hash chain and sequence numbers.
pub fn read_and_check(path: &Path) -> Result<(Vec<Entry>, ChainReport), AuditError> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), ChainReport::default())),
        Err(source) => {
            return Err(AuditError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let mut entries = Vec::new();
    let mut report = ChainReport::default();
    let mut prev_hash = GENESIS.to_string();
    let mut expected_seq = 0u64;
    for (i, line) in BufReader::new(f).split(b'\n').enumerate() {
        let line = line.map_err(|source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let n = i + 1;
        if line.is_empty() {
            report.problems.push((n, "empty line".into()));
            continue;
        }
        match serde_json::from_slice::<Entry>(&line) {
            Ok(e) => {
                if e.prev != prev_hash {
                    report.problems.push((
                        n,
                        format!(
                            "hash chain broken: prev {} does not match the line before",
                            short(&e.prev)
                        ),
                    ));
                }
                if e.seq != expected_seq {
                    report
                        .problems
                        .push((n, format!("sequence {} where {} was expected", e.seq, expected_seq)));
                }
                expected_seq = e.seq + 1;
                entries.push(e);
            }
            Err(err) => report.problems.push((n, format!("not an audit entry: {err}"))),
        }
        prev_hash = sha256_hex(&line);
    }
    report.entries = entries.len();
    Ok((entries, report))
}

fn short(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn log_with(n: usize) -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("audit.jsonl");
        let mut log = AuditLog::open(&p).unwrap();
        for i in 0..n {
            log.append(
                "2026-11-27T00:00:00Z",
                "archived",
                Some(&format!("doc{i}")),
                json!({"patient": "山田"}),
            )
            .unwrap();
        }
        (d, p)
    }

    #[test]
    fn chain_holds_across_reopen() {
        let (_d, p) = log_with(3);
        let mut log = AuditLog::open(&p).unwrap();
        log.append("t", "rejected", None, json!({})).unwrap();
        let (entries, rep) = read_and_check(&p).unwrap();
        assert_eq!(entries.len(), 4);
        assert!(rep.problems.is_empty(), "{:?}", rep.problems);
        assert_eq!(entries[3].seq, 3);
    }

    #[test]
    fn many_entries_in_one_append_chain_like_single_ones() {
        let (_d, p) = log_with(1);
        let mut log = AuditLog::open(&p).unwrap();
        let got = log
            .append_many(
                ["a", "b", "c"]
                    .iter()
                    .map(|id| NewEntry {
                        time: "t",
                        event: "archived",
                        document_id: Some(id),
                        details: json!({}),
                    })
                    .collect(),
            )
            .unwrap();
        assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert!(log.append_many(Vec::new()).unwrap().is_empty());
        log.append("t", "rejected", None, json!({})).unwrap();
        let (entries, rep) = read_and_check(&p).unwrap();
        assert_eq!(entries.len(), 5);
        assert!(rep.problems.is_empty(), "{:?}", rep.problems);
    }

    #[test]
    fn deleted_altered_and_inserted_lines_are_detected() {
        let (_d, p) = log_with(4);
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();

        let deleted = [lines[0], lines[2], lines[3]].join("\n") + "\n";
        std::fs::write(&p, deleted).unwrap();
        assert!(!read_and_check(&p).unwrap().1.problems.is_empty());

        let altered = text.replace("doc1", "doc9");
        std::fs::write(&p, altered).unwrap();
        let rep = read_and_check(&p).unwrap().1;
        assert_eq!(rep.problems.len(), 1, "{:?}", rep.problems);
        assert_eq!(rep.problems[0].0, 3, "the line after the altered one breaks");

        let inserted = [lines[0], lines[1], lines[1], lines[2], lines[3]].join("\n") + "\n";
        std::fs::write(&p, inserted).unwrap();
        assert!(!read_and_check(&p).unwrap().1.problems.is_empty());
    }

    #[test]
    fn torn_last_line_is_dropped_on_open() {
        let (_d, p) = log_with(2);
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"seq\":2,\"tim").unwrap();
        drop(f);
        let mut log = AuditLog::open(&p).unwrap();
        log.append("t", "archived", None, json!({})).unwrap();
        let (entries, rep) = read_and_check(&p).unwrap();
        assert_eq!(entries.len(), 3);
        assert!(rep.problems.is_empty(), "{:?}", rep.problems);
    }
}
