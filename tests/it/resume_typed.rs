//! A visit cut off at its consents or its payment (a dead battery), and a visit taken up and
//! finished: what was ticked and chosen is there after the restart, and a visit finished is
//! offered no more.

use std::time::Duration;

use doorstep::dev::scenario::{Action, ScenarioStep};

use crate::resume::{pause, run_and_stop};
use crate::sync::{hub_and_vault_as, tempfile_dir, unlocked};
use crate::visit::{DEVICE, demo_until, draft_visit, gone, tap, typed, unlock, wait};

/// The consents ticked, and then the payment chosen with its transaction number, each cut off
/// before its Next: after each restart they are there as they were (the payment was put back
/// as cash, its number lost, and recorded so when the officer tapped on).
#[test]
fn the_consents_and_the_payment_typed_are_there_after_a_restart() {
    let tmp = tempfile_dir("resume-sign-pay");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut first = demo_until("同意与签名");
    first.extend([tap("本人申请办理以上业务，并声明所填内容真实"), tap("本人同意为本次申请采集照片和指纹"), pause(1)]);
    run_and_stop(&vault, &tmp, first);
    // Signed again (the pad is not kept), and on without ticking anything.
    let mut second = unlock();
    second.extend([
        wait("继续这次受理吗"),
        tap("继续"),
        wait("同意与签名"),
        ScenarioStep { action: Action::Sign, timeout: Duration::from_secs(20) },
        tap("签名完成"),
        wait("应缴"),
        tap("扫码支付"),
        tap("交易流水号"),
        typed("TX2026120800123"),
        pause(1),
    ]);
    run_and_stop(&vault, &tmp, second);
    let mut third = unlock();
    third.extend([wait("继续这次受理吗"), tap("继续"), wait("应缴"), tap("已缴费"), wait("封存后")]);
    run_and_stop(&vault, &tmp, third);
    let visit = draft_visit(&vault);
    let paid = visit.state.payment().expect("paid");
    assert_eq!(paid.method, doorstep_core::policy::PaymentMethod::MobileQr);
    assert_eq!(paid.reference.as_deref(), Some("TX2026120800123"));
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A visit cut off at its payment, taken up, paid, sealed and finished: the home screen offers
/// it no more (its line as read at the opening stayed, and offered a sealed visit as not sealed:
/// discarded there, it was recorded as a stop).
#[test]
fn a_visit_taken_up_and_finished_is_offered_no_more() {
    let tmp = tempfile_dir("resume-finished");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut first = demo_until("应缴");
    first.push(pause(1));
    run_and_stop(&vault, &tmp, first);
    let mut second = unlock();
    second.extend([
        wait("继续这次受理吗"),
        tap("继续"),
        wait("应缴"),
        tap("已缴费"),
        wait("封存后"),
        tap("封存"),
        ScenarioStep { action: Action::Wait("打印回执".into()), timeout: Duration::from_secs(30) },
        tap("打印回执"),
        ScenarioStep {
            action: Action::Wait("您对今天的服务满意吗？".into()), timeout: Duration::from_secs(60)
        },
        tap("★★★★★ 非常满意"),
        tap("提交评价"),
        wait("本次受理已完成"),
        tap("返回今日工作"),
        wait("开始上门受理"),
        gone("继续这次受理吗"),
    ]);
    run_and_stop(&vault, &tmp, second);
    let v = unlocked(&vault);
    assert!(v.draft_visits().unwrap().is_empty(), "nothing left to take up");
    assert_eq!(v.outbox().unwrap().len(), 1, "sealed once");
    let _ = std::fs::remove_dir_all(&tmp);
}
