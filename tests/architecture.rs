//! Architecture invariants that ARCHITECTURE.md states, checked from the source text (the
//! `use crate::…` and `crate::…::` paths of each file; no tool needed):
//! - no import circle between top-level modules of the library, nor between the submodules of
//!   any one of them (e.g. `archive::audit` ↔ `archive::store`);
//! - no flow in `ops/` imports another flow: what two flows share lives in the layer below;
//! - nothing in the library writes to stdout or stderr (only `main.rs` and `cli/` do); test
//!   code is exempt.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Library source files (not the binary's `main.rs` and `cli/`), as (module path, text).
/// The module path of `src/ops/report/html.rs` is `["ops", "report", "html"]`.
fn library_files() -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    let mut stack = vec![src()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p != src().join("cli") {
                    stack.push(p);
                }
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") || p == src().join("main.rs") || p == src().join("lib.rs") {
                continue;
            }
            let rel = p.strip_prefix(src()).unwrap();
            let mut parts: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
            let last = parts.pop().unwrap();
            let stem = last.trim_end_matches(".rs").to_string();
            if stem != "mod" {
                parts.push(stem);
            }
            out.push((parts, std::fs::read_to_string(&p).unwrap()));
        }
    }
    out.sort();
    out
}

/// Test-only files, as module paths: modules declared `#[cfg(test)] mod x;`, and the
/// `*_tests.rs` files that `#[cfg(test)] #[path = "x_tests.rs"] mod tests;` includes.
fn test_only_modules(files: &[(Vec<String>, String)]) -> BTreeSet<Vec<String>> {
    let mut out: BTreeSet<Vec<String>> = files
        .iter()
        .filter(|(m, _)| m.last().is_some_and(|l| l.ends_with("_tests")))
        .map(|(m, _)| m.clone())
        .collect();
    for (module, text) in files {
        let lines: Vec<&str> = text.lines().collect();
        for w in lines.windows(2) {
            if w[0].trim() == "#[cfg(test)]" {
                let decl = w[1].trim().trim_start_matches("pub(crate) ").trim_start_matches("pub ");
                if let Some(name) = decl.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
                    let mut m = module.clone();
                    m.push(name.to_string());
                    out.insert(m);
                }
            }
        }
    }
    out
}

/// The file's code without its inline `#[cfg(test)] mod … { … }` blocks and without comments
/// that start a line.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" && lines.peek().is_some_and(|n| n.trim_start().starts_with("mod ") && n.trim_end().ends_with('{')) {
            // Skip the block by brace depth.
            let mut depth = 0i32;
            for l in lines.by_ref() {
                depth += l.matches('{').count() as i32 - l.matches('}').count() as i32;
                if depth <= 0 && l.contains('}') {
                    break;
                }
            }
            continue;
        }
        if line.trim_start().starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The path (or, for `{…}` groups, the paths) written right after a `crate::`/`super::`
/// prefix at the start of `rest`: `a::b::C` → [[a, b, C]]; `{a, b::c, d::{e}}` → [[a], [b, c], [d]].
fn paths_after(rest: &str) -> Vec<Vec<String>> {
    let plain: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let after = &rest[plain.len()..];
    let head = segments(&plain);
    if !after.starts_with('{') {
        return vec![head];
    }
    let mut out = Vec::new();
    let mut depth = 0;
    let mut item = String::new();
    for ch in after.chars() {
        match ch {
            '{' => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => {
                out.push(std::mem::take(&mut item));
                continue;
            }
            _ => {}
        }
        item.push(ch);
    }
    out.push(item);
    out.iter()
        .map(|i| i.trim())
        .filter(|i| !i.is_empty() && *i != "self")
        .map(|i| {
            let first: String = i.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let mut p = head.clone();
            p.push(first);
            p
        })
        .collect()
}

fn segments(path: &str) -> Vec<String> {
    path.split("::").filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Where each occurrence of `prefix` in `code` starts (not inside a longer identifier or path).
fn occurrences<'a>(code: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(pos) = code[i..].find(prefix) {
        let start = i + pos;
        i = start + prefix.len();
        let prev = start.checked_sub(1).map(|k| code.as_bytes()[k]);
        if prev.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
            continue;
        }
        out.push(&code[i..]);
    }
    out
}

/// Every `crate::…` path the code names.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    occurrences(code, "crate::").into_iter().flat_map(paths_after).collect()
}

