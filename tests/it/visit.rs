//! A whole visit on the unit, headless (no window, no GPU), driven by the demo scenario the
//! README shows: unlock, the ID card read through the simulated bridge, a passport, the photo
//! from the replay camera cropped and checked by the real models, two fingerprints through
//! the simulated module, details typed through the input method's path, review, consent and
//! signature, payment, seal in the real vault, the receipt through the simulated printer, and
//! the rating. Then the supervisor's release to a hub started here, and the back office's
//! export: what the hub holds is what was entered on the screens.

use std::time::{Duration, Instant};

use bevy::input::InputPlugin;
use bevy::prelude::*;
use bevy::state::app::StatesPlugin;
use doorstep::auth::VaultAuth;
use doorstep::dev::scenario::{self, Action, Scenario, ScenarioStep};
use doorstep::screens::visit::{CameraChoice, PickupOffice};
use doorstep_core::Policy;
use doorstep_envelope::ApplicationId;
use doorstep_hub::pki::{self, Validity};
use doorstep_vault::VaultConfig;
use doorstep_vault::outbox::OutboxState;

use crate::sync::{PIN, add_supervisor, doorstep, hub_and_vault_as, serve, tempfile_dir, text, unlocked};

/// The unit in these tests: a demo unit (its captures are simulated), with its own hub.
pub(crate) const DEVICE: &str = "demo-tablet-test";

pub(crate) fn tap(label: &str) -> ScenarioStep {
    ScenarioStep { action: Action::Tap(label.into()), timeout: Duration::from_secs(20) }
}

pub(crate) fn wait(label: &str) -> ScenarioStep {
    ScenarioStep { action: Action::Wait(label.into()), timeout: Duration::from_secs(20) }
}

/// Waits until no text with `label` is shown.
pub(crate) fn gone(label: &str) -> ScenarioStep {
    ScenarioStep { action: Action::Gone(label.into()), timeout: Duration::from_secs(20) }
}

pub(crate) fn typed(text: &str) -> ScenarioStep {
    ScenarioStep { action: Action::Type(text.into()), timeout: Duration::from_secs(20) }
}

/// A wait for slow work (a photo checked, a document read): a minute.
pub(crate) fn wait_long(label: &str) -> ScenarioStep {
    ScenarioStep { action: Action::Wait(label.into()), timeout: Duration::from_secs(60) }
}

/// A command to the simulated peripherals (`card …`, `same-finger`, `paper out`).
pub(crate) fn device(line: &str) -> ScenarioStep {
    ScenarioStep { action: Action::Device(line.into()), timeout: Duration::from_secs(20) }
}

/// A home visit started for `reason`, the applicant 测试 typed by hand with `id`, and Next.
pub(crate) fn typed_applicant(reason: &str, id: &str) -> Vec<ScenarioStep> {
    vec![
        tap(reason),
        tap("姓名（与身份证一致）"),
        typed("测试"),
        tap("公民身份号码（18 位）"),
        typed(id),
        tap("下一步"),
    ]
}

/// Taps this vault's PIN on the PIN pad, then "unlock".
pub(crate) fn unlock() -> Vec<ScenarioStep> {
    let mut s: Vec<ScenarioStep> = PIN.chars().map(|c| tap(&c.to_string())).collect();
    s.push(tap("解锁"));
    s
}

/// The demo scenario with this vault's PIN in place of the demo PIN.
pub(crate) fn steps() -> Vec<ScenarioStep> {
    let path = crate::root().join("scenarios/demo-visit.toml");
    let demo = scenario::load(&path).unwrap();
    let home = demo.iter().position(|s| s.action == Action::Wait("开始上门受理".into())).expect("the home step");
    let mut steps = unlock();
    steps.extend(demo[home..].iter().cloned());
    steps
}

/// Runs the unit on `vault` with the simulated peripherals until the scenario ends.
fn run_visit(
    vault: &std::path::Path,
    receipts: &std::path::Path,
    extra: Vec<ScenarioStep>,
) -> Result<usize, (usize, String)> {
    run_visit_steps(vault, receipts, steps(), extra)
}

/// The same with these steps, then `extra`.
pub(crate) fn run_visit_steps(
    vault: &std::path::Path,
    receipts: &std::path::Path,
    mut all: Vec<ScenarioStep>,
    extra: Vec<ScenarioStep>,
) -> Result<usize, (usize, String)> {
    let mut app = unit(vault, receipts, Policy::builtin().unwrap());
    all.extend(extra);
    drive(&mut app, all)
}

