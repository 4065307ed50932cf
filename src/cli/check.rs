//! `doorstep check id|doc|mrz|name`: validate a number, an MRZ or a name and say what it
//! holds.

use std::process::ExitCode;

use clap::Subcommand;
use doorstep_core::date::age_on;
use doorstep_core::document::{DocumentKind, DocumentNumber};
use doorstep_core::id_number::{CitizenId, IdNumberError};
use doorstep_core::name::{ChineseName, NameSuggestion, PinyinName, suggest};
use doorstep_core::{Lang, Localize, Message, format_date, mrz};
use serde_json::{Map, Value, json};

#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// An 18-character citizen identity number (or residence-permit number).
    Id {
        number: String,
        #[command(flatten)]
        out: Output,
    },
    /// A document number: passport, hk-macao-permit, taiwan-permit, taiwan-resident-permit,
    /// home-return-permit.
    Doc {
        kind: DocumentKind,
        number: String,
        #[command(flatten)]
        out: Output,
    },
    /// A machine-readable zone: two lines of 44 (passport), three of 30 (card) or one of 30
    /// (往来港澳通行证).
    Mrz {
        #[arg(required = true)]
        lines: Vec<String>,
        #[command(flatten)]
        out: Output,
    },
    /// A Chinese name: surname and given name, the suggested pinyin and the MRZ name field,
    /// and whether the surname's reading varies by family.
    Name {
        name: String,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Debug, clap::Args)]
pub struct Output {
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Check as of this date (YYYY-MM-DD) instead of today in China Standard Time.
    #[arg(long, value_parser = super::parse_date)]
    date: Option<time::Date>,
}

