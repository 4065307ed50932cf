//! The unit when its storage fails. A sealed application whose file the storage does not read
//! (an I/O error, not bytes gone bad: a folder in its place stands in for a failing card, as
//! root reads through permissions) is not called damaged, nor kept aside: the officer's sync
//! line and the supervisor's shift say the storage did not read it, the rest goes without it,
//! and once the storage reads it again it is sent and decided as any other. And a seal that
//! the storage failed after its file was durable is not sealed a second time. (The vault's own
//! tests put a fault on each of its storage calls: `crates/vault/tests/io_faults.rs`.)

use bevy::prelude::*;
use doorstep_core::Policy;
use doorstep_envelope::ApplicationId;
use doorstep_hub::store::{Records, Status};

use crate::shift::{officer_unlocks, pin_again, supervisor_unlocks};
use crate::sync::{add_supervisor, captured, hub_and_vault_as, seal_one, served_unit, tempfile_dir, unlocked};
use crate::visit::{DEVICE, demo_until, drive, tap, typed, unit, wait, wait_long};
use doorstep::shift::{Refusal, ReleaseOutcome};
use doorstep_vault::faults::{Fault, Faults, Point};

/// The keys of every text on screen now.
fn shown(app: &mut App) -> Vec<&'static str> {
    let world = app.world_mut();
    world.query::<&doorstep::ui::i18n::Tr>().iter(world).map(|t| t.key).collect()
}