/// The unit on `vault` under `policy`, headless, with the simulated peripherals (receipts
/// printed into `receipts`), the replay cameras and its vault folder (for sync and release).
pub(crate) fn unit(vault: &std::path::Path, receipts: &std::path::Path, policy: Policy) -> App {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin, InputPlugin));
    let auth = VaultAuth::new(vault.to_path_buf(), "officer-test".into(), VaultConfig { reserve_bytes: 0 }, Vec::new());
    doorstep::app::shell(&mut app, policy, std::sync::Arc::new(auth));
    app.insert_resource(doorstep::peripherals::Peripherals::start(None, true, Some(receipts.to_path_buf())));
    app.insert_resource(CameraChoice::Replay(crate::root().join("assets/demo/camera")));
    app.insert_resource(doorstep::screens::visit::DocumentCamera(CameraChoice::Replay(
        crate::root().join("assets/demo/documents"),
    )));
    app.insert_resource(PickupOffice("测试出入境接待大厅".into()));
    app.insert_resource(doorstep::unit_sync::VaultDir(vault.to_path_buf()));
    scenario::plugin(&mut app);
    app
}

/// Runs `steps` on `app` until they end (or one fails).
pub(crate) fn drive(app: &mut App, steps: Vec<ScenarioStep>) -> Result<usize, (usize, String)> {
    let mut s = Scenario::new(steps, None);
    s.exit = false;
    app.insert_resource(s);
    let start = Instant::now();
    loop {
        app.update();
        if let Some(outcome) = app.world().resource::<Scenario>().outcome.clone() {
            return outcome;
        }
        assert!(start.elapsed() < Duration::from_secs(600), "the scenario ends");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_whole_visit_on_the_unit_reaches_the_back_office_as_entered() {
    let tmp = tempfile_dir("visit");
    let (hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let v = vault.to_str().unwrap();
    let key = add_supervisor(v);
    let (running, mut hub) = serve(hub);
    hub.add_supervisor(&key).unwrap();
    let bundle = hub.enroll(DEVICE, Validity::days(30)).unwrap();
    let out = doorstep(
        &["provision", "--vault", v, "--user", "officer-test", "--pin-stdin", bundle.to_str().unwrap()],
        &format!("{PIN}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));

    // The visit, then back home the unit sends it to the hub by itself.
    let receipts = tmp.join("receipts");
    let sent = wait_long("已封存的申请全部上传完毕");
    let outcome = run_visit(&vault, &receipts, vec![sent]);
    assert!(matches!(outcome, Ok(n) if n > 40), "{outcome:?}");
    std::thread::sleep(Duration::from_millis(500));

    // Receipted by the hub and erased from the unit; no draft left; one receipt printed.
    let vt = unlocked(&vault);
    let outbox = vt.outbox().unwrap();
    assert_eq!(outbox.len(), 1, "one application sealed");
    assert_eq!(outbox[0].state, OutboxState::Erased, "sent from the unit, receipted, erased");
    assert!(vt.draft_visits().unwrap().is_empty(), "the finished visit left no draft");
    drop(vt);
    let printed = std::fs::read_dir(&receipts)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count();
    assert_eq!(printed, 1, "one receipt printed");
    // Each number printed under the service it is for.
    let bytes = std::fs::read(receipts.join("receipt-1.bin")).unwrap();
    let lines: Vec<String> = doorstep_devices::escpos::parse(&bytes)
        .unwrap()
        .into_iter()
        .filter_map(|item| match item {
            doorstep_devices::escpos::PrintItem::Text { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    // The title in two lines, broken between its words.
    assert_eq!(lines[..2].iter().map(|l| l.trim()).collect::<Vec<_>>(), ["出入境证件申请", "受理回执"], "{lines:?}");
    let at = lines.iter().position(|l| l.trim() == "普通护照 首次申请").unwrap_or_else(|| panic!("{lines:?}"));
    assert!(lines[at + 1].starts_with("受理编号：DS"), "{lines:?}");
    // What was paid and how: the applicant's proof of it (posted: no office to collect at).
    assert!(lines.iter().any(|l| l.trim() == "已缴费用：120.00 元（现金）"), "{lines:?}");
    assert!(!lines.iter().any(|l| l.starts_with("领取地点")), "{lines:?}");

    // The supervisor releases the shift; the back office opens what was entered.
    let out = doorstep(&["batch", "--vault", v, "--user", "supervisor-test", "--pin-stdin"], "975310\n");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 approved"), "{}", text(&out));

    let records = doorstep_hub::admin::AdminClient::connect(&hub.dir).expect("the admin socket");
    let secret = std::fs::read_to_string(pki::bureau_dir(&hub.dir).join("bureau.key")).unwrap();
    let secret = doorstep_envelope::BureauSecretKey::from_bytes(&hex::decode(secret.trim()).unwrap()).unwrap();
    let out_dir = tmp.join("export");
    assert_eq!(doorstep_hub::export::approved(&records, &secret, &out_dir).unwrap(), 1);
    let id = ApplicationId::parse(&outbox[0].application_id).unwrap().to_string();
    let folder = out_dir.join(&id);
    let form: serde_json::Value = serde_json::from_slice(&std::fs::read(folder.join("form.json")).unwrap()).unwrap();
    let text = form["form"].to_string();
    // The landline as typed, kept in its national form; the rest as typed or read.
    for entered in [
        "1065123456",
        "测试省测试市测试路1号",
        "\"kind\":\"post\"",
        "测试路1号2单元301",
        "\"postcode\":\"100000\"",
        "11010519491231002X",
        "\"passport\"",
        "\"name\":\"测试\"",
    ] {
        assert!(text.contains(entered), "{entered} did not reach the back office");
    }
    let photo = image::open(folder.join("photo.jpg")).expect("the photo as a JPEG");
    assert_eq!((photo.width(), photo.height()), (354, 472), "cropped to the digital photo's size");
    assert_eq!(form["application_numbers"].as_array().map(Vec::len), Some(1));
    drop(records);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Runs `steps` on a fresh unit over `vault` (no peripherals needed) until they end.
pub(crate) fn run_steps(vault: &std::path::Path, steps: Vec<ScenarioStep>) -> Result<usize, (usize, String)> {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin, InputPlugin));
    let auth = VaultAuth::new(vault.to_path_buf(), "officer-test".into(), VaultConfig { reserve_bytes: 0 }, Vec::new());
    doorstep::app::shell(&mut app, Policy::builtin().unwrap(), std::sync::Arc::new(auth));
    let mut s = Scenario::new(steps, None);
    s.exit = false;
    app.insert_resource(s);
    scenario::plugin(&mut app);
    let start = Instant::now();
    let outcome = loop {
        app.update();
        if let Some(outcome) = app.world().resource::<Scenario>().outcome.clone() {
            break outcome;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "the scenario ends");
        std::thread::sleep(Duration::from_millis(5));
    };
    drop(app);
    // The draft writer finishes its queue and lets the vault go.
    std::thread::sleep(Duration::from_millis(500));
    outcome
}

#[test]
fn a_visit_cut_off_resumes_at_its_step_after_unlock() {
    let tmp = tempfile_dir("resume");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    // Typed by hand this time (no card reader), to the services step; then the unit dies.
    let mut first = unlock();
    first.extend(typed_applicant("卧床或患病", "11010519491231002X"));
    first.push(wait("申请办理哪些业务？"));
    assert!(run_steps(&vault, first).is_ok());
    // After unlock the unit asks to continue, and continues at the services step.
    let mut second = unlock();
    second.extend([wait("继续这次受理吗"), wait("办理业务"), tap("继续"), wait("申请办理哪些业务？")]);
    let outcome = run_steps(&vault, second);
    assert!(outcome.is_ok(), "{outcome:?}");
    // Discarding asks the PIN again (R12); kept, the draft stays.
    let mut third = unlock();
    third.extend([wait("继续这次受理吗"), tap("放弃"), wait("确定放弃这次受理吗")]);
    // Nothing under the pad is acted on (a resume would leave the screen, and the pad with it).
    let still = ScenarioStep { action: Action::Pause(Duration::from_millis(500)), timeout: Duration::from_secs(5) };
    let pad_open = ScenarioStep { action: Action::See("请再次输入".into()), timeout: Duration::from_secs(5) };
    third.extend([tap("继续"), still, pad_open, tap("保留"), gone("请再次输入")]);
    // Closed, the draft resumes.
    third.extend([tap("继续"), wait("申请办理哪些业务？")]);
    let outcome = run_steps(&vault, third);
    assert!(outcome.is_ok(), "{outcome:?}");
    let v = unlocked(&vault);
    assert_eq!(v.draft_visits().unwrap().len(), 1, "the draft kept");
    drop(v);
    // A wrong PIN is said and erases nothing; with the right one, it is gone from the vault.
    let mut fourth = unlock();
    fourth.extend([wait("继续这次受理吗"), tap("放弃"), wait("确定放弃这次受理吗")]);
    fourth.extend(crate::shift::typed_pin_again("000000", "确认放弃"));
    fourth.push(wait("PIN 码错误，还可尝试"));
    fourth.extend(crate::shift::typed_pin_again(PIN, "确认放弃"));
    // The draft's line goes once it is erased.
    fourth.extend([gone("请再次输入"), gone("继续这次受理吗")]);
    let outcome = run_steps(&vault, fourth);
    assert!(outcome.is_ok(), "{outcome:?}");
    let v = unlocked(&vault);
    assert!(v.draft_visits().unwrap().is_empty(), "the discarded visit left nothing");
    let actions: Vec<String> = v.audit_entries().unwrap().into_iter().map(|e| e.action).collect();
    let confirmed = actions.iter().rposition(|a| a == "pin-confirmed").expect("the PIN confirmed");
    assert_eq!(actions[confirmed - 1], "failed-pin", "the wrong PIN before it recorded");
    // Recorded as a stop, as the stop dialog records one: the supervisor counts the day's stops.
    let stops: Vec<String> = v
        .audit_entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == doorstep_vault::ABANDON)
        .map(|e| e.subject.split_once(' ').map(|(_, rest)| rest.to_string()).unwrap_or_default())
        .collect();
    assert_eq!(
        stops,
        ["step=step.services paid=none refund=none"],
        "the discard recorded once, as a stop without a fee"
    );
    drop(v);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn a_visit_is_stopped_only_with_a_reason_and_leaves_nothing_to_send() {
    let tmp = tempfile_dir("abandon");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut steps = unlock();
    steps.extend([
        tap("高龄申请人"),
        wait("申请人是谁？"),
        tap("中止受理"),
        wait("中止本次受理？"),
        // No reason: refused, and the panel stays.
        tap("确认中止"),
        wait("中止原因"),
        wait("请填写中止办理的原因"),
        tap("中止原因"),
        typed("申请人身体不适"),
        tap("确认中止"),
        wait("本次受理已中止"),
        tap("返回今日工作"),
        wait("开始上门受理"),
    ]);
    let outcome = run_steps(&vault, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    let v = unlocked(&vault);
    assert!(v.outbox().unwrap().is_empty(), "nothing sealed");
    assert!(v.draft_visits().unwrap().is_empty(), "nothing kept");
    drop(v);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn a_provisioned_unit_refuses_to_seal_simulated_captures() {
    let tmp = tempfile_dir("simulated");
    // A unit that is not a demo unit, run (by this test) with the simulator and the replay camera.
    let (_hub, vault) = crate::sync::hub_and_vault(&tmp);
    let mut demo = steps();
    let seal = demo.iter().position(|s| s.action == Action::Tap("封存".into())).expect("the seal step");
    demo.truncate(seal + 1);
    let refused = ScenarioStep {
        action: Action::Wait("未封存：本次受理使用了模拟外设或演示摄像头".into()),
        timeout: Duration::from_secs(30),
    };
    let outcome = run_visit_steps(&vault, &tmp.join("receipts"), demo, vec![refused]);
    assert!(outcome.is_ok(), "{outcome:?}");
    std::thread::sleep(Duration::from_millis(500));
    let v = unlocked(&vault);
    assert!(v.outbox().unwrap().is_empty(), "nothing sealed");
    assert_eq!(v.draft_visits().unwrap().len(), 1, "the visit is kept as a draft");
    drop(v);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The demo scenario's steps up to the one that waits for `label`.
pub(crate) fn demo_until(label: &str) -> Vec<ScenarioStep> {
    let mut s = steps();
    let at = s.iter().position(|s| matches!(&s.action, Action::Wait(l) if l.contains(label))).expect("the step");
    s.truncate(at + 1);
    s
}

/// This visit is urgent (with the evidence seen) and declares a priority; sealed, it is cut
/// off, and resumes at its receipt.
#[test]
fn a_sealed_visit_cut_off_resumes_at_its_receipt() {
    let tmp = tempfile_dir("resume-sealed");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut steps = demo_until("打印回执");
    let details_done =
        steps.iter().position(|s| s.action == Action::Wait("请与申请人核对".into())).expect("the review") - 1;
    steps.splice(
        details_done..details_done,
        [
            tap("出境就医"),
            tap("残疾人：已查验残疾人证"),
            tap("下一步"),
            // Urgent without the evidence seen: refused, saying what is missing.
            wait("尚未查验：境外医院接收证明或预约证明"),
            tap("境外医院接收证明或预约证明"),
            tap("国内医院病历或诊断证明"),
        ],
    );
    let outcome = run_visit_steps(&vault, &tmp.join("receipts"), steps, vec![]);
    assert!(outcome.is_ok(), "{outcome:?}");
    std::thread::sleep(Duration::from_millis(500));
    let mut again = unlock();
    again.extend([
        wait("继续这次受理吗"),
        wait("回执"),
        tap("继续"),
        wait("打印回执"),
        wait("受理编号 DS"),
        // The service each number is for, on screen above it.
        wait("普通护照 首次申请"),
    ]);
    let outcome = run_steps(&vault, again);
    assert!(outcome.is_ok(), "{outcome:?}");
    let v = unlocked(&vault);
    assert_eq!(v.outbox().unwrap().len(), 1, "sealed once");
    drop(v);
    let visit = draft_visit(&vault);
    let details = visit.state.details().expect("details");
    let urgent = details.urgent.as_ref().expect("urgent");
    assert_eq!(urgent.ground, "medical-treatment");
    assert_eq!(urgent.evidence_seen, ["hospital-letter", "medical-record"]);
    assert!(details.priority.contains(&"disability".to_string()), "{:?}", details.priority);
    // Said to be sealed on the home screen, and ended there (not discarded): its draft goes, its
    // application stays to be uploaded, and nothing is recorded as a stop.
    let mut end = unlock();
    end.extend([wait("已封存的受理："), gone("Discard"), tap("结束"), wait("申请已封存，不会删除，仍会上传")]);
    end.extend(crate::shift::typed_pin_again(PIN, "确认结束"));
    end.push(gone("已封存的受理："));
    let outcome = run_steps(&vault, end);
    assert!(outcome.is_ok(), "{outcome:?}");
    let v = unlocked(&vault);
    assert!(v.draft_visits().unwrap().is_empty(), "the draft ended");
    assert_eq!(v.outbox().unwrap().len(), 1, "the application stays");
    assert!(v.audit_entries().unwrap().iter().all(|e| e.action != doorstep_vault::ABANDON), "not a stop");
    drop(v);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn a_visit_stopped_after_payment_records_the_refund() {
    let tmp = tempfile_dir("refund");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let stop = vec![
        tap("中止受理"),
        tap("中止原因"),
        typed("申请人改变主意"),
        // What was taken, and how: cash has no refund number, it is handed back.
        wait("已收费 120.00 元（现金）：中止前须退还申请人。"),
        tap("确认中止"),
        wait("已收现金：请当面退还申请人，并勾选“已当面退还现金”"),
        tap("已当面退还现金 120.00 元"),
        tap("确认中止"),
        wait("本次受理已中止"),
        tap("返回今日工作"),
        wait("开始上门受理"),
    ];
    let outcome = run_visit_steps(&vault, &tmp.join("receipts"), demo_until("封存后"), stop);
    assert!(outcome.is_ok(), "{outcome:?}");
    std::thread::sleep(Duration::from_millis(500));
    let v = unlocked(&vault);
    assert!(v.outbox().unwrap().is_empty(), "nothing sealed");
    assert!(v.draft_visits().unwrap().is_empty(), "nothing kept");
    // Kept in the audit log: the step, the fee taken and how, the cash handed back; not the
    // officer's words, nor the applicant.
    let stopped: Vec<_> =
        v.audit_entries().unwrap().into_iter().filter(|e| e.action == doorstep_vault::ABANDON).collect();
    assert_eq!(stopped.len(), 1, "recorded once");
    let subject = &stopped[0].subject;
    assert!(subject.starts_with("visit-"), "{subject}");
    assert!(subject.ends_with(" step=step.seal paid=120.00 payment.cash refund=cash-returned"), "{subject}");
    assert!(!subject.contains("改变主意") && !subject.contains("测试"), "{subject}");
    assert_eq!(v.audit_summary().unwrap().by_action.get(doorstep_vault::ABANDON), Some(&1));
    // Each capture kept before the stop is in the log too (which visit, which part; no content).
    let captures: Vec<String> = v
        .audit_entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == doorstep_vault::CAPTURE)
        .map(|e| e.subject)
        .collect();
    for part in ["part=finger-", "part=signature.png"] {
        assert!(captures.iter().any(|c| c.contains(part)), "{part} in {captures:?}");
    }
    // Each once: the photo taken (in hand, then kept as the step's photo) is one record, and a
    // part blanked (a finger's print taken again) is none.
    assert_eq!(captures.iter().filter(|c| c.contains("part=photo")).count(), 1, "{captures:?}");
    let mut unique = captures.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), captures.len(), "{captures:?}");
    assert!(captures.iter().all(|c| c.starts_with("visit=visit-") && !c.contains("测试")), "{captures:?}");
    drop(v);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The one application the unit sealed, opened with the bureau's key, and the visit in it.
pub(crate) fn sealed(
    vault: &std::path::Path,
    hub: &pki::Hub,
) -> (doorstep_envelope::ApplicationRecord, doorstep_core::Visit) {
    let v = unlocked(vault);
    let outbox = v.outbox().unwrap();
    assert_eq!(outbox.len(), 1, "sealed once");
    let bytes = v.envelope_bytes(&outbox[0].application_id).unwrap();
    drop(v);
    let secret = std::fs::read_to_string(pki::bureau_dir(&hub.dir).join("bureau.key")).unwrap();
    let secret = doorstep_envelope::BureauSecretKey::from_bytes(&hex::decode(secret.trim()).unwrap()).unwrap();
    let envelope = doorstep_envelope::SealedEnvelope::from_bytes(&bytes).unwrap();
    let record = doorstep_envelope::open(&envelope, &secret, None).unwrap();
    let form: serde_json::Value = serde_json::from_str(&record.form_json).unwrap();
    let visit = serde_json::from_value(form["visit"].clone()).unwrap();
    (record, visit)
}

/// The visit in hand as its last draft keeps it (the vault's only draft visit).
pub(crate) fn draft_visit(vault: &std::path::Path) -> doorstep_core::Visit {
    let v = unlocked(vault);
    let drafts = v.draft_visits().unwrap();
    let kept = v.load_draft(&drafts[0], doorstep::visit_flow::VISIT_PART).unwrap().expect("the visit's draft");
    serde_json::from_slice(&kept).unwrap()
}

/// A signature's SHA-256, as the consent records it.
pub(crate) fn sha(bytes: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))
}

/// Going back from the review keeps what was typed and chosen: the details step shows the
/// phone and address entered, and goes on to the review again as it is; the services step
/// shows the passport chosen, with its fee.
#[test]
fn going_back_keeps_what_was_typed_and_chosen() {
    let tmp = tempfile_dir("back-keeps");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut all = demo_until("请与申请人核对");
    all.extend([
        // The landline as it is written at home, not in international form.
        wait("联系电话：010-6512 3456"),
        tap("填写信息"),
        wait("联系方式与领取方式"),
        wait("010-65123456"),
        wait("测试省测试市测试路1号"),
        tap("下一步"),
        wait("请与申请人核对"),
        tap("办理业务"),
        wait("申请办理哪些业务？"),
        wait("费用合计：120.00 元"),
    ]);
    let outcome = run_visit_steps(&vault, &tmp.join("receipts"), all, Vec::new());
    assert!(outcome.is_ok(), "{outcome:?}");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A visit cut off at its fingerprint step goes on from the next finger: the right thumb taken
/// before the unit stopped is not asked again (its image is in the draft), and placed again for
/// the left thumb it is refused as the same finger (its template is in the draft too).
#[test]
fn a_visit_cut_off_mid_fingerprints_goes_on_from_the_next_finger() {
    let tmp = tempfile_dir("resume-prints");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut first = demo_until("指纹采集");
    first.extend([
        tap("采集"),
        wait("下一枚：左手拇指"),
        ScenarioStep { action: Action::Pause(Duration::from_secs(1)), timeout: Duration::from_secs(20) },
    ]);
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let outcome = drive(&mut app, first);
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(app);
    std::thread::sleep(Duration::from_millis(500));
    let mut second = unlock();
    second.extend([
        wait("继续这次受理吗"),
        tap("继续"),
        wait("指纹采集"),
        wait("下一枚：左手拇指"),
        // The simulator, started afresh, places the first finger it placed before: the right
        // thumb, taken before the unit stopped, is still told from the left.
        tap("采集"),
        wait("这枚与已采集的右手拇指是同一枚手指：请换成左手拇指再采集"),
    ]);
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let outcome = drive(&mut app, second);
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(app);
    let _ = std::fs::remove_dir_all(&tmp);
}
