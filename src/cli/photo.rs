//! `doorstep photo check|crop`: assess ID photos against the exit-entry standard, and crop a
//! camera frame to it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use doorstep_core::text::{Lang, Message};
use doorstep_photo::assess::{Assessment, Assessor, Profile};
use doorstep_photo::checks::CheckResult;
use serde_json::{Map, json};

#[derive(Debug, Subcommand)]
pub enum PhotoCommand {
    /// Check photos as they are (as the final ID photo); prints a table per file.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print one JSON object per file.
        #[arg(long)]
        json: bool,
        /// passport, hk-macao-permit, taiwan-permit or taiwan-resident-permit.
        #[arg(long, default_value = "passport")]
        profile: String,
        /// The applicant's age in months, for an infant or toddler (the standard relaxes the
        /// eyes, expression and gaze rules for them).
        #[arg(long)]
        age_months: Option<u32>,
    },
    /// Crop a camera frame to the standard and write the JPEG; exits 1 and says why when the
    /// result would not comply.
    Crop {
        input: PathBuf,
        output: PathBuf,
        #[arg(long, default_value = "passport")]
        profile: String,
        /// The applicant's age in months, for an infant or toddler.
        #[arg(long)]
        age_months: Option<u32>,
    },
}

fn profile(name: &str) -> anyhow::Result<Profile> {
    Profile::by_name(name).with_context(|| format!("unknown profile {name:?}: {}", Profile::names().join(", ")))
}

/// A check's threshold, in one language.
fn threshold(c: &CheckResult, lang: Lang) -> String {
    let number = |v: f32| {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    c.threshold.args.iter().fold(Message::new(c.threshold.key), |m, &(name, v)| m.with(name, number(v))).render(lang)
}

/// What to do (a failure), why the check cannot judge, or what to look at on a pass (a covering
/// not told from hair), in one language; empty on a plain pass.
fn advice(c: &CheckResult, lang: Lang) -> String {
    c.advice.map(|key| Message::new(key).render(lang)).unwrap_or_default()
}

fn as_json(file: &str, a: &Assessment) -> serde_json::Value {
    let mut checks = Map::new();
    for c in &a.checks {
        checks.insert(
            c.name.into(),
            json!({
                "value": c.value,
                "threshold": threshold(c, Lang::En),
                "threshold_zh": threshold(c, Lang::Zh),
                "pass": c.pass,
                "exempt": c.exempt,
                "advice": c.advice,
                "advice_zh": advice(c, Lang::Zh),
                "advice_en": advice(c, Lang::En),
            }),
        );
    }
    json!({"file": file, "face_count": a.face_count, "pass": a.pass(), "checks": checks})
}

pub fn run(command: PhotoCommand) -> anyhow::Result<ExitCode> {
    let mut assessor = Assessor::new()?;
    match command {
        PhotoCommand::Check { files, json, profile: p, age_months } => {
            let profile = profile(&p)?;
            let profile = match age_months {
                Some(m) => profile.for_age_months(m),
                None => profile,
            };
            let mut all_pass = true;
            for file in files {
                let name = file.display().to_string();
                let img = match image::open(&file) {
                    Ok(i) => i.to_rgb8(),
                    Err(e) => {
                        all_pass = false;
                        if json {
                            println!("{}", json!({"file": name, "error": e.to_string(), "pass": false}));
                        } else {
                            println!("{name}: cannot read the image: {e}");
                        }
                        continue;
                    }
                };
                let a = assessor.assess(&img, &profile);
                all_pass &= a.pass();
                if json {
                    println!("{}", as_json(&name, &a));
                    continue;
                }
                println!("{name}: {} face(s), {}", a.face_count, if a.pass() { "PASS 合格" } else { "FAIL 不合格" });
                for c in &a.checks {
                    let verdict = match c.pass {
                        Some(true) if c.exempt => "exempt",
                        Some(true) => "pass",
                        Some(false) => "FAIL",
                        None => "n/a",
                    };
                    let value = c.value.map_or("—".to_string(), |v| format!("{v:.3}"));
                    println!(
                        "  {:<14} {:>9}  {:<6} {:<48} {}",
                        c.name,
                        value,
                        verdict,
                        threshold(c, Lang::Zh),
                        advice(c, Lang::Zh)
                    );
                }
            }
            Ok(if all_pass { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        PhotoCommand::Crop { input, output, profile: p, age_months } => {
            let profile = profile(&p)?;
            let profile = match age_months {
                Some(m) => profile.for_age_months(m),
                None => profile,
            };
            let img = image::open(&input).with_context(|| format!("cannot read {}", input.display()))?.to_rgb8();
            match assessor.crop(&img, &profile) {
                Ok((jpeg, a)) if a.pass() => {
                    std::fs::write(&output, &jpeg).with_context(|| format!("cannot write {}", output.display()))?;
                    println!(
                        "wrote {} ({} bytes, {}×{})",
                        output.display(),
                        jpeg.len(),
                        profile.output.width,
                        profile.output.height
                    );
                    for (_, key) in a.looks() {
                        println!(
                            "  look: {} / {}",
                            Message::new(key).render(Lang::Zh),
                            Message::new(key).render(Lang::En)
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Ok((_, a)) => {
                    println!("not written: the cropped photo fails:");
                    for c in a.refusals() {
                        println!("  {}: {} / {}", c.name, advice(c, Lang::Zh), advice(c, Lang::En));
                    }
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => {
                    let (key, args) = e.message();
                    let text =
                        |lang| args.iter().fold(Message::new(key), |m, (n, v)| m.with(n, v.clone())).render(lang);
                    println!("not written: {} / {}", text(Lang::Zh), text(Lang::En));
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
