//! What of the shift is in no batch, on the supervisor's screen: a visit begun and not sealed
//! (the unit died at the services step) and a visit stopped today. The supervisor at 8 pm must
//! not take the list of applications to release for the whole shift.

use doorstep_core::Policy;

use crate::shift::{officer_unlocks, supervisor_unlocks};
use crate::sync::{add_supervisor, served_unit, tempfile_dir};
use crate::visit::{DEVICE, drive, gone, tap, typed, unit, wait};

/// Runs the unit on `vault` until `steps` end, then stops it (the drafts written).
fn run(vault: &std::path::Path, receipts: &std::path::Path, steps: Vec<doorstep::dev::scenario::ScenarioStep>) {
    let mut app = unit(vault, receipts, Policy::builtin().unwrap());
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(app);
    std::thread::sleep(std::time::Duration::from_millis(500));
}

#[test]
fn the_supervisor_sees_the_visits_not_sealed_and_those_stopped_today() {
    let tmp = tempfile_dir("unsealed");
    let (running, hub, vault) = served_unit(&tmp, DEVICE);
    let v = vault.to_str().unwrap();
    doorstep_hub::pki::Hub::open(&hub.dir).unwrap().add_supervisor(&add_supervisor(v)).unwrap();
    let receipts = tmp.join("receipts");

    // One visit stopped; another begun, the card read, and the unit dies at the services step.
    let mut steps = officer_unlocks();
    steps.extend([
        tap("高龄申请人"),
        wait("申请人是谁？"),
        tap("中止受理"),
        wait("中止本次受理？"),
        tap("中止原因"),
        typed("申请人身体不适"),
        tap("确认中止"),
        wait("本次受理已中止"),
        tap("返回今日工作"),
        wait("开始上门受理"),
        tap("高龄申请人"),
        wait("申请人是谁？"),
        tap("读取身份证"),
        wait("已读取身份证"),
        tap("下一步"),
        wait("申请办理哪些业务？"),
    ]);
    run(&vault, &receipts, steps);

    let mut steps = supervisor_unlocks();
    steps.extend([
        wait("待放行 0 件"),
        wait("本机还有 1 份受理未封存，不在待放行之列：请与办理民警核实，办完封存或中止受理。"),
        wait("未封存：测试，民警 officer-test，"),
        wait("停在：办理业务"),
        wait("今日中止的受理 1 件（不封存、不上传），其中收费后办理退款的 0 件。"),
    ]);
    run(&vault, &receipts, steps);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The feedback sealed and not yet at the hub (no coverage), and the outreach queue's tickets
/// not finished today, are said on the supervisor's shift too.
#[test]
fn the_supervisor_hears_of_feedback_not_sent_and_tickets_not_finished() {
    let tmp = tempfile_dir("elsewhere");
    let (_hub, vault) = crate::sync::hub_and_vault_as(&tmp, DEVICE);
    add_supervisor(vault.to_str().unwrap());
    let receipts = tmp.join("receipts");
    let mut steps = officer_unlocks();
    steps.extend([
        tap("取号叫号"),
        wait("1 号窗口"),
        tap("取号并打印"),
        wait("A001 号：前面还有 0 人"),
        tap("返回"),
        wait("开始上门受理"),
        tap("表扬、意见与投诉"),
        tap("投诉"),
        tap("服务态度"),
        tap("群众反映的内容（500 字以内）"),
        typed("测试：等候时告知不清楚"),
        tap("封存并提交"),
        wait("已封存"),
        tap("返回"),
        wait("开始上门受理"),
    ]);
    run(&vault, &receipts, steps);

    let mut steps = supervisor_unlocks();
    steps.extend([
        wait("本机有 1 条表扬、意见或投诉尚未上传中心（与中心同步时上传）。"),
        wait("外展点今日还有 1 张号票未办完（等候中或已叫号）：请在取号叫号页面办理或记为未到。"),
    ]);
    run(&vault, &receipts, steps);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A visit paid for in cash, and the unit dies before its seal: the supervisor's shift says the
/// fee taken on it, which is in no batch's takings (the cash in hand is more by that much).
#[test]
fn the_supervisor_sees_the_fee_taken_on_a_visit_not_sealed() {
    let tmp = tempfile_dir("unsealed-paid");
    let (_hub, vault) = crate::sync::hub_and_vault_as(&tmp, DEVICE);
    add_supervisor(vault.to_str().unwrap());
    let receipts = tmp.join("receipts");
    let mut steps = officer_unlocks();
    steps.extend(crate::visit::demo_until("封存后").into_iter().skip(crate::visit::unlock().len()));
    steps.push(doorstep::dev::scenario::ScenarioStep {
        action: doorstep::dev::scenario::Action::Pause(std::time::Duration::from_secs(1)),
        timeout: std::time::Duration::from_secs(20),
    });
    run(&vault, &receipts, steps);

    let mut steps = supervisor_unlocks();
    steps.extend([
        wait("本机还有 1 份受理未封存"),
        wait("停在：封存"),
        wait("已收费 120.00 元（现金），尚未封存：不在本批费用中，现金请另行核对。"),
    ]);
    run(&vault, &receipts, steps);
    // The officer is not offered to discard it on the home screen (the fee would go with no
    // refund recorded): told to stop it in the visit, where the refund is recorded.
    let mut steps = officer_unlocks();
    steps.extend([wait("已收费 120.00 元（现金）：如不再办理"), gone("Discard"), wait("继续这次受理吗")]);
    run(&vault, &receipts, steps);
    assert_eq!(crate::sync::unlocked(&vault).draft_visits().unwrap().len(), 1, "the draft stays");
    let _ = std::fs::remove_dir_all(&tmp);
}
