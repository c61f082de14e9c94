//! The lab's files form layers: no `crate::` import cycle between its top-level modules.
//!
//! Reads every `.rs` file under `src/`, takes each `crate::NAME` path it mentions (in `use`
//! lines and inline), maps a file to its top-level module (`stats/tail.rs` → `stats`) and checks
//! that the resulting graph is acyclic; a cycle is printed in the failure message.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module of a file under `src/`.
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .unwrap_or_default()
        .to_string();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::NAME` a source text mentions (comments included: a doc link is a dependency
/// in the reader's head too, and keeping them acyclic costs nothing).
fn mentions(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        // `ballast_engine::…` or `some_crate::` are other crates; `crate::` must stand alone.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if let Some(stripped) = rest.strip_prefix('{') {
            // `use crate::{a::x, b};`
            let inner = stripped.split('}').next().unwrap_or_default();
            for part in inner.split(',') {
                let n: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !n.is_empty() {
                    out.insert(n);
                }
            }
        } else if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("src is readable") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).expect("under src");
            let m = module_of(rel);
            if m == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&p).expect("source is readable");
            let deps = g.entry(m.clone()).or_default();
            for d in mentions(&text) {
                if d != m {
                    deps.insert(d);
                }
            }
        }
    }
    g
}

/// A cycle of `g`, if it has one (depth-first search with colours).
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        colour: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        colour.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            match colour.get(d.as_str()).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == d).unwrap_or(0);
                    let mut c = stack[at..].to_vec();
                    c.push(d.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(d, g, colour, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        colour.insert(n.to_string(), 2);
        None
    }
    let mut colour = BTreeMap::new();
    for n in g.keys() {
        if colour.get(n.as_str()).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, g, &mut colour, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_checker_finds_a_planted_cycle() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    assert!(find_cycle(&g).is_none());
    g.entry("c".into()).or_default().insert("a".into());
    let c = find_cycle(&g).expect("a -> b -> c -> a");
    assert_eq!(c.first(), c.last());
    assert_eq!(c.len(), 4);
    let m = mentions("use crate::{x::A, y};\nlet z = crate::w::f(); ballast_crate::q");
    assert_eq!(
        m.into_iter().collect::<Vec<_>>(),
        ["w", "x", "y"].map(String::from)
    );
}

#[test]
fn lab_modules_import_each_other_without_a_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let g = graph(&src);
    assert!(g.len() > 10, "expected the lab's modules, found {g:?}");
    if let Some(c) = find_cycle(&g) {
        panic!("import cycle between lab files: {}", c.join(" -> "));
    }
}