#[test]
fn a_file_the_storage_does_not_read_is_not_called_damaged_and_goes_once_it_reads() {
    let tmp = tempfile_dir("not-read");
    let (running, hub, vault) = served_unit(&tmp, DEVICE);
    let v = vault.to_str().unwrap();
    doorstep_hub::pki::Hub::open(&hub.dir).unwrap().add_supervisor(&add_supervisor(v)).unwrap();
    let good = seal_one(&vault, 51);
    let stuck = seal_one(&vault, 52);
    let file = unlocked(&vault).outbox().unwrap().into_iter().find(|e| e.application_id == stuck).unwrap().file;
    let path = vault.join("envelopes").join(&file);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();

    let mut steps = officer_unlocks();
    steps.extend([wait_long(
        "同步：本机存储暂时读不出 1 份已封存申请的文件（文件仍在本机），本次未上传，下次同步会再试。",
    )]);
    steps.push(tap("锁定"));
    steps.extend(supervisor_unlocks());
    steps.extend(
        [
            wait("本机存储暂时读不出 1 件申请的文件（文件仍在本机，未判定损坏）"),
            wait(&format!("申请 {stuck}：本机存储暂时读不出它的文件（文件仍在本机）")),
            wait("待放行 1 件：未决定 1 件，需核对 0 件，尚未上传中心 0 件"),
            tap("批准无需核对的 1 件"),
            tap("签署并放行本班次（批准 1 件，退回 0 件）"),
        ]
        .into_iter()
        .chain(pin_again())
        .chain([wait_long("已放行：批准 1 件，退回 0 件。中心回执已保存在本机。")]),
    );
    let receipts = tmp.join("receipts");
    let mut app = unit(&vault, &receipts, Policy::builtin().unwrap());
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    let keys = shown(&mut app);
    assert!(keys.contains(&"shift.not_read") && keys.contains(&"shift.not_read_count"), "{keys:?}");
    assert!(!keys.contains(&"shift.set_aside") && !keys.contains(&"shift.damaged"), "not called damaged: {keys:?}");
    {
        let session = app.world().resource::<doorstep::session::Session>();
        let vt = doorstep::session::lock(session.vault.as_ref().expect("unlocked"));
        let left = doorstep::shift::load(&vt).unwrap();
        let seen: Vec<_> = left.iter().map(|i| (i.id.as_str(), i.damaged, i.not_read)).collect();
        assert_eq!(seen, vec![(stuck.as_str(), true, true)]);
        assert!(vt.set_aside().unwrap().is_empty(), "nothing kept aside");
    }
    assert!(path.is_dir(), "left as it was");

    // The storage reads it again: back on the shift as any other, sent with the release.
    std::fs::remove_dir(&path).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let again = drive(
        &mut app,
        [
            tap("设置与诊断"),
            tap("返回本班次"),
            wait("待放行 1 件：未决定 1 件，需核对 0 件"),
            tap("批准"),
            tap("签署并放行本班次（批准 1 件，退回 0 件）"),
        ]
        .into_iter()
        .chain(pin_again())
        .chain([
            wait_long("已放行：批准 1 件，退回 0 件。中心回执已保存在本机。"),
            wait("待放行 0 件：未决定 0 件，需核对 0 件，尚未上传中心 0 件"),
        ])
        .collect::<Vec<_>>(),
    );
    assert!(again.is_ok(), "{again:?}");
    drop(app);
    let records = doorstep_hub::admin::AdminClient::connect(&hub.dir).expect("the admin socket");
    for id in [&good, &stuck] {
        let compact = ApplicationId::parse(id).unwrap().to_string();
        assert!(
            matches!(records.status(&compact).unwrap(), Some(Status::Approved { .. })),
            "{id} at the hub, approved"
        );
    }
    drop(records);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A seal reported failed after its file was made durable (the storage failed at its audit
/// record or at the erasure of its draft, as the vault's fault tests make it fail): the
/// application is sealed, and its draft parts are gone. Tapped again, the unit takes the
/// visit's application as it is, its numbers on the receipt, and seals nothing a second time.
#[test]
fn a_seal_tapped_again_after_its_file_was_durable_seals_nothing_twice() {
    let tmp = tempfile_dir("sealed-before");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let (visit, id) = sealed_but_said_failed(&mut app);
    // Until the seal is tapped again its draft stands at the seal step. The supervisor is not
    // told of it as a visit not sealed, nor of its fee as outside the batch: the fee is in the
    // batch's takings.
    let drafts = {
        let session = app.world().resource::<doorstep::session::Session>();
        doorstep::visit_flow::resumable_in(session.vault.as_ref().expect("unlocked"))
    };
    let draft = drafts.iter().find(|d| d.id == visit).expect("the visit's draft");
    assert_eq!(draft.step, doorstep_core::visit::Step::Seal);
    assert!(
        draft.paid.as_ref().is_some_and(doorstep::shift_report::fee_taken),
        "the demo visit is paid for: {draft:?}"
    );
    assert!(draft.sealed && !draft.unsealed(), "{draft:?}");
    let outside = doorstep::shift_report::Outside::of(&drafts, Default::default());
    assert_eq!((outside.unsealed, outside.unsealed_paid.len()), (0, 0));
    // The receipt's number is made from the application's id.
    let hex: String = id.chars().filter(char::is_ascii_hexdigit).collect();
    let number = format!("DS{}01", hex[hex.len() - 10..].to_ascii_uppercase());
    let again = drive(&mut app, vec![tap("封存"), wait_long("打印回执"), wait(&format!("受理编号 {number}"))]);
    assert!(again.is_ok(), "{again:?}");
    drop(app);
    let v = unlocked(&vault);
    let sealed: Vec<_> =
        v.outbox().unwrap().into_iter().filter(|e| e.visit_id == visit).map(|e| e.application_id).collect();
    assert_eq!(sealed, vec![id], "sealed once");
    drop(v);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The demo visit driven to its seal step, and sealed in the vault as a seal whose file was
/// durable but which was said failed (the storage failed at the erasure of its draft): its
/// draft still stands at the seal step. Its visit's id and its application's.
fn sealed_but_said_failed(app: &mut bevy::app::App) -> (String, String) {
    let to_seal = drive(app, demo_until("封存后"));
    assert!(to_seal.is_ok(), "{to_seal:?}");
    let in_hand = app.world().resource::<doorstep::visit_flow::VisitFlow>().visit.clone().expect("a visit");
    let visit = in_hand.id.clone();
    let session = app.world().resource::<doorstep::session::Session>();
    let mut v = doorstep::session::lock(session.vault.as_ref().expect("unlocked"));
    let record = captured(61);
    let review = doorstep_vault::ReviewSummary {
        application_id: record.application_id.to_string(),
        application_numbers: Vec::new(),
        summary_json: "{}".into(),
        thumbnail_jpeg: Vec::new(),
        quality_flags: Vec::new(),
    };
    let id = v.seal(&visit, &record, &review, 1_790_000_000).unwrap().application_id;
    let bytes = serde_json::to_vec(&in_hand).unwrap();
    v.save_draft(&visit, doorstep::visit_flow::VISIT_PART, &bytes).unwrap();
    (visit, id)
}

/// A seal said failed whose file was durable, and the officer then stops the visit, handing
/// the cash back: the stop and its refund are recorded, though the outbox holds the visit (a
/// check meant for a discard from the home screen must not swallow it).
#[test]
fn a_visit_stopped_after_a_seal_said_failed_records_its_refund() {
    let tmp = tempfile_dir("sealed-then-stopped");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let (visit, _) = sealed_but_said_failed(&mut app);
    let stop = drive(
        &mut app,
        vec![
            tap("中止受理"),
            tap("中止原因"),
            typed("测试：申请人改变主意"),
            tap("已当面退还现金 120.00 元"),
            tap("确认中止"),
            wait("本次受理已中止"),
        ],
    );
    assert!(stop.is_ok(), "{stop:?}");
    drop(app);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let v = unlocked(&vault);
    let stops: Vec<String> = v
        .audit_entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == doorstep_vault::ABANDON)
        .map(|e| e.subject)
        .collect();
    assert_eq!(stops, [format!("{visit} step=step.seal paid=120.00 payment.cash refund=cash-returned")]);
    drop(v);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The supervisor's release, on `vault` (`decided`: the applications on the list, all
/// approved), as the shift's screen runs it; with the `nth` read of a sealed file from the
/// unlock on failing, where given.
fn release(vault: &std::path::Path, decided: &[String], faults: &Faults, nth: Option<u32>) -> ReleaseOutcome {
    let v = doorstep_vault::Vault::unlock(
        vault,
        "supervisor-test",
        "975310",
        1_790_000_000,
        doorstep_vault::VaultConfig { reserve_bytes: 0 },
    )
    .unwrap();
    match nth {
        Some(nth) => faults.arm(Point::Read, nth, Fault::Failed),
        None => faults.reset(),
    }
    let shared = std::sync::Arc::new(std::sync::Mutex::new(v));
    doorstep::shift::release(&shared, vault, decided, (&[], &[]), &Default::default(), &|| {})
}

/// Where `id` stands at the hub.
fn at_hub(hub: &doorstep_hub::pki::Hub, id: &str) -> Option<Status> {
    let records = doorstep_hub::admin::AdminClient::connect(&hub.dir).expect("the admin socket");
    records.status(&ApplicationId::parse(id).unwrap().to_string()).unwrap()
}

/// What waits for the supervisor's decision on the unit.
fn undecided(vault: &std::path::Path) -> Vec<String> {
    undecided_in(&unlocked(vault))
}

/// What waits for the supervisor's decision on the unit, as the shift lists it.
fn undecided_in(v: &doorstep_vault::Vault) -> Vec<String> {
    let mut ids: Vec<String> = v
        .outbox()
        .unwrap()
        .iter()
        .filter(|e| doorstep_sync::escrow::awaiting_decision(v, e).is_some())
        .map(|e| e.application_id.clone())
        .collect();
    ids.sort();
    ids
}

/// A release decides only what waited for a decision when it began. An application whose file
/// the storage did not read then (once), but read at its upload, goes to the hub undecided and
/// waits for the next batch: never approved unseen. A release with only such a one releases
/// nothing and says the shift changed; with others, it releases them and counts it as held.
#[test]
fn an_application_read_only_at_its_upload_is_not_decided_unseen() {
    let tmp = tempfile_dir("unseen");
    let (running, hub, vault) = served_unit(&tmp, DEVICE);
    let v = vault.to_str().unwrap();
    doorstep_hub::pki::Hub::open(&hub.dir).unwrap().add_supervisor(&add_supervisor(v)).unwrap();
    let first = seal_one(&vault, 71);
    let faults = Faults::hold();

    // The release reads each undecided application's file to see that the list is the one the
    // supervisor decided on (read 0), then to know what it decides (read 1): that one fails.
    let out = release(&vault, std::slice::from_ref(&first), &faults, Some(1));
    assert!(!faults.still_armed(), "the fault was met");
    assert_eq!(out, ReleaseOutcome::Refused(Refusal::Stale));
    assert_eq!(at_hub(&hub, &first), Some(Status::Received), "uploaded, undecided");
    assert_eq!(undecided(&vault), vec![first.clone()], "still the supervisor's to decide");

    // With a second, sealed now: the first (at the hub) is released, the second waits.
    let second = seal_one(&vault, 72);
    let mut both = vec![first.clone(), second.clone()];
    both.sort();
    // How many files a listing reads (the first's, at the hub, may be read from the index),
    // the second's last: sealed last, it is last on the list.
    let reads = {
        let v = unlocked(&vault);
        assert_eq!(v.outbox().unwrap().last().map(|e| e.application_id.clone()), Some(second.clone()));
        faults.reset();
        assert_eq!(undecided_in(&v), both);
        doorstep_vault::faults::hits(Point::Read)
    };
    // The list checked, then the second's read for what is decided fails.
    let out = release(&vault, &both, &faults, Some(2 * reads - 1));
    assert!(!faults.still_armed(), "the fault was met");
    assert!(
        matches!(out, ReleaseOutcome::Released { approved: 1, returned: 0, held: 1, .. }),
        "the first approved, the second waits: {out:?}"
    );
    assert!(matches!(at_hub(&hub, &first), Some(Status::Approved { .. })));
    assert_eq!(at_hub(&hub, &second), Some(Status::Received), "uploaded, undecided");
    assert_eq!(undecided(&vault), vec![second.clone()], "on the next batch's list");

    // Read as it should be, it is decided with the next release.
    let out = release(&vault, std::slice::from_ref(&second), &faults, None);
    assert!(matches!(out, ReleaseOutcome::Released { approved: 1, held: 0, .. }), "{out:?}");
    assert!(matches!(at_hub(&hub, &second), Some(Status::Approved { .. })));
    drop(faults);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The supervisor's list follows the background sync: an application listed as only on the
/// unit when the shift was read, and uploaded by the sync that runs at the unlock, is shown at
/// the hub without leaving the screen.
#[test]
fn the_shift_list_follows_what_the_background_sync_uploads() {
    let tmp = tempfile_dir("shift-follows-sync");
    let (running, hub, vault) = served_unit(&tmp, DEVICE);
    let v = vault.to_str().unwrap();
    doorstep_hub::pki::Hub::open(&hub.dir).unwrap().add_supervisor(&add_supervisor(v)).unwrap();
    seal_one(&vault, 81);
    let mut steps = supervisor_unlocks();
    steps.push(wait_long("待放行 1 件：未决定 1 件，需核对 0 件，尚未上传中心 0 件"));
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(app);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}
