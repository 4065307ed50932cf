//! Loads policy files from a folder, falling back to the built-in text for each file absent.

use std::path::Path;

use anyhow::Context;
use doorstep_core::policy::{POLICY_FILES, Policy, PolicySources};

pub fn load(dir: Option<&Path>) -> anyhow::Result<Policy> {
    let Some(dir) = dir else {
        return Policy::builtin().context("the built-in policy is broken");
    };
    if !dir.is_dir() {
        anyhow::bail!("policy folder {} does not exist", dir.display());
    }
    let defaults = PolicySources::BUILTIN.texts();
    let mut texts: Vec<String> = Vec::with_capacity(POLICY_FILES.len());
    for (name, default) in POLICY_FILES.iter().zip(defaults) {
        let path = dir.join(name);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => default.to_string(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        texts.push(text);
    }
    let refs: [&str; POLICY_FILES.len()] = std::array::from_fn(|i| texts[i].as_str());
    Policy::parse(PolicySources::from_texts(refs)).with_context(|| format!("policy folder {}", dir.display()))
}
