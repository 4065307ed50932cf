//! The outreach point on the unit, headless: tickets issued at the desk (printed through the
//! simulated printer), called in the published priority order (the green channel, then 60 and
//! over, then first come), served, called again and marked absent; the call board opened (and
//! a second call said on it); and the day's queue found again after the unit restarts.

use bevy::prelude::*;
use doorstep::screens::queue::CallBoard;
use doorstep_core::Policy;
use doorstep_core::queue::{Queue, TicketState};

use crate::sync::{hub_and_vault_as, tempfile_dir};
use crate::visit::{DEVICE, drive, tap, unit, unlock, wait};

fn to_the_desk() -> Vec<doorstep::dev::scenario::ScenarioStep> {
    let mut s = unlock();
    s.extend([wait("开始上门受理"), tap("取号叫号"), wait("取号"), wait("1 号窗口")]);
    s
}

#[test]
fn the_outreach_queue_calls_by_priority_and_survives_a_restart() {
    let tmp = tempfile_dir("queue");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let receipts = tmp.join("receipts");
    let mut steps = to_the_desk();
    steps.extend([
        // An ordinary ticket, one for a person of 60 or over, an urgent one for endorsements,
        // and another ordinary one: each says how many wait before it.
        tap("取号并打印"),
        wait("A001 号：前面还有 0 人"),
        wait("号票已打印。"),
        tap("老年人（60周岁以上）"),
        tap("取号并打印"),
        wait("A002 号：前面还有 0 人"),
        tap("B · 办理签注"),
        tap("加急，证明已核验（绿色通道）"),
        tap("取号并打印"),
        wait("B001 号：前面还有 0 人"),
        tap("A · 办理证件"),
        tap("取号并打印"),
        wait("A003 号：前面还有 3 人"),
        wait("号票已打印。"),
        // The green channel first, then the elderly, then first come.
        tap("叫下一位"),
        wait("正在办理：B001"),
        // Nobody is left called with no way to reach them: the next waits until B001 is done.
        tap("叫下一位"),
        wait("B001 仍在窗口：请先点“已办理”或“未到”。"),
        tap("已办理"),
        tap("叫下一位"),
        wait("正在办理：A002"),
        tap("重呼"),
        wait("已呼叫 2 次"),
        tap("未到"),
        tap("叫下一位"),
        wait("正在办理：A001"),
        wait("等候 1 人 · 已办理 1 人 · 未到 1 人"),
        tap("打开或关闭叫号大屏"),
        wait("请到 1 号窗口办理"),
        wait("下一位：A003"),
        // Called again: the board says so too.
        tap("重呼"),
        wait("第 2 次呼叫"),
    ]);
    let mut app = unit(&vault, &receipts, Policy::builtin().unwrap());
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    let board = app.world_mut().query_filtered::<Entity, With<CallBoard>>().single(app.world()).expect("one board");
    // On the board: the number called, large, and where to go; the next one.
    let mut on_board = Vec::new();
    let mut texts = app.world_mut().query::<(Entity, &Text)>();
    for (e, text) in texts.iter(app.world()) {
        let mut at = e;
        while let Some(parent) = app.world().get::<ChildOf>(at).map(ChildOf::parent) {
            if parent == board {
                on_board.push(text.0.clone());
                break;
            }
            at = parent;
        }
    }
    on_board.sort();
    assert_eq!(on_board, ["A001", "下一位：A003", "第 2 次呼叫", "请到 1 号窗口办理"]);
    drop(app);
    std::thread::sleep(std::time::Duration::from_millis(500));

    // The day's queue as kept beside the vault, and one ticket printed each.
    let day = doorstep::settings::now().date();
    let kept = std::fs::read(doorstep::outreach::folder(&vault).join(format!("{day}.json"))).unwrap();
    let queue: Queue = serde_json::from_slice(&kept).unwrap();
    let states: Vec<(&str, &str)> = queue
        .tickets()
        .iter()
        .map(|t| {
            let s = match t.state {
                TicketState::Waiting => "waiting",
                TicketState::Called { .. } => "called",
                TicketState::Served { .. } => "served",
                TicketState::NoShow { .. } => "absent",
            };
            (t.number.as_str(), s)
        })
        .collect();
    assert_eq!(states, [("A001", "called"), ("A002", "absent"), ("B001", "served"), ("A003", "waiting")]);
    let printed = std::fs::read_dir(&receipts)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count();
    assert_eq!(printed, 4, "four tickets printed");

    // After a restart the desk finds the day as it was: A001 still at the counter.
    let mut again = to_the_desk();
    again.extend([wait("正在办理：A001"), wait("等候 1 人 · 已办理 1 人 · 未到 1 人"), tap("已办理"), tap("叫下一位")]);
    again.push(wait("正在办理：A003"));
    let mut app = unit(&vault, &receipts, Policy::builtin().unwrap());
    let outcome = drive(&mut app, again);
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(app);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The person called to the counter has their application taken there, as at this outreach
/// point (its name recorded with it), and the desk comes back after it; a point with no name
/// says where to set it instead of starting a visit of the wrong kind.
#[test]
fn the_person_called_has_their_application_taken_at_the_counter() {
    use doorstep::screens::queue::OutreachPoint;
    use doorstep_core::visit::VisitMode;
    let tmp = tempfile_dir("queue-visit");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let mut steps = to_the_desk();
    steps.extend([
        tap("取号并打印"),
        wait("A001 号：前面还有 0 人"),
        tap("叫下一位"),
        wait("正在办理：A001"),
        tap("为 A001 受理申请"),
        wait("未设置服务点名称，无法按外展点受理：请在配置文件中设置 outreach_point"),
    ]);
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    assert!(app.world().resource::<doorstep::visit_flow::VisitFlow>().visit.is_none(), "no visit begun");

    app.insert_resource(OutreachPoint("测试外展服务点".into()));
    let outcome = drive(&mut app, vec![tap("为 A001 受理申请"), wait("申请人是谁？")]);
    assert!(outcome.is_ok(), "{outcome:?}");
    let mode = app.world().resource::<doorstep::visit_flow::VisitFlow>().visit.as_ref().map(|v| v.mode.clone());
    assert_eq!(mode, Some(VisitMode::Outreach { point: "测试外展服务点".into() }));

    // Stopped (the person had not brought their card): back at the counter, still called.
    let steps = vec![
        tap("中止受理"),
        tap("中止原因"),
        crate::visit::typed("未带身份证"),
        tap("确认中止"),
        wait("本次受理已中止"),
        tap("返回今日工作"),
        wait("正在办理：A001"),
        tap("已办理"),
        wait("等候 0 人 · 已办理 1 人 · 未到 0 人"),
    ];
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(app);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// What the desk must not lose between two people: a ticket that did not print is said until it
/// is called or printed again, each person chooses the service afresh, and a ticket called once too often is said
/// to be marked absent.
#[test]
fn the_desk_keeps_saying_what_the_officer_must_tell() {
    let tmp = tempfile_dir("queue-tell");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let mut steps = to_the_desk();
    steps.extend([
        tap("B · 办理签注"),
        crate::visit::device("paper out"),
        tap("取号并打印"),
        wait("请告知申请人号码 B001"),
        crate::visit::device("paper in"),
        // The next person chose nothing: an A ticket, and B001's number is still said.
        tap("取号并打印"),
        wait("A001 号：前面还有 1 人"),
        wait("号票已打印。"),
        wait("请告知申请人号码 B001"),
        // The paper in, B001 is printed again, and no longer said.
        tap("补打 B001"),
        wait("B001 号票已补打。"),
        crate::visit::gone("请告知申请人号码 B001"),
        tap("叫下一位"),
        wait("正在办理：B001"),
        tap("重呼"),
        tap("重呼"),
        wait("已呼叫 3 次"),
        tap("重呼"),
        wait("B001 已呼叫 3 次仍未到，已记为未到"),
        wait("等候 1 人 · 已办理 0 人 · 未到 1 人"),
        // B001 comes back with the ticket: it queues again, behind A001 who waited meanwhile.
        tap("B001 回来了，重新排队"),
        wait("B001 已重新排队，前面还有 1 人"),
        wait("等候 2 人 · 已办理 0 人 · 未到 0 人"),
        tap("叫下一位"),
        wait("正在办理：A001"),
        // The ticket just issued did not print: printed again at once, once the paper is in.
        crate::visit::device("paper out"),
        tap("取号并打印"),
        wait("请告知申请人号码 A002"),
        crate::visit::device("paper in"),
        tap("补打 A002"),
        wait("号票已打印。"),
        crate::visit::gone("请告知申请人号码 A002"),
    ]);
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(app);
    let printed = std::fs::read_dir(tmp.join("receipts"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count();
    assert_eq!(printed, 3, "A001, and B001 and A002 printed again");
    let _ = std::fs::remove_dir_all(&tmp);
}
