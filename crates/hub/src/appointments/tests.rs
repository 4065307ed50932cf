//! The back office's rules for appointments, on a real store: what is refused and why (by
//! value), the import's line numbers, and core's changes applied once.

use time::macros::{date, datetime};

use super::*;
use crate::pki::Device;
use crate::store::{AnyStore, SledStore, test_store};

const TODAY: Date = date!(2026 - 12 - 04);

fn devices() -> Devices {
    let device = |name: &str, revoked: Option<i64>| Device {
        name: name.into(),
        fingerprint: "00".repeat(32),
        enrolled_at_unix: 1_790_000_000,
        not_after_unix: 1_900_000_000,
        revoked_at_unix: revoked,
    };
    Devices {
        devices: vec![device("tablet-a", None), device("tablet-b", None), device("tablet-old", Some(1_790_000_100))],
    }
}

fn written() -> Written {
    Written {
        id: "apt-1".into(),
        device: "tablet-a".into(),
        name: "测试".into(),
        id_number: "11010519491231002X".into(),
        phone: "010-65123456".into(),
        services: vec!["passport".into(), "hk-macao-endorsement:g:1x:3m".into()],
        from: "2026-12-05T09:00:00+08:00".into(),
        to: "2026-12-05T11:00:00+08:00".into(),
        mode: "home:bedbound".into(),
        address: "测试市测试路1号".into(),
        note: String::new(),
    }
}

#[test]
fn written_appointments_are_checked_and_refused_by_name() {
    type Want = fn(&BookError) -> bool;
    let cases: Vec<(&str, Written, Want)> = vec![
        (
            "unknown device",
            Written { device: "tablet-x".into(), ..written() },
            |e| matches!(e, BookError::UnknownDevice(d) if d == "tablet-x"),
        ),
        (
            "revoked device",
            Written { device: "tablet-old".into(), ..written() },
            |e| matches!(e, BookError::RevokedDevice(d) if d == "tablet-old"),
        ),
        (
            "id with a slash",
            Written { id: "a/b".into(), ..written() },
            |e| matches!(e, BookError::BadId(i) if i == "a/b"),
        ),
        (
            "unknown service option",
            Written { services: vec!["passport:nope".into()], ..written() },
            |e| matches!(e, BookError::Service { spelling, error: ServiceParseError::UnknownOption { .. } } if spelling == "passport:nope"),
        ),
        ("no services", Written { services: vec![], ..written() }, |e| {
            matches!(e, BookError::Invalid(AppointmentError::NoServices))
        }),
        (
            "not a time",
            Written { from: "tomorrow 9am".into(), ..written() },
            |e| matches!(e, BookError::Time { field: "from", value } if value == "tomorrow 9am"),
        ),
        ("ends before it starts", Written { to: "2026-12-05T08:00:00+08:00".into(), ..written() }, |e| {
            matches!(e, BookError::Invalid(AppointmentError::Window))
        }),
        ("no window end", Written { to: String::new(), ..written() }, |e| {
            matches!(e, BookError::Invalid(AppointmentError::Window))
        }),
        (
            "unknown mode",
            Written { mode: "home".into(), ..written() },
            |e| matches!(e, BookError::Mode(m) if m == "home"),
        ),
        ("no mode", Written { mode: String::new(), ..written() }, |e| {
            matches!(e, BookError::Invalid(AppointmentError::ModeMissing))
        }),
        ("outreach without a point", Written { mode: "outreach".into(), address: " ".into(), ..written() }, |e| {
            matches!(e, BookError::OutreachPoint)
        }),
        ("home visit without an address", Written { address: String::new(), ..written() }, |e| {
            matches!(e, BookError::Invalid(AppointmentError::AddressMissing))
        }),
        ("wrong check character", Written { id_number: "110105194912310021".into(), ..written() }, |e| {
            matches!(e, BookError::Invalid(AppointmentError::IdNumber(_)))
        }),
        ("not a Chinese name", Written { name: "Test".into(), ..written() }, |e| {
            matches!(e, BookError::Invalid(AppointmentError::Name(_)))
        }),
        ("not a phone", Written { phone: "1".into(), ..written() }, |e| {
            matches!(e, BookError::Invalid(AppointmentError::Phone(_)))
        }),
    ];
    for (what, w, want) in cases {
        match check(&w, &devices(), TODAY, 1_790_000_000) {
            Err(e) => assert!(want(&e), "{what}: refused with {e:?}"),
            Ok(b) => panic!("{what}: taken as {b:?}"),
        }
    }
    let b = check(&written(), &devices(), TODAY, 1_790_000_000).unwrap();
    assert_eq!((b.device.as_str(), b.appointment.id.as_str()), ("tablet-a", "apt-1"));
    assert_eq!(b.appointment.status, AppointmentStatus::Booked);
    assert_eq!(b.appointment.services.len(), 2);
    let made = check(&Written { id: String::new(), ..written() }, &devices(), TODAY, 0).unwrap();
    assert!(made.appointment.id.starts_with("apt-") && wire::appointment_id_ok(&made.appointment.id));
}

