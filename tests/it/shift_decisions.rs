//! The supervisor's decisions are kept as they are taken: a lock in the middle of the review
//! (the idle lock during a phone call) or a restart (a flat battery) loses none, and the screen
//! says they are back; the release takes them, and none comes back after it. An application
//! already at the hub can be left for the next batch too.

use doorstep::screens::shift::ShiftView;
use doorstep::shift::Decision;
use doorstep_core::Policy;
use doorstep_envelope::ApplicationId;
use doorstep_hub::store::{Records, Status};

use crate::shift::{pin_again, supervisor_unlocks};
use crate::sync::{add_supervisor, doorstep, seal_one, served_unit, tempfile_dir, text};
use crate::visit::{DEVICE, drive, tap, typed, unit, wait, wait_long};

/// The decisions on the shift screen now: (approved, returned with its note, held).
fn decided(app: &bevy::app::App) -> (Vec<String>, Vec<(String, String)>, usize) {
    let view = app.world().resource::<ShiftView>();
    let mut out = (Vec::new(), Vec::new(), 0);
    for (id, d) in &view.decisions {
        match d {
            Decision::Approve => out.0.push(id.clone()),
            Decision::Return { note, .. } => out.1.push((id.clone(), note.clone())),
            Decision::Hold => out.2 += 1,
        }
    }
    out
}

