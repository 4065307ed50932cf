//! Appointments kept on the unit: sealed under the data key (a copy of the folder without a
//! PIN shows neither the name nor the ID number), the served notices queued until the hub has
//! answered, across a stop and a rebuilt index, and each action in the audit chain.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use doorstep_core::appointment::{Appointment, AppointmentInput, AppointmentStatus};
use doorstep_core::visit::{HomeReason, VisitMode};
use doorstep_vault::{ServedNotice, VaultError};
use time::macros::{date, datetime};

fn appointment(id: &str) -> Appointment {
    AppointmentInput {
        id: id.into(),
        name: CANARY_NAME.into(),
        id_number: CANARY_ID.into(),
        phone: "13800138000".into(),
        services: vec!["passport".parse().unwrap()],
        from: Some(datetime!(2026-12-05 09:00 +8)),
        to: Some(datetime!(2026-12-05 11:00 +8)),
        mode: Some(VisitMode::Home { reason: HomeReason::Bedbound }),
        address: "测试市测试路1号".into(),
        note: String::new(),
    }
    .validate(date!(2026 - 12 - 04))
    .unwrap()
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(all_files(&p)) } else { out.push(p) }
    }
    out
}

#[test]
fn appointments_are_sealed_and_served_notices_wait_for_the_hub() {
    let d = tempfile::tempdir().unwrap();
    init(d.path());
    let mut v = unlock(d.path());
    assert_eq!(v.appointments().unwrap(), vec![], "nothing before the first download");
    let (_, audit_before) = v.audit_head();
    v.store_appointments(&[appointment("apt-1"), appointment("apt-2"), appointment("apt-3")], NOW).unwrap();
    assert_eq!(v.appointments().unwrap().len(), 3);

    let at = datetime!(2026-12-05 09:45 +8);
    v.note_served("apt-1", "visit-1", at).unwrap();
    v.note_served("apt-1", "visit-1", at).unwrap();
    type Want = fn(&VaultError) -> bool;
    let refusals: [(&str, &str, Want); 2] = [
        ("apt-1", "visit-2", |e| matches!(e, VaultError::AppointmentNotBooked(i) if i == "apt-1")),
        ("apt-9", "visit-3", |e| matches!(e, VaultError::NoSuchAppointment(i) if i == "apt-9")),
    ];
    for (id, visit, want) in refusals {
        match v.note_served(id, visit, at) {
            Err(e) => assert!(want(&e), "{id} {visit}: {e:?}"),
            Ok(()) => panic!("{id} {visit}: noted"),
        }
    }
    let notice = ServedNotice { appointment_id: "apt-1".into(), visit_id: "visit-1".into(), at };
    assert_eq!(v.served_notices().unwrap(), vec![notice.clone()]);
    let served = AppointmentStatus::Served { visit: "visit-1".into(), at };
    assert_eq!(v.appointments().unwrap()[0].status, served);
    // A download before the notice went keeps it shown served.
    v.store_appointments(&[appointment("apt-1"), appointment("apt-2")], NOW + 1).unwrap();
    assert_eq!(v.appointments().unwrap()[0].status, served);
    assert_eq!(v.appointments().unwrap()[1].status, AppointmentStatus::Booked);
    v.note_served("apt-2", "visit-4", at).unwrap();
    let (_, audit_after) = v.audit_head();
    assert_eq!(audit_after - audit_before, 4, "two downloads and two notes, each audited");
    drop(v);

    // No name, no ID number anywhere on disk.
    let needles: [(&str, &[u8]); 2] = [("name", CANARY_NAME.as_bytes()), ("ID number", CANARY_ID.as_bytes())];
    let files = all_files(d.path());
    assert!(files.iter().any(|f| f.ends_with("appointments/list.sealed")), "{files:?}");
    for f in &files {
        let bytes = fs::read(f).unwrap();
        for (what, needle) in needles {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{what} in clear in {}", f.display());
        }
    }

    // The queue survives a stop, and a lost index.
    fs::remove_dir_all(d.path().join("index")).unwrap();
    let mut v = unlock(d.path());
    let queued: Vec<String> = v.served_notices().unwrap().into_iter().map(|n| n.appointment_id).collect();
    assert_eq!(queued, ["apt-1", "apt-2"]);
    assert_eq!(v.appointments().unwrap().len(), 2);
    v.served_sent("apt-1", NOW + 2).unwrap();
    v.served_sent("apt-1", NOW + 2).unwrap();
    drop(v);
    let v = unlock(d.path());
    assert_eq!(
        v.served_notices().unwrap(),
        vec![ServedNotice { appointment_id: "apt-2".into(), visit_id: "visit-4".into(), at }]
    );

    // A list moved from another vault does not open here.
    drop(v);
    let other = tempfile::tempdir().unwrap();
    init(other.path());
    drop(unlock(other.path()));
    fs::create_dir_all(other.path().join("appointments")).unwrap();
    fs::copy(d.path().join("appointments/list.sealed"), other.path().join("appointments/list.sealed")).unwrap();
    match unlock(other.path()).appointments() {
        Err(VaultError::Corrupt(m)) => assert!(m.contains("list.sealed"), "{m}"),
        other => panic!("expected a list that does not decrypt, got {other:?}"),
    }
}
