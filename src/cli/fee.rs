//! `doorstep fee SERVICE...`: the itemised fees of a visit.

use std::path::Path;
use std::process::ExitCode;

use doorstep_core::policy::Confidence;
use doorstep_core::{Lang, Localize, Message, Service, format_date};
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct FeeArgs {
    /// Services, e.g. passport, passport:renewal, hk-macao-permit, hk-macao-endorsement:G:1x:3m,
    /// taiwan-permit[:one-trip], taiwan-endorsement:T:multi:1y, taiwan-resident-permit[:one-trip].
    #[arg(required = true, value_name = "SERVICE")]
    services: Vec<String>,
    /// Price as of this date (YYYY-MM-DD) instead of today in China Standard Time.
    #[arg(long, value_parser = super::parse_date)]
    date: Option<time::Date>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: FeeArgs, policy_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let policy = crate::policy_files::load(policy_dir)?;
    let date = super::today(args.date);
    // Refused as `check` and `requirements` refuse: a code, and the reason in both languages.
    let fail = |code: String, reason: &dyn Localize| {
        let (zh, en) = (reason.render(Lang::Zh), reason.render(Lang::En));
        if args.json {
            out!("{}", json!({"valid": false, "error": code, "reason": en, "reason_zh": zh}));
        } else {
            out!("invalid 无效: {zh}");
            out!("  {en}");
        }
        Ok(ExitCode::FAILURE)
    };
    use super::check::code_of;
    let mut services = Vec::new();
    let mut conditions = Vec::new();
    for spec in &args.services {
        let service: Service = match spec.parse() {
            Ok(s) => s,
            Err(e) => return fail(code_of(&e), &e),
        };
        // What no visit could hold: a type not issued on the date (suspended, or not yet
        // offered). A condition is listed, not judged: the fee does not know the applicant.
        if let Some(e) = service.endorsement() {
            if let Err(why) = policy.endorsements.offered_on(e, date) {
                return fail(code_of(&why), &why);
            }
            match policy.endorsements.option_for(e) {
                Ok(option) => {
                    if let Some(c) = option.condition {
                        let m = Message::new(c.key());
                        conditions.push(format!(
                            "{} {}: {} / {}",
                            e.code,
                            spec,
                            m.render(Lang::Zh),
                            m.render(Lang::En)
                        ));
                    }
                }
                Err(err) => return fail(code_of(&err), &err),
            }
        }
        services.push(service);
    }
    // Nor a document or an endorsement type listed twice.
    if let Some(twice) = doorstep_core::requirements::listed_twice(&services) {
        return fail(code_of(&twice), &twice);
    }
    let quote = match policy.fees.quote(&services, date) {
        Ok(q) => q,
        Err(e) => return fail(code_of(&e), &e),
    };
    if args.json {
        let mut value = serde_json::to_value(&quote)?;
        value["valid"] = json!(true);
        value["date"] = json!(format_date(date));
        value["conditions"] = json!(conditions);
        out!("{value}");
        return Ok(ExitCode::SUCCESS);
    }
    out!(
        "收费 Fees — schedule {} (in effect from {}), visit date {}",
        quote.schedule_id,
        format_date(quote.effective_from),
        format_date(date)
    );
    for line in &quote.lines {
        let mark = match line.confidence {
            Confidence::Confirmed => "",
            Confidence::Partial => "  (partly confirmed)",
            Confidence::Unconfirmed => "  (UNCONFIRMED amount)",
        };
        out!("  {:>8}  {}  / {}{mark}", line.amount.to_string(), line.description_zh, line.description_en);
    }
    out!("  {:>8}  合计 total (CNY)", quote.total.to_string());
    for c in &conditions {
        out!("  requires: {c}");
    }
    if quote.has_uncertain_amounts() {
        out!("  note: some amounts rest on sources that are not confirmed; check the bureau's current notice");
    }
    Ok(ExitCode::SUCCESS)
}
