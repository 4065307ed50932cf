//! `doorstep requirements`: what a visit must collect for an applicant, asked without the
//! screens, from the same rules the visit uses.

use std::path::Path;
use std::process::ExitCode;

use doorstep_core::applicant::{HeldDocument, Residency};
use doorstep_core::document::DocumentKind;
use doorstep_core::money::Yuan;
use doorstep_core::policy::EndorsementFacts;
use doorstep_core::requirements::{self, ApplicantFacts, HeldCheck, Requirements};
use doorstep_core::{Lang, Localize, Message, Service, format_date};
use serde_json::{Value, json};

#[derive(Debug, clap::Args)]
pub struct RequirementsArgs {
    /// The applicant's birth date, YYYY-MM-DD.
    #[arg(long, value_parser = super::parse_date)]
    birth_date: time::Date,
    /// As of this date (YYYY-MM-DD) instead of today in China Standard Time.
    #[arg(long, value_parser = super::parse_date)]
    date: Option<time::Date>,
    /// A document already held, as a service spelling (hk-macao-permit, taiwan-permit,
    /// passport…), optionally with its expiry: hk-macao-permit:2030-01-31.
    #[arg(long, value_name = "DOCUMENT[:EXPIRY]", value_parser = parse_held)]
    held: Vec<HeldDocument>,
    /// A fact an endorsement option asks for: close-relative, other-relative, hardship,
    /// registered-company, tour-leader, approval-document, talent.
    #[arg(long, value_name = "FACT")]
    fact: Vec<String>,
    /// Where the applicant lives (default: taiwan when a taiwan-resident-permit is asked for).
    #[arg(long, value_enum)]
    residency: Option<ResidencyArg>,
    /// Services, as for `doorstep fee`.
    #[arg(required = true, value_name = "SERVICE")]
    services: Vec<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ResidencyArg {
    Mainland,
    Taiwan,
}

fn parse_held(s: &str) -> Result<HeldDocument, String> {
    let (kind, expiry) = match s.split_once(':') {
        Some((k, e)) => (k, Some(super::parse_date(e)?)),
        None => (s, None),
    };
    let kind: DocumentKind = kind.parse().map_err(|e: doorstep_core::document::UnknownDocumentKind| e.to_string())?;
    Ok(HeldDocument { kind, number: None, expiry })
}

/// The facts an endorsement option may ask for, as spelled on the command line.
const FACTS: [&str; 7] = [
    "close-relative",
    "other-relative",
    "hardship",
    "registered-company",
    "tour-leader",
    "approval-document",
    "talent",
];

fn facts(names: &[String]) -> Result<EndorsementFacts, Message> {
    let mut f = EndorsementFacts::default();
    for name in names {
        let flag = match name.as_str() {
            "close-relative" => &mut f.close_relative,
            "other-relative" => &mut f.other_relative,
            "hardship" => &mut f.hardship,
            "registered-company" => &mut f.registered_company,
            "tour-leader" => &mut f.tour_leader,
            "approval-document" => &mut f.approval_document,
            "talent" => &mut f.talent,
            other => {
                return Err(Message::new("cli.unknown-fact").with("fact", other).with("facts", FACTS.join(", ")));
            }
        };
        *flag = true;
    }
    Ok(f)
}

/// An amount as a JSON number: whole yuan as an integer, otherwise with its fen.
fn yuan(y: Yuan) -> Value {
    if y.fen().is_multiple_of(100) { json!(y.fen() / 100) } else { json!(y.fen() as f64 / 100.0) }
}

pub fn run(args: RequirementsArgs, policy_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let policy = crate::policy_files::load(policy_dir)?;
    let today = super::today(args.date);
    let fail = |code: &str, zh: String, en: String, warnings: Vec<String>| {
        if args.json {
            out!("{}", json!({"valid": false, "error": code, "reason": en, "reason_zh": zh, "warnings": warnings}));
        } else {
            out!("not possible 不能办理: {zh}");
            out!("  {en}");
        }
        Ok(ExitCode::FAILURE)
    };
    if args.birth_date > today {
        let m = Message::new("cli.birth-date-in-future").with("birth", args.birth_date).with("date", today);
        return fail("birth-date-in-future", m.render(Lang::Zh), m.render(Lang::En), vec![]);
    }
    let mut services = Vec::new();
    for spec in &args.services {
        match spec.parse::<Service>() {
            Ok(s) => services.push(s),
            Err(e) => return fail(&super::check::code_of(&e), e.render(Lang::Zh), e.render(Lang::En), vec![]),
        }
    }
    let facts = match facts(&args.fact) {
        Ok(f) => f,
        Err(m) => return fail("unknown-fact", m.render(Lang::Zh), m.render(Lang::En), vec![]),
    };
    let residency = match args.residency {
        Some(ResidencyArg::Taiwan) => Residency::Taiwan,
        Some(ResidencyArg::Mainland) => Residency::Mainland,
        None if services.iter().any(|s| matches!(s, Service::TaiwanResidentPermit { .. })) => Residency::Taiwan,
        None => Residency::Mainland,
    };
    let applicant = ApplicantFacts { birth_date: args.birth_date, residency, held: &args.held };
    let r = match requirements::requirements(&policy, applicant, &services, &facts, HeldCheck::Assumed, today) {
        Ok(r) => r,
        Err(e) => {
            let mut warnings = Vec::new();
            if let doorstep_core::requirements::ServicesError::Endorsement(
                doorstep_core::policy::EndorsementError::Suspended { .. },
            ) = &e
            {
                warnings.push(e.render(Lang::En));
            }
            let code = match &e {
                doorstep_core::requirements::ServicesError::Endorsement(inner) => super::check::code_of(inner),
                doorstep_core::requirements::ServicesError::Fee(inner) => super::check::code_of(inner),
                other => super::check::code_of(other),
            };
            return fail(&code, e.render(Lang::Zh), e.render(Lang::En), warnings);
        }
    };
    if args.json {
        out!("{}", to_json(&r, today));
    } else {
        print_text(&r, today);
    }
    Ok(ExitCode::SUCCESS)
}

fn to_json(r: &Requirements, today: time::Date) -> Value {
    json!({
        "valid": true,
        "date": format_date(today),
        "age": r.rules.age,
        "guardian_required": r.rules.guardian_required,
        "guardian_may_apply_for_child": r.rules.guardian_may_apply_for_child,
        "fingerprints": value(&r.rules.fingerprints),
        "signature": value(&r.rules.signature),
        "photo": value(&r.rules.photo),
        "fee_total_yuan": yuan(r.quote.total),
        "fee_schedule": r.quote.schedule_id,
        "fees": r.quote.lines.iter().map(|l| json!({
            "service": l.service.code(),
            "description_zh": l.description_zh,
            "description_en": l.description_en,
            "amount_yuan": yuan(l.amount),
            "confidence": value(&l.confidence),
        })).collect::<Vec<_>>(),
        "expected_issue_date": r.expected_issue_date().map(format_date),
        "urgent_issue_date": r.urgent_issue_date().map(format_date),
        "expected_issue_date_confidence": r.expected.iter().map(|e| e.confidence).min().map(|c| value(&c)),
        "applications": r.expected.iter().zip(&r.urgent).map(|(e, u)| json!({
            "service": e.service.code(),
            "description_en": e.service.describe().render(Lang::En),
            "working_days": e.working_days,
            "confidence": value(&e.confidence),
            "expected_issue_date": format_date(e.date.date),
            "urgent_issue_date": format_date(u.date.date),
        })).collect::<Vec<_>>(),
        "priority": r.priority,
        "warnings": r.warnings.iter().map(|w| w.render(Lang::En)).collect::<Vec<_>>(),
        "warnings_zh": r.warnings.iter().map(|w| w.render(Lang::Zh)).collect::<Vec<_>>(),
    })
}

/// A value as JSON (the serde names: "required", "guardian-decides"…).
fn value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn print_text(r: &Requirements, today: time::Date) {
    fn word<T: serde::Serialize>(v: &T) -> String {
        value(v).as_str().unwrap_or_default().to_string()
    }
    out!("办理要求 Requirements on {} — age {}", format_date(today), r.rules.age);
    out!("  fingerprints 指纹      {}", word(&r.rules.fingerprints));
    out!("  signature 签名         {}", word(&r.rules.signature));
    out!("  photo 照片             {}", word(&r.rules.photo));
    out!("  guardian 监护人        {}", if r.rules.guardian_required { "required" } else { "not required" });
    if r.rules.guardian_may_apply_for_child {
        out!("  the guardian may apply for the child 监护人可代为申请");
    }
    for (e, line) in r.expected.iter().zip(&r.quote.lines) {
        out!(
            "  {:>8}  {}  expected {} ({} working days)",
            line.amount.to_string(),
            line.description_zh,
            format_date(e.date.date),
            e.working_days
        );
    }
    out!("  {:>8}  合计 total (CNY)", r.quote.total.to_string());
    if let (Some(normal), Some(urgent)) = (r.expected_issue_date(), r.urgent_issue_date()) {
        out!("  expected issue date 预计出证  {} (urgent 加急: {})", format_date(normal), format_date(urgent));
    }
    if !r.priority.is_empty() {
        out!("  priority 优先  {}", r.priority.join(", "));
    }
    for w in &r.warnings {
        out!("  note: {} / {}", w.render(Lang::Zh), w.render(Lang::En));
    }
}
