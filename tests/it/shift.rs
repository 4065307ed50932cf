//! The supervisor's shift on the unit, headless, against a hub started here: the supervisor
//! unlocks with their own PIN, sees the shift, approves one and returns one with a reason from
//! the policy, and releases the batch without the CLI; the hub's signed receipt is kept. And
//! the freeze rules stop new visits on the officer's home screen.

use bevy::prelude::*;
use doorstep::screens::Screen;
use doorstep::screens::home::{FreezeLines, StartVisits};
use doorstep_core::Policy;
use doorstep_envelope::ApplicationId;
use doorstep_hub::pki::Validity;
use doorstep_hub::store::{Records, Status};

use crate::sync::{
    PIN, add_officer, add_supervisor, doorstep, hub_and_vault_as, seal_as, seal_one, serve, served_unit, tempfile_dir,
    text, unlocked, upload_without_erase,
};
use crate::visit::{DEVICE, drive, steps, tap, typed, unit, wait, wait_long};

/// The supervisor's PIN `add_supervisor` enrols.
const SUPERVISOR_PIN: &str = "975310";

/// On the unlock screen, choose the officer, type their PIN, unlock.
pub(crate) fn officer_unlocks() -> Vec<doorstep::dev::scenario::ScenarioStep> {
    let mut s = vec![tap("民警 officer-test")];
    s.extend(PIN.chars().map(|c| tap(&c.to_string())));
    s.push(tap("解锁"));
    s
}

/// Lock (from wherever the unit is), choose the supervisor, type their PIN, unlock.
pub(crate) fn supervisor_unlocks() -> Vec<doorstep::dev::scenario::ScenarioStep> {
    let mut s = vec![tap("带班领导 supervisor-test")];
    s.extend(SUPERVISOR_PIN.chars().map(|c| tap(&c.to_string())));
    s.extend([tap("解锁"), wait("本班次申请 · 带班领导 supervisor-test")]);
    s
}

/// The supervisor's PIN given again on the pad the release opens (SECURITY.md R12).
pub(crate) fn pin_again() -> Vec<doorstep::dev::scenario::ScenarioStep> {
    typed_pin_again(SUPERVISOR_PIN, "确认签署并放行")
}

/// The PIN typed on the pad that asks for it again (R12), then `submit` tapped.
pub(crate) fn typed_pin_again(pin: &str, submit: &str) -> Vec<doorstep::dev::scenario::ScenarioStep> {
    let mut s = vec![wait("请再次输入您的 PIN 码")];
    s.extend(pin.chars().map(|c| tap(&c.to_string())));
    s.push(tap(submit));
    s
}

