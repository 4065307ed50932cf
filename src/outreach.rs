//! The outreach point's queue on the unit, apart from its screen: the day's queue kept as a file
//! beside the vault, and the ticket as the printer prints it.
//!
//! A ticket names no one (a number, a service group, its priority and times), so the day's
//! queue is kept as plain JSON in `VAULT.queue/YYYY-MM-DD.json`, readable by the unit's user
//! only, written whole or not at all after every change: a dead battery at noon loses no
//! ticket. Each unit keeps its own queue (see ARCHITECTURE.md, "the outreach point").

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use doorstep_core::policy::ServiceGroup;
use doorstep_core::queue::{Queue, Ticket};
use doorstep_devices::escpos::{Align, ReceiptBuilder};
use doorstep_devices::io::{BridgeHost, Printed, ReceiptPrinter};
use doorstep_link::Channel;
use time::Date;

use crate::ui::i18n::{Arg, Words};

/// The folder beside the vault where the days' queues are kept.
pub fn folder(vault_dir: &Path) -> PathBuf {
    vault_dir.with_extension("queue")
}

fn day_file(dir: &Path, day: Date) -> PathBuf {
    dir.join(format!("{day}.json"))
}

/// How a day's queue was found.
#[derive(Debug)]
pub enum Loaded {
    /// The queue as kept (empty for a new day).
    Kept(Queue),
    /// The file did not parse: it was moved aside (to this path) and the day starts again.
    Damaged(Queue, PathBuf),
}

/// The queue of `day` from `dir`: an empty one when there is none yet.
pub fn load(dir: &Path, day: Date) -> std::io::Result<Loaded> {
    let path = day_file(dir, day);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::Kept(Queue::default())),
        Err(e) => return Err(e),
    };
    match serde_json::from_slice(&bytes) {
        Ok(q) => Ok(Loaded::Kept(q)),
        Err(_) => {
            let aside = path.with_extension(format!("damaged-{}", crate::settings::now().unix_timestamp()));
            std::fs::rename(&path, &aside)?;
            Ok(Loaded::Damaged(Queue::default(), aside))
        }
    }
}

/// How many tickets of `day` are not finished (waiting, or called and not yet marked served
/// or absent), as the queue beside the vault in `vault_dir` keeps them; none when there is no
/// queue that day or it does not read (read only: the desk moves a damaged one aside when it
/// opens).
pub fn open_tickets(vault_dir: &Path, day: Date) -> usize {
    use doorstep_core::queue::TicketState;
    let Ok(bytes) = std::fs::read(day_file(&folder(vault_dir), day)) else { return 0 };
    let Ok(queue) = serde_json::from_slice::<Queue>(&bytes) else { return 0 };
    let open = |t: &&doorstep_core::queue::Ticket| matches!(t.state, TicketState::Waiting | TicketState::Called { .. });
    queue.tickets().iter().filter(open).count()
}

/// Writes the day's queues in the order they were made: a slow write never lands over a later
/// one (`seq` orders them).
#[derive(Debug, Clone, Default)]
pub struct Writer {
    last: Arc<Mutex<u64>>,
    /// The last write failed (a full or read-only disk): the desk says so.
    pub failed: Arc<std::sync::atomic::AtomicBool>,
}

impl Writer {
    /// Writes `queue` as change `seq` of the day, unless a later change is already written.
    pub fn write(&self, dir: &Path, day: Date, queue: &Queue, seq: u64) -> std::io::Result<()> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if seq <= *last {
            return Ok(());
        }
        let written = serde_json::to_vec(queue)
            .map_err(std::io::Error::other)
            .and_then(|bytes| crate::files::write_private(dir, &day_file(dir, day), &bytes));
        self.failed.store(written.is_err(), std::sync::atomic::Ordering::SeqCst);
        written?;
        *last = seq;
        Ok(())
    }
}

/// The ticket as printed, in Chinese for the people waiting (`words` gives the Chinese
/// texts): where it was taken (the point's name, when the unit has one), the number large, the
/// service, how many wait before it, the day and time it was taken (a ticket kept from another
/// day is not this day's), and the priority it was given.
pub fn ticket_bytes(ticket: &Ticket, ahead: usize, group: Option<&ServiceGroup>, point: &str, words: Words) -> Vec<u8> {
    let service = group.map_or_else(String::new, |g| g.zh.clone());
    // Read back from the day's file: one edited to the calendar's edge keeps its own offset.
    let taken = ticket.issued_at.checked_to_offset(crate::settings::now().offset()).unwrap_or(ticket.issued_at);
    let time = format!("{} {:02}:{:02}", doorstep_core::format_date(taken.date()), taken.hour(), taken.minute());
    let mut r = ReceiptBuilder::new().align(Align::Centre).line(&words("queue.ticket.title", &[]));
    if !point.trim().is_empty() {
        r = r.line(point.trim());
    }
    let mut r = r.double(true).line(&ticket.number).double(false).line(&service);
    if ticket.urgent {
        r = r.line(&words("queue.ticket.green", &[]));
    } else if ticket.rank != doorstep_core::queue::ORDINARY {
        r = r.line(&words("queue.ticket.priority", &[]));
    }
    r.line(&words("queue.ticket.ahead", &[("n", ahead.to_string())]))
        .line(&words("queue.ticket.taken", &[("time", time)]))
        .line(&words("queue.ticket.listen", &[]))
        .feed(3)
        .cut()
}

