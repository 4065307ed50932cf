//! `doorstep-hub feedback list | acknowledge | answer | close`: the back office's commands,
//! the same through the store or a serving hub's admin socket (`crate::store::BackOffice`).
//! With `--key`, `list` opens each feedback with the bureau's private key here, in the back
//! office's process; the serving hub never holds the key.

use std::io::Write;
use std::path::PathBuf;

use doorstep_envelope::ApplicationId;
use time::OffsetDateTime;

use super::{FeedbackOfficeError, Move, change, open_held, state_name};
use crate::store::{FeedbackBox, HeldFeedback};

/// Who the back office's moves are recorded as, unless `--by` says.
pub const BACK_OFFICE: &str = "back-office";

/// Praise, opinions, complaints and "could not get it done" (办不成事) sent sealed by the
/// units: list them, open them with the bureau's key, acknowledge, answer, close. The unit
/// hears the state and the answer at its next sync.
#[derive(clap::Subcommand)]
pub enum FeedbackCommand {
    /// List the feedback received, oldest first: id, device, box, category, made, state and
    /// the answer or note. The text and contact only with --key.
    List {
        /// Only this enrolled tablet's.
        #[arg(long)]
        device: Option<String>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// The bureau's private key file (64 hex characters), as `init` wrote it: opens each
        /// feedback here and shows its text, contact, visit and officer.
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Acknowledge a received feedback (受理).
    Acknowledge {
        /// The feedback's id, as `feedback list` shows it.
        id: String,
        /// Who acknowledges it (default: back-office).
        #[arg(long)]
        by: Option<String>,
    },
    /// Answer a feedback (received or acknowledged); the unit shows the answer.
    Answer {
        /// The feedback's id, as `feedback list` shows it.
        id: String,
        /// The answer, for the unit (not the complainant's words: those stay sealed).
        #[arg(long)]
        text: String,
        #[arg(long)]
        by: Option<String>,
    },
    /// Close a feedback, with a note saying how it ended (from any state but closed).
    Close {
        /// The feedback's id, as `feedback list` shows it.
        id: String,
        #[arg(long)]
        note: String,
        #[arg(long)]
        by: Option<String>,
    },
}

fn normal_id(id: &str) -> Result<String, FeedbackOfficeError> {
    ApplicationId::parse(id).map(|i| i.to_string()).ok_or_else(|| FeedbackOfficeError::BadId(id.to_string()))
}

/// Runs a command; what it did is written to `out`.
/// `trusted` says whose each officer key is, which an opened feedback must match.
pub fn run(
    store: &dyn FeedbackBox,
    command: FeedbackCommand,
    now: OffsetDateTime,
    trusted: &crate::pki::Trusted,
    out: &mut dyn Write,
) -> Result<(), FeedbackOfficeError> {
    let (id, by, mv) = match command {
        FeedbackCommand::List { device, json, key } => {
            let key = key.as_deref().map(crate::report::gather::read_key).transpose()?;
            let opener = key.as_ref().map(|k| (k, &trusted.officer_ids));
            return list(store, device.as_deref(), json, opener, out);
        }
        FeedbackCommand::Acknowledge { id, by } => (id, by, Move::Acknowledge),
        FeedbackCommand::Answer { id, text, by } => (id, by, Move::Answer(text)),
        FeedbackCommand::Close { id, note, by } => (id, by, Move::Close(note)),
    };
    let id = normal_id(&id)?;
    let held = change(store, &id, by.as_deref().unwrap_or(BACK_OFFICE), &mv, now)?;
    writeln!(out, "feedback {id} of {}: {}", held.device, state_name(&held.state))?;
    Ok(())
}

fn when(unix: i64) -> String {
    // A device's time at the calendar's edge has no local time: shown as sent.
    match OffsetDateTime::from_unix_timestamp(unix).ok().and_then(|t| t.checked_to_offset(time::macros::offset!(+8))) {
        Some(t) => format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute()),
        None => unix.to_string(),
    }
}

/// A cell of the table: control characters (a tab, a new line) as spaces.
fn cell(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The answer or the closing note, if any.
fn reply_text(state: &doorstep_core::feedback::Escalation) -> &str {
    use doorstep_core::feedback::Escalation;
    match state {
        Escalation::Answered { answer, .. } => answer,
        Escalation::Closed { note, .. } => note,
        _ => "",
    }
}

#[derive(serde::Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    held: &'a HeldFeedback,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Content>,
    /// Why the key did not open it (the others are listed all the same).
    #[serde(skip_serializing_if = "Option::is_none")]
    unopened: Option<String>,
}

/// What only the bureau's key reveals.
#[derive(serde::Serialize)]
struct Content {
    text: String,
    contact_name: Option<String>,
    contact_phone: Option<String>,
    visit: Option<String>,
    officer: String,
}

fn list(
    store: &dyn FeedbackBox,
    device: Option<&str>,
    json: bool,
    opener: Option<(&doorstep_envelope::BureauSecretKey, &std::collections::HashMap<[u8; 32], String>)>,
    out: &mut dyn Write,
) -> Result<(), FeedbackOfficeError> {
    let held = store.feedback_list(device)?;
    let mut rows = Vec::with_capacity(held.len());
    let mut unopened = 0;
    for h in &held {
        // One that does not open (sealed to another key, damaged) is listed with why; the rest
        // are still read.
        let (content, why) = match opener.map(|(key, officers)| open_held(store, h, key, officers)) {
            None => (None, None),
            Some(Ok(f)) => (
                Some(Content {
                    text: f.text.clone(),
                    contact_name: f.contact.as_ref().and_then(|c| c.name.as_ref()).map(|n| n.as_str().to_string()),
                    contact_phone: f.contact.as_ref().map(|c| c.phone.e164()),
                    visit: f.visit.clone(),
                    officer: f.officer.clone(),
                }),
                None,
            ),
            Some(Err(e)) => {
                unopened += 1;
                (None, Some(e.to_string()))
            }
        };
        rows.push(Listed { held: h, content, unopened: why });
    }
    if unopened > 0 {
        eprintln!("{unopened} feedback could not be opened with this key: their rows say why");
    }
    if json {
        let text = serde_json::to_string_pretty(&rows).map_err(std::io::Error::other)?;
        writeln!(out, "{text}")?;
        return Ok(());
    }
    if rows.is_empty() {
        writeln!(out, "no feedback")?;
        return Ok(());
    }
    let mut head = "id\tdevice\tbox\tcategory\tmade\tstate\tanswer or note".to_string();
    if opener.is_some() {
        head.push_str("\ttext\tcontact\tvisit\tofficer");
    }
    writeln!(out, "{head}")?;
    for r in &rows {
        let h = r.held;
        let kind = serde_json::to_value(h.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        write!(
            out,
            "{}\t{}\t{kind}\t{}\t{}\t{}\t{}",
            h.id,
            h.device,
            h.category,
            when(h.created_at_unix),
            state_name(&h.state),
            cell(reply_text(&h.state))
        )?;
        if let Some(c) = &r.content {
            let contact = match (&c.contact_name, &c.contact_phone) {
                (None, None) => "-".to_string(),
                (n, p) => format!("{} {}", n.as_deref().unwrap_or(""), p.as_deref().unwrap_or("")).trim().to_string(),
            };
            write!(
                out,
                "\t{}\t{}\t{}\t{}",
                cell(&c.text),
                cell(&contact),
                c.visit.as_deref().unwrap_or("-"),
                c.officer
            )?;
        } else if let Some(why) = &r.unopened {
            write!(out, "\tnot opened: {}", cell(why))?;
        }
        writeln!(out)?;
    }
    Ok(())
}
