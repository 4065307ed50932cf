//! An appointment made at the hub reaches the unit and a visit starts from it: the back office
//! adds it (through the serving hub's admin socket), the unit downloads it over mutual TLS at
//! unlock and lists it on the home screen; the visit started from it has the applicant, the
//! service and the contact filled in; after the seal the hub hears it was served, once.

use doorstep::dev::scenario::{Action, ScenarioStep};
use doorstep_core::Policy;
use doorstep_core::appointment::AppointmentStatus;
use doorstep_hub::admin::AdminClient;
use doorstep_hub::appointments::cli::{AppointmentCommand, run};
use doorstep_hub::store::Appointments;
use time::format_description::well_known::Rfc3339;

use crate::sync::{served_unit, tempfile_dir, unlocked};
use crate::visit::{DEVICE, drive, steps, tap, unit, wait, wait_long};

/// The demo visit, started from the appointment instead of a home-visit reason, with nothing
/// typed that the appointment already gave: no card read (the name and ID number are filled
/// in), no service ticked (the passport is), no phone or address typed.
fn visit_from_the_appointment() -> Vec<ScenarioStep> {
    let skip = |a: &Action| match a {
        Action::Tap(l) => ["高龄申请人", "读取身份证", "普通护照 首次申请", "联系电话（手机或座机）", "家庭住址"]
            .contains(&l.as_str()),
        Action::Wait(l) => l.starts_with("已读取身份证"),
        Action::Type(t) => ["010-65123456", "测试省测试市测试路1号"].contains(&t.as_str()),
        _ => false,
    };
    let mut out = Vec::new();
    for s in steps() {
        if s.action == Action::Wait("申请人是谁？".into()) {
            // The appointment is listed; the visit starts from it, its applicant filled in.
            out.extend([
                wait("预约"),
                wait("测试  普通护照 首次申请（上门办理）"),
                // Where to go, and what the back office asked the officer to know.
                wait("地址：测试市测试路1号"),
                wait("中心备注：测试：行动不便，请带折叠凳"),
                tap("开始受理"),
            ]);
            out.push(s);
            out.extend([wait("11010519491231002X")]);
            continue;
        }
        if s.action == Action::Wait("费用合计：120.00 元".into()) {
            out.push(s);
            continue;
        }
        if s.action == Action::Wait("联系方式与领取方式".into()) {
            out.push(s);
            out.extend([wait("138 0013 8000"), wait("测试市测试路1号")]);
            continue;
        }
        if !skip(&s.action) {
            out.push(s);
        }
    }
    out
}

#[test]
fn a_visit_from_an_appointment_is_filled_in_and_the_hub_hears_it_served() {
    let tmp = tempfile_dir("appointment");
    let (running, hub, vault) = served_unit(&tmp, DEVICE);

    // The back office books it for this unit, for the next two hours, as a home visit.
    let admin = AdminClient::connect(&hub.dir).expect("the serving hub's admin socket");
    let now = doorstep::settings::now();
    let at = |minutes: i64| (now + time::Duration::minutes(minutes)).format(&Rfc3339).unwrap();
    let add = AppointmentCommand::Add {
        device: DEVICE.into(),
        name: "测试".into(),
        id_number: "11010519491231002X".into(),
        phone: "13800138000".into(),
        services: vec!["passport".into()],
        from: at(-10),
        to: at(120),
        mode: "home:age".into(),
        address: Some("测试市测试路1号".into()),
        note: Some("测试：行动不便，请带折叠凳".into()),
        id: Some("apt-test-1".into()),
    };
    let mut said = Vec::new();
    run(&hub, &admin, add, now.date(), now.unix_timestamp(), &mut said).unwrap();

    let mut all = visit_from_the_appointment();
    all.push(wait_long("已封存的申请全部上传完毕"));
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let outcome = drive(&mut app, all);
    assert!(matches!(outcome, Ok(n) if n > 40), "{outcome:?}");
    drop(app);

    // The hub: served, by the visit sealed on the unit.
    let sealed = {
        let vt = unlocked(&vault);
        assert!(vt.served_notices().unwrap().is_empty(), "the notice was sent and dropped");
        let outbox = vt.outbox().unwrap();
        assert_eq!(outbox.len(), 1);
        outbox[0].visit_id.clone()
    };
    let booked = admin.appointment("apt-test-1").unwrap().expect("the appointment at the hub");
    match &booked.appointment.status {
        AppointmentStatus::Served { visit, .. } => assert_eq!(*visit, sealed),
        other => panic!("{other:?}"),
    }
    drop(admin);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}
