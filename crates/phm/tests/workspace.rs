//! The workspace keeps its own rules (issue 17 §6), read from `cargo metadata`:
//!
//! * Layering. ARCHITECTURE.md's code map gives each crate a heading `` ### `crates/NAME` (layer N) ``,
//!   or `(dev only)` for test support. A crate depends (normally, for its build or for its tests) only
//!   on crates in strictly lower layers; a dev-only crate is only ever a dev-dependency, and may
//!   itself use any layered crate. Every workspace crate has a heading, so a new crate is placed
//!   before it builds here.
//! * Test binaries. A crate's integration tests link as one binary (`tests/it.rs`): every `.rs` file
//!   directly in `tests/` is a test target or a module of one, so none is silently left unbuilt.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Where a crate sits in ARCHITECTURE.md's order.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Place {
    Layer(u32),
    DevOnly,
}

/// A dependency of one workspace crate on another.
#[derive(Debug)]
struct Edge {
    from: String,
    to: String,
    /// `normal`, `dev` or `build`.
    kind: String,
}

/// The code map's headings: `` ### `crates/NAME` (layer N) `` or `` ### `crates/NAME` (dev only) ``.
fn places(architecture: &str) -> Result<BTreeMap<String, Place>, String> {
    let mut out = BTreeMap::new();
    for (i, line) in architecture.lines().enumerate() {
        let Some(rest) = line.strip_prefix("### `crates/") else { continue };
        let (name, tail) = rest.split_once('`').ok_or_else(|| format!("ARCHITECTURE.md:{}: no closing `", i + 1))?;
        let place = match tail.trim() {
            "(dev only)" => Place::DevOnly,
            t => {
                let n = t.strip_prefix("(layer ").and_then(|t| t.strip_suffix(')')).and_then(|n| n.parse().ok());
                Place::Layer(n.ok_or_else(|| {
                    format!("ARCHITECTURE.md:{}: `{line}`: expected `(layer N)` or `(dev only)` after the name", i + 1)
                })?)
            }
        };
        if out.insert(name.to_owned(), place).is_some() {
            return Err(format!("ARCHITECTURE.md:{}: a second heading for `{name}`", i + 1));
        }
    }
    Ok(out)
}

/// Every break of the layering rule, one sentence each.
fn layering_violations(places: &BTreeMap<String, Place>, crates: &[String], edges: &[Edge]) -> Vec<String> {
    let mut out: Vec<String> = crates
        .iter()
        .filter(|c| !places.contains_key(*c))
        .map(|c| format!("`{c}` has no `### `crates/{c}` (layer N)` heading in ARCHITECTURE.md's code map"))
        .collect();
    for e in edges {
        let (Some(&from), Some(&to)) = (places.get(&e.from), places.get(&e.to)) else { continue };
        match (from, to) {
            (_, Place::DevOnly) if e.kind != "dev" => out.push(format!(
                "`{}` has `{}` as a {} dependency; a dev-only crate may only be a dev-dependency",
                e.from, e.to, e.kind
            )),
            (Place::Layer(a), Place::Layer(b)) if b >= a => out.push(format!(
                "`{}` (layer {a}) depends on `{}` (layer {b}) as a {} dependency; a crate may use only lower layers",
                e.from, e.to, e.kind
            )),
            _ => {}
        }
    }
    out
}

/// Files named by `mod NAME;` (as `tests/NAME.rs`) or `#[path = "FILE"]` in a test target's root.
fn modules_of(root: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in root.lines().map(str::trim) {
        if let Some(path) = line.strip_prefix("#[path = \"").and_then(|l| l.strip_suffix("\")]")) {
            out.insert(path.to_owned());
        } else if let Some(name) = line.strip_prefix("mod ").and_then(|l| l.strip_suffix(';')) {
            out.insert(format!("{name}.rs"));
        }
    }
    out
}

/// `.rs` files directly in `tests/` that no test target builds.
fn unbuilt_test_files(files: &BTreeSet<String>, targets: &BTreeMap<String, String>) -> Vec<String> {
    let built: BTreeSet<String> =
        targets.iter().flat_map(|(file, root)| std::iter::once(file.clone()).chain(modules_of(root))).collect();
    files.difference(&built).cloned().collect()
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(workspace_root())
        .output()
        .expect("run cargo metadata");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("cargo metadata's JSON")
}