#[test]
fn the_supervisor_releases_the_shift_on_the_unit() {
    let tmp = tempfile_dir("shift");
    let (hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let v = vault.to_str().unwrap();
    let key = add_supervisor(v);
    let (running, hub) = serve(hub);
    let bundle = hub.enroll(DEVICE, Validity::days(30)).unwrap();
    let out = doorstep(
        &["provision", "--vault", v, "--user", "officer-test", "--pin-stdin", bundle.to_str().unwrap()],
        &format!("{PIN}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let receipts = tmp.join("receipts");

    // The officer's visit (sent to the hub from the home screen), then the supervisor, whose key
    // the hub does not trust yet: told so, with the key to give it, and nothing is released.
    let mut first = steps();
    first.extend([wait_long("已封存的申请全部上传完毕"), tap("锁定")]);
    first.extend(supervisor_unlocks());
    first.extend(
        [
            wait("待放行 1 件：未决定 1 件"),
            // What the seal kept for the supervisor: the applicant, the service, the officer.
            wait("测试  "),
            wait("普通护照"),
            wait("民警 officer-test"),
            wait("已到中心（有回执）"),
            wait("还有 1 件未决定，决定后才能放行"),
            tap("批准"),
            // The PIN asked again (R12): a wrong one is counted and said, nothing released;
            // cancelled, the shift is as it was.
            tap("签署并放行本班次（批准 1 件，退回 0 件）"),
            wait("放行将以您的密钥签署本班次，签署后不能撤回。"),
            tap("0"),
            tap("0"),
            tap("0"),
            tap("0"),
            tap("0"),
            tap("0"),
            tap("确认签署并放行"),
            wait("PIN 码错误，还可尝试 9 次；用完后本终端将无法解锁，须联系管理员重新配置"),
            tap("取消"),
            tap("签署并放行本班次（批准 1 件，退回 0 件）"),
        ]
        .into_iter()
        .chain(pin_again())
        .chain([
            wait_long(&format!("中心不接受此带班领导的签名：未放行。请在中心执行：doorstep-hub add-supervisor {key}")),
            tap("锁定"),
            wait("请输入 PIN 码解锁"),
        ]),
    );
    let mut app = unit(&vault, &receipts, Policy::builtin().unwrap());
    let outcome = drive(&mut app, first);
    assert!(matches!(outcome, Ok(n) if n > 40), "{outcome:?}");
    drop(app);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let visit_app = {
        let vt = unlocked(&vault);
        assert!(vt.batch_receipts().unwrap().is_empty(), "nothing released");
        let outbox = vt.outbox().unwrap();
        assert_eq!(outbox.len(), 1);
        outbox[0].application_id.clone()
    };
    let records = doorstep_hub::admin::AdminClient::connect(&hub.dir).expect("the admin socket");
    let compact = |id: &str| ApplicationId::parse(id).unwrap().to_string();
    assert_eq!(records.status(&compact(&visit_app)).unwrap(), Some(Status::Received), "not released");

    // The hub trusts the supervisor now; a second application, sealed and not yet sent.
    let mut hub = doorstep_hub::pki::Hub::open(&hub.dir).unwrap();
    hub.add_supervisor(&key).unwrap();
    let second = seal_one(&vault, 31);
    let mut release = supervisor_unlocks();
    release.extend(
        [
            // The approval taken before the refused release is back, the new one undecided.
            wait("已恢复此前作出的 1 项决定，请核对后继续。"),
            wait("待放行 2 件：未决定 1 件"),
            // The oldest first: the second application (sealed by the helper's clock, long ago) is
            // returned with a reason from the policy.
            tap("需核对在前"),
            tap("按时间"),
            tap("退回"),
            // What exactly, in the supervisor's words, beside the policy's reason.
            tap("补充说明（可不填，例如缺哪份材料；不写个人信息）"),
            typed("测试：出生日期填错"),
            tap("申请表信息有误，需核对更正"),
            wait("已退回：申请表信息有误，需核对更正——测试：出生日期填错"),
            // The other was approved before the refused release: none left to approve in bulk.
            wait("批准无需核对的 0 件"),
            tap("签署并放行本班次（批准 1 件，退回 1 件）"),
        ]
        .into_iter()
        .chain(pin_again())
        .chain([
            wait_long("已放行：批准 1 件，退回 1 件。中心回执已保存在本机。"),
            wait("本机已放行的批次"),
            // The end-of-shift figures on the screen, and kept as files.
            wait("按民警："),
            // The second application was sealed by a helper that names no officer.
            wait("officer-test 1"),
            wait("— 1"),
            wait("申请表信息有误，需核对更正 1"),
            wait("班次报表已存为图片和 PDF"),
            wait("待放行 0 件"),
            // Nothing left to release: the button says so, not "release 0 and 0".
            wait("没有待放行的申请"),
            // The diagnostics: the unit, its users, the sync log and the audit chain, nothing personal.
            tap("设置与诊断"),
            wait("设备 demo-tablet-test"),
            wait("带班领导 supervisor-test"),
            wait("校验链完整"),
            wait("封存 2 次"),
            tap("返回本班次"),
            wait("本机已放行的批次"),
        ]),
    );
    let mut app = unit(&vault, &receipts, Policy::builtin().unwrap());
    let outcome = drive(&mut app, release);
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(*app.world().resource::<State<Screen>>().get(), Screen::Shift);
    // The officer, at the next unlock, is told of the revisit and why.
    let mut officer: Vec<_> = vec![tap("锁定"), tap("民警 officer-test")];
    officer.extend(PIN.chars().map(|c| tap(&c.to_string())));
    // By the number on the applicant's receipt, the reason in the screen's language only.
    let number = doorstep::visit_flow::application_numbers(&ApplicationId::parse(&second).unwrap(), 1).remove(0);
    officer.extend([
        tap("解锁"),
        wait("开始上门受理"),
        wait_long(&format!("需重新上门：受理编号 {number} 被退回：申请表信息有误，需核对更正 — 测试：出生日期填错")),
    ]);
    let outcome = drive(&mut app, officer);
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(app);
    std::thread::sleep(std::time::Duration::from_millis(500));

    // At the hub: the visit approved, the other returned with the policy's words, in one batch.
    let (approved, returned) =
        (records.status(&compact(&visit_app)).unwrap(), records.status(&compact(&second)).unwrap());
    let Some(Status::Approved { batch }) = approved else { panic!("{approved:?}") };
    let Some(Status::Returned { batch: same, reason }) = returned else { panic!("{returned:?}") };
    assert_eq!(batch, same, "one batch");
    assert_eq!(reason, "申请表信息有误，需核对更正 / the form has an error: check and correct it — 测试：出生日期填错");
    // On the unit: the receipt kept, the second application uploaded and erased, nothing left to
    // review.
    let vt = unlocked(&vault);
    let kept = vt.batch_receipts().unwrap();
    assert_eq!(kept.len(), 1, "the hub's receipt is kept");
    let receipt = doorstep_envelope::BatchReceipt::from_bytes(&kept[0]).unwrap();
    assert_eq!((receipt.batch_id.as_str(), receipt.applications), (batch.as_str(), 2));
    assert!(vt.outbox().unwrap().iter().all(|e| e.state == doorstep_vault::OutboxState::Erased));
    assert!(doorstep::shift::load(&vt).unwrap().is_empty(), "the review summaries are erased");
    // The end-of-shift report, named by the batch, as PNG (drawn at the printer's width) and PDF.
    let reports = doorstep::shift_report::folder(&vault);
    let png = image::open(reports.join(format!("{batch}.png"))).expect("the report's PNG").to_luma8();
    assert!(png.width() >= 300 && png.height() > png.width(), "a receipt-shaped report: {:?}", png.dimensions());
    assert!(png.pixels().filter(|p| p.0[0] < 128).count() > 1000, "with text on it");
    assert!(std::fs::read(reports.join(format!("{batch}.pdf"))).unwrap().starts_with(b"%PDF"));
    drop(vt);
    drop(records);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// An application the hub refuses (its officer's key is not enrolled there) does not hold up
/// the shift: the release says why and which, the supervisor leaves it for the next batch and
/// releases the rest; it stays sealed and undecided on the unit, counted on the screen, and
/// goes in a later batch once the hub enrols the officer.
#[test]
fn an_application_the_hub_refuses_is_named_held_and_released_later() {
    let tmp = tempfile_dir("hold");
    let (running, hub, vault) = served_unit(&tmp, DEVICE);
    let v = vault.to_str().unwrap();
    doorstep_hub::pki::Hub::open(&hub.dir).unwrap().add_supervisor(&add_supervisor(v)).unwrap();
    // A second officer the unit knows and the hub does not (yet).
    let other = add_officer(v, "officer-two", "135791");
    let taken = seal_one(&vault, 41);
    let refused = seal_as(&vault, "officer-two", "135791", 42);

    // The officer on the unit hears it at the first sync, with the hub's reason and its fix.
    let mut steps = officer_unlocks();
    steps.extend([
        wait_long(&format!(
            "同步：1 份申请未被接收。中心拒收：封存它的民警，其签名密钥未在中心登记。请在中心执行：doorstep-hub add-officer {other} --id officer-two"
        )),
    ]);
    let receipts = tmp.join("receipts");
    let mut app = unit(&vault, &receipts, Policy::builtin().unwrap());
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    // In red, not the usual grey: something the officer must see to. (The next sync may have
    // begun in the frame the words were seen, showing its progress: wait for them again.)
    let refused_colour = (0..2000).find_map(|_| {
        let mut line = app
            .world_mut()
            .query_filtered::<(&doorstep::ui::i18n::Tr, &TextColor), With<doorstep::screens::home::SyncLine>>();
        let found = line.iter(app.world()).find(|(tr, _)| tr.message.is_some()).map(|(_, c)| c.0);
        if found.is_none() {
            app.update();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        found
    });
    assert_eq!(refused_colour, Some(doorstep::ui::theme::ERROR));

    let mut steps = vec![tap("锁定")];
    steps.extend(supervisor_unlocks());
    steps.extend([
        wait("待放行 2 件：未决定 2 件"),
        tap("批准无需核对的 2 件"),
        tap("签署并放行本班次（批准 2 件，退回 0 件）")].into_iter().chain(pin_again()).chain([
        // Nothing released, and why: the one refused named in its row, with the line to run.
        wait_long("1 件申请未能上传，因此未放行；其中 1 件被中心拒收"),
        wait(&format!(
            "中心拒收：封存它的民警，其签名密钥未在中心登记。请在中心执行：doorstep-hub add-officer {other} --id officer-two"
        )),
        tap("未上传"),
        tap("更改"),
        tap("留待下一批"),
        wait("留待下一批：不在本次放行之列"),
        tap("签署并放行本班次（批准 1 件，退回 0 件，留待下一批 1 件）")].into_iter().chain(pin_again()).chain([
        wait_long("已放行：批准 1 件，退回 0 件。中心回执已保存在本机。"),
        wait("留待下一批 1 件：未放行，下一班次再决定；尚未到中心的仍加密保存在本机，每次同步都会再上传。"),
        wait("待放行 1 件：未决定 1 件"),
    ])));
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");

    let records = doorstep_hub::admin::AdminClient::connect(&hub.dir).expect("the admin socket");
    let compact = |id: &str| ApplicationId::parse(id).unwrap().to_string();
    let Some(Status::Approved { batch }) = records.status(&compact(&taken)).unwrap() else { panic!("approved") };
    assert_eq!(records.status(&compact(&refused)).unwrap(), None, "the hub never took it");
    {
        let session = app.world().resource::<doorstep::session::Session>();
        let vt = doorstep::session::lock(session.vault.as_ref().expect("unlocked"));
        let left: Vec<String> = doorstep::shift::load(&vt).unwrap().into_iter().map(|i| i.id).collect();
        assert_eq!(left, std::slice::from_ref(&refused), "still on the unit, undecided");
        let entry = vt.outbox().unwrap().into_iter().find(|e| e.application_id == refused).unwrap();
        assert_eq!(entry.state, doorstep_vault::OutboxState::Sealed);
    }
    // The batch's report is kept (what it counts is the report's unit tests').
    let png = doorstep::shift_report::folder(&vault).join(format!("{batch}.png"));
    assert!(png.exists(), "the report of the batch is kept");

    // The hub enrols the officer: the next release sends it and decides it.
    let mut pki = doorstep_hub::pki::Hub::open(&hub.dir).unwrap();
    pki.add_officer(&other, "officer-two").unwrap();
    let outcome = drive(
        &mut app,
        [tap("批准"), tap("签署并放行本班次（批准 1 件，退回 0 件）")]
            .into_iter()
            .chain(pin_again())
            .chain([wait_long("已放行：批准 1 件，退回 0 件。中心回执已保存在本机。"), wait("待放行 0 件")])
            .collect::<Vec<_>>(),
    );
    assert!(outcome.is_ok(), "{outcome:?}");
    let Some(Status::Approved { batch: later }) = records.status(&compact(&refused)).unwrap() else {
        panic!("approved later")
    };
    assert_ne!(later, batch, "in a later batch");
    // Mended, the officer's sync line is back to its usual grey.
    let mut back = vec![tap("锁定"), tap("民警 officer-test")];
    back.extend(PIN.chars().map(|c| tap(&c.to_string())));
    back.extend([tap("解锁"), wait_long("同步：已封存的申请全部上传完毕")]);
    let outcome = drive(&mut app, back);
    assert!(outcome.is_ok(), "{outcome:?}");
    let mut line = app.world_mut().query_filtered::<&TextColor, With<doorstep::screens::home::SyncLine>>();
    let colours: Vec<Color> = line.iter(app.world()).map(|c| c.0).collect();
    assert_eq!(colours, [doorstep::ui::theme::MUTED]);
    drop(app);
    drop(records);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A sealed application whose file on the unit is damaged (cut in half, as a failing card or
/// a power cut might): the others still go to the hub; the officer's sync line says so; the
/// supervisor sees it named on the shift and on its row, and releases the rest without it; it
/// stays on the unit, sealed and kept aside, named in the diagnostics.
#[test]
fn a_damaged_application_is_named_and_the_rest_of_the_shift_released() {
    let tmp = tempfile_dir("damaged");
    let (running, hub, vault) = served_unit(&tmp, DEVICE);
    let v = vault.to_str().unwrap();
    doorstep_hub::pki::Hub::open(&hub.dir).unwrap().add_supervisor(&add_supervisor(v)).unwrap();
    let good = seal_one(&vault, 41);
    let bad = seal_one(&vault, 42);
    let file = unlocked(&vault).outbox().unwrap().into_iter().find(|e| e.application_id == bad).unwrap().file;
    let path = vault.join("envelopes").join(&file);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();

    let mut steps = officer_unlocks();
    steps.extend([wait_long(
        "同步：1 份已封存申请在本机的文件已损坏，无法上传。请勿清除本机，并报告带班领导或管理员。",
    )]);
    steps.push(tap("锁定"));
    steps.extend(supervisor_unlocks());
    steps.extend(
        [
            wait("本机有 1 个文件损坏，已另存，不会上传：请勿清除或重置本机，并报告管理员"),
            wait(&format!(
                "申请 {bad}：本机上的文件已损坏并另存，无法上传，也无法在本机批准或退回；不影响放行其余各件。"
            )),
            // It is not among what waits for a decision, and "approve the rest" passes it over.
            wait("待放行 1 件：未决定 1 件，需核对 0 件，尚未上传中心 0 件"),
            tap("批准无需核对的 1 件"),
            tap("签署并放行本班次（批准 1 件，退回 0 件）"),
        ]
        .into_iter()
        .chain(pin_again())
        .chain([
            wait_long("已放行：批准 1 件，退回 0 件。中心回执已保存在本机。"),
            wait("待放行 0 件：未决定 0 件，需核对 0 件，尚未上传中心 0 件"),
            tap("设置与诊断"),
            wait(&format!("已封存的申请（无法从本机上传）：{file}.damaged")),
        ]),
    );
    let receipts = tmp.join("receipts");
    let mut app = unit(&vault, &receipts, Policy::builtin().unwrap());
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");

    let records = doorstep_hub::admin::AdminClient::connect(&hub.dir).expect("the admin socket");
    let compact = |id: &str| ApplicationId::parse(id).unwrap().to_string();
    assert!(matches!(records.status(&compact(&good)).unwrap(), Some(Status::Approved { .. })), "the other went");
    assert_eq!(records.status(&compact(&bad)).unwrap(), None, "the hub never had it");
    {
        let session = app.world().resource::<doorstep::session::Session>();
        let vt = doorstep::session::lock(session.vault.as_ref().expect("unlocked"));
        let left = doorstep::shift::load(&vt).unwrap();
        assert_eq!(left.iter().map(|i| (i.id.as_str(), i.damaged)).collect::<Vec<_>>(), vec![(bad.as_str(), true)]);
        let entry = vt.outbox().unwrap().into_iter().find(|e| e.application_id == bad).unwrap();
        assert_eq!(entry.state, doorstep_vault::OutboxState::Sealed, "still sealed, not written off");
        // It could never go: it does not keep new visits frozen as unsynced.
        assert_eq!(doorstep::shift::facts(&vt).unwrap().oldest_unsynced_unix, None);
    }
    let aside = vault.join("envelopes").join(format!("{file}.damaged"));
    assert_eq!(std::fs::read(&aside).unwrap(), &bytes[..bytes.len() / 2], "the damaged bytes are kept");
    drop(app);

    // The supervisor hands it over for the bureau: it leaves the unit, and nothing waits for it.
    let to = tmp.join("for-the-bureau");
    std::fs::create_dir(&to).unwrap();
    // First what it would do: nothing changed.
    let plan = doorstep(
        &["vault", "hand-over", to.to_str().unwrap(), "--vault", v, "--user", "supervisor-test", "--pin-stdin"]
            .into_iter()
            .chain(["--dry-run", "--json"])
            .collect::<Vec<_>>(),
        &format!("{SUPERVISOR_PIN}\n"),
    );
    assert!(plan.status.success(), "{}", text(&plan));
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(plan["files"][0]["written_off"], serde_json::json!(bad), "{plan}");
    assert_eq!(plan["files"][0]["sent_before"], false, "its file was cut before any upload: {plan}");
    assert_eq!((plan["dry_run"].as_bool(), plan["folder"].is_null()), (Some(true), true), "{plan}");
    assert!(aside.exists() && std::fs::read_dir(&to).unwrap().next().is_none(), "a dry run changes nothing");
    let out = doorstep(
        &["vault", "hand-over", to.to_str().unwrap(), "--vault", v, "--user", "supervisor-test", "--pin-stdin"],
        &format!("{SUPERVISOR_PIN}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("written off this unit"), "{}", text(&out));
    let folders: Vec<_> = std::fs::read_dir(&to).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(folders.len(), 1, "one folder of its own: {folders:?}");
    assert_eq!(std::fs::read(folders[0].join(format!("{file}.damaged"))).unwrap(), &bytes[..bytes.len() / 2]);
    let v2 = unlocked(&vault);
    assert!(doorstep::shift::load(&v2).unwrap().is_empty(), "no longer on the shift");
    assert!(v2.set_aside().unwrap().is_empty());
    drop(v2);

    // A file that goes bad while the vault is open (kept aside only at the next opening): the
    // shift still reads, names it, and would release without it.
    let later = seal_one(&vault, 43);
    let v3 = unlocked(&vault);
    let file = v3.outbox().unwrap().into_iter().find(|e| e.application_id == later).unwrap().file;
    let path = vault.join("envelopes").join(&file);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let items = doorstep::shift::load(&v3).expect("the shift still reads");
    assert_eq!(items.iter().map(|i| (i.id.as_str(), i.damaged)).collect::<Vec<_>>(), vec![(later.as_str(), true)]);
    assert_eq!(doorstep::shift::facts(&v3).expect("the freeze still reads").unapproved, 0);
    drop(v3);
    drop(records);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// An application the hub took whose file on the unit went bad before the unit erased it (a
/// stop right after the receipt, then a failing card): kept aside at the next unlock, not
/// written off (the hub has it), and still on the supervisor's list, by its id, to check and
/// decide, so that the hub does not hold it undecided for ever.
#[test]
fn an_application_at_the_hub_whose_file_went_bad_is_still_decided() {
    let tmp = tempfile_dir("summary-lost");
    let (running, hub, vault) = served_unit(&tmp, DEVICE);
    let v = vault.to_str().unwrap();
    doorstep_hub::pki::Hub::open(&hub.dir).unwrap().add_supervisor(&add_supervisor(v)).unwrap();
    let id = seal_one(&vault, 45);
    // The stop comes after the hub's receipt is kept, before the erase.
    let file = upload_without_erase(&vault, &id);
    let path = vault.join("envelopes").join(&file);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();

    let mut steps = supervisor_unlocks();
    steps.extend(
        [
            wait("待放行 1 件：未决定 1 件，需核对 1 件，尚未上传中心 0 件"),
            wait("本机无法读取其摘要：请到出入境管理部门核对后再批准"),
            // Its id, to check it by at the bureau, and no empty applicant or officer lines.
            wait(&format!("申请 {id}")),
            wait("已到中心（有回执）"),
            // Flagged (its summary not read): not approved in bulk, its own 批准 still there.
            wait("批准无需核对的 0 件"),
            tap("批准无需核对的 0 件"),
            wait("还有 1 件未决定，决定后才能放行"),
            tap("批准"),
            tap("签署并放行本班次（批准 1 件，退回 0 件）"),
        ]
        .into_iter()
        .chain(pin_again())
        .chain([
            wait_long("已放行：批准 1 件，退回 0 件。中心回执已保存在本机。"),
            wait("待放行 0 件：未决定 0 件，需核对 0 件，尚未上传中心 0 件"),
        ]),
    );
    let receipts = tmp.join("receipts");
    let mut app = unit(&vault, &receipts, Policy::builtin().unwrap());
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(app);
    let records = doorstep_hub::admin::AdminClient::connect(&hub.dir).expect("the admin socket");
    let compact = ApplicationId::parse(&id).unwrap().to_string();
    assert!(matches!(records.status(&compact).unwrap(), Some(Status::Approved { .. })), "decided at the hub");
    let vt = unlocked(&vault);
    let entry = vt.outbox().unwrap().into_iter().find(|e| e.application_id == id).unwrap();
    assert_eq!(entry.state, doorstep_vault::OutboxState::Erased, "erased by the sync, not written off");
    assert!(doorstep::shift::load(&vt).unwrap().is_empty(), "nothing waits once decided");
    drop(vt);
    drop(records);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A visit in progress whose draft is damaged (a dead battery mid-write, a failing card): at
/// the next unlock the home screen says that it cannot be continued, and that a damaged photo
/// of another must be taken again; both files are kept aside.
#[test]
fn a_damaged_draft_is_named_on_the_home_screen() {
    let tmp = tempfile_dir("draft");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    {
        let v = unlocked(&vault);
        v.save_draft("visit-lost", doorstep::visit_flow::VISIT_PART, b"{}").unwrap();
        v.save_draft("visit-kept", doorstep::visit_flow::part::PHOTO, &[0xFF, 0xD8, 0xFF, 0xE0]).unwrap();
    }
    for (visit, part) in [("visit-lost", doorstep::visit_flow::VISIT_PART), ("visit-kept", "photo.jpg")] {
        let path = vault.join("drafts").join(format!("{}.{}.draft", hex::encode(visit), hex::encode(part)));
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
    }
    // The only user: no choice of user on the unlock screen.
    let mut steps = crate::visit::unlock();
    steps.extend([
        wait("有 1 次未完成受理的草稿在本机已损坏，已另存，无法继续：请与申请人重新受理，并报告带班领导。"),
        wait("未完成的受理中，有 1 项已采集的照片、指纹或签名在本机已损坏，已另存：继续受理时，请按提示重新采集。"),
    ]);
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    let aside = std::fs::read_dir(vault.join("drafts"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".draft.damaged"))
        .count();
    assert_eq!(aside, 2, "both kept aside, not deleted");
    drop(app);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The officer's home screen under the freeze rules: each limit reached stops new visits with
/// its own words, and the start buttons are gone.
#[test]
fn new_visits_stop_at_the_freeze_limits() {
    let tmp = tempfile_dir("freeze");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    // Sealed long ago (the helper's clock is in the past) and never sent: this unit has no hub.
    seal_one(&vault, 41);
    let cases: [(usize, u32, &[&str]); 3] = [
        // The backlog alone.
        (1, 100_000, &["1 件申请等待带班领导审核放行（上限 1 件）"]),
        // The unsynced one alone (its age in hours depends on today's date: only the start).
        (2, 48, &["有申请已 "]),
        (2, 100_000, &[]),
    ];
    for (max_unapproved, max_unsynced_hours, said) in cases {
        let mut policy = Policy::builtin().unwrap();
        policy.rules.shift.max_unapproved = max_unapproved;
        policy.rules.shift.max_unsynced_hours = max_unsynced_hours;
        let mut app = unit(&vault, &tmp.join("receipts"), policy);
        // An outreach point named: its button starts visits too.
        app.insert_resource(doorstep::screens::queue::OutreachPoint("测试外展服务点".into()));
        let mut s: Vec<_> = PIN.chars().map(|c| tap(&c.to_string())).collect();
        s.push(tap("解锁"));
        s.push(wait("同步：本终端尚未配置接收中心"));
        s.extend(said.iter().map(|w| wait(w)));
        let outcome = drive(&mut app, s);
        assert!(outcome.is_ok(), "{max_unapproved} {max_unsynced_hours}: {outcome:?}");
        for _ in 0..5 {
            app.update();
        }
        let lines = {
            let mut q = app.world_mut().query_filtered::<Option<&Children>, With<FreezeLines>>();
            let boxes: Vec<usize> = q.iter(app.world()).map(|c| c.map_or(0, |c| c.len())).collect();
            assert_eq!(boxes.len(), 1, "the home screen's freeze box");
            boxes[0]
        };
        assert_eq!(lines, said.len(), "{max_unapproved} {max_unsynced_hours}: one line per freeze");
        let start_shown = {
            let mut q = app.world_mut().query_filtered::<&Node, With<StartVisits>>();
            let nodes: Vec<bool> = q.iter(app.world()).map(|n| n.display != Display::None).collect();
            assert_eq!(nodes.len(), 1, "the home screen's start buttons");
            nodes[0]
        };
        assert_eq!(start_shown, said.is_empty(), "{max_unapproved} {max_unsynced_hours}: the start buttons");
        // Every other button that starts a visit goes with them (it did nothing, tapped).
        let starts = {
            let mut q = app.world_mut().query_filtered::<&Node, With<doorstep::screens::home::StartsVisit>>();
            q.iter(app.world()).map(|n| n.display != Display::None).collect::<Vec<bool>>()
        };
        assert_eq!(starts.len(), 2, "the home visits' and the outreach point's");
        assert!(starts.iter().all(|s| *s == said.is_empty()), "{max_unapproved} {max_unsynced_hours}: {starts:?}");
        drop(app);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