#[test]
fn the_supervisors_decisions_outlive_a_lock_and_a_restart() {
    let tmp = tempfile_dir("decisions");
    let (running, hub, vault) = served_unit(&tmp, DEVICE);
    let v = vault.to_str().unwrap();
    doorstep_hub::pki::Hub::open(&hub.dir).unwrap().add_supervisor(&add_supervisor(v)).unwrap();
    for n in 51..54 {
        seal_one(&vault, n);
    }
    let receipts = tmp.join("receipts");

    // One approved, one returned with a note; then the unit locks.
    let mut review = supervisor_unlocks();
    review.extend([
        wait("待放行 3 件：未决定 3 件"),
        tap("批准"),
        tap("退回"),
        tap("补充说明（可不填，例如缺哪份材料；不写个人信息）"),
        typed("测试：缺少签名页"),
        tap("申请表信息有误，需核对更正"),
        wait("已退回：申请表信息有误，需核对更正——测试：缺少签名页"),
        wait("待放行 3 件：未决定 1 件"),
    ]);
    let mut app = unit(&vault, &receipts, Policy::builtin().unwrap());
    let outcome = drive(&mut app, review);
    assert!(outcome.is_ok(), "{outcome:?}");
    let taken = decided(&app);
    assert_eq!((taken.0.len(), taken.1.len(), taken.2), (1, 1, 0), "{taken:?}");

    // Locked and unlocked again: the two are back, and said to be.
    let mut again = vec![tap("锁定"), wait("请输入 PIN 码解锁")];
    again.extend(supervisor_unlocks());
    again.extend([
        wait("已恢复此前作出的 2 项决定，请核对后继续。"),
        wait("待放行 3 件：未决定 1 件"),
        wait("已退回：申请表信息有误，需核对更正——测试：缺少签名页"),
    ]);
    let outcome = drive(&mut app, again);
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(decided(&app), taken);
    drop(app);
    std::thread::sleep(std::time::Duration::from_millis(500));

    // The unit restarted: the same two. The last, at the hub, is left for the next batch (the
    // supervisor will call the applicant first); the release takes the two.
    let mut restarted = supervisor_unlocks();
    restarted.extend(
        [
            wait("已恢复此前作出的 2 项决定，请核对后继续。"),
            wait_long("待放行 3 件：未决定 1 件，需核对 0 件，尚未上传中心 0 件"),
            tap("留待下一批"),
            tap("签署并放行本班次（批准 1 件，退回 1 件，留待下一批 1 件）"),
        ]
        .into_iter()
        .chain(pin_again())
        .chain([
            wait_long("已放行：批准 1 件，退回 1 件。中心回执已保存在本机。"),
            wait("待放行 1 件：未决定 1 件"),
            // The decisions restored went with the release: not to be checked any more.
            crate::visit::gone("已恢复此前作出的"),
        ]),
    );
    let mut app = unit(&vault, &receipts, Policy::builtin().unwrap());
    let outcome = drive(&mut app, restarted);
    assert!(outcome.is_ok(), "{outcome:?}");

    // At the hub, as decided before the lock and the restart.
    let records = doorstep_hub::admin::AdminClient::connect(&hub.dir).expect("the admin socket");
    let compact = |id: &str| ApplicationId::parse(id).unwrap().to_string();
    let Some(Status::Approved { .. }) = records.status(&compact(&taken.0[0])).unwrap() else { panic!("approved") };
    let left = app.world().resource::<ShiftView>().items.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(records.status(&compact(&left[0])).unwrap(), Some(Status::Received), "at the hub, undecided");
    let returned = records.status(&compact(&taken.1[0].0)).unwrap();
    let Some(Status::Returned { reason, .. }) = returned else { panic!("{returned:?}") };
    assert!(reason.ends_with("— 测试：缺少签名页"), "{reason}");

    // Released, nothing is put back at the next opening.
    let mut after = vec![tap("锁定"), wait("请输入 PIN 码解锁")];
    after.extend(supervisor_unlocks());
    after.push(wait("还有 1 件未决定，决定后才能放行"));
    let outcome = drive(&mut app, after);
    assert!(outcome.is_ok(), "{outcome:?}");
    let view = app.world().resource::<ShiftView>();
    assert_eq!((view.restored_count, view.decisions.len(), view.items.len()), (0, 0, 1));
    drop(app);
    drop(records);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A release from the command line clears what the screen kept too: one the screen had
/// approved and the command line held comes back undecided at the next opening, not approved.
#[test]
fn a_release_from_the_command_line_clears_the_decisions_kept_on_the_screen() {
    let tmp = tempfile_dir("decisions-cli");
    let (running, hub, vault) = served_unit(&tmp, DEVICE);
    let v = vault.to_str().unwrap();
    doorstep_hub::pki::Hub::open(&hub.dir).unwrap().add_supervisor(&add_supervisor(v)).unwrap();
    seal_one(&vault, 61);
    seal_one(&vault, 62);
    let receipts = tmp.join("receipts");
    let mut review = supervisor_unlocks();
    review.extend([wait("待放行 2 件：未决定 2 件"), tap("批准"), wait("待放行 2 件：未决定 1 件")]);
    let mut app = unit(&vault, &receipts, Policy::builtin().unwrap());
    let outcome = drive(&mut app, review);
    assert!(outcome.is_ok(), "{outcome:?}");
    let approved = decided(&app).0;
    assert_eq!(approved.len(), 1);
    drop(app);
    std::thread::sleep(std::time::Duration::from_millis(500));
    // Kept in the vault, as the screen took it.
    {
        let config = doorstep_vault::VaultConfig { reserve_bytes: 0 };
        let sv = doorstep_vault::Vault::unlock(
            &vault,
            "supervisor-test",
            "975310",
            time::OffsetDateTime::now_utc().unix_timestamp(),
            config,
        )
        .unwrap();
        let kept = doorstep::shift::kept_decisions(&sv).unwrap();
        assert_eq!(kept, [(approved[0].clone(), Decision::Approve)].into());
    }

    // At the command line the supervisor holds it (the applicant to be called) and releases
    // the other.
    let out = doorstep(
        &["batch", "--vault", v, "--user", "supervisor-test", "--pin-stdin", "--hold", &approved[0]],
        "975310\n",
    );
    assert!(out.status.success(), "{}", text(&out));

    let mut again = supervisor_unlocks();
    again.push(wait_long("待放行 1 件：未决定 1 件"));
    let mut app = unit(&vault, &receipts, Policy::builtin().unwrap());
    let outcome = drive(&mut app, again);
    assert!(outcome.is_ok(), "{outcome:?}");
    let view = app.world().resource::<ShiftView>();
    let left: Vec<&str> = view.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(left, [approved[0].as_str()], "the held one waits");
    assert_eq!((view.restored_count, view.decisions.len()), (0, 0), "and is not approved again");
    drop(app);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A return a supervisor took on the shift screen and has not released is never approved by
/// a release from the command line, whoever runs it: the release is refused, naming it and
/// whose it is, and nothing is sent; given there as a return (its id spelt in capitals), the
/// batch goes with it returned.
#[test]
fn the_command_line_does_not_release_over_a_return_taken_on_the_screen() {
    let tmp = tempfile_dir("cli-over-screen");
    let (running, hub, vault) = served_unit(&tmp, DEVICE);
    let v = vault.to_str().unwrap();
    doorstep_hub::pki::Hub::open(&hub.dir).unwrap().add_supervisor(&add_supervisor(v)).unwrap();
    // The release is run by another supervisor than the one who returned it.
    let two = crate::sync::add_user(v, "supervisor-two", "supervisor", ("supervisor-test", "975310"), "864200");
    doorstep_hub::pki::Hub::open(&hub.dir).unwrap().add_supervisor(&two).unwrap();
    let id = seal_one(&vault, 1);
    {
        let config = doorstep_vault::VaultConfig { reserve_bytes: 0 };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let sv = doorstep_vault::Vault::unlock(&vault, "supervisor-test", "975310", now, config).unwrap();
        let returned = Decision::Return { reason: "documents".into(), note: "测试：缺户口本复印件".into() };
        doorstep::shift::keep_decisions(&sv, &[(id.clone(), returned)].into()).unwrap();
    }
    let release = ["batch", "--vault", v, "--user", "supervisor-two", "--pin-stdin"];
    let out = doorstep(&release, "864200\n");
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains(&format!("returned  {id}  (documents: 测试：缺户口本复印件; by supervisor-test)")), "{said}");
    assert!(said.contains("nothing was released"), "{said}");
    assert!(!said.contains("approved"), "{said}");

    // An id that names nothing waiting is said before anything is sent, with those waiting.
    let out = doorstep(&[&release[..], &["--return", "NOPE=测试"]].concat(), "864200\n");
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("\"NOPE\": no application waiting on this unit has this id or number"), "{said}");
    assert!(said.contains(&format!("({id})")), "those waiting are listed: {said}");
    // An officer is told that only a supervisor releases.
    let officer = ["batch", "--vault", v, "--user", "officer-test", "--pin-stdin"];
    let said = text(&doorstep(&officer, "246810\n"));
    assert!(said.contains("officer-test is an officer on this unit: only a supervisor releases the shift"), "{said}");

    let given = format!("{}=测试：缺户口本复印件", id.to_uppercase());
    let out = doorstep(&[&release[..], &["--return", &given]].concat(), "864200\n");
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("0 approved, 1 returned"), "{said}");
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}