fn packages(metadata: &Value) -> &Vec<Value> {
    metadata["packages"].as_array().expect("packages")
}

fn edge(c: &str, e: &str, k: &str) -> Edge {
    Edge { from: c.into(), to: e.into(), kind: k.into() }
}

#[test]
fn the_layering_rule_finds_upward_same_layer_and_dev_only_dependencies_and_unplaced_crates() {
    let architecture = "## Code map\n### `crates/core` (layer 0)\n### `crates/stats` (layer 0)\n\
                        ### `crates/engine` (layer 4)\n### `crates/testkit` (dev only)\n";
    let map = places(architecture).expect("headings");
    let crates: Vec<String> = ["core", "stats", "engine", "testkit", "pipeline"].map(String::from).to_vec();
    let allowed = [
        edge("engine", "core", "normal"),
        edge("engine", "testkit", "dev"),
        edge("testkit", "engine", "normal"),
        edge("pipeline", "engine", "normal"),
    ];
    assert_eq!(
        layering_violations(&map, &crates, &allowed),
        ["`pipeline` has no `### `crates/pipeline` (layer N)` heading in ARCHITECTURE.md's code map"]
    );
    let broken = [edge("core", "engine", "dev"), edge("core", "stats", "normal"), edge("engine", "testkit", "normal")];
    let found = layering_violations(&map, &crates[..4], &broken);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].contains("`core` (layer 0) depends on `engine` (layer 4) as a dev dependency"), "{}", found[0]);
    assert!(found[1].contains("`core` (layer 0) depends on `stats` (layer 0)"), "{}", found[1]);
    assert!(found[2].contains("a dev-only crate may only be a dev-dependency"), "{}", found[2]);
    assert!(places("### `crates/x` (layer two)\n").is_err());
}

#[test]
fn no_crate_depends_on_a_crate_in_its_own_or_a_higher_layer_of_architecture_md() {
    let architecture = std::fs::read_to_string(workspace_root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let places = places(&architecture).expect("ARCHITECTURE.md's code map");
    let metadata = metadata();
    let crates: Vec<String> =
        packages(&metadata).iter().map(|p| p["name"].as_str().expect("name").to_owned()).collect();
    let mut edges = Vec::new();
    for p in packages(&metadata) {
        for d in p["dependencies"].as_array().expect("dependencies") {
            if d["path"].is_string() {
                edges.push(Edge {
                    from: p["name"].as_str().expect("name").to_owned(),
                    to: d["name"].as_str().expect("name").to_owned(),
                    kind: d["kind"].as_str().unwrap_or("normal").to_owned(),
                });
            }
        }
    }
    assert!(edges.len() > 20, "the workspace's own dependencies were not found: {edges:?}");
    let found = layering_violations(&places, &crates, &edges);
    assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
}

#[test]
fn unbuilt_test_files_are_the_ones_no_target_names() {
    let files: BTreeSet<String> = ["it.rs", "a.rs", "b.rs", "c.rs"].map(String::from).into();
    let targets = BTreeMap::from([("it.rs".to_owned(), "#[path = \"a.rs\"]\nmod a;\nmod b;\n".to_owned())]);
    assert_eq!(unbuilt_test_files(&files, &targets), ["c.rs"]);
}

#[test]
fn every_test_file_is_built_by_a_test_target() {
    let metadata = metadata();
    let mut problems = Vec::new();
    for p in packages(&metadata) {
        let manifest = Path::new(p["manifest_path"].as_str().expect("manifest_path"));
        let tests = manifest.parent().expect("crate folder").join("tests");
        let Ok(entries) = std::fs::read_dir(&tests) else { continue };
        let files: BTreeSet<String> =
            entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|f| f.ends_with(".rs")).collect();
        let mut targets = BTreeMap::new();
        for t in p["targets"].as_array().expect("targets") {
            let src = Path::new(t["src_path"].as_str().expect("src_path"));
            if t["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "test")) && src.parent() == Some(&tests) {
                let name = src.file_name().and_then(|n| n.to_str()).expect("file name").to_owned();
                targets.insert(name, std::fs::read_to_string(src).expect("test target"));
            }
        }
        for f in unbuilt_test_files(&files, &targets) {
            problems.push(format!("{}: add `#[path = \"{f}\"] mod …;` to tests/it.rs", tests.join(&f).display()));
        }
    }
    assert!(problems.is_empty(), "test files no test target builds:\n{}", problems.join("\n"));
}
