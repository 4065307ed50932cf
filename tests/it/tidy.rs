//! House rules, checked by `cargo test` rather than remembered (STYLE.md, DESIGN.md).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::root;

/// Crates that must stay pure: no IO-heavy or platform dependencies, direct or transitive.
const PURE: [&str; 4] = ["doorstep-core", "doorstep-envelope", "doorstep-link", "doorstep-photo"];
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
