//! A finger that cannot give a print, recorded with its cause and evidence on the unit: an
//! injured thumb certified by a hospital, checked at once by core's rule, and the next finger
//! of the hand asked for instead; a finger tapped "missing" by mistake taken back, and the same
//! certificate recorded for it without typing it again. A finger placed twice. A photo the checks ask the officer to
//! look at.

use std::time::Duration;

use doorstep::dev::scenario::{Action, ScenarioStep};
use doorstep_core::fingerprint::{FingerResult, HospitalGrade, InjuryEvidence, NoPrint};
use doorstep_core::visit::{Flag, LookAnswer, PhotoInput, TakenPhoto};

use crate::sync::{hub_and_vault_as, tempfile_dir};
use crate::visit::{DEVICE, demo_until, device, draft_visit, run_visit_steps, tap, typed, wait, wait_long};

#[test]
fn an_injured_thumb_is_recorded_with_its_certificate_and_the_index_finger_taken() {
    let tmp = tempfile_dir("finger-exception");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut steps = demo_until("联系方式与领取方式");
    let at = steps.iter().position(|s| s.action == Action::Wait("指纹采集".into())).expect("the fingers step") + 1;
    steps.splice(
        at..at,
        [
            wait("下一枚：右手拇指"),
            tap("手指受伤"),
            tap("民警无法判断：已查验二级以上医院证明"),
            wait("伤愈后申请人须重新申请证件"),
            tap("记录：该手指无法采集"),
            // Nothing recorded without the hospital's grade.
            wait("请选择医院等级（须二级以上）"),
            tap("出具证明的医院"),
            typed("测试人民医院"),
            tap("三级医院"),
            tap("证明日期（年月日，如 20261201）"),
            typed("20260301"),
            tap("记录：该手指无法采集"),
            wait("受伤（二级以上医院证明）"),
            wait("下一枚：右手食指"),
            // A healthy finger tapped "missing" by mistake is taken back, and asked for again.
            tap("该手指缺失"),
            wait("下一枚：右手中指"),
            tap("撤销：右手食指"),
            wait("下一枚：右手食指"),
            // The same certificate covers it: the officer says so, and it is recorded without
            // typing it again.
            tap("手指受伤"),
            tap("民警无法判断：已查验二级以上医院证明"),
            tap("记录：该手指无法采集"),
            wait("下一枚：右手中指"),
        ],
    );
    let outcome = run_visit_steps(&vault, &tmp.join("receipts"), steps, vec![]);
    assert!(outcome.is_ok(), "{outcome:?}");
    std::thread::sleep(std::time::Duration::from_millis(500));

    let visit = draft_visit(&vault);
    let Some(doorstep_core::visit::Fingerprints::Taken(record)) = visit.state.fingerprints() else {
        panic!("fingerprints taken: {:?}", visit.step());
    };
    let fingers: Vec<u8> = record.attempts.iter().map(|a| a.finger.number()).collect();
    assert_eq!(fingers, [1, 2, 3, 6], "right thumb and index injured, right middle, left thumb");
    for a in &record.attempts[..2] {
        match &a.result {
            FingerResult::NoPrint(NoPrint::Injured { evidence: InjuryEvidence::Certificate(c) }) => {
                assert_eq!((c.hospital.as_str(), c.grade), ("测试人民医院", HospitalGrade::Three));
                assert_eq!(c.issued_on, time::macros::date!(2026 - 03 - 01));
            }
            other => panic!("finger {}'s result: {other:?}", a.finger.number()),
        }
    }
    assert!(record.reissue_after_healing, "a certified injury means a re-issue after healing");
    assert_eq!(record.valid.len(), 2);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The right thumb placed again when the left thumb is asked for (the wrong hand): the module
/// matches it against the thumb taken, the screen says which finger it is and asks for the
/// left thumb again, and nothing is recorded for the left thumb until it is placed.
#[test]
fn a_finger_placed_twice_is_refused_and_the_finger_asked_for_again() {
    let tmp = tempfile_dir("same-finger");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut steps = demo_until("联系方式与领取方式");
    let at = steps.iter().position(|s| s.action == Action::Wait("指纹采集".into())).expect("the fingers step") + 1;
    // The demo visit takes the two thumbs with two taps on 采集: the second is the right
    // thumb again, refused, then the left thumb.
    let second =
        steps[at..].iter().position(|s| s.action == Action::Tap("采集".into())).expect("a first scan") + at + 1;
    steps.splice(
        second..second,
        [
            wait("下一枚：左手拇指"),
            device("same-finger"),
            tap("采集"),
            wait("这枚与已采集的右手拇指是同一枚手指：请换成左手拇指再采集"),
            wait("下一枚：左手拇指"),
        ],
    );
    let outcome = run_visit_steps(&vault, &tmp.join("receipts"), steps, vec![]);
    assert!(outcome.is_ok(), "{outcome:?}");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let visit = draft_visit(&vault);
    let Some(doorstep_core::visit::Fingerprints::Taken(record)) = visit.state.fingerprints() else {
        panic!("fingerprints taken: {:?}", visit.step());
    };
    let fingers: Vec<u8> = record.attempts.iter().map(|a| a.finger.number()).collect();
    assert_eq!(fingers, [1, 6], "the right thumb once, then the left thumb");
    let FingerResult::Print { digest: right, .. } = &record.attempts[0].result else { panic!("a print") };
    let FingerResult::Print { digest: left, .. } = &record.attempts[1].result else { panic!("a print") };
    assert_ne!(right, left, "two different fingers kept");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The camera sees a man in a black cap (the labelled set's drawn cap over a real portrait),
/// which the checks cannot tell from hair cut straight: they refuse it as a covering the officer may clear by looking, and the
/// photo is not used until the officer says what was seen: no covering (the supervisor is told
/// it was looked at), or a covering that may stay, with the reason (kept as an override). An
/// answer, or a reason, given for one photo is not kept for the photo taken again.
#[test]
fn a_photo_the_checks_ask_to_look_at_is_used_only_once_the_officer_has() {
    let no_covering = "已看过：没有戴帽子或头饰（头发无妨）";
    let looked = visit_with_a_look(
        "photo-look",
        {
            let mut s = vec![tap(no_covering)];
            s.extend(retaken());
            s.push(tap(no_covering));
            s
        },
        Vec::new(),
    );
    let Some(photo) = looked.state.photo() else { panic!("the photo taken: {:?}", looked.step()) };
    assert_eq!(photo.to_look_at(), ["head_covering"]);
    assert_eq!(photo.looked(), Some(LookAnswer::NoCovering));
    assert!(matches!(photo, PhotoInput::Captured(TakenPhoto { override_reason: None, .. })), "{photo:?}");
    assert!(photo.failed_checks().is_empty());
    let flags = looked.state.flags(&doorstep_core::Policy::builtin().unwrap());
    assert!(flags.contains(&Flag::PhotoLookedAt { checks: vec!["head_covering".into()] }), "{flags:?}");
    assert!(!flags.iter().any(|f| matches!(f, Flag::PhotoOverride { .. })), "{flags:?}");

    let (kept, field) =
        ("已看过：戴有可以保留的头饰（宗教、医疗原因）", "请写明头饰可以保留的理由（宗教、医疗原因，面部完整露出）");
    let reason = "测试：宗教头巾，面部完整露出";
    let kept = visit_with_a_look(
        "photo-covering-kept",
        {
            let mut s = vec![tap(kept), tap(field), typed("测试：写给上一张照片的理由")];
            s.extend(retaken());
            s.extend([tap(kept), tap(field), typed(reason)]);
            s
        },
        Vec::new(),
    );
    let Some(photo) = kept.state.photo() else { panic!("the photo taken: {:?}", kept.step()) };
    assert_eq!(photo.looked(), Some(LookAnswer::CoveringKept));
    assert!(photo.failed_checks().is_empty());
    assert!(
        matches!(photo, PhotoInput::Captured(TakenPhoto { override_reason: Some(r), .. }) if r == reason),
        "{photo:?}"
    );
    let flags = kept.state.flags(&doorstep_core::Policy::builtin().unwrap());
    assert!(flags.contains(&Flag::PhotoOverride { checks: vec!["head_covering".into()] }), "{flags:?}");
    assert!(!flags.iter().any(|f| matches!(f, Flag::PhotoLookedAt { .. })), "{flags:?}");
}

/// The officer's answer to the look, and the reason to keep a covering, stay with the photo
/// when the officer goes back past the photo step (to the services, say) and on again: the
/// photo is used as it was, not refused for a look already given, nor the reason asked again.
#[test]
fn what_the_officer_said_of_the_photo_is_kept_going_back_past_it() {
    let back_and_on = || {
        vec![
            tap("办理业务"),
            wait("申请办理哪些业务？"),
            tap("下一步"),
            wait("证件照片"),
            wait_long("采用此照片"),
            tap("采用此照片"),
            wait("指纹采集"),
        ]
    };
    let looked = visit_with_a_look("photo-look-back", vec![tap("已看过：没有戴帽子或头饰（头发无妨）")], back_and_on());
    assert_eq!(looked.step(), doorstep_core::visit::Step::Fingerprints);
    assert_eq!(looked.state.photo().and_then(PhotoInput::looked), Some(LookAnswer::NoCovering));

    let reason = "测试：宗教头巾，面部完整露出";
    let kept = visit_with_a_look(
        "photo-kept-back",
        vec![
            tap("已看过：戴有可以保留的头饰（宗教、医疗原因）"),
            tap("请写明头饰可以保留的理由（宗教、医疗原因，面部完整露出）"),
            typed(reason),
        ],
        back_and_on(),
    );
    assert_eq!(kept.step(), doorstep_core::visit::Step::Fingerprints);
    assert!(
        matches!(kept.state.photo(), Some(PhotoInput::Captured(TakenPhoto { override_reason: Some(r), .. })) if r == reason),
        "{:?}",
        kept.state.photo()
    );
}

/// The photo taken again (the same frame: asked to look again), and used before any answer:
/// refused, since the answer given for the photo before is not kept. (The refusal's words stay
/// from the first one: what shows it is that the step is still the photo's a second on.)
fn retaken() -> Vec<ScenarioStep> {
    let pause = ScenarioStep { action: Action::Pause(Duration::from_secs(1)), timeout: Duration::from_secs(20) };
    let still = ScenarioStep { action: Action::See("以下一项未通过".into()), timeout: Duration::from_secs(20) };
    vec![
        tap("拍照"),
        wait("正在按照相标准检测照片"),
        wait_long("以下一项未通过，请您目视核对后选择所见"),
        tap("采用此照片"),
        pause,
        still,
        wait("请按照片旁的提示看过照片（帽子或头饰），并选择所见"),
    ]
}

/// The demo visit to its fingerprints with the capped photo: the officer first tries to use it
/// unlooked (refused, with what to do), then does `look`; and after the fingerprint step is
/// reached, `then`.
fn visit_with_a_look(name: &str, look: Vec<ScenarioStep>, then: Vec<ScenarioStep>) -> doorstep_core::Visit {
    let tmp = tempfile_dir(name);
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let camera = tmp.join("camera");
    std::fs::create_dir_all(&camera).unwrap();
    crate::in_camera_frame(&crate::root().join("tests/data/photos/set/whitehouse_4-blackcap.jpg"))
        .save(camera.join("frame.png"))
        .unwrap();
    let mut steps = demo_until("指纹采集");
    let use_it = steps.iter().position(|s| s.action == Action::Tap("采用此照片".into())).expect("the photo used");
    let mut before = vec![
        wait("以下一项未通过，请您目视核对后选择所见"),
        wait("可能是帽子，也可能是剪齐的头发"),
        tap("采用此照片"),
        // Core refuses it: the officer has not looked.
        wait("请按照片旁的提示看过照片（帽子或头饰），并选择所见"),
        wait("证件照片"),
    ];
    before.extend(look);
    steps.splice(use_it..use_it, before);
    steps.extend(then);
    let mut app = crate::visit::unit(&vault, &tmp.join("receipts"), doorstep_core::Policy::builtin().unwrap());
    app.insert_resource(doorstep::screens::visit::CameraChoice::Replay(camera));
    let outcome = crate::visit::drive(&mut app, steps);
    drop(app);
    assert!(outcome.is_ok(), "{outcome:?}");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let visit = draft_visit(&vault);
    let _ = std::fs::remove_dir_all(&tmp);
    visit
}
