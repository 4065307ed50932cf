//! A visit cut off at its photo step (a dead battery, a crash) and taken up again after unlock:
//! the photo taken before is shown again, as it was said to be (brought printed, or taken
//! here), and only for the applicant it was taken of.

use std::time::Duration;

use doorstep::dev::scenario::{Action, ScenarioStep};
use doorstep::visit_flow::part;
use doorstep_core::Policy;
use doorstep_core::visit::PhotoInput;

use crate::applicants::id_aged;
use crate::sync::{hub_and_vault_as, tempfile_dir, unlocked};
use crate::visit::{
    DEVICE, demo_until, device, draft_visit, drive, run_visit_steps, sealed, sha, tap, typed, unit, unlock, wait,
    wait_long,
};

pub(crate) fn pause(seconds: u64) -> ScenarioStep {
    ScenarioStep { action: Action::Pause(Duration::from_secs(seconds)), timeout: Duration::from_secs(20) }
}

/// Runs the unit on `vault` until the steps end, then stops it (as a dead battery would, with
/// the drafts written); the replay camera shows `camera`'s frames where one is given.
pub(crate) fn run_and_stop(vault: &std::path::Path, tmp: &std::path::Path, steps: Vec<ScenarioStep>) {
    run_with_camera(vault, tmp, steps, None);
}

