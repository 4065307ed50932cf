//! `doorstep photo check|crop`: assess ID photos against the exit-entry standard, and crop a
//! camera frame to it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use doorstep_core::text::{Lang, Message};
use doorstep_photo::assess::{Assessment, Assessor, Profile, Verdict};
use doorstep_photo::checks::CheckResult;
use serde_json::{Map, json};

#[derive(Debug, Subcommand)]
pub enum PhotoCommand {
    /// Check photos as they are (as the final ID photo); prints a table per file. Exits 0 when
    /// every photo passes, 1 when one fails, else 3 when one needs a person to look at it (a
    /// dark band round the head: a cap, or hair cut straight?).
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
    /// result would not comply, and 3 (written) when a person must look at it first.
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

/// What to do (a failure), why the check cannot judge, or what the officer should look at (a
/// covering not told from hair), in one language; empty on a pass.
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
                "look": c.look,
                "advice": c.advice,
                "advice_zh": advice(c, Lang::Zh),
                "advice_en": advice(c, Lang::En),
            }),
        );
    }
    json!({"file": file, "face_count": a.face_count, "pass": a.pass(), "verdict": verdict_code(a.verdict()), "checks": checks})
}

fn verdict_code(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Look => "look",
        Verdict::Fail => "fail",
    }
}

/// 0 when it complies, 1 when it does not, 3 when a person must look at it.
const LOOK_EXIT: u8 = 3;

fn exit_code(v: Verdict) -> ExitCode {
    match v {
        Verdict::Pass => ExitCode::SUCCESS,
        Verdict::Look => ExitCode::from(LOOK_EXIT),
        Verdict::Fail => ExitCode::FAILURE,
    }
}

/// Prints what the officer must look at, in `lang`.
fn print_looks(a: &Assessment, lang: Lang) {
    for (_, key) in a.looks() {
        out!("  {}", Message::new("cli.photo.look").with("what", Message::new(key)).render(lang));
    }
}

/// Why a photo file was not read, as the person at the command line is told it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FileError {
    NotFound,
    NoPermission,
    /// A folder was named.
    Folder,
    /// Another failure of the storage (its kind, as the system names it: quoted as it is).
    Storage(String),
    /// A JPEG cut short in its image data (a copy or a download that stopped).
    CutShort,
    /// Not an image this reads (JPEG or PNG), or one whose data does not decode.
    NotAnImage,
}

impl FileError {
    fn of_io(e: &std::io::Error) -> FileError {
        match e.kind() {
            std::io::ErrorKind::NotFound => FileError::NotFound,
            std::io::ErrorKind::PermissionDenied => FileError::NoPermission,
            std::io::ErrorKind::IsADirectory => FileError::Folder,
            kind => FileError::Storage(kind.to_string()),
        }
    }

    /// The words for it, and a code for `--json`.
    fn message(&self) -> (Message, &'static str) {
        match self {
            FileError::NotFound => (Message::new("cli.photo.file.not-found"), "not-found"),
            FileError::NoPermission => (Message::new("cli.photo.file.no-permission"), "no-permission"),
            FileError::Folder => (Message::new("cli.photo.file.folder"), "folder"),
            FileError::Storage(why) => (Message::new("cli.photo.file.storage").with("why", why.clone()), "storage"),
            FileError::CutShort => (Message::new("cli.photo.file.cut-short"), "cut-short"),
            FileError::NotAnImage => (Message::new("cli.photo.file.not-an-image"), "not-an-image"),
        }
    }

    /// "FILE: cannot read the image: why", in `lang`.
    fn said(&self, file: &str, lang: Lang) -> String {
        Message::new("cli.photo.cannot-read").with("file", file).with("why", self.message().0).render(lang)
    }
}

/// A photo file, read whole: a JPEG cut short in its image data (a copy or a download that
/// stopped) is refused, not decoded with its missing part filled in grey.
fn read_photo(path: &std::path::Path) -> Result<image::RgbImage, FileError> {
    let bytes = std::fs::read(path).map_err(|e| FileError::of_io(&e))?;
    if bytes.starts_with(&[0xFF, 0xD8]) && !doorstep_photo::encode::jpeg_whole(&bytes) {
        return Err(FileError::CutShort);
    }
    match image::load_from_memory(&bytes) {
        Ok(img) => Ok(img.to_rgb8()),
        Err(image::ImageError::IoError(e)) => Err(FileError::of_io(&e)),
        Err(_) => Err(FileError::NotAnImage),
    }
}

