//! The hub's house rules that a reader should not have to check by eye: files small enough to
//! read (no file of ours over 600 lines), and errors as values (DESIGN.md rule 4): the
//! library returns its own error enums, `anyhow` only in `src/main.rs`.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn crate_files(sub: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(sub), &mut files);
    files.sort();
    assert!(!files.is_empty(), "no files under {sub}");
    files
}

#[test]
fn no_file_of_the_hub_is_over_600_lines() {
    let mut long = Vec::new();
    for sub in ["src", "tests", "benches"] {
        for f in crate_files(sub) {
            let lines = std::fs::read_to_string(&f).unwrap().lines().count();
            if lines > 600 {
                long.push(format!("{}: {lines} lines", f.display()));
            }
        }
    }
    assert_eq!(long, Vec::<String>::new(), "split these along their seams");
    // The store is split along its seams: the traits, the segment files, the index.
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    for part in ["mod.rs", "segments.rs", "index.rs"] {
        assert!(store.join(part).is_file(), "src/store/{part}");
    }
}

#[test]
fn the_library_returns_its_own_errors_and_anyhow_is_for_main_only() {
    let mut offenders = Vec::new();
    for f in crate_files("src") {
        if f.ends_with("src/main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains("anyhow") || (code.contains("Result<") && code.contains(", String>")) {
                offenders.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert_eq!(offenders, Vec::<String>::new(), "library code returns thiserror enums");
}
