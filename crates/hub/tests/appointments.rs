//! Appointments through a serving hub: the back office adds, imports, lists and cancels them
//! through the admin socket (the store is the serving hub's), and each tablet, over mutual TLS
//! with its real certificate, sees only its own and marks only its own served, once.

mod common;
mod pg;
mod stores;

use doorstep_hub::admin::AdminClient;
use doorstep_hub::appointments::BookError;
use doorstep_hub::appointments::cli::{AppointmentCommand, run};
use doorstep_hub::pki::{Bundle, Hub, Validity};
use doorstep_hub::store::Appointments;
use doorstep_sync::client::{HubClient, SyncError};
use doorstep_sync::wire::{self, AppointmentStatus};
use time::macros::{date, datetime};

fn client(b: &Bundle, port: u16) -> HubClient {
    HubClient::new(&format!("https://localhost:{port}"), b.client_config().unwrap()).unwrap()
}

fn refused<T: std::fmt::Debug>(r: Result<T, SyncError>) -> (u16, String) {
    match r {
        Err(SyncError::Refused { status, code, .. }) => (status, code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A two-hour window `days` from now (negative: in the past), as the back office writes it.
/// The hub sends a tablet each appointment until a week after its window, by its own clock.
fn window(days: i64) -> (String, String) {
    let from = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    let to = from + time::Duration::hours(2);
    let rfc = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
    (rfc(from), rfc(to))
}

fn add(device: &str, id: &str, mode: &str) -> AppointmentCommand {
    add_at(device, id, mode, 1)
}

fn add_at(device: &str, id: &str, mode: &str, days: i64) -> AppointmentCommand {
    let (from, to) = window(days);
    AppointmentCommand::Add {
        device: device.into(),
        name: "测试".into(),
        id_number: "11010519491231002X".into(),
        phone: "13800138000".into(),
        services: vec!["passport".into()],
        from,
        to,
        mode: mode.into(),
        address: Some("测试市测试路1号".into()),
        note: None,
        id: Some(id.into()),
    }
}

/// Runs a back-office command as `doorstep-hub appointment` does; what it printed.
fn office(hub: &Hub, book: &dyn Appointments, command: AppointmentCommand) -> Result<String, BookError> {
    let mut out = Vec::new();
    run(hub, book, command, date!(2026 - 12 - 04), 1_790_000_000, &mut out)?;
    Ok(String::from_utf8(out).unwrap())
}

#[test]
fn each_tablet_sees_and_serves_only_its_own_appointments() {
    let d = tempfile::tempdir().unwrap();
    let hub = stores::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:0");
    let (a, b) =
        (common::bundle(&hub, "tablet-a", Validity::days(1)), common::bundle(&hub, "tablet-b", Validity::days(1)));
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let port = running.addr.port();
    // The store is the serving hub's: the back office reaches it through the admin socket.
    let admin = AdminClient::connect(&hub.dir).expect("the serving hub's admin socket");

    office(&hub, &admin, add("tablet-a", "apt-a1", "home:bedbound")).unwrap();
    office(&hub, &admin, add("tablet-a", "apt-a2", "hall")).unwrap();
    // Six days past its window: still sent (the officer may yet be asked about it). A month
    // past: kept by the hub for the back office, no longer sent to the tablet.
    office(&hub, &admin, add_at("tablet-a", "apt-a3", "hall", -6)).unwrap();
    office(&hub, &admin, add_at("tablet-a", "apt-a4", "hall", -30)).unwrap();
    let csv = d.path().join("appointments.csv");
    let (from, to) = window(2);
    std::fs::write(
        &csv,
        format!(
            "id,device,name,id_number,phone,services,from,to,mode,address\n\
             apt-b1,tablet-b,测试,11010519491231002X,010-65123456,passport hk-macao-permit,{from},{to},outreach:测试商会,\n"
        ),
    )
    .unwrap();
    let said = office(&hub, &admin, AppointmentCommand::Import { file: csv.clone() }).unwrap();
    assert!(said.starts_with("imported 1 appointment from"), "{said}");
    assert!(matches!(
        office(&hub, &admin, add("tablet-c", "apt-c1", "hall")),
        Err(BookError::UnknownDevice(d)) if d == "tablet-c"
    ));
    assert!(matches!(
        office(&hub, &admin, add("tablet-b", "apt-a1", "hall")),
        Err(BookError::Taken(ids)) if ids == ["apt-a1"]
    ));

    // Each tablet gets its own, and only its own.
    let (mut ca, mut cb) = (client(&a, port), client(&b, port));
    let list_a = ca.appointments().unwrap();
    assert_eq!((list_a.version, list_a.device.as_str()), (wire::APPOINTMENTS_VERSION, "tablet-a"));
    let ids = |l: &wire::AppointmentList| l.appointments.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    // By their windows; not the one a month past its window.
    assert_eq!(ids(&list_a), ["apt-a3", "apt-a1", "apt-a2"]);
    let list_b = cb.appointments().unwrap();
    assert_eq!(ids(&list_b), ["apt-b1"]);
    assert_eq!(list_b.appointments[0].name.as_str(), "测试");
    assert_eq!(list_b.appointments[0].services.len(), 2);

    // Served: once, by the same visit as often as it is said; never another device's.
    let at = datetime!(2026-12-05 09:40 +8);
    let served = AppointmentStatus::Served { visit: "visit-1".into(), at };
    assert_eq!(ca.served("apt-a1", "visit-1", at).unwrap().status, served);
    assert_eq!(ca.served("apt-a1", "visit-1", at).unwrap().status, served, "the same visit again");
    let refusals = [
        ("apt-a1", "visit-2", (409, "not-booked")),
        ("apt-b1", "visit-3", (404, "unknown-appointment")),
        ("apt-none", "visit-4", (404, "unknown-appointment")),
    ];
    for (id, visit, (status, code)) in refusals {
        assert_eq!(refused(ca.served(id, visit, at)), (status, code.to_string()), "{id} {visit}");
    }
    assert_eq!(ids(&cb.appointments().unwrap()), ["apt-b1"]);
    assert_eq!(cb.appointments().unwrap().appointments[0].status, AppointmentStatus::Booked, "B's is untouched");
    assert!(matches!(ca.served("../x", "visit-5", at), Err(SyncError::BadAppointmentId(i)) if i == "../x"));

    // A notice that is not one, of another version, or too large.
    let post = |c: &mut HubClient, body: &[u8]| {
        let r = c.request("POST", &wire::served_path("apt-a2"), &[], body).unwrap();
        (r.status, r.header(wire::ERROR).unwrap_or_default().to_string())
    };
    assert_eq!(post(&mut ca, b"{\"visit\": 1}"), (400, "served-notice".into()));
    let v2 = br#"{"version":2,"visit":"visit-6","at":"2026-12-05T09:40:00+08:00"}"#;
    assert_eq!(post(&mut ca, v2), (400, "version".into()));
    assert_eq!(post(&mut ca, &vec![b' '; 5000]), (413, "too-large".into()));
    assert_eq!(ca.request("DELETE", wire::APPOINTMENTS, &[], &[]).unwrap().status, 405);

    // The back office cancels; the tablet hears it, and can no longer serve it.
    let said =
        office(&hub, &admin, AppointmentCommand::Cancel { id: "apt-a2".into(), reason: "申请人住院".into() }).unwrap();
    assert_eq!(said, "cancelled appointment apt-a2 of tablet-a\n");
    let cancelled = AppointmentStatus::Cancelled { reason: "申请人住院".into() };
    let list_a = ca.appointments().unwrap();
    assert_eq!(list_a.appointments.iter().find(|a| a.id == "apt-a2").unwrap().status, cancelled);
    assert_eq!(refused(ca.served("apt-a2", "visit-7", at)), (409, "not-booked".into()));

    // The list: ID numbers and phones masked in the table, whole in JSON.
    let table = office(&hub, &admin, AppointmentCommand::List { device: None, json: false }).unwrap();
    assert_eq!(table.lines().count(), 6, "the back office sees them all: {table}");
    assert!(table.contains("apt-a1\ttablet-a") && table.contains("\tserved\t") && table.contains("\tcancelled\t"));
    assert!(table.contains("1101**********002X") && !table.contains("11010519491231002X"), "{table}");
    let json = office(&hub, &admin, AppointmentCommand::List { device: Some("tablet-b".into()), json: true }).unwrap();
    let listed: Vec<doorstep_hub::store::Booked> = serde_json::from_str(&json).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].appointment.id_number.as_str(), "11010519491231002X");

    // A revoked tablet gets nothing, and is given nothing more.
    Hub::open(&hub.dir).unwrap().revoke("tablet-b").unwrap();
    assert_eq!(refused(cb.appointments()), (403, "revoked-device".into()));
    assert!(matches!(
        office(&hub, &admin, add("tablet-b", "apt-b2", "hall")),
        Err(BookError::RevokedDevice(d)) if d == "tablet-b"
    ));
    drop(admin);
    drop(running);

    // Stopped: the same commands go to the store itself, which kept everything.
    let store = stores::open(&hub);
    let kept = store.appointments(None).unwrap();
    assert_eq!(kept.len(), 5);
    assert_eq!(kept.iter().find(|b| b.appointment.id == "apt-a1").unwrap().appointment.status, served);
}

/// The command line as the back office types it, on a hub that is not serving.
#[test]
fn the_command_line_adds_imports_lists_and_cancels() {
    let d = tempfile::tempdir().unwrap();
    let hub = stores::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:0");
    hub.enroll("tablet-a", Validity::days(1)).unwrap();
    let cli = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep-hub"))
            .arg("--hub")
            .arg(&hub.dir)
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (o.status.success(), String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr))
    };
    // Tomorrow at the bureau (the hub refuses a window more than a year from its today).
    let rfc = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
    let tomorrow = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8)) + time::Duration::days(1);
    let at = |hour: u8| rfc(tomorrow.replace_time(time::Time::from_hms(hour, 0, 0).unwrap()));
    let (from, to) = (at(9), at(11));
    let window = ["--from", from.as_str(), "--to", to.as_str()];
    let person = ["--name", "测试", "--id-number", "11010519491231002X", "--phone", "13800138000"];
    let add = |extra: &[&str]| {
        let mut args = vec!["appointment", "add", "--device", "tablet-a"];
        args.extend(person);
        args.extend(window);
        args.extend(extra);
        cli(&args)
    };
    let (ok, said) = add(&["--id", "apt-1", "--service", "passport", "hk-macao-permit", "--mode", "hall"]);
    assert!(ok && said == "added appointment apt-1 for tablet-a\n", "{said}");
    let (ok, said) = add(&["--service", "passport", "--mode", "home:age"]);
    assert!(!ok && said.contains("a home visit needs the address"), "{said}");

    let csv = d.path().join("book.csv");
    let line = |id: &str, number: &str| {
        format!("{id},tablet-a,测试,{number},13800138000,passport,{},{},hall\n", at(9), at(10))
    };
    let header = "id,device,name,id_number,phone,services,from,to,mode\n";
    std::fs::write(&csv, [header, &line("apt-2", "11010519491231002X"), &line("apt-3", "110105194912310021")].concat())
        .unwrap();
    let (ok, said) = cli(&["appointment", "import", csv.to_str().unwrap()]);
    assert!(!ok && said.contains("1 line refused; nothing was imported") && said.contains("line 3: "), "{said}");
    assert!(!said.contains("110105194912310021"), "no ID number in the refusal: {said}");
    // A header without a column the file needs: named once.
    std::fs::write(&csv, "id,device\napt-2,tablet-a\n").unwrap();
    let (ok, said) = cli(&["appointment", "import", csv.to_str().unwrap()]);
    assert!(!ok && said.matches("the header names no column \"name\"").count() == 1, "{said}");
    std::fs::write(&csv, [header, &line("apt-2", "11010519491231002X")].concat()).unwrap();
    let (ok, said) = cli(&["appointment", "import", csv.to_str().unwrap()]);
    assert!(ok && said.starts_with("imported 1 appointment from"), "{said}");
    // From standard input, as piped from the booking system: nothing personal in a file or
    // on the command line.
    let mut piped = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep-hub"))
        .arg("--hub")
        .arg(&hub.dir)
        .args(["appointment", "import", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let csv_text = [header, &line("apt-4", "11010519491231002X")].concat();
    std::io::Write::write_all(&mut piped.stdin.take().unwrap(), csv_text.as_bytes()).unwrap();
    let o = piped.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && said.starts_with("imported 1 appointment from standard input"), "{said}");
    let (ok, said) = cli(&["appointment", "cancel", "apt-4", "--reason", "测试"]);
    assert!(ok, "{said}");

    let (ok, said) = cli(&["appointment", "cancel", "apt-2", "--reason", "申请人住院"]);
    assert!(ok, "{said}");
    let (ok, json) = cli(&["appointment", "list", "--device", "tablet-a", "--json"]);
    assert!(ok, "{json}");
    let listed: Vec<doorstep_hub::store::Booked> = serde_json::from_str(&json).unwrap();
    let states: Vec<(&str, &AppointmentStatus)> =
        listed.iter().map(|b| (b.appointment.id.as_str(), &b.appointment.status)).collect();
    let cancelled = AppointmentStatus::Cancelled { reason: "申请人住院".into() };
    let piped_cancelled = AppointmentStatus::Cancelled { reason: "测试".into() };
    assert_eq!(states, [("apt-1", &AppointmentStatus::Booked), ("apt-2", &cancelled), ("apt-4", &piped_cancelled)]);
    let (ok, said) = cli(&["status"]);
    assert!(ok && said.contains("appointments: 3\n  booked: 1\n  cancelled: 2"), "{said}");
}