/// The outcome of a check: parsed fields in order, or the reason it is invalid.
struct Report {
    fields: Vec<(&'static str, Value)>,
    invalid: Option<(String, Message)>,
    notes: Vec<String>,
}

pub fn run(command: CheckCommand) -> anyhow::Result<ExitCode> {
    let (report, out) = match command {
        CheckCommand::Id { number, out } => (check_id(&number, super::today(out.date)), out),
        CheckCommand::Doc { kind, number, out } => (check_doc(kind, &number), out),
        CheckCommand::Mrz { lines, out } => (check_mrz(&lines, super::today(out.date)), out),
        CheckCommand::Name { name, out } => (check_name(&name), out),
    };
    print_report(&report, out.json);
    Ok(if report.invalid.is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn invalid<E: Localize + std::fmt::Debug>(e: &E) -> Report {
    Report { fields: vec![], invalid: Some((code_of(e), e.message())), notes: vec![] }
}

/// A stable, machine-readable name for an error variant, from its `Debug` form.
pub(crate) fn code_of<E: std::fmt::Debug>(e: &E) -> String {
    let name = format!("{e:?}");
    let name = name.split(['(', ' ', '{']).next().unwrap_or_default();
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn check_id(number: &str, today: time::Date) -> Report {
    match CitizenId::parse(number, today) {
        Ok(id) => Report {
            fields: vec![
                ("document_number", json!(id.as_str())),
                ("kind", json!(id.kind().as_str())),
                ("birth_date", json!(format_date(id.birth_date()))),
                ("sex", json!(id.sex().as_str())),
                ("age", json!(age_on(id.birth_date(), today))),
                ("address_code", json!(id.address_code())),
            ],
            invalid: None,
            notes: vec![],
        },
        // Said against the day checked, which `--date` may have made another than today.
        Err(e @ IdNumberError::BirthDateInFuture) => {
            let m = Message::new("cli.id-birth-date-after").with("date", format_date(today));
            Report { fields: vec![], invalid: Some((code_of(&e), m)), notes: vec![] }
        }
        Err(e) => invalid(&e),
    }
}

fn check_doc(kind: DocumentKind, number: &str) -> Report {
    match DocumentNumber::parse(kind, number) {
        Ok(n) => {
            let series = serde_json::to_value(n.series()).unwrap_or(Value::Null);
            let mut fields = vec![
                ("document_number", json!(n.as_str())),
                ("kind", json!(kind.code())),
                ("document", json!(Message::new(kind.key()).render(Lang::Zh))),
            ];
            if let Value::Object(map) = series {
                for (k, v) in map {
                    let key: &'static str = match k.as_str() {
                        "series" => "series",
                        "region" => "region",
                        "renewal_count" => "renewal_count",
                        "issue_count" => "issue_count",
                        _ => continue,
                    };
                    fields.push((key, v));
                }
            }
            fields.push(("lifelong_number", json!(n.lifelong_part())));
            fields.push(("format_unconfirmed", json!(n.format_unconfirmed())));
            let notes = if n.format_unconfirmed() {
                vec![
                    "this number format rests on an unconfirmed source (DOMAIN.md [U]); check the document".to_string(),
                ]
            } else {
                vec![]
            };
            Report { fields, invalid: None, notes }
        }
        Err(e) => invalid(&e),
    }
}

fn check_mrz(lines: &[String], today: time::Date) -> Report {
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    match mrz::parse(&refs, today) {
        Ok(r) => {
            let mut notes = vec![];
            if r.layout_unconfirmed {
                notes.push(
                    "the 往来港澳通行证 one-line layout rests on one open-source reader ([P]); check the card".into(),
                );
            }
            if r.is_expired(today) {
                notes.push(format!("the document expired on {}", format_date(r.expiry_date)));
            }
            Report {
                fields: vec![
                    ("format", serde_json::to_value(r.format).unwrap_or(Value::Null)),
                    ("document_code", json!(r.document_code)),
                    ("issuing_state", json!(r.issuing_state)),
                    ("document_number", json!(r.document_number)),
                    ("nationality", json!(r.nationality)),
                    ("birth_date", json!(format_date(r.birth_date))),
                    ("sex", json!(r.sex.map(|s| s.as_str()))),
                    ("expiry_date", json!(format_date(r.expiry_date))),
                    ("expired", json!(r.is_expired(today))),
                    ("primary_name", json!(r.primary_name)),
                    ("secondary_name", json!(r.secondary_name)),
                    ("optional_data", json!(r.optional_data)),
                    ("layout_unconfirmed", json!(r.layout_unconfirmed)),
                ],
                invalid: None,
                notes,
            }
        }
        Err(e) => invalid(&e),
    }
}

/// The TD3 (passport) name field is 39 characters.
const TD3_NAME: usize = 39;

fn pinyin_fields(p: &PinyinName) -> Value {
    json!({
        "surname_pinyin": p.surname(),
        "given_name_pinyin": p.given(),
        "mrz_name": p.mrz_field(TD3_NAME),
    })
}

fn check_name(input: &str) -> Report {
    let name = match ChineseName::parse(input) {
        Ok(n) => n,
        Err(e) => return invalid(&e),
    };
    let mut fields = vec![
        ("name", json!(name.as_str())),
        ("charset", serde_json::to_value(name.charset()).unwrap_or(Value::Null)),
        ("rare_characters", json!(name.rare_characters().iter().map(char::to_string).collect::<Vec<_>>())),
    ];
    let mut notes = Vec::new();
    match suggest(&name) {
        Some(NameSuggestion { surname, given, pinyin, ambiguous, alternatives }) => {
            fields.push(("surname", json!(surname)));
            fields.push(("given_name", json!(given)));
            fields.push(("surname_pinyin", json!(pinyin.surname())));
            fields.push(("given_name_pinyin", json!(pinyin.given())));
            fields.push(("mrz_name", json!(pinyin.mrz_field(TD3_NAME))));
            fields.push(("ambiguous", json!(ambiguous)));
            fields.push(("alternatives", Value::Array(alternatives.iter().map(pinyin_fields).collect())));
            if ambiguous {
                // The whole name each way it reads (the surname, a character of the given name,
                // or where the name splits may differ), each once.
                let mut readings = vec![format!("{} {}", pinyin.surname(), pinyin.given())];
                for a in &alternatives {
                    let reading = format!("{} {}", a.surname(), a.given());
                    if !readings.contains(&reading) {
                        readings.push(reading);
                    }
                }
                notes.push(format!(
                    "this name reads more than one way ({}): ask the applicant / 此姓名有多种读音，请向申请人确认",
                    readings.join(", or ")
                ));
            }
            notes.push("a suggestion: confirm it against the household register / 拼音以户口登记为准".into());
        }
        None => {
            for key in ["surname", "given_name", "surname_pinyin", "given_name_pinyin", "mrz_name"] {
                fields.push((key, Value::Null));
            }
            fields.push(("ambiguous", json!(false)));
            fields.push(("alternatives", json!([])));
            notes.push(if name.as_str().contains('·') {
                "a name with the separator · is transcribed from the holder's own language, not read character by \
                 character: type the pinyin from the household register / 少数民族姓名请按户口登记录入拼音"
                    .into()
            } else {
                "a character of the name has no reading known here (a rare character): type the pinyin from the \
                 household register / 姓名中有生僻字无法注音，请按户口登记录入拼音"
                    .into()
            });
        }
    }
    Report { fields, invalid: None, notes }
}

fn print_report(report: &Report, json_out: bool) {
    if json_out {
        let mut map = Map::new();
        map.insert("valid".into(), json!(report.invalid.is_none()));
        if let Some((code, reason)) = &report.invalid {
            map.insert("error".into(), json!(code));
            map.insert("reason".into(), json!(reason.render(Lang::En)));
            map.insert("reason_zh".into(), json!(reason.render(Lang::Zh)));
        }
        for (k, v) in &report.fields {
            map.insert((*k).into(), v.clone());
        }
        if !report.notes.is_empty() {
            map.insert("notes".into(), json!(report.notes));
        }
        out!("{}", Value::Object(map));
        return;
    }
    match &report.invalid {
        Some((_, reason)) => {
            out!("invalid 无效: {}", reason.render(Lang::Zh));
            out!("  {}", reason.render(Lang::En));
        }
        None => out!("valid 有效"),
    }
    let width = report.fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in &report.fields {
        let shown = match v {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Array(items) if items.is_empty() => continue,
            other => other.to_string(),
        };
        out!("  {k:<width$}  {shown}");
    }
    for note in &report.notes {
        out!("  note: {note}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_core::id_number::IdNumberError;

    #[test]
    fn error_codes_are_kebab_case_variant_names() {
        assert_eq!(code_of(&IdNumberError::CheckCharacter { expected: 'X', found: '9' }), "check-character");
        assert_eq!(code_of(&IdNumberError::WrongLength(3)), "wrong-length");
        assert_eq!(code_of(&IdNumberError::Empty), "empty");
    }
}
