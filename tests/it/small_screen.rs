//! What the officer and the supervisor must see on the smallest screen (800×480) in large
//! text, where a step is longer than the screen: a refusal beside what it concerns, and the
//! answer of the release.

use crate::screenshot::{display, fresh, officer_unlocks_toml, run_scenario};

/// The supervisor's release on the smallest screen in large text, tapped with the list
/// scrolled down to its end: what it answered (here: refused, a demo unit has no hub) is said
/// at the top, and the screen scrolls up to it (the shift scenario's `in_view`). It was drawn
/// out of sight, and the screen looked as before the tap.
#[test]
fn the_release_answer_is_in_view_on_a_small_screen() {
    let (display, _xvfb) = display(true);
    let (dir, work) = fresh("release-in-view");
    let mut scenario = std::fs::read_to_string(crate::root().join("scenarios/exceptions-visit.toml")).unwrap();
    let home = "wait = \"开始上门受理\"\n";
    let at = scenario.find(home).expect("the home screen") + home.len();
    scenario.insert_str(at, "[[step]]\ntap = \"大字\"\n");
    let shift = std::fs::read_to_string(crate::root().join("scenarios/supervisor-shift.toml")).unwrap();
    // The supervisor reads the injured thumb's certificate as recorded, not only "recorded".
    let undecided = "wait = \"未决定 1 件\"\n";
    let certificate = "[[step]]\nwait = \"右手拇指：受伤（测试人民医院，三级医院，2026-03-01 出具证明）\"\n";
    assert!(shift.contains(undecided), "the shift scenario waits for the application");
    scenario.push_str(&shift.replacen(undecided, &format!("{undecided}{certificate}"), 1));
    assert!(scenario.contains("in_view = \"未放行\""), "the shift scenario looks for the answer in view");
    let file = work.join("release.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = run_scenario(&display, &["--window", "800x480", "--lang", "zh"], &work, &file, &dir);
    assert!(out.status.success(), "{:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&work);
}

/// A child's guardians, on the smallest screen in large text: each refusal of Next is said
/// beside the box or field it concerns, and scrolled to there (said only at the step's top,
/// two screens above the box to tick, it left the officer hunting for it).
#[test]
fn a_guardians_refusal_is_said_beside_what_it_concerns() {
    let (display, _xvfb) = display(true);
    let (dir, work) = fresh("guardian-in-view");
    let child = crate::applicants::id_aged(11, "003");
    let mut scenario = officer_unlocks_toml();
    for (action, label) in [
        ("wait", "开始上门受理"),
        ("tap", "大字"),
        ("tap", "残疾申请人"),
        ("device", &format!("card 测试 {child}")),
        ("tap", "读取身份证"),
        ("wait", "已读取身份证"),
        ("tap", "母亲"),
        ("device", "card 测试母亲 11010519491231002X"),
        ("tap", "读取监护人身份证"),
        ("wait", "并核对证件是否为其本人所有"),
        // A phone that is none, in the middle of the step: the refusal under the field, and the
        // field itself still in view above it.
        ("tap", "监护人电话"),
        ("type", "010-"),
        ("tap", "下一步"),
        ("in_view", "第 1 名监护人电话："),
        ("in_view", "010-"),
        ("screenshot", "phone"),
        ("tap", "010-"),
        ("type", "65123456"),
        // Next, with the guardians not confirmed all listed: said under that box, in view.
        ("tap", "下一步"),
        ("in_view", "请确认已登记全部有监护权的监护人"),
        ("in_view", "以上为全部有监护权的监护人（已查验户口簿）"),
        ("screenshot", "not-confirmed"),
        ("tap", "以上为全部有监护权的监护人（已查验户口簿）"),
        ("tap", "下一步"),
        ("in_view", "请查验监护关系证明"),
        ("tap", "已查验监护关系证明（户口簿、出生医学证明或指定监护文书）"),
        ("tap", "下一步"),
        ("wait", "申请办理哪些业务？"),
    ] {
        scenario.push_str(&format!("[[step]]\n{action} = \"{label}\"\n"));
    }
    let file = work.join("guardian.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = run_scenario(&display, &["--window", "800x480", "--lang", "zh"], &work, &file, &dir);
    assert!(out.status.success(), "{:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&work);
}

/// A posted document's address, on the smallest screen in large text: a postcode too short is
/// refused under its row, at the foot of the step, with the field in view above it (the
/// refusal was said only at the top, a screen and more above the field).
#[test]
fn a_refusal_of_the_details_is_said_beside_its_field() {
    let (display, _xvfb) = display(true);
    let (dir, work) = fresh("details-in-view");
    let demo = std::fs::read_to_string(crate::root().join("scenarios/demo-visit.toml")).unwrap();
    let postcode = "[[step]]\ntype = \"100000\"\n";
    let mut scenario = demo[..demo.find(postcode).expect("the demo types a postcode")].to_string();
    let home = "wait = \"开始上门受理\"\n";
    let at = scenario.find(home).expect("the home screen") + home.len();
    scenario.insert_str(at, "[[step]]\ntap = \"大字\"\n");
    for (action, label) in [
        ("type", "1000"),
        ("tap", "下一步"),
        ("in_view", "邮政编码为 6 位数字"),
        ("in_view", "邮政编码（6 位）"),
        ("screenshot", "postcode"),
        ("tap", "1000"),
        ("type", "00"),
        ("tap", "下一步"),
        ("wait", "请与申请人核对"),
    ] {
        scenario.push_str(&format!("[[step]]\n{action} = \"{label}\"\n"));
    }
    let file = work.join("details.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = run_scenario(&display, &["--window", "800x480", "--lang", "zh"], &work, &file, &dir);
    assert!(out.status.success(), "{:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&work);
}

/// A receipt the printer did not take, on the smallest screen in large text: what came of the
/// tap (kept on the unit, to print later) is brought into view under the step's buttons. It was
/// drawn below the fold, and the screen looked as before the tap.
#[test]
fn what_came_of_the_print_is_in_view_on_a_small_screen() {
    let (display, _xvfb) = display(true);
    let (dir, work) = fresh("receipt-in-view");
    let mut scenario = std::fs::read_to_string(crate::root().join("scenarios/exceptions-visit.toml")).unwrap();
    let home = "wait = \"开始上门受理\"\n";
    let at = scenario.find(home).expect("the home screen") + home.len();
    scenario.insert_str(at, "[[step]]\ntap = \"大字\"\n");
    let kept = "wait = \"已存在本机，可稍后补打\"\ntimeout = 60\n";
    let at = scenario.find(kept).expect("the receipt kept") + kept.len();
    scenario.insert_str(at, "[[step]]\nin_view = \"已存在本机，可稍后补打\"\n");
    let file = work.join("receipt.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = run_scenario(&display, &["--window", "800x480", "--lang", "zh"], &work, &file, &dir);
    assert!(out.status.success(), "{:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&work);
}

/// The outreach desk on the smallest screen in large text, in English: at each call, what the
/// officer does with the person called is in view (the buttons were below the fold of the
/// counter's half, "Not here" hidden).
#[test]
fn the_counters_buttons_are_in_view_at_each_call() {
    let (display, _xvfb) = display(true);
    let (dir, work) = fresh("counter-in-view");
    let mut scenario = std::fs::read_to_string(crate::root().join("scenarios/outreach-queue.toml")).unwrap();
    let home = "wait = \"开始上门受理\"\n";
    let at = scenario.find(home).expect("the home screen") + home.len();
    scenario.insert_str(at, "[[step]]\ntap = \"大字\"\n");
    for called in ["wait = \"正在办理：B001\"\n", "wait = \"已呼叫 2 次\"\n"] {
        let at = scenario.find(called).expect("a call") + called.len();
        scenario.insert_str(at, "[[step]]\nin_view = \"未到\"\n[[step]]\nin_view = \"已办理\"\n");
    }
    let file = work.join("counter.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = run_scenario(&display, &["--window", "800x480", "--lang", "en"], &work, &file, &dir);
    assert!(out.status.success(), "{:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&work);
}

/// The printer's paper near its end, on the smallest screen in large text: said under the step
/// and brought into view once; the applicant rating the visit then is not pulled back to it at
/// each tap (the stars and the question were scrolled off again).
#[test]
fn a_note_of_the_print_is_brought_into_view_once() {
    let (display, _xvfb) = display(true);
    let (dir, work) = fresh("note-once");
    let demo = std::fs::read_to_string(crate::root().join("scenarios/demo-visit.toml")).unwrap();
    let print = "[[step]]\ntap = \"打印回执\"\n";
    let mut scenario = demo[..demo.find(print).expect("the demo prints")].to_string();
    let home = "wait = \"开始上门受理\"\n";
    let at = scenario.find(home).expect("the home screen") + home.len();
    scenario.insert_str(at, "[[step]]\ntap = \"大字\"\n");
    scenario.push_str("[[step]]\ndevice = \"paper low\"\n");
    scenario.push_str(print);
    scenario.push_str("[[step]]\nwait = \"您对今天的服务满意吗？\"\ntimeout = 60\n");
    for (action, label) in [
        ("in_view", "打印纸即将用完"),
        ("tap", "★ 非常不满意"),
        ("scroll", "您对今天的服务满意吗？"),
        ("tap", "等候时间长"),
        ("pause", "1"),
        ("in_view", "您对今天的服务满意吗？"),
    ] {
        let value = if action == "pause" { label.to_string() } else { format!("\"{label}\"") };
        scenario.push_str(&format!("[[step]]\n{action} = {value}\n"));
    }
    let file = work.join("note.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = run_scenario(&display, &["--window", "800x480", "--lang", "zh"], &work, &file, &dir);
    assert!(out.status.success(), "{:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&work);
}
