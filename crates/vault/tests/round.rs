//! The appointments' whole round with real parts: the back office adds appointments at a
//! serving hub (sled, its admin socket), the unit downloads its own over mutual TLS into this
//! vault, starts a visit from one and notes it served while the hub is unreachable, and the
//! next sync sends the notice, once, so that the hub lists it served.

mod common;

use common::*;
use doorstep_core::appointment::AppointmentStatus;
use doorstep_hub::admin::AdminClient;
use doorstep_hub::appointments::{Written, add, check};
use doorstep_hub::pki::{self, Validity};
use doorstep_hub::store::Appointments;
use doorstep_sync::appointments::{download, send_served, sync};
use doorstep_sync::bundle::Bundle;
use doorstep_sync::client::SyncError;
use doorstep_sync::escrow::Hub;
use time::macros::{date, datetime};

fn written(id: &str, device: &str) -> Written {
    Written {
        id: id.into(),
        device: device.into(),
        name: CANARY_NAME.into(),
        id_number: CANARY_ID.into(),
        phone: "13800138000".into(),
        services: vec!["passport".into()],
        from: "2026-12-05T09:00:00+08:00".into(),
        to: "2026-12-05T11:00:00+08:00".into(),
        mode: "home:age".into(),
        address: "测试市测试路1号".into(),
        note: "请敲门".into(),
    }
}

#[test]
fn a_visit_from_an_appointment_noted_offline_reaches_the_hub_once() {
    let d = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let hub =
        pki::init(&d.path().join("hub"), &["localhost".into()], &listen, &format!("https://localhost:{port}")).unwrap();
    // The vault's device id is the enrolled name (common::init).
    let bundle_path = hub.enroll("tablet-test-01", Validity::days(1)).unwrap();
    hub.enroll("tablet-other", Validity::days(1)).unwrap();
    let bundle = Bundle::parse(&std::fs::read_to_string(bundle_path).unwrap()).unwrap();
    let running = doorstep_hub::server::start(&hub, &listen).unwrap();

    // The back office adds two for this unit and one for another, through the serving hub.
    let admin = AdminClient::connect(&hub.dir).unwrap();
    let devices = hub.devices().unwrap();
    let today = date!(2026 - 12 - 04);
    let booked: Vec<_> = [("apt-1", "tablet-test-01"), ("apt-2", "tablet-test-01"), ("apt-x", "tablet-other")]
        .into_iter()
        .map(|(id, device)| check(&written(id, device), &devices, today, NOW).unwrap())
        .collect();
    add(&admin, &booked).unwrap();

    // The unit, provisioned for this hub, downloads its own.
    let vault_dir = d.path().join("vault");
    init(&vault_dir);
    let mut vault = unlock(&vault_dir);
    vault.bind_hub(&bundle.anchor_digest(), NOW).unwrap();
    let mut link = Hub::connect(&mut vault, &bundle, NOW).unwrap();
    let report = sync(&mut vault, &mut link, NOW).unwrap();
    let kept = report.kept.expect("downloaded");
    assert_eq!(kept.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["apt-1", "apt-2"]);
    assert_eq!(report.served.sent, Vec::<String>::new());

    // Coverage goes. A visit starts from the first, with its data prefilled, is sealed
    // (elsewhere), and is noted served.
    drop(running);
    let at = datetime!(2026-12-05 09:50 +8);
    let appointment = vault.appointments().unwrap().remove(0);
    let (visit, prefill) = appointment.start_visit("visit-1", OFFICER, at).unwrap();
    assert_eq!(visit.appointment.as_deref(), Some("apt-1"));
    assert_eq!(prefill.identification.applicant.id_number, CANARY_ID);
    assert_eq!(prefill.identification.applicant.name, CANARY_NAME);
    vault.note_served("apt-1", "visit-1", at).unwrap();
    let offline = send_served(&mut vault, &mut link, NOW + 60).unwrap();
    assert!(offline.stopped && offline.sent.is_empty(), "{offline:?}");
    assert!(matches!(offline.kept.as_slice(), [(id, SyncError::Connection(_))] if id == "apt-1"), "{offline:?}");
    assert_eq!(vault.served_notices().unwrap().len(), 1, "the notice waits");
    assert!(matches!(
        download(&mut vault, &mut link, NOW + 60),
        Err(doorstep_sync::escrow::EscrowError::Hub(SyncError::Connection(_)))
    ));
    let served = AppointmentStatus::Served { visit: "visit-1".into(), at };
    assert_eq!(vault.appointments().unwrap()[0].status, served, "served on the unit meanwhile");

    // The unit stops and starts again before coverage returns: the notice is still queued.
    drop(link);
    drop(vault);
    let mut vault = unlock(&vault_dir);
    let mut link = Hub::connect(&mut vault, &bundle, NOW + 120).unwrap();
    assert_eq!(vault.served_notices().unwrap().len(), 1);

    // Coverage returns: the next sync sends it, and the hub lists it served.
    let running = doorstep_hub::server::start(&hub, &listen).unwrap();
    let report = sync(&mut vault, &mut link, NOW + 180).unwrap();
    assert_eq!(report.served.sent, ["apt-1"]);
    assert!(report.served.refused.is_empty() && report.served.kept.is_empty(), "{:?}", report.served);
    assert_eq!(vault.served_notices().unwrap(), vec![], "answered, so dropped");
    let kept = report.kept.expect("downloaded");
    assert_eq!(kept[0].status, served, "as the hub now has it");
    assert_eq!(kept[1].status, AppointmentStatus::Booked);
    let admin = AdminClient::connect(&hub.dir).unwrap();
    assert_eq!(admin.appointment("apt-1").unwrap().unwrap().appointment.status, served);
    assert_eq!(admin.appointment("apt-x").unwrap().unwrap().appointment.status, AppointmentStatus::Booked);

    // Once in effect: a second sync sends nothing, and the hub is unchanged.
    let again = sync(&mut vault, &mut link, NOW + 240).unwrap();
    assert!(again.served.sent.is_empty());
    assert_eq!(admin.appointment("apt-1").unwrap().unwrap().appointment.status, served);

    // The back office cancels the second; a notice the unit made before hearing it is
    // refused by the hub for good, said, and dropped.
    doorstep_hub::appointments::cancel(&admin, "apt-2", "申请人住院").unwrap();
    vault.note_served("apt-2", "visit-2", at).unwrap();
    let report = sync(&mut vault, &mut link, NOW + 300).unwrap();
    assert!(
        matches!(report.served.refused.as_slice(), [(id, SyncError::Refused { status: 409, code, .. })] if id == "apt-2" && code == "not-booked"),
        "{:?}",
        report.served
    );
    assert_eq!(vault.served_notices().unwrap(), vec![]);
    let cancelled = AppointmentStatus::Cancelled { reason: "申请人住院".into() };
    assert_eq!(report.kept.unwrap()[1].status, cancelled, "the hub's word stands");
    drop(admin);
    drop(running);
}