#[test]
fn modes_read_as_written_and_back() {
    let cases = [
        ("home:age", "", VisitMode::Home { reason: HomeReason::Age }),
        ("home:disability", "", VisitMode::Home { reason: HomeReason::Disability }),
        ("home:bedbound", "", VisitMode::Home { reason: HomeReason::Bedbound }),
        ("home:other:术后", "", VisitMode::Home { reason: HomeReason::Other { text: "术后".into() } }),
        ("outreach:测试商会", "", VisitMode::Outreach { point: "测试商会".into() }),
        ("outreach", "测试商会", VisitMode::Outreach { point: "测试商会".into() }),
        (" hall ", "", VisitMode::Hall),
    ];
    for (spelling, address, want) in cases {
        let mode = parse_mode(spelling, address).unwrap_or_else(|e| panic!("{spelling}: {e}"));
        assert_eq!(mode, want, "{spelling}");
        assert_eq!(parse_mode(&mode_spelling(&mode), "").unwrap(), want, "{spelling} read back");
    }
    for bad in ["home:other:", "outreach:", "Hall", "home:age:x"] {
        assert!(matches!(parse_mode(bad, ""), Err(BookError::Mode(m)) if m == bad.trim()), "{bad}");
    }
}

fn store() -> (tempfile::TempDir, AnyStore) {
    let d = tempfile::tempdir().unwrap();
    let s = test_store(&d.path().join("store"));
    (d, s)
}

const HEADER: &str = "device,id,name,id_number,phone,services,from,to,mode,address,note\n";

#[test]
fn an_import_is_all_or_nothing_and_names_each_bad_line() {
    let (_d, store) = store();
    let good = "tablet-a,apt-1,测试,11010519491231002X,13800138000,passport;hk-macao-permit,2026-12-05T09:00:00+08:00,2026-12-05T10:00:00+08:00,home:age,测试路1号,\n";
    let quoted = "tablet-b,apt-2,测试,11010519491231002X,010-65123456,passport,2026-12-05T09:00:00+08:00,2026-12-05T10:00:00+08:00,home:disability,\"测试路2号, 3单元\n401室\",\"请先打电话 \"\"测试\"\"\"\n";
    let bad_number = "tablet-a,apt-3,测试,110105194912310021,13800138000,passport,2026-12-05T09:00:00+08:00,2026-12-05T10:00:00+08:00,hall,,\n";
    let unknown_device = "tablet-x,apt-4,测试,11010519491231002X,13800138000,passport,2026-12-05T09:00:00+08:00,2026-12-05T10:00:00+08:00,hall,,\n";
    let repeated = good.replace("home:age", "hall");
    let short = "tablet-a,apt-5,测试\n";
    // Lines: 1 header, 2 good, 3-4 quoted (its address spans two), 5 bad number, 6 unknown
    // device, 7 the id of line 2 again, 8 too few fields.
    let file = [HEADER, good, quoted, bad_number, unknown_device, &repeated, short].concat();
    match csv::import(file.as_bytes(), &devices(), TODAY, 0) {
        Err(BookError::Lines(lines)) => {
            let got: Vec<usize> = lines.iter().map(|(n, _)| *n).collect();
            assert_eq!(got, [5, 6, 7, 8], "{lines:?}");
            assert!(matches!(&lines[0].1, BookError::Invalid(AppointmentError::IdNumber(_))), "{:?}", lines[0]);
            assert!(matches!(&lines[1].1, BookError::UnknownDevice(d) if d == "tablet-x"), "{:?}", lines[1]);
            assert!(matches!(&lines[2].1, BookError::Repeated { id, first: 2 } if id == "apt-1"), "{:?}", lines[2]);
            assert!(matches!(&lines[3].1, BookError::Columns { found: 3, expected: 11 }), "{:?}", lines[3]);
            let message = BookError::Lines(lines).to_string();
            assert!(message.contains("line 5: ") && !message.contains("110105194912310021"), "{message}");
        }
        other => panic!("expected the bad lines, got {other:?}"),
    }
    assert_eq!(store.appointments(None).unwrap(), vec![], "nothing was added");

    // The good lines alone are taken, with the quoted address whole.
    let list = csv::import([HEADER, good, quoted].concat().as_bytes(), &devices(), TODAY, 7).unwrap();
    add(&store, &list).unwrap();
    let a = store.appointments(Some("tablet-b")).unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].appointment.address, "测试路2号, 3单元\n401室");
    assert_eq!(a[0].appointment.note, "请先打电话 \"测试\"");
    assert_eq!(a[0].added_at_unix, 7);
    assert_eq!(store.appointments(None).unwrap().len(), 2);
    // Again: every id is taken, nothing changes.
    match add(&store, &list) {
        Err(BookError::Taken(ids)) => assert_eq!(ids, ["apt-1", "apt-2"]),
        other => panic!("expected the taken ids, got {other:?}"),
    }
    let file_errors: [(&str, csv::CsvError); 4] = [
        ("", csv::CsvError::Empty),
        ("device,name\n", csv::CsvError::MissingColumn("id_number")),
        ("device,nom\n", csv::CsvError::UnknownColumn("nom".into())),
        ("device,device\n", csv::CsvError::RepeatedColumn("device".into())),
    ];
    for (text, want) in file_errors {
        match csv::import(text.as_bytes(), &devices(), TODAY, 0) {
            Err(BookError::File(e)) => assert_eq!(e, want, "{text:?}"),
            other => panic!("{text:?}: expected {want:?}, got {other:?}"),
        }
    }
    assert!(matches!(csv::import(b"\xff\xfe", &devices(), TODAY, 0), Err(BookError::File(csv::CsvError::NotUtf8))));
}