/// `super::…` paths of a file in `module`, resolved to crate paths. For `a/b.rs` and for
/// `a/b/mod.rs` alike the module is `a::b`, and `super` is `a`.
fn super_paths(module: &[String], code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for rest in occurrences(code, "super::") {
        let mut base: Vec<String> = module[..module.len().saturating_sub(1)].to_vec();
        let mut rest = rest;
        while let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
        }
        for p in paths_after(rest) {
            let mut full = base.clone();
            full.extend(p);
            out.push(full);
        }
    }
    out
}

/// Edges between the children of `parent` (top level when empty): child → child it names.
fn edges(files: &[(Vec<String>, String)], parent: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    let test_only = test_only_modules(files);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in files {
        if module.len() <= parent.len() || module[..parent.len()] != *parent {
            continue;
        }
        if test_only.iter().any(|t| module.starts_with(t)) {
            continue;
        }
        let from = module[parent.len()].clone();
        let code = code_of(text);
        let mut paths = crate_paths(&code);
        paths.extend(super_paths(module, &code));
        for p in paths {
            if p.len() > parent.len() && p[..parent.len()] == *parent {
                let to = p[parent.len()].clone();
                if to != from && to.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                    g.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    g
}

/// A cycle in `g`, if any, as the modules along it.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let i = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut c = stack[i..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, g, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn no_circle_between_top_level_modules() {
    let files = library_files();
    let g = edges(&files, &[]);
    assert!(g.contains_key("ops"), "the graph was not read: {g:?}");
    if let Some(c) = find_cycle(&g) {
        panic!("import circle between top-level modules: {}", c.join(" → "));
    }
}

#[test]
fn no_circle_inside_any_module() {
    let files = library_files();
    let parents: BTreeSet<Vec<String>> = files.iter().filter(|(m, _)| m.len() >= 2).map(|(m, _)| m[..m.len() - 1].to_vec()).collect();
    for parent in parents {
        if let Some(c) = find_cycle(&edges(&files, &parent)) {
            panic!("import circle inside {}: {}", parent.join("::"), c.join(" → "));
        }
    }
}

#[test]
fn no_flow_imports_another_flow() {
    let files = library_files();
    let g = edges(&files, &["ops".to_string()]);
    let offenders: Vec<String> = g.iter().flat_map(|(a, bs)| bs.iter().map(move |b| format!("ops::{a} → ops::{b}"))).collect();
    assert!(offenders.is_empty(), "flows must share through the layer below: {offenders:?}");
}

#[test]
fn the_library_never_prints() {
    let files = library_files();
    let test_only = test_only_modules(&files);
    let mut offenders = Vec::new();
    for (module, text) in &files {
        if test_only.iter().any(|t| module.starts_with(t)) {
            continue;
        }
        let code = code_of(text);
        for (n, line) in code.lines().enumerate() {
            for needle in ["println!", "eprintln!", "print!(", "eprint!(", "dbg!(", "io::stdout", "io::stderr"] {
                if line.contains(needle) {
                    offenders.push(format!("{} line {}: {}", module.join("::"), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "only main.rs and cli/ write to stdout/stderr: {offenders:#?}");
}

#[test]
fn the_checker_sees_a_circle_when_there_is_one() {
    // The checker itself: two files naming each other make a circle; a mod.rs' `super::` and a
    // test module do not count.
    let files = vec![
        (vec!["a".to_string()], "use crate::b::X;\n#[cfg(test)]\nmod tests {\n    use crate::c::Y;\n}\n".to_string()),
        (vec!["b".to_string()], "pub fn f() { crate::a::g() }\n".to_string()),
        (vec!["c".to_string()], "use crate::{d, e::F};\n".to_string()),
    ];
    let g = edges(&files, &[]);
    assert_eq!(g.get("a").map(|s| s.len()), Some(1), "{g:?}");
    assert_eq!(g.get("c").cloned().unwrap_or_default(), ["d".to_string(), "e".to_string()].into_iter().collect());
    assert!(find_cycle(&g).is_some_and(|c| c.contains(&"a".to_string()) && c.contains(&"b".to_string())));
    // archive/audit.rs naming super::store and archive/store.rs naming super::audit
    let inner = vec![
        (vec!["archive".to_string(), "audit".to_string()], "use super::store::io_code;\n".to_string()),
        (vec!["archive".to_string(), "store".to_string()], "use super::{audit, layout};\n".to_string()),
    ];
    let g = edges(&inner, &["archive".to_string()]);
    assert!(find_cycle(&g).is_some(), "{g:?}");
}
