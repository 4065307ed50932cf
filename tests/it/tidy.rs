//! House rules, checked by `cargo test` rather than remembered (STYLE.md, DESIGN.md).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::root;

/// Crates that must stay pure: no IO-heavy or platform dependencies, direct or transitive.
const PURE: [&str; 5] = ["doorstep-core", "doorstep-envelope", "doorstep-link", "doorstep-photo", "doorstep-mrz-ocr"];
/// What a pure crate may never pull in.
const FORBIDDEN: [&str; 6] = ["bevy", "tokio", "sled", "serialport", "nokhwa", "rustls"];

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root())
        .output()
        .expect("run cargo metadata");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("metadata JSON")
}

/// Names of every package `id` depends on through normal and build dependencies.
fn transitive(meta: &Value, id: &str) -> BTreeSet<String> {
    let nodes: HashMap<&str, &Value> =
        meta["resolve"]["nodes"].as_array().unwrap().iter().map(|n| (n["id"].as_str().unwrap(), n)).collect();
    let names: HashMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let mut seen = BTreeSet::new();
    let mut stack = vec![id.to_string()];
    let mut out = BTreeSet::new();
    while let Some(current) = stack.pop() {
        if !seen.insert(current.clone()) {
            continue;
        }
        for dep in nodes[current.as_str()]["deps"].as_array().unwrap() {
            let not_dev = dep["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].as_str() != Some("dev"));
            if not_dev {
                let dep_id = dep["pkg"].as_str().unwrap();
                out.insert(names[dep_id].to_string());
                stack.push(dep_id.to_string());
            }
        }
    }
    out
}

fn forbidden_in(deps: &BTreeSet<String>) -> Vec<String> {
    deps.iter()
        .filter(|d| {
            FORBIDDEN.iter().any(|f| *d == f || d.starts_with(&format!("{f}_")) || d.starts_with(&format!("{f}-")))
        })
        .cloned()
        .collect()
}

#[test]
fn pure_crates_have_no_forbidden_dependencies() {
    let meta = metadata();
    let members: Vec<&Value> =
        meta["packages"].as_array().unwrap().iter().filter(|p| PURE.contains(&p["name"].as_str().unwrap())).collect();
    assert_eq!(members.len(), PURE.len(), "every pure crate is in the workspace");
    let mut failures = Vec::new();
    for p in members {
        let deps = transitive(&meta, p["id"].as_str().unwrap());
        let bad = forbidden_in(&deps);
        if !bad.is_empty() {
            failures.push(format!("{} depends on {}", p["name"].as_str().unwrap(), bad.join(", ")));
        }
    }
    assert!(failures.is_empty(), "pure crates must not depend on IO frameworks:\n{}", failures.join("\n"));
}

#[test]
fn the_rule_itself_catches_bevy_and_its_kin() {
    let deps: BTreeSet<String> =
        ["serde", "bevy_ecs", "tokio-rustls", "rustls", "sledgehammer"].map(String::from).into();
    assert_eq!(forbidden_in(&deps), ["bevy_ecs", "rustls", "tokio-rustls"]);
}

/// SECURITY.md R21: app crates are `#![forbid(unsafe_code)]` (cargo deny, the other half,
/// runs in scripts/check).
#[test]
fn every_crate_has_a_doc_and_forbids_unsafe() {
    let meta = metadata();
    let mut failures = Vec::new();
    for p in meta["packages"].as_array().unwrap() {
        let manifest = Path::new(p["manifest_path"].as_str().unwrap());
        if !manifest.starts_with(root()) {
            continue;
        }
        for target in p["targets"].as_array().unwrap() {
            let kinds: Vec<&str> = target["kind"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
            if !kinds.iter().any(|k| *k == "lib" || *k == "bin") {
                continue;
            }
            let src = std::fs::read_to_string(target["src_path"].as_str().unwrap()).unwrap();
            let name = target["name"].as_str().unwrap();
            if !src.trim_start().starts_with("//!") {
                failures.push(format!("{name}: does not start with a //! doc"));
            }
            if !src.contains("#![forbid(unsafe_code)]") && !src.contains("// unsafe allowed:") {
                failures.push(format!("{name}: no #![forbid(unsafe_code)] (or a comment saying why not)"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ci_runs_the_readme_test_command() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let ci = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
    let command = "scripts/test";
    assert!(readme.contains(command), "README.md names {command}");
    assert!(ci.contains(command), ".ci/run calls {command}");
}

/// Every package of ours that depends on `name` (or a crate of its family), directly or not,
/// through normal and build dependencies.
fn dependents_on(meta: &Value, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for p in meta["packages"].as_array().unwrap() {
        let manifest = Path::new(p["manifest_path"].as_str().unwrap());
        if !manifest.starts_with(root()) || manifest.starts_with(root().join("fuzz")) {
            continue;
        }
        let deps = transitive(meta, p["id"].as_str().unwrap());
        if deps.iter().any(|d| d == name || d.starts_with(&format!("{name}_")) || d.starts_with(&format!("{name}-"))) {
            out.push(p["name"].as_str().unwrap().to_string());
        }
    }
    out.sort();
    out
}

/// DESIGN.md rule 3: only the root app depends on bevy.
#[test]
fn only_the_root_app_depends_on_bevy() {
    assert_eq!(dependents_on(&metadata(), "bevy"), ["doorstep"]);
}

/// The packages `cargo tree -p PACKAGE` lists (normal, build and dev edges), with the
/// features that package alone asks for (`cargo metadata` unifies features across the
/// workspace, so it would show the root app's).
fn cargo_tree(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--locked", "-p", package, "-e", "normal,build,dev", "--prefix", "none", "-f", "{p}"])
        .current_dir(root())
        .output()
        .expect("run cargo tree");
    assert!(out.status.success(), "cargo tree: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// What of the tablet's side a package's tree holds.
fn tablet_side_in(tree: &BTreeSet<String>) -> Vec<&str> {
    ["doorstep-vault", "argon2"].into_iter().filter(|t| tree.contains(*t)).collect()
}

/// DESIGN.md: the hub takes the sync crate's wire types only, never the tablet's client,
/// vault or Argon2id, not even in its tests: `cargo tree -p doorstep-hub` shows neither.
#[test]
fn the_hub_takes_only_the_wire_types() {
    let hub = cargo_tree("doorstep-hub");
    assert!(hub.contains("doorstep-sync"), "the hub uses the wire types");
    assert_eq!(tablet_side_in(&hub), Vec::<&str>::new(), "the hub links the tablet's side");
    // The rule catches it: the tablet app's tree holds both.
    assert_eq!(tablet_side_in(&cargo_tree("doorstep")), ["doorstep-vault", "argon2"]);
}

/// Long files hide their seams: none of ours is over 600 lines.
#[test]
fn no_file_of_ours_is_over_600_lines() {
    let mut long = Vec::new();
    let mut stack = vec![root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" && !name.starts_with("target-") {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") {
                let lines = std::fs::read_to_string(&path).unwrap().lines().count();
                if lines > 600 {
                    long.push(format!("{} ({lines} lines)", path.strip_prefix(root()).unwrap().display()));
                }
            }
        }
    }
    long.sort();
    assert!(long.is_empty(), "split these along their seams: {long:?}");
}