/// A ticket's bytes for the printer, for the person waiting: in Chinese, whatever language the
/// officer reads the desk in (an English screen printed English tickets).
pub fn ticket_in_chinese(
    ticket: &doorstep_core::queue::Ticket,
    ahead: usize,
    priority: &doorstep_core::policy::PriorityPolicy,
    point: &str,
    strings: &crate::ui::i18n::Strings,
) -> Vec<u8> {
    let words = |key: &'static str, args: &[(&str, String)]| strings.get(crate::settings::Lang::Zh, key, args);
    let group = priority.queue.groups.iter().find(|g| g.letter == ticket.group);
    ticket_bytes(ticket, ahead, group, point, &words)
}

/// Prints a ticket through the bridge's printer (on a task): printed, and whether its paper is
/// near its end. Not printed, or not known to be: why, for the screen, which then shows the
/// number for the applicant to note (a printer silent after the ticket may have printed
/// nothing: the simulator's silent printer takes the bytes and prints none).
pub fn print(host: Option<BridgeHost>, bytes: &[u8]) -> Result<bool, Arg> {
    let Some(host) = host else { return Err(Arg::Key("visit.receipt.no_bridge")) };
    printed(ReceiptPrinter::new(host.channel(Channel::Printer)).print(bytes))
}

/// What the printer's answer to a ticket means: printed (and whether its paper is near its
/// end), or why it is not known to be.
fn printed(answer: Result<Printed, doorstep_devices::DeviceError>) -> Result<bool, Arg> {
    crate::peripherals::printed(answer, "queue.ticket.unconfirmed", "queue.ticket.cut_short")
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_core::policy::PolicySources;
    use time::macros::{date, datetime};

    fn queue() -> Queue {
        let policy = doorstep_core::policy::PriorityPolicy::parse(PolicySources::BUILTIN.priority).unwrap();
        let mut q = Queue::default();
        q.issue('A', vec!["elderly".into()], false, &policy, datetime!(2026-12-04 09:00 +8)).unwrap();
        q.issue('B', vec![], true, &policy, datetime!(2026-12-04 09:01 +8)).unwrap();
        q
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("doorstep-outreach-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    /// A ticket is taken as printed only when the printer says so after it; the paper near its
    /// end is said; one cut short is named a ticket to take back.
    #[test]
    fn a_ticket_is_printed_only_when_the_printer_says_so() {
        use doorstep_devices::DeviceError;
        use doorstep_devices::escpos::{Paper, PrinterStatus};
        let whole = |paper| Ok(Printed::Whole(PrinterStatus { online: true, paper }));
        let key = |k: &'static str| Err(Arg::Key(k));
        let cases: Vec<(Result<Printed, DeviceError>, Result<bool, Arg>)> = vec![
            (whole(Paper::Loaded), Ok(false)),
            (whole(Paper::NearEnd), Ok(true)),
            (Ok(Printed::StatusUnknown(DeviceError::Timeout(2000))), key("queue.ticket.unconfirmed")),
            (Ok(Printed::MaybeCutShort(DeviceError::PrinterOffline)), key("queue.ticket.cut_short")),
        ];
        for (answer, want) in cases {
            let what = format!("{answer:?}");
            assert_eq!(printed(answer), want, "{what}");
        }
    }

    #[test]
    fn the_days_queue_is_kept_whole_and_a_later_write_is_never_overwritten() {
        let dir = tmp("kept");
        let day = date!(2026 - 12 - 04);
        assert!(matches!(load(&dir, day).unwrap(), Loaded::Kept(q) if q == Queue::default()), "a new day");
        let w = Writer::default();
        let q = queue();
        w.write(&dir, day, &q, 2).unwrap();
        // An earlier change finishing late does not replace the later one.
        w.write(&dir, day, &Queue::default(), 1).unwrap();
        assert!(matches!(load(&dir, day).unwrap(), Loaded::Kept(k) if k == q));
        assert!(matches!(load(&dir, date!(2026 - 12 - 05)).unwrap(), Loaded::Kept(k) if k == Queue::default()));
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(day_file(&dir, day)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_damaged_day_is_moved_aside_and_starts_again() {
        let dir = tmp("damaged");
        let day = date!(2026 - 12 - 04);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(day_file(&dir, day), b"{not json").unwrap();
        let Loaded::Damaged(q, aside) = load(&dir, day).unwrap() else { panic!("damaged") };
        assert_eq!(q, Queue::default());
        assert_eq!(std::fs::read(&aside).unwrap(), b"{not json");
        assert!(!day_file(&dir, day).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_ticket_prints_its_number_large_its_service_and_how_many_wait() {
        let q = queue();
        let t = &q.tickets()[0];
        let group = ServiceGroup { letter: 'A', zh: "办理证件".into(), en: "documents".into() };
        let words = |key: &'static str, args: &[(&str, String)]| {
            format!("{key}{}", args.iter().map(|(k, v)| format!(" {k}={v}")).collect::<String>())
        };
        let bytes = ticket_bytes(t, 1, Some(&group), "测试外展服务点", &words);
        let items = doorstep_devices::escpos::parse(&bytes).unwrap();
        let text = format!("{items:?}");
        for want in [
            "测试外展服务点",
            "A001",
            "办理证件",
            "queue.ticket.priority",
            "queue.ticket.ahead n=1",
            "time=2026-12-04 09:00",
        ] {
            assert!(text.contains(want), "{want} in {text}");
        }
        assert!(!text.contains("queue.ticket.green"));
        // A unit with no point's name prints no empty line for it.
        let urgent = ticket_bytes(&q.tickets()[1], 0, None, " ", &words);
        let urgent = doorstep_devices::escpos::parse(&urgent).unwrap();
        assert!(format!("{urgent:?}").contains("queue.ticket.green"));
        let named = ticket_bytes(&q.tickets()[1], 0, None, "测试外展服务点", &words);
        assert_eq!(doorstep_devices::escpos::parse(&named).unwrap().len(), urgent.len() + 1, "{urgent:?}");
    }
}