fn run_with_camera(
    vault: &std::path::Path,
    tmp: &std::path::Path,
    steps: Vec<ScenarioStep>,
    camera: Option<&std::path::Path>,
) {
    let mut app = unit(vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    if let Some(dir) = camera {
        app.insert_resource(doorstep::screens::visit::CameraChoice::Replay(dir.to_path_buf()));
    }
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(app);
    std::thread::sleep(Duration::from_millis(500));
}

/// The photo in hand as the draft keeps it.
fn photo_in_hand(vault: &std::path::Path) -> Vec<u8> {
    let v = unlocked(vault);
    let id = v.draft_visits().unwrap()[0].clone();
    v.load_draft(&id, part::PHOTO_IN_HAND).unwrap().expect("the photo in hand").to_vec()
}

/// Unlock, continue the visit kept, and use the photo shown at its photo step.
fn resume_and_use_the_photo() -> Vec<ScenarioStep> {
    let mut steps = unlock();
    steps.extend([
        wait("继续这次受理吗"),
        tap("继续"),
        wait("证件照片"),
        wait_long("采用此照片"),
        tap("采用此照片"),
        wait("指纹采集"),
    ]);
    steps
}

/// The demo visit to its photo step, where the applicant's printed photo is taken (the box
/// ticked), and not yet used.
fn a_printed_photo_taken() -> Vec<ScenarioStep> {
    let mut steps = demo_until("证件照片");
    steps.extend([
        tap("申请人自带纸质照片：翻拍带来的照片（按自带照片登记）"),
        tap("拍照"),
        wait_long("采用此照片"),
        pause(1),
    ]);
    steps
}

/// Unlock, continue the visit kept at its applicant step, read another applicant's card, and
/// go on to the photo step with a passport chosen.
fn another_applicant_to_the_photo() -> Vec<ScenarioStep> {
    let mut steps = unlock();
    steps.extend([
        wait("继续这次受理吗"),
        tap("继续"),
        wait("申请人是谁？"),
        device(&format!("card 测试 {}", id_aged(40, "011"))),
        tap("读取身份证"),
        wait("已读取身份证"),
        tap("下一步"),
        wait("申请办理哪些业务？"),
        tap("普通护照 首次申请"),
        tap("下一步"),
        wait("证件照片"),
    ]);
    steps
}

/// A visit cut off at its photo step, after the photo was taken and before it was used, shows
/// the same photo again after unlock, checked anew, with no other taken (headless, the photo
/// comes only with the button, which is not tapped): used, it is the one the visit records.
#[test]
fn a_visit_cut_off_at_its_photo_shows_the_photo_taken_again() {
    let tmp = tempfile_dir("resume-photo");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut first = demo_until("采用此照片");
    first.push(pause(1));
    run_and_stop(&vault, &tmp, first);
    let kept = photo_in_hand(&vault);
    assert!(kept.starts_with(&[0xFF, 0xD8]), "the cropped JPEG is kept");
    run_and_stop(&vault, &tmp, resume_and_use_the_photo());
    let visit = draft_visit(&vault);
    let Some(PhotoInput::Captured(photo)) = visit.state.photo() else { panic!("a photo: {:?}", visit.state.photo()) };
    assert_eq!(photo.digest, sha(&kept), "the photo taken before the unit stopped");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A printed photo the applicant brought, taken and not yet used when the unit stopped, is
/// still recorded as brought (supplied) after the restart: the supervisor is told.
#[test]
fn a_printed_photo_kept_over_a_restart_is_still_recorded_as_brought() {
    let tmp = tempfile_dir("resume-brought");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    run_and_stop(&vault, &tmp, a_printed_photo_taken());
    run_and_stop(&vault, &tmp, resume_and_use_the_photo());
    let visit = draft_visit(&vault);
    assert!(matches!(visit.state.photo(), Some(PhotoInput::Supplied(_))), "{:?}", visit.state.photo());
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The officer took a photo of one applicant, went back and read another's card, and the unit
/// stopped twice (once before the card, once at the new applicant's photo step, before a photo
/// was taken): the first person's photo, still in the draft, is not shown for the second, and
/// the photo used is a new one, taken of the second.
#[test]
fn a_photo_kept_is_never_shown_for_another_applicant() {
    let tmp = tempfile_dir("resume-other");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut first = demo_until("采用此照片");
    first.extend([tap("申请人"), wait("申请人是谁？"), pause(1)]);
    run_and_stop(&vault, &tmp, first);
    let first_photo = photo_in_hand(&vault);

    let mut second = another_applicant_to_the_photo();
    second.push(pause(1));
    run_and_stop(&vault, &tmp, second);
    // The first applicant's photo is forgotten in the draft as soon as the second's card is
    // read (the visit was taken up back at its applicant step, before any card).
    {
        let v = unlocked(&vault);
        let id = v.draft_visits().unwrap()[0].clone();
        for name in [part::PHOTO_IN_HAND, part::PHOTO] {
            let kept = v.load_draft(&id, name).unwrap().map(|b| b.len()).unwrap_or(0);
            assert_eq!(kept, 0, "{name} still holds the first applicant's photo");
        }
    }

    // Taken up again at the photo step: after time enough for a photo kept to be checked
    // again and shown, were it to be, none is in hand.
    let mut third = unlock();
    third.extend([wait("继续这次受理吗"), tap("继续"), wait("证件照片"), pause(2)]);
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let outcome = drive(&mut app, third);
    assert!(outcome.is_ok(), "{outcome:?}");
    let work = app.world().resource::<doorstep::screens::visit::Work>();
    assert!(work.shot.is_none(), "the first applicant's photo is shown for the second");
    assert!(!work.checking(), "the first applicant's photo is being checked for the second");
    drop(app);
    std::thread::sleep(Duration::from_millis(500));
    // The photo used is taken of the second (another face in front of the camera).
    let camera = tmp.join("camera");
    std::fs::create_dir_all(&camera).unwrap();
    crate::in_camera_frame(&crate::root().join("tests/data/photos/set/whitehouse_4-white.jpg"))
        .save(camera.join("frame.png"))
        .unwrap();
    let mut fourth = unlock();
    fourth.extend([
        wait("继续这次受理吗"),
        tap("继续"),
        wait("证件照片"),
        tap("拍照"),
        wait_long("采用此照片"),
        tap("采用此照片"),
        wait("指纹采集"),
    ]);
    run_with_camera(&vault, &tmp, fourth, Some(&camera));
    let visit = draft_visit(&vault);
    let Some(PhotoInput::Captured(photo)) = visit.state.photo() else { panic!("a photo: {:?}", visit.state.photo()) };
    assert_ne!(photo.digest, sha(&first_photo), "the first applicant's photo");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The same for the fingers: the first applicant's right thumb taken, the officer back at the
/// applicant step when the unit stops; after the restart the second applicant's card is read,
/// the photo taken and used, and the unit stops at the fingerprint step. Taken up again, the
/// fingers start afresh: none of the first applicant's is counted as the second's.
#[test]
fn fingers_kept_are_never_counted_for_another_applicant() {
    let tmp = tempfile_dir("resume-prints-other");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut first = demo_until("指纹采集");
    first.extend([tap("采集"), wait("下一枚：左手拇指"), pause(1), tap("申请人"), wait("申请人是谁？"), pause(1)]);
    run_and_stop(&vault, &tmp, first);
    let mut second = another_applicant_to_the_photo();
    second.extend([tap("拍照"), wait_long("采用此照片"), tap("采用此照片"), wait("指纹采集"), pause(1)]);
    run_and_stop(&vault, &tmp, second);
    let mut third = unlock();
    third.extend([wait("继续这次受理吗"), tap("继续"), wait("指纹采集"), wait("下一枚：右手拇指"), pause(2)]);
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let outcome = drive(&mut app, third);
    assert!(outcome.is_ok(), "{outcome:?}");
    let work = app.world().resource::<doorstep::screens::visit::Work>();
    assert!(work.attempts.is_empty(), "the first applicant's fingers counted for the second: {:?}", work.attempts);
    drop(app);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A printed photo kept over a restart, and the officer goes back to the services step at once,
/// before it is checked again, and on: it is still recorded as brought.
#[test]
fn a_printed_photo_stays_brought_when_the_officer_goes_back_while_it_is_checked() {
    let tmp = tempfile_dir("resume-brought-back");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    run_and_stop(&vault, &tmp, a_printed_photo_taken());
    let mut second = unlock();
    second.extend([
        wait("继续这次受理吗"),
        tap("继续"),
        wait("证件照片"),
        tap("办理业务"),
        wait("申请办理哪些业务？"),
        // The photo's check ends while the services are on screen, chosen as they were.
        pause(3),
        wait("费用合计：120.00 元"),
        tap("下一步"),
    ]);
    second.extend([wait("证件照片"), wait_long("采用此照片"), tap("采用此照片"), wait("指纹采集")]);
    run_and_stop(&vault, &tmp, second);
    let visit = draft_visit(&vault);
    assert!(matches!(visit.state.photo(), Some(PhotoInput::Supplied(_))), "{:?}", visit.state.photo());
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A printed photo taken, and the officer goes back to the services step before its check
/// ends: the photo comes while the services are on screen, and the unit stops before the photo
/// step is shown again. After the restart the photo is there, still the printed one brought.
#[test]
fn a_photo_that_comes_while_the_officer_is_on_another_step_is_kept_over_a_restart() {
    let tmp = tempfile_dir("resume-photo-off-step");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut first = demo_until("证件照片");
    first.extend([
        tap("申请人自带纸质照片：翻拍带来的照片（按自带照片登记）"),
        tap("拍照"),
        tap("办理业务"),
        wait("申请办理哪些业务？"),
        // The photo's check ends here, on the services step.
        pause(8),
    ]);
    run_and_stop(&vault, &tmp, first);
    let kept = photo_in_hand(&vault);
    assert!(kept.starts_with(&[0xFF, 0xD8]), "the photo came before the unit stopped");
    let mut second = unlock();
    second.extend([
        wait("继续这次受理吗"),
        tap("继续"),
        wait("申请办理哪些业务？"),
        wait("费用合计：120.00 元"),
        tap("下一步"),
        wait("证件照片"),
        wait_long("采用此照片"),
        tap("采用此照片"),
        wait("指纹采集"),
    ]);
    run_and_stop(&vault, &tmp, second);
    let visit = draft_visit(&vault);
    let Some(PhotoInput::Supplied(photo)) = visit.state.photo() else { panic!("brought: {:?}", visit.state.photo()) };
    assert_eq!(photo.digest, sha(&kept), "the photo taken before the unit stopped");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A photo used for the first applicant stays in the draft when the officer, after a restart,
/// goes back and reads another's card and chooses an endorsement alone on a permit held, which
/// needs no photo: the second applicant's sealed application carries no photo (the first's was
/// sealed in it before, unchecked, since the visit recorded none to check it against).
#[test]
fn a_photo_left_in_the_draft_is_never_sealed_where_none_was_taken() {
    let tmp = tempfile_dir("resume-no-photo");
    let (hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut first = demo_until("指纹采集");
    first.push(pause(1));
    run_and_stop(&vault, &tmp, first);
    let mut second = unlock();
    second.extend([
        wait("继续这次受理吗"),
        tap("继续"),
        wait("指纹采集"),
        tap("申请人"),
        wait("申请人是谁？"),
        device(&format!("card 测试 {}", id_aged(40, "011"))),
        tap("读取身份证"),
        wait("已读取身份证"),
        tap("申请人持有有效的通行证或护照（办理签注用）"),
        tap("往来港澳通行证"),
        tap("证件号码"),
        typed("C12345678"),
        tap("有效期至（年月日，如 20310630）"),
        typed("20310630"),
        tap("下一步"),
        wait("申请办理哪些业务？"),
        tap("Q 其他"),
        tap("3个月一次有效"),
        tap("下一步"),
        wait("所办业务无需照片"),
        tap("下一步"),
        wait("指纹采集"),
        tap("下一步"),
        wait("联系方式与领取方式"),
        tap("联系电话（手机或座机）"),
        typed("010-65123456"),
        tap("家庭住址"),
        typed("测试省测试市测试路1号"),
        tap("邮寄"),
        tap("省（自治区、直辖市）"),
        typed("测试省"),
        tap("市"),
        typed("测试市"),
        tap("区（县）"),
        typed("测试区"),
        tap("街道、门牌号、房号"),
        typed("测试路1号2单元301"),
        tap("邮政编码（6 位）"),
        typed("100000"),
        tap("下一步"),
        wait("请与申请人核对"),
        tap("申请人确认无误"),
        wait("同意与签名"),
        tap("本人申请办理以上业务，并声明所填内容真实"),
        ScenarioStep { action: Action::Sign, timeout: Duration::from_secs(20) },
        tap("签名完成"),
        wait("应缴"),
        tap("已缴费"),
        wait("封存后"),
        tap("封存"),
        wait_long("打印回执"),
    ]);
    run_and_stop(&vault, &tmp, second);
    let (record, visit) = sealed(&vault, &hub);
    assert_eq!(visit.state.photo(), Some(&PhotoInput::NotNeeded));
    assert!(record.photo_jpeg.is_empty(), "a photo sealed where none was taken: {} bytes", record.photo_jpeg.len());
    let _ = std::fs::remove_dir_all(&tmp);
}

/// What was typed on a step not finished (no Next tapped, or Next refused) is kept as it is
/// typed: a visit cut off there shows it again when taken up, not empty fields.
#[test]
fn what_was_typed_on_a_step_not_finished_is_there_after_a_restart() {
    let tmp = tempfile_dir("resume-typed");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut first = demo_until("联系方式与领取方式");
    first.extend([
        tap("联系电话（手机或座机）"),
        typed("010-65123456"),
        tap("家庭住址"),
        typed("测试省测试市测试路1号"),
        tap("邮寄"),
        // Refused: the address to post to is not given. Nothing typed is lost for that.
        tap("下一步"),
        wait("省（自治区、直辖市）"),
        // The stop dialog opened, a reason half typed, when the battery dies: the visit is
        // taken up on its step, not on "stop?", and the reason was never written down.
        tap("中止受理"),
        tap("中止原因"),
        typed("测试原因"),
        pause(1),
    ]);
    run_and_stop(&vault, &tmp, first);
    {
        let v = unlocked(&vault);
        let id = v.draft_visits().unwrap()[0].clone();
        let kept = v.load_draft(&id, part::FORM_IN_HAND).unwrap().expect("the form in hand");
        let kept = String::from_utf8_lossy(&kept).to_string();
        assert!(kept.contains("010-65123456") && !kept.contains("测试原因") && !kept.contains("abandon"), "{kept}");
    }
    let mut again = unlock();
    again.extend([
        wait("继续这次受理吗"),
        tap("继续"),
        wait("联系方式与领取方式"),
        wait("010-65123456"),
        wait("测试省测试市测试路1号"),
        // Post still chosen: its address fields are asked for.
        wait("街道、门牌号、房号"),
        tap("街道、门牌号、房号"),
        typed("测试路1号2单元301"),
        tap("省（自治区、直辖市）"),
        typed("测试省"),
        tap("市"),
        typed("测试市"),
        tap("区（县）"),
        typed("测试区"),
        tap("邮政编码（6 位）"),
        typed("100000"),
        // The phone and the home address typed before the restart go on with the visit.
        tap("下一步"),
        wait("请与申请人核对"),
    ]);
    run_and_stop(&vault, &tmp, again);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Locked with the stop dialog open (the idle lock, or the officer's), the same visit taken up
/// again in the same run opens on its step with what was typed, not on "stop?".
#[test]
fn a_visit_taken_up_after_a_lock_opens_on_its_step() {
    let tmp = tempfile_dir("resume-lock");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let mut first = demo_until("联系方式与领取方式");
    first.extend([
        tap("联系电话（手机或座机）"),
        typed("010-65123456"),
        tap("中止受理"),
        tap("中止原因"),
        typed("测试原因"),
        wait("确认中止"),
        pause(1),
    ]);
    let outcome = drive(&mut app, first);
    assert!(outcome.is_ok(), "{outcome:?}");
    app.world_mut().write_message(doorstep::screens::LockNow);
    app.update();
    let mut again = unlock();
    again.extend([
        wait("继续这次受理吗"),
        tap("继续"),
        wait("联系方式与领取方式"),
        wait("010-65123456"),
        tap("家庭住址"),
        typed("测试省测试市测试路1号"),
    ]);
    let outcome = drive(&mut app, again);
    assert!(outcome.is_ok(), "{outcome:?}");
    let world = app.world_mut();
    let keys: Vec<&'static str> = world.query::<&doorstep::ui::i18n::Tr>().iter(world).map(|t| t.key).collect();
    assert!(!keys.contains(&"visit.abandon.title"), "not on 'stop?': {keys:?}");
    drop(app);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The officer locks the unit from a visit's step (steps away to the door): the unlock screen,
/// and the visit taken up again on its step with what was typed.
#[test]
fn the_officer_locks_the_unit_in_a_visit_and_takes_it_up_again() {
    let tmp = tempfile_dir("resume-lock-button");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut steps = demo_until("联系方式与领取方式");
    steps.extend([tap("联系电话（手机或座机）"), typed("010-65123456"), tap("锁定"), wait("解锁")]);
    steps.extend(resume());
    steps.extend([wait("联系方式与领取方式"), wait("010-65123456")]);
    let outcome = run_visit_steps(&vault, &tmp.join("receipts"), steps, vec![]);
    assert!(outcome.is_ok(), "{outcome:?}");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Unlock, and continue the visit kept.
fn resume() -> Vec<ScenarioStep> {
    let mut steps = unlock();
    steps.extend([wait("继续这次受理吗"), tap("继续")]);
    steps
}

/// A visit kept at its review, taken up after a restart: the officer taps back to the services
/// in the step bar (a service to change), and the unit stops again there. Nothing taken or
/// typed before is asked again: the services chosen, the photo (checked anew), the fingers
/// done and the details typed are each there as the officer comes forward, and the visit
/// records the same photo and prints as before.
#[test]
fn going_back_after_a_restart_takes_nothing_again() {
    let tmp = tempfile_dir("resume-back");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut first = demo_until("请与申请人核对");
    first.push(pause(1));
    run_and_stop(&vault, &tmp, first);
    let before = draft_visit(&vault);
    assert_eq!(before.step(), doorstep_core::visit::Step::Review);
    let mut second = resume();
    second.extend([
        wait("请与申请人核对"),
        tap("办理业务"),
        wait("申请办理哪些业务？"),
        wait("费用合计：120.00 元"),
        pause(1),
    ]);
    run_and_stop(&vault, &tmp, second);
    assert_eq!(draft_visit(&vault).step(), doorstep_core::visit::Step::Services);
    let mut third = resume();
    third.extend(forward_from_the_services());
    run_and_stop(&vault, &tmp, third);
    same_as_before(&vault, &before);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// From the services step to the review, each step showing what was taken and typed before:
/// the passport chosen, the photo (checked anew), the fingers done, the phone and address.
fn forward_from_the_services() -> Vec<ScenarioStep> {
    vec![
        wait("申请办理哪些业务？"),
        wait("费用合计：120.00 元"),
        tap("下一步"),
        wait("证件照片"),
        wait_long("采用此照片"),
        tap("采用此照片"),
        wait("指纹采集"),
        wait("已采集，质量"),
        tap("下一步"),
        wait("联系方式与领取方式"),
        wait("010-65123456"),
        wait("测试路1号2单元301"),
        tap("下一步"),
        wait("请与申请人核对"),
        pause(1),
    ]
}

/// The visit in the draft is at its review again, with the photo, prints and details it had
/// `before`; the photo and each print were recorded as captured once, restarts and all.
fn same_as_before(vault: &std::path::Path, before: &doorstep_core::Visit) {
    let after = draft_visit(vault);
    assert_eq!(after.step(), doorstep_core::visit::Step::Review);
    assert_eq!(after.state.photo(), before.state.photo(), "the same photo, as it was used");
    assert_eq!(after.state.fingerprints(), before.state.fingerprints(), "the same prints");
    assert_eq!(after.state.details(), before.state.details(), "the same details");
    let captures: Vec<String> = unlocked(vault)
        .audit_entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == doorstep_vault::CAPTURE)
        .map(|e| e.subject)
        .collect();
    assert_eq!(captures.iter().filter(|c| c.contains("part=photo")).count(), 1, "{captures:?}");
    assert_eq!(captures.iter().filter(|c| c.contains("part=finger-")).count(), 2, "{captures:?}");
}

/// The officer goes back to the applicant step (a typo in the name) and the unit stops there,
/// before the card is read again: read again, the same card takes up the photo, the prints and
/// what was typed on the later steps, as in one session.
#[test]
fn the_same_card_read_again_after_a_restart_takes_up_what_was_taken() {
    let tmp = tempfile_dir("resume-back-card");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut first = demo_until("请与申请人核对");
    first.push(pause(1));
    run_and_stop(&vault, &tmp, first);
    let before = draft_visit(&vault);
    let mut second = resume();
    second.extend([wait("请与申请人核对"), tap("申请人"), wait("申请人是谁？"), pause(1)]);
    run_and_stop(&vault, &tmp, second);
    let mut third = resume();
    third.extend([wait("申请人是谁？"), tap("读取身份证"), wait("已读取身份证"), tap("下一步")]);
    third.extend(forward_from_the_services());
    run_and_stop(&vault, &tmp, third);
    same_as_before(&vault, &before);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A printed photo the applicant brought is taken, and the officer goes straight back from the
/// photo step to the applicant step (a typo in the name) and reads the same card: back at the
/// photo step, the photo is still the printed one brought, and is recorded so.
#[test]
fn the_photo_steps_answers_stay_when_the_officer_goes_straight_back_to_the_applicant() {
    let tmp = tempfile_dir("back-applicant-brought");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut steps = a_printed_photo_taken();
    steps.extend([
        tap("申请人"),
        wait("申请人是谁？"),
        tap("读取身份证"),
        wait("已读取身份证"),
        tap("下一步"),
        wait("申请办理哪些业务？"),
        wait("费用合计：120.00 元"),
        tap("下一步"),
        wait("证件照片"),
        wait_long("采用此照片"),
        tap("采用此照片"),
        wait("指纹采集"),
        pause(1),
    ]);
    run_and_stop(&vault, &tmp, steps);
    let visit = draft_visit(&vault);
    assert!(matches!(visit.state.photo(), Some(PhotoInput::Supplied(_))), "{:?}", visit.state.photo());
    let _ = std::fs::remove_dir_all(&tmp);
}
