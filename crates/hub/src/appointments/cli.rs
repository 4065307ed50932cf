//! `doorstep-hub appointment add | import | list | cancel`: the back office's commands, the
//! same through the store or a serving hub's admin socket (`crate::store::BackOffice`).

use std::io::Write;
use std::path::PathBuf;

use time::Date;

use super::{BookError, Written, add, cancel, check, mode_spelling, status_name};
use crate::pki::Hub;
use crate::store::{Appointments, Booked};

/// Appointments made in advance (预约), each for one enrolled tablet, which downloads its own
/// over mutual TLS, keeps them encrypted, starts a visit from one and tells the hub when it
/// was served.
// Parsed once per run: the size of `Add` costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(clap::Subcommand)]
pub enum AppointmentCommand {
    /// Add one appointment. Its personal data are on the command line, which the shell keeps
    /// in its history and other users may see in the process list: for real appointments,
    /// prefer `import -` with the CSV on standard input.
    Add {
        /// The enrolled tablet that serves it.
        #[arg(long)]
        device: String,
        /// The applicant's name, in Chinese characters.
        #[arg(long)]
        name: String,
        /// The applicant's 18-character citizen ID number.
        #[arg(long)]
        id_number: String,
        /// A mobile or landline number.
        #[arg(long)]
        phone: String,
        /// A service, as `doorstep fee` spells it (passport, passport:lost, hk-macao-permit,
        /// hk-macao-endorsement:g:1x:3m, taiwan-permit, taiwan-endorsement:l:1x:6m,
        /// taiwan-resident-permit…); several after one --service, or --service again.
        #[arg(long = "service", required = true, num_args = 1.., value_name = "CODE")]
        services: Vec<String>,
        /// The window's start, RFC 3339 (2026-12-05T09:00:00+08:00).
        #[arg(long, value_name = "RFC3339")]
        from: String,
        /// The window's end, RFC 3339, after its start.
        #[arg(long, value_name = "RFC3339")]
        to: String,
        /// home:age, home:disability, home:bedbound, home:other:TEXT, outreach[:POINT] or hall.
        #[arg(long)]
        mode: String,
        /// Where (required for a home visit; an outreach point's name when the mode has none).
        #[arg(long)]
        address: Option<String>,
        /// A note for the officer.
        #[arg(long)]
        note: Option<String>,
        /// The appointment's id (letters, digits, '-', '_'; at most 64); the hub makes one
        /// when none is given.
        #[arg(long)]
        id: Option<String>,
    },
    /// Add appointments from a CSV file (UTF-8; a header line naming the columns id, device,
    /// name, id_number, phone, services, from, to, mode, address, note; id, address and note
    /// may be left out; services separated by spaces or ';'). All or nothing: when any line is
    /// refused, nothing is added and each refused line is named with the reason.
    Import {
        /// The CSV file, or `-` for standard input (piped from the booking system: nothing
        /// personal is left in a file or on the command line).
        file: PathBuf,
    },
    /// List appointments (ID numbers and phones masked; --json gives them whole).
    List {
        /// Only this tablet's.
        #[arg(long)]
        device: Option<String>,
        /// Everything as JSON, one array.
        #[arg(long)]
        json: bool,
    },
    /// Cancel a booked appointment; its tablet hears it at its next sync.
    Cancel {
        id: String,
        /// Why, as the officer will read it.
        #[arg(long)]
        reason: String,
    },
}

/// Runs a command and writes what it says to `out`. `today` (UTC+08:00) checks ID numbers'
/// birth dates; `now_unix` stamps what is added.
pub fn run(
    hub: &Hub,
    book: &dyn Appointments,
    command: AppointmentCommand,
    today: Date,
    now_unix: i64,
    out: &mut dyn Write,
) -> Result<(), BookError> {
    match command {
        AppointmentCommand::Add { device, name, id_number, phone, services, from, to, mode, address, note, id } => {
            let written = Written {
                id: id.unwrap_or_default(),
                device,
                name,
                id_number,
                phone,
                services,
                from,
                to,
                mode,
                address: address.unwrap_or_default(),
                note: note.unwrap_or_default(),
            };
            let booked = check(&written, &hub.devices()?, today, now_unix)?;
            add(book, std::slice::from_ref(&booked))?;
            writeln!(out, "added appointment {} for {}", booked.appointment.id, booked.device)?;
        }
        AppointmentCommand::Import { file } => {
            let bytes = if file.as_os_str() == "-" {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
                    .map_err(|e| std::io::Error::new(e.kind(), format!("standard input: {e}")))?;
                bytes
            } else {
                std::fs::read(&file).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", file.display())))?
            };
            let list = super::csv::import(&bytes, &hub.devices()?, today, now_unix)?;
            add(book, &list)?;
            let from = if file.as_os_str() == "-" { "standard input".into() } else { file.display().to_string() };
            let n = doorstep_core::text::counted(list.len() as u64, "appointment", "appointments");
            writeln!(out, "imported {n} from {from}")?;
            for b in &list {
                writeln!(out, "  {} for {}", b.appointment.id, b.device)?;
            }
        }
        AppointmentCommand::List { device, json } => {
            if let Some(d) = &device {
                super::check_device(&hub.devices()?, d).or_else(|e| match e {
                    // A revoked tablet's appointments are still the back office's to see.
                    BookError::RevokedDevice(_) => Ok(()),
                    e => Err(e),
                })?;
            }
            let list = book.appointments(device.as_deref())?;
            if json {
                let text = serde_json::to_string_pretty(&list).map_err(std::io::Error::other)?;
                writeln!(out, "{text}")?;
            } else {
                write_table(&list, out)?;
            }
        }
        AppointmentCommand::Cancel { id, reason } => {
            let b = cancel(book, &id, &reason)?;
            writeln!(out, "cancelled appointment {} of {}", b.appointment.id, b.device)?;
        }
    }
    Ok(())
}

/// One line per appointment: id, device, window, mode, services, status, name, the ID number
/// and phone masked.
pub fn write_table(list: &[Booked], out: &mut dyn Write) -> std::io::Result<()> {
    if list.is_empty() {
        return writeln!(out, "no appointments");
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    writeln!(out, "id\tdevice\tfrom\tto\tmode\tservices\tstatus\tname\tid number\tphone")?;
    for b in list {
        let a = &b.appointment;
        let services: Vec<&str> = a.services.iter().map(|s| s.code()).collect();
        let phone = a.phone.e164();
        let phone_masked = format!("{}****{}", &phone[..phone.len().min(4)], &phone[phone.len().saturating_sub(4)..]);
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            a.id,
            b.device,
            a.from.format(&fmt).unwrap_or_default(),
            a.to.format(&fmt).unwrap_or_default(),
            mode_spelling(&a.mode),
            services.join(" "),
            status_name(&a.status),
            a.name.as_str(),
            a.id_number.masked(),
            phone_masked,
        )?;
    }
    Ok(())
}
