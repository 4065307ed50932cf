//! A complaint taken down on the unit reaches the back office sealed, and the back office's
//! answer comes back to the unit: the officer fills in the box, the category, the words and a
//! contact with consent; it is sealed to the bureau and sent at the next sync (the hub never
//! reads it); the back office answers through the serving hub; the unit shows the answer.

use doorstep_core::Policy;
use doorstep_hub::admin::AdminClient;
use doorstep_hub::feedback::cli::{FeedbackCommand, run};

use crate::sync::{add_officer, add_supervisor, served_unit, tempfile_dir};
use crate::visit::{DEVICE, drive, gone, tap, typed, unit, unlock, wait, wait_long};

#[test]
fn a_complaint_goes_sealed_to_the_bureau_and_its_answer_comes_back() {
    let tmp = tempfile_dir("feedback");
    let (running, hub, vault) = served_unit(&tmp, DEVICE);

    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let mut steps = unlock();
    steps.extend([
        wait("开始上门受理"),
        tap("表扬、意见与投诉"),
        // Nothing is sealed before a box and a category are chosen.
        tap("封存并提交"),
        wait("请先选择类别和具体事项。"),
        tap("投诉"),
        tap("服务态度"),
        tap("群众反映的内容（500 字以内）"),
        typed("测试：等候时告知不清楚"),
        tap("联系电话"),
        typed("13800138000"),
        // A contact without the person's consent is refused by core's rule.
        tap("封存并提交"),
        wait("留下联系方式须本人同意"),
        tap("本人同意就此事与其联系"),
        tap("封存并提交"),
        wait_long("已封存，仅出入境管理部门可读"),
        // Back home the unit syncs; the box shows it arrived.
        tap("返回"),
        wait("开始上门受理"),
        tap("表扬、意见与投诉"),
        wait_long("已送达"),
    ]);
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");

    // At the hub: one, sealed (its words are not in the hub's files); the back office answers.
    let admin = AdminClient::connect(&hub.dir).expect("the serving hub's admin socket");
    let mut listed = Vec::new();
    // Opened with the bureau's key: its sealed officer is the one the signing key was enrolled for.
    let trusted = doorstep_hub::pki::Hub::open(&hub.dir).unwrap().config.trusted().unwrap();
    let key = doorstep_hub::pki::bureau_dir(&hub.dir).join("bureau.key");
    let list = FeedbackCommand::List { device: None, json: true, key: Some(key) };
    run(&admin, list, doorstep::settings::now(), &trusted, &mut listed).unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&listed).unwrap();
    let id = listed[0]["id"].as_str().expect("one feedback at the hub").to_string();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["content"]["officer"], "officer-test", "{listed}");
    let mut held = Vec::new();
    for entry in walk(&hub.dir) {
        held.extend(std::fs::read(entry).unwrap_or_default());
    }
    let words = "等候时告知不清楚".as_bytes();
    assert!(!held.windows(words.len()).any(|w| w == words), "the hub holds the words sealed only");
    let answer = FeedbackCommand::Answer { id, text: "已致电说明，改进告知流程".into(), by: None };
    run(&admin, answer, doorstep::settings::now(), &trusted, &mut Vec::new()).unwrap();

    // The unit hears the answer at its next sync.
    let outcome = drive(
        &mut app,
        vec![tap("返回"), wait("开始上门受理"), tap("表扬、意见与投诉"), wait_long("已答复：已致电说明，改进告知流程")],
    );
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(app);
    drop(admin);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A feedback the hub refuses (its officer's key is not enrolled there) says why under it on
/// the feedback screen, with the line to run at the hub; once the hub enrols the officer, the
/// next sync sends it and the words go.
#[test]
fn a_feedback_the_hub_refuses_says_why_and_goes_once_mended() {
    let tmp = tempfile_dir("feedback-refused");
    let (running, hub, vault) = served_unit(&tmp, DEVICE);
    let v = vault.to_str().unwrap();
    add_supervisor(v);
    let other = add_officer(v, "officer-two", "135791");

    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let mut steps = vec![tap("民警 officer-two")];
    steps.extend("135791".chars().map(|c| tap(&c.to_string())));
    let refusal = format!(
        "中心拒收：封存它的民警，其签名密钥未在中心登记。请在中心执行：doorstep-hub add-officer {other} --id 该民警的编号"
    );
    steps.extend([
        tap("解锁"),
        wait("开始上门受理"),
        tap("表扬、意见与投诉"),
        tap("投诉"),
        tap("服务态度"),
        tap("群众反映的内容（500 字以内）"),
        typed("测试：等候时告知不清楚"),
        tap("封存并提交"),
        wait_long("已封存，仅出入境管理部门可读"),
        tap("返回"),
        wait("开始上门受理"),
        tap("表扬、意见与投诉"),
        wait_long(&refusal),
    ]);
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");

    // The hub enrols the officer: the next sync (on coming home) sends it.
    doorstep_hub::pki::Hub::open(&hub.dir).unwrap().add_officer(&other, "officer-two").unwrap();
    let outcome =
        drive(&mut app, vec![tap("返回"), wait("开始上门受理"), tap("表扬、意见与投诉"), wait_long("已送达")]);
    assert!(outcome.is_ok(), "{outcome:?}");
    let mut texts = app.world_mut().query::<&bevy::prelude::Text>();
    let refused: Vec<String> =
        texts.iter(app.world()).map(|t| t.0.clone()).filter(|t| t.contains("中心拒收")).collect();
    assert!(refused.is_empty(), "the refusal is gone: {refused:?}");
    drop(app);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A complaint half typed when the unit locks (the idle lock while the applicant talks on) is
/// not lost: nothing of it stays in memory while locked; after the unlock the home screen says
/// it is there and the box shows it again, box and category chosen; a restart keeps it too.
/// Sealed, it is gone from the vault and the home screen, even when the box is left while it
/// seals, and words that come back under a sealed feedback's id are never offered again;
/// cleared, the same. The person's consent is not kept.
#[test]
fn a_complaint_half_typed_survives_the_lock_and_a_restart() {
    use doorstep::screens::LockNow;
    let tmp = tempfile_dir("feedback-in-hand");
    let (_hub, vault) = crate::sync::hub_and_vault_as(&tmp, DEVICE);
    let words = "测试：等候时告知不清楚";
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let mut steps = unlock();
    steps.extend(complaint(words));
    steps.push(pause());
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    app.world_mut().write_message(LockNow);
    // The lock, then the screen it asks for.
    for _ in 0..3 {
        app.update();
    }
    assert_eq!(
        *app.world().resource::<bevy::prelude::State<doorstep::screens::Screen>>().get(),
        doorstep::screens::Screen::Unlock
    );
    assert_eq!(app.world().resource::<doorstep::ui::form::Form>().get("feedback.text"), "", "not in memory");
    let back = |app: &mut bevy::prelude::App| {
        let mut steps = unlock();
        steps.extend([wait("开始上门受理"), tap("继续录入"), wait(words), wait("清空重填")]);
        let outcome = drive(app, steps);
        assert!(outcome.is_ok(), "{outcome:?}");
    };
    back(&mut app);
    // Home, with nothing said of words in hand.
    let home_clear = || [tap("返回"), wait("开始上门受理"), gone("起录入的内容尚未提交")];
    // The unit stopped, its writer given time to end: the vault as it left it.
    let stopped = |app: bevy::prelude::App| {
        drop(app);
        std::thread::sleep(std::time::Duration::from_millis(500));
        crate::sync::unlocked(&vault)
    };
    drop(stopped(app));

    // A restart (a flat battery): the same.
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    back(&mut app);
    // Box and category came back with the words: sealed as they are.
    let mut steps = vec![tap("封存并提交"), wait_long("已封存，仅出入境管理部门可读"), gone("清空重填")];
    steps.extend(home_clear());
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    let v = stopped(app);
    let sealed = v.feedback().unwrap();
    assert_eq!(sealed.len(), 1, "sealed once");
    assert!(v.feedback_in_hand().unwrap().is_none(), "the words in hand are gone once sealed");
    // The power went between the seal and the words' drop: they are there again, under the
    // id they were sealed with. Never offered again (nor sealed twice): dropped when read.
    let again = serde_json::json!({
        "id": sealed[0].id, "since": 1, "kind": "complaint", "category": "attitude",
        "typed": { "values": { "feedback.text": words }, "on": [] }
    });
    v.keep_feedback_in_hand(&serde_json::to_vec(&again).unwrap()).unwrap();
    drop(v);
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let mut steps = unlock();
    steps.extend([wait("开始上门受理"), pause(), gone("继续录入"), tap("表扬、意见与投诉"), wait("投诉"), pause()]);
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(app.world().resource::<doorstep::ui::form::Form>().get("feedback.text"), "", "not restored");
    let v = stopped(app);
    assert!(v.feedback_in_hand().unwrap().is_none(), "dropped");
    assert_eq!(v.feedback().unwrap().len(), 1);
    drop(v);

    // Sealed, and the box left at once (Back while it seals): its words go all the same, and
    // the home screen does not offer them.
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let mut steps = unlock();
    steps.extend(complaint("测试：第二条"));
    steps.push(tap("封存并提交"));
    steps.extend(home_clear());
    steps.push(pause());
    steps.push(gone("继续录入"));
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    let v = stopped(app);
    assert_eq!(v.feedback().unwrap().len(), 2, "the second sealed once");
    assert!(v.feedback_in_hand().unwrap().is_none(), "its words went with the seal");
    drop(v);

    // Typed again, locked, then cleared on coming back: nothing kept.
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let mut steps = unlock();
    steps.extend([
        wait("开始上门受理"),
        tap("表扬、意见与投诉"),
        tap("联系电话"),
        typed("13800138000"),
        tap("本人同意就此事与其联系"),
        pause(),
        tap("返回"),
        wait("继续录入"),
        tap("继续录入"),
        wait("13800138000"),
    ]);
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    // The person's consent is theirs to give again: not kept with the words.
    assert!(!app.world().resource::<doorstep::ui::form::Form>().is_on("feedback.consent"));
    let mut steps = vec![tap("清空重填"), gone("13800138000")];
    steps.extend(home_clear());
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    assert!(stopped(app).feedback_in_hand().unwrap().is_none(), "cleared");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// From the home screen, a complaint about attitude with `words` typed.
fn complaint(words: &str) -> [doorstep::dev::scenario::ScenarioStep; 6] {
    [
        wait("开始上门受理"),
        tap("表扬、意见与投诉"),
        tap("投诉"),
        tap("服务态度"),
        tap("群众反映的内容（500 字以内）"),
        typed(words),
    ]
}

/// A second for the draft writer to keep what was typed.
fn pause() -> doorstep::dev::scenario::ScenarioStep {
    doorstep::dev::scenario::ScenarioStep {
        action: doorstep::dev::scenario::Action::Pause(std::time::Duration::from_secs(1)),
        timeout: std::time::Duration::from_secs(5),
    }
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() { stack.push(p) } else { out.push(p) }
        }
    }
    out
}

/// The applicant rates on the officer's tablet, often with an old finger: a face touched by
/// mistake is put right by touching another before 提交评价. A poor rating submitted opens a
/// complaint sealed to the bureau; one changed to a good rating before it is submitted opens
/// none.
#[test]
fn a_rating_is_kept_only_as_submitted() {
    let cases = [
        // (the faces touched, in order, and whether a complaint is sealed)
        (&["★ 非常不满意", "★★★★★ 非常满意"][..], 0),
        (&["★★★★★ 非常满意", "★ 非常不满意"][..], 1),
    ];
    for (n, (touched, complaints)) in cases.into_iter().enumerate() {
        let tmp = tempfile_dir(&format!("rating-{n}"));
        let (_hub, vault) = crate::sync::hub_and_vault_as(&tmp, DEVICE);
        let mut steps = crate::visit::demo_until("您对今天的服务满意吗？");
        steps.extend(touched.iter().map(|face| tap(face)));
        if complaints > 0 {
            steps.extend([wait("很抱歉。哪里做得不好？（可多选）"), tap("等候时间长")]);
        }
        steps.extend([tap("提交评价"), wait("本次受理已完成"), tap("返回今日工作"), wait("开始上门受理")]);
        let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
        let outcome = drive(&mut app, steps);
        assert!(outcome.is_ok(), "{touched:?}: {outcome:?}");
        drop(app);
        std::thread::sleep(std::time::Duration::from_millis(500));
        let v = crate::sync::unlocked(&vault);
        assert_eq!(v.feedback().unwrap().len(), complaints, "{touched:?}");
        drop(v);
        let _ = std::fs::remove_dir_all(&tmp);
    }
}