/// Runs a `photo` command; `lang` is the language of what it prints (`check`'s JSON has both).
pub fn run(command: PhotoCommand, lang: Lang) -> anyhow::Result<ExitCode> {
    // What was asked is checked before the face model loads (a moment): a profile that does
    // not exist, and a crop to a file whose name says it is not a JPEG.
    match &command {
        PhotoCommand::Check { profile: p, .. } => drop(profile(p)?),
        PhotoCommand::Crop { profile: p, output, .. } => {
            profile(p)?;
            let jpeg = output.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
            if !matches!(jpeg.as_deref(), Some("jpg" | "jpeg")) {
                anyhow::bail!(
                    "{}: the crop is written as a JPEG (the standard's file format): name it .jpg",
                    output.display()
                );
            }
        }
    }
    let mut assessor = Assessor::new()?;
    match command {
        PhotoCommand::Check { files, json, profile: p, age_months } => {
            let profile = profile(&p)?;
            let profile = match age_months {
                Some(m) => profile.for_age_months(m),
                None => profile,
            };
            // The worst verdict of all the files.
            let mut worst = Verdict::Pass;
            for file in files {
                let name = file.display().to_string();
                let img = match read_photo(&file) {
                    Ok(i) => i,
                    Err(e) => {
                        worst = Verdict::Fail;
                        if json {
                            let (words, code) = e.message();
                            out!(
                                "{}",
                                json!({
                                    "file": name,
                                    "error": words.render(Lang::En),
                                    "error_zh": words.render(Lang::Zh),
                                    "error_code": code,
                                    "pass": false,
                                    "verdict": "fail"
                                })
                            );
                        } else {
                            out!("{}", e.said(&name, lang));
                        }
                        continue;
                    }
                };
                let a = assessor.assess(&img, &profile);
                worst = worst.max(a.verdict());
                if json {
                    out!("{}", as_json(&name, &a));
                    continue;
                }
                let overall = match a.verdict() {
                    Verdict::Pass => "PASS 合格",
                    Verdict::Look => "LOOK 须目视核对",
                    Verdict::Fail => "FAIL 不合格",
                };
                let faces = Message::new("cli.photo.faces").with("file", name.as_str()).with("n", a.face_count);
                out!("{}", faces.with("verdict", overall).render(lang));
                for c in &a.checks {
                    let verdict = match c.pass {
                        Some(true) if c.exempt => "exempt",
                        Some(true) => "pass",
                        Some(false) if c.look => "LOOK",
                        Some(false) => "FAIL",
                        None => "n/a",
                    };
                    let value = c.value.map_or("—".to_string(), |v| format!("{v:.3}"));
                    out!(
                        "  {:<14} {:>9}  {:<6} {:<48} {}",
                        c.name,
                        value,
                        verdict,
                        threshold(c, lang),
                        advice(c, lang)
                    );
                }
            }
            Ok(exit_code(worst))
        }
        PhotoCommand::Crop { input, output, profile: p, age_months } => {
            let profile = profile(&p)?;
            let profile = match age_months {
                Some(m) => profile.for_age_months(m),
                None => profile,
            };
            let img = read_photo(&input).map_err(|e| anyhow::anyhow!(e.said(&input.display().to_string(), lang)))?;
            match assessor.crop(&img, &profile) {
                Ok((jpeg, a)) if a.verdict() != Verdict::Fail => {
                    std::fs::write(&output, &jpeg).with_context(|| format!("cannot write {}", output.display()))?;
                    let wrote = Message::new("cli.photo.wrote")
                        .with("file", output.display().to_string())
                        .with("bytes", jpeg.len())
                        .with("width", profile.output.width)
                        .with("height", profile.output.height);
                    out!("{}", wrote.render(lang));
                    print_looks(&a, lang);
                    Ok(exit_code(a.verdict()))
                }
                Ok((_, a)) => {
                    out!("{}", Message::new("cli.photo.fails").render(lang));
                    for c in a.refusals() {
                        out!("  {}: {}", c.name, advice(c, lang));
                    }
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => {
                    let (key, args) = e.message();
                    let why = args.iter().fold(Message::new(key), |m, (n, v)| m.with(n, v.clone()));
                    out!("{}", Message::new("cli.photo.not-written").with("why", why).render(lang));
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