#[test]
fn served_and_cancelled_by_cores_rules_once() {
    let (_d, store) = store();
    let a1 = check(&written(), &devices(), TODAY, 0).unwrap();
    let a2 = check(&Written { id: "apt-2".into(), ..written() }, &devices(), TODAY, 0).unwrap();
    let b1 =
        check(&Written { id: "apt-b1".into(), device: "tablet-b".into(), ..written() }, &devices(), TODAY, 0).unwrap();
    add(&store, &[a1, a2, b1]).unwrap();
    let at = datetime!(2026-12-05 09:30 +8);
    let served_by = |visit: &str| AppointmentStatus::Served { visit: visit.into(), at };

    let first = served(&store, "tablet-a", "apt-1", "visit-1", at).unwrap().unwrap();
    assert_eq!(first.appointment.status, served_by("visit-1"));
    // The same visit again (a lost reply): the same answer, even with another time.
    let again = served(&store, "tablet-a", "apt-1", "visit-1", at + time::Duration::minutes(5)).unwrap().unwrap();
    assert_eq!(again, first);
    let refusals = [
        ("tablet-a", "apt-1", "visit-2", ServedRefusal::NotBooked(served_by("visit-1"))),
        ("tablet-a", "apt-b1", "visit-3", ServedRefusal::OtherDevice),
        ("tablet-b", "apt-1", "visit-1", ServedRefusal::OtherDevice),
        ("tablet-a", "apt-none", "visit-4", ServedRefusal::NoSuchAppointment),
        ("tablet-a", "apt-2", " ", ServedRefusal::BadVisit),
    ];
    for (device, id, visit, want) in refusals {
        assert_eq!(served(&store, device, id, visit, at).unwrap(), Err(want.clone()), "{device} {id} {visit}");
    }
    assert_eq!(store.appointment("apt-b1").unwrap().unwrap().appointment.status, AppointmentStatus::Booked);

    assert!(matches!(cancel(&store, "apt-2", " "), Err(BookError::Invalid(AppointmentError::CancelReasonMissing))));
    assert!(
        matches!(cancel(&store, "apt-1", "申请人住院"), Err(BookError::NotBooked { id, status: "served" }) if id == "apt-1")
    );
    assert!(matches!(cancel(&store, "apt-9", "申请人住院"), Err(BookError::NoSuchAppointment(id)) if id == "apt-9"));
    let c = cancel(&store, "apt-2", "申请人住院").unwrap();
    assert_eq!(c.appointment.status, AppointmentStatus::Cancelled { reason: "申请人住院".into() });
    let cancelled = AppointmentStatus::Cancelled { reason: "申请人住院".into() };
    assert_eq!(served(&store, "tablet-a", "apt-2", "visit-5", at).unwrap(), Err(ServedRefusal::NotBooked(cancelled)));

    // A stale replace is refused: the store swaps only what the caller read.
    let now = store.appointment("apt-b1").unwrap().unwrap();
    let mut stale = now.clone();
    stale.added_at_unix = 99;
    assert!(!store.replace_appointment(&stale, &now).unwrap());

    // The embedded store journalled every change: a rebuilt index has each appointment as it
    // stands. (The database keeps no index of the hub's to rebuild.)
    let before = store.appointments(None).unwrap();
    if let AnyStore::Sled(sled) = store {
        drop(sled);
        let rebuilt = SledStore::rebuild_index(&_d.path().join("store")).unwrap();
        assert_eq!(rebuilt.recovery().rebuilt.as_ref().map(|r| r.appointments), Some(3));
        assert_eq!(rebuilt.appointments(None).unwrap(), before);
        assert_eq!(rebuilt.appointments(Some("tablet-b")).unwrap().len(), 1);
    } else {
        assert_eq!(before.len(), 3);
    }
}
