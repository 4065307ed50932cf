//! Applicants who need more than the plain visit, headless like the demo visit: a child with
//! the guardians here or away (or the companion they entrusted), a young child who is not here
//! at all, a family-visit endorsement, and an applicant of 60 or over reusing the ID card's
//! photo. Each checks what was sealed, or the visit's draft.

use std::time::Duration;

use doorstep::dev::scenario::{Action, ScenarioStep};
use doorstep_core::visit::PhotoInput;

use crate::sync::{hub_and_vault_as, tempfile_dir};
use crate::to_receipt::{demo_services_to_receipt, demo_to_receipt};
use crate::visit::{
    DEVICE, device, draft_visit, run_visit_steps, sealed, sha, tap, typed, typed_applicant, unlock, wait, wait_long,
};

/// The ID number of someone `age` this year whatever the year the test runs in (born on 1
/// January; `sequence` odd for a man): a made-up number on the published example's district,
/// with its check character from core.
pub(crate) fn id_aged(age: i32, sequence: &str) -> String {
    let body = format!("110105{}0101{sequence}", time::OffsetDateTime::now_utc().year() - age);
    let check = doorstep_core::id_number::check_character(&body);
    format!("{body}{check}")
}

fn child_id(age: i32) -> String {
    id_aged(age, "001")
}

/// Unlock, and the card of a child `age` this year read, with the mother here and the father
/// away, to the services step.
fn child_with_guardians(age: i32) -> Vec<ScenarioStep> {
    let child_id = child_id(age);
    let mut all = unlock();
    // The child's card on the reader (a scenario's device step), read through the bridge.
    all.extend([
        tap("残疾申请人"),
        device(&format!("card 测试 {child_id}")),
        tap("读取身份证"),
        wait("已读取身份证"),
        tap("下一步"),
    ]);
    all.extend([
        // Refused without a guardian, and the guardian's fields appear.
        wait("须登记监护人"),
        tap("母亲"),
        tap("监护人姓名"),
        typed("测试母亲"),
        tap("监护人身份证号码"),
        typed("11010519491231002X"),
        tap("监护人电话"),
        typed("13800138000"),
        // The father has custody too; he is away, and his written consent was seen.
        tap("还有另一名有监护权的监护人"),
        wait("另一名有监护权的监护人"),
        // His card is read, not typed. The wrong relation was tapped first: his number is
        // registered male, and the unit says so.
        tap("另一名：母亲"),
        // The mother's card left on the reader: not taken for his.
        device("card 测试母亲 11010519491231002X"),
        tap("读取另一名监护人身份证"),
        wait("读卡器上仍是申请人或另一人的身份证：请换上此人本人的身份证再读取"),
        device("card 测试父亲 440524188001010014"),
        tap("读取另一名监护人身份证"),
        wait("已读取身份证：请核对下方的姓名和号码，并核对证件是否为其本人所有"),
        wait("此身份证号码登记为男性，与“母亲”不符：请对照户口簿核对号码和关系；核对无误可继续。"),
        tap("另一名：父亲"),
        tap("另一名监护人电话"),
        typed("13900139000"),
        tap("另一名不在场：已查验其书面同意书"),
        tap("以上为全部有监护权的监护人（已查验户口簿）"),
        tap("已查验监护关系证明（户口簿、出生医学证明或指定监护文书）"),
        tap("下一步"),
        wait("申请办理哪些业务？"),
    ]);
    all
}

/// A twelve-year-old applies with the mother, who is here: the applicant step asks for the
/// guardian once core refuses the child alone, both sign, and the sealed application carries
/// the mother's signature beside the child's, each the one drawn.
#[test]
fn a_child_applies_with_a_guardian_and_both_sign() {
    let tmp = tempfile_dir("guardian");
    let (hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut all = child_with_guardians(12);
    // The demo visit from the services on, to the receipt; the mother's pad is there to sign.
    all.extend(demo_services_to_receipt("监护人（测试母亲）请在此签名"));
    // The mother signs again, alone: her pad is cleared, the child's kept (signed again over
    // it, the child's has two strokes, hers one).
    let signed = all.iter().position(|s| s.action == Action::Sign).expect("the signatures");
    let sign = all[signed].clone();
    all.splice(signed + 1..signed + 1, [tap("监护人（测试母亲）重签"), sign]);
    ran(&vault, &tmp, all);
    std::thread::sleep(Duration::from_millis(500));
    let (record, visit) = sealed(&vault, &hub);
    let who = visit.state.identified().expect("identified");
    assert_eq!(who.applicant.source, doorstep_core::IdentitySource::CardReader, "the child's card was read");
    assert_eq!(who.applicant.age_on(time::OffsetDateTime::now_utc().date()), 12, "the card placed, not the example");
    let guardians = who.guardians.clone().expect("a guardian");
    assert_eq!(guardians.guardians[0].name.as_str(), "测试母亲");
    let consent = visit.state.consent().expect("consent");
    let doorstep_core::visit::ApplicantSignature::Signed(child) = &consent.applicant else { panic!("the child signs") };
    assert_eq!(guardians.guardians.len(), 2, "both with custody listed");
    assert!(!guardians.guardians[1].present, "the father is away (his written consent was seen to list him)");
    // The father's card was read into his fields, as his relation was put right.
    let father = &guardians.guardians[1];
    assert_eq!((father.name.as_str(), father.relation), ("测试父亲", doorstep_core::person::Relation::Father));
    let doorstep_core::person::IdDocument::ResidentId { id } = &father.document else { panic!("a resident ID") };
    assert_eq!(id.as_str(), "440524188001010014");
    assert_eq!(consent.guardians.len(), 1, "the mother signed, the father (away) did not");
    assert_eq!(consent.guardians[0].0, 1);
    assert_ne!(record.other_signatures[0].png, record.signature_png, "two different signatures");
    assert_eq!(record.other_signatures.len(), 1);
    assert_eq!(record.other_signatures[0].signer, "guardian-1");
    assert_eq!(sha(&record.other_signatures[0].png), consent.guardians[0].1.digest);
    assert_eq!(sha(&record.signature_png), child.digest);
    assert_eq!((child.strokes, consent.guardians[0].1.strokes), (2, 1), "only the mother's pad cleared");
    let _ = std::fs::remove_dir_all(&tmp);
}
/// Under 16 the guardian decides on fingerprints: declined, none are taken and the visit goes on.
#[test]
fn a_guardian_may_decline_a_childs_fingerprints() {
    let tmp = tempfile_dir("declined");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut all = child_with_guardians(12);
    all.extend([
        tap("普通护照 首次申请"),
        tap("下一步"),
        tap("拍照"),
        wait_long("采用此照片"),
        tap("采用此照片"),
        tap("监护人决定：不为申请人采集指纹"),
        tap("下一步"),
        wait("联系方式与领取方式"),
    ]);
    ran(&vault, &tmp, all);
    std::thread::sleep(Duration::from_millis(500));
    let visit = draft_visit(&vault);
    assert_eq!(visit.state.fingerprints(), Some(&doorstep_core::visit::Fingerprints::DeclinedByGuardian));
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Both parents away, each having consented in writing: the grandmother they entrusted comes
/// with the child and signs beside the child; the sealed application carries her signature.
#[test]
fn an_entrusted_companion_comes_when_no_guardian_can() {
    let tmp = tempfile_dir("companion");
    let (hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut all = child_with_guardians(12);
    // Back at the applicant step: the mother is away too, and the grandmother comes instead.
    all.truncate(all.len() - 2);
    all.extend([
        tap("不在场：已查验其书面同意书"),
        wait("监护人均不在场"),
        tap("陪同人姓名"),
        typed("测试祖母"),
        tap("陪同人身份证号码"),
        // Made up on the published example's district, with its check character.
        typed("110105195001010020"),
        tap("陪同人电话"),
        typed("13700137000"),
        tap("已查验每名监护人的委托书"),
        tap("下一步"),
        wait("申请办理哪些业务？"),
    ]);
    all.extend(demo_services_to_receipt("受委托的陪同人（测试祖母）请在此签名"));
    ran(&vault, &tmp, all);
    std::thread::sleep(Duration::from_millis(500));
    let (record, visit) = sealed(&vault, &hub);
    let consent = visit.state.consent().expect("consent");
    assert!(consent.guardians.is_empty(), "no guardian here to sign");
    let companion = consent.companion.as_ref().expect("the companion signed");
    let signers: Vec<&str> = record.other_signatures.iter().map(|s| s.signer.as_str()).collect();
    assert_eq!(signers, ["companion"]);
    assert_eq!(sha(&record.other_signatures[0].png), companion.digest);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A five-year-old who is not here: the mother, who is, applies for her. The photo taken is the
/// printed one the mother brought (recorded as supplied), no fingerprints are taken, the child
/// does not sign and the mother does, and the sealed application says so.
#[test]
fn a_guardian_applies_for_a_young_child_who_is_not_here() {
    let tmp = tempfile_dir("child-absent");
    let (hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut all = unlock();
    all.extend(typed_applicant("残疾申请人", &child_id(5)));
    all.extend([
        wait("须登记监护人"),
        tap("孩子不在场，由在场的监护人代为申请（未满 7 周岁）"),
        wait("照片用监护人带来的纸质照片翻拍；不采集指纹；孩子不签名。"),
        tap("母亲"),
        tap("监护人姓名"),
        typed("测试母亲"),
        tap("监护人身份证号码"),
        typed("11010519491231002X"),
        tap("监护人电话"),
        typed("13800138000"),
        tap("以上为全部有监护权的监护人（已查验户口簿）"),
        tap("已查验监护关系证明（户口簿、出生医学证明或指定监护文书）"),
        tap("下一步"),
        wait("申请办理哪些业务？"),
        tap("普通护照 首次申请"),
        tap("下一步"),
        wait("孩子不在场：请把监护人带来的纸质照片正对镜头拍摄。"),
        tap("拍照"),
        wait_long("采用此照片"),
        tap("采用此照片"),
        wait("孩子不在场，不采集指纹"),
        tap("下一步"),
    ]);
    // The mother consents for the child, to the photo only: no prints were taken.
    all.extend(demo_to_receipt(
        &Action::Wait("联系方式与领取方式".into()),
        "监护人（测试母亲）请在此签名",
        "监护人同意为本次申请采集被监护人的照片",
    ));
    ran(&vault, &tmp, all);
    std::thread::sleep(Duration::from_millis(500));
    let (record, visit) = sealed(&vault, &hub);
    let who = visit.state.identified().expect("identified");
    assert!(who.applied_by_guardian, "the guardian applied for the child");
    assert_eq!(who.applicant.source, doorstep_core::IdentitySource::Typed);
    assert!(
        matches!(visit.state.photo(), Some(doorstep_core::visit::PhotoInput::Supplied(doorstep_core::visit::TakenPhoto { digest, .. })) if *digest == sha(&record.photo_jpeg)),
        "the photo is the one brought, as sealed"
    );
    assert_eq!(visit.state.fingerprints(), Some(&doorstep_core::visit::Fingerprints::ApplicantAbsent));
    assert!(record.fingerprints.is_empty());
    let consent = visit.state.consent().expect("consent");
    assert_eq!(consent.applicant, doorstep_core::visit::ApplicantSignature::AppliedByGuardian);
    assert!(record.signature_png.is_empty(), "the child did not sign");
    assert_eq!(consent.guardians.len(), 1, "the mother signed");
    let signers: Vec<&str> = record.other_signatures.iter().map(|s| s.signer.as_str()).collect();
    assert_eq!(signers, ["guardian-1"]);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// An applicant of 70 whose ID card was first valid last year: the photo step offers the card's
/// photo under the 60+ rule, and the visit records it as reused from the ID card, taken by the
/// card's first valid day, with the digest of the photo the card holds. The same applicant with
/// a card from eight years ago is told why that photo cannot be used, and takes a new one.
#[test]
fn an_applicant_of_sixty_or_over_reuses_the_id_cards_photo() {
    let year = time::OffsetDateTime::now_utc().year();
    let id = id_aged(70, "001");
    let to_photo = |issued: i32| {
        let mut all = unlock();
        all.extend([
            tap("高龄申请人"),
            device(&format!("card 测试 {id} {issued}0301")),
            tap("读取身份证"),
            wait("已读取身份证"),
            tap("下一步"),
            wait("申请办理哪些业务？"),
            tap("普通护照 首次申请"),
            tap("下一步"),
            wait("证件照片"),
        ]);
        all
    };

    let tmp = tempfile_dir("reuse");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut all = to_photo(year - 1);
    // A photo taken first and used, then the step gone back to and the card's photo chosen
    // instead: the photo taken is dropped, so none of the unit's is sealed with the reuse.
    all.extend([
        tap("拍照"),
        wait_long("采用此照片"),
        tap("采用此照片"),
        wait("指纹采集"),
        tap("照片"),
        wait(&format!("身份证 {}-03-01 起有效", year - 1)),
        tap("沿用身份证上的照片"),
        wait("指纹采集"),
    ]);
    ran(&vault, &tmp, all);
    std::thread::sleep(Duration::from_millis(500));
    let visit = draft_visit(&vault);
    let v = crate::sync::unlocked(&vault);
    let kept =
        v.load_draft(&visit.id, doorstep::visit_flow::part::PHOTO).unwrap().map(|b| b.to_vec()).unwrap_or_default();
    assert!(kept.is_empty(), "the photo taken before the reuse is not kept");
    drop(v);
    let card_photo = sha(&doorstep_devices::sam::example_identity().wlt_photo);
    let taken_on = time::Date::from_calendar_date(year - 1, time::Month::March, 1).unwrap();
    assert_eq!(
        visit.state.photo(),
        Some(&PhotoInput::Reused { source: doorstep_core::policy::PhotoSource::IdCard, taken_on, digest: card_photo })
    );
    let _ = std::fs::remove_dir_all(&tmp);

    // A card first valid eight years ago: its photo is too old, the screen says so, and no
    // reuse is offered.
    let tmp = tempfile_dir("reuse-old");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut all = to_photo(year - 8);
    all.extend([wait("身份证上的照片不能沿用："), wait("原照片已超过 5 年，请重新拍照")]);
    ran(&vault, &tmp, all);
    let mut offered = to_photo(year - 8);
    offered.push(tap("沿用身份证上的照片"));
    let tmp2 = tempfile_dir("reuse-old-tap");
    let (_hub2, vault2) = hub_and_vault_as(&tmp2, DEVICE);
    let last = offered.len(); // steps are counted from 1
    let outcome = run_visit_steps(&vault2, &tmp2.join("receipts"), offered, vec![]);
    assert_eq!(outcome.map_err(|(step, _)| step), Err(last), "no reuse is offered for a photo too old");
    let _ = std::fs::remove_dir_all(&tmp);
    let _ = std::fs::remove_dir_all(&tmp2);
}

/// Runs `steps` on the unit over `vault` (its simulated receipts beside `tmp`); every step passes.
fn ran(vault: &std::path::Path, tmp: &std::path::Path, steps: Vec<ScenarioStep>) {
    let outcome = run_visit_steps(vault, &tmp.join("receipts"), steps, vec![]);
    assert!(outcome.is_ok(), "{outcome:?}");
}

/// Unlock, and the demo card (the published example person, 76) read for a home visit.
fn elderly_card_read() -> Vec<ScenarioStep> {
    let mut all = unlock();
    all.extend([tap("高龄申请人"), tap("读取身份证"), wait("已读取身份证")]);
    all
}

/// An endorsement on the permit the applicant holds: its machine-readable zone is scanned with
/// the camera (the demo's made-up permit, read by the OCR-B reader and checked by core's
/// parser), the fields fill, and the endorsement is offered alone, without a new permit, and
/// without a photo. A number typed wrong is refused with core's words before anything is sent.
#[test]
fn an_endorsement_on_a_held_permit_scanned_with_the_camera() {
    let tmp = tempfile_dir("held-permit");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut all = elderly_card_read();
    all.extend([
        tap("申请人持有有效的通行证或护照（办理签注用）"),
        tap("扫描证件机读码"),
        wait_long("已识别：往来港澳通行证 C12345678"),
        tap("下一步"),
        wait("申请办理哪些业务？"),
        tap("Q 其他"),
        tap("3个月一次有效"),
        tap("下一步"),
        // An endorsement alone needs no photo: the step says so and goes on without one.
        wait("所办业务无需照片"),
        tap("下一步"),
        wait("指纹采集"),
        ScenarioStep { action: Action::Pause(Duration::from_secs(1)), timeout: Duration::from_secs(20) },
    ]);
    ran(&vault, &tmp, all);
    std::thread::sleep(Duration::from_millis(500));
    let visit = draft_visit(&vault);
    let who = visit.state.identified().expect("identified");
    let held = &who.applicant.held_documents;
    assert_eq!(held.len(), 1, "the permit held");
    assert_eq!(held[0].kind, doorstep_core::DocumentKind::HkMacaoPermit);
    assert_eq!(held[0].number.as_ref().map(|n| n.as_str()), Some("C12345678"));
    assert_eq!(held[0].expiry, Some(time::macros::date!(2031 - 06 - 30)));
    let chosen = visit.state.services().expect("services chosen");
    let wanted: Vec<doorstep_core::Service> = vec!["hk-macao-endorsement:Q:1x:3m".parse().unwrap()];
    assert_eq!(chosen.services, wanted, "the endorsement alone, on the permit held");
    assert_eq!(visit.state.photo(), Some(&PhotoInput::NotNeeded), "no photo taken");
    let _ = std::fs::remove_dir_all(&tmp);

    // Typed by hand with a number that is not a permit's: refused under the fields, and the
    // applicant step stays.
    let tmp = tempfile_dir("held-typed");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut all = elderly_card_read();
    all.extend([
        tap("申请人持有有效的通行证或护照（办理签注用）"),
        tap("往来港澳通行证"),
        tap("证件号码"),
        typed("X1234"),
        tap("有效期至（年月日，如 20310630）"),
        typed("20310630"),
        tap("下一步"),
        wait("此号码为 5 位"),
        ScenarioStep { action: Action::Pause(Duration::from_secs(1)), timeout: Duration::from_secs(20) },
        ScenarioStep { action: Action::See("申请人是谁？".into()), timeout: Duration::from_secs(20) },
    ]);
    ran(&vault, &tmp, all);
    let _ = std::fs::remove_dir_all(&tmp);

    // Someone else's permit: the applicant typed (born 1950-01-01), the permit's holder born
    // 1949-12-31. The scan says so and fills nothing.
    let tmp = tempfile_dir("held-not-theirs");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut all = unlock();
    all.extend([
        tap("高龄申请人"),
        tap("姓名（与身份证一致）"),
        typed("测试"),
        tap("公民身份号码（18 位）"),
        typed("110105195001010020"),
        tap("申请人持有有效的通行证或护照（办理签注用）"),
        tap("扫描证件机读码"),
        wait_long("证件上的出生日期与申请人的身份证号码不符"),
    ]);
    ran(&vault, &tmp, all);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A guardian who declines the child's fingerprints and then changes their mind: what was taken
/// before is gone, the thumb is asked for again, and the same thumb placed again is taken (not
/// refused as a finger already taken: nothing of the declined prints is kept to match against).
#[test]
fn a_guardian_who_declines_then_agrees_starts_the_fingers_again() {
    let tmp = tempfile_dir("declined-then-agreed");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut all = child_with_guardians(12);
    all.extend([
        tap("普通护照 首次申请"),
        tap("下一步"),
        tap("拍照"),
        wait_long("采用此照片"),
        tap("采用此照片"),
        wait("下一枚：右手拇指"),
        tap("采集"),
        wait("下一枚：左手拇指"),
        tap("监护人决定：不为申请人采集指纹"),
        tap("监护人决定：不为申请人采集指纹"),
        wait("下一枚：右手拇指"),
        device("same-finger"),
        tap("采集"),
        wait("下一枚：左手拇指"),
    ]);
    ran(&vault, &tmp, all);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// An applicant who brought a printed photo: the camera takes it, and the visit records the
/// photo as supplied, not captured (the supervisor sees which).
#[test]
fn a_printed_photo_brought_along_is_recorded_as_supplied() {
    let tmp = tempfile_dir("photo-brought");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut all = unlock();
    all.extend(typed_applicant("卧床或患病", "11010519491231002X"));
    all.extend([
        wait("申请办理哪些业务？"),
        tap("普通护照 首次申请"),
        tap("下一步"),
        tap("申请人自带纸质照片：翻拍带来的照片（按自带照片登记）"),
        tap("拍照"),
        wait_long("采用此照片"),
        tap("采用此照片"),
        wait("指纹采集"),
    ]);
    ran(&vault, &tmp, all);
    std::thread::sleep(Duration::from_millis(500));
    let visit = draft_visit(&vault);
    assert!(matches!(visit.state.photo(), Some(PhotoInput::Supplied(_))), "{:?}", visit.state.photo());
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The officer goes back from the review and reads another person's card: the photo and the
/// prints taken of the first are not carried into the second's application. The photo step
/// has no photo to use until one is taken, and the fingerprints start again at the right thumb.
#[test]
fn another_applicant_read_after_going_back_has_their_own_photo_and_prints_taken() {
    let tmp = tempfile_dir("another-applicant");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut app = crate::visit::unit(&vault, &tmp.join("receipts"), doorstep_core::Policy::builtin().unwrap());
    let mut to_photo = crate::visit::demo_until("请与申请人核对");
    to_photo.extend([
        tap("申请人"),
        wait("申请人是谁"),
        device(&format!("card 测试乙 {}", id_aged(38, "001"))),
        tap("读取身份证"),
        wait("测试乙"),
        tap("下一步"),
        tap("普通护照 首次申请"),
        tap("下一步"),
        wait("证件照片"),
    ]);
    let outcome = crate::visit::drive(&mut app, to_photo);
    assert!(outcome.is_ok(), "{outcome:?}");
    // The first applicant's photo is not offered.
    let use_it = ScenarioStep { action: Action::Tap("采用此照片".into()), timeout: Duration::from_secs(2) };
    match crate::visit::drive(&mut app, vec![use_it]) {
        Err((1, why)) => assert!(why.contains("no button or field labelled \"采用此照片\""), "{why}"),
        other => panic!("the first applicant's photo was offered: {other:?}"),
    }
    let outcome = crate::visit::drive(
        &mut app,
        vec![
            tap("拍照"),
            wait_long("采用此照片"),
            tap("采用此照片"),
            wait("指纹采集"),
            // Not the first applicant's two thumbs, already "taken".
            wait("下一枚：右手拇指"),
        ],
    );
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(app);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The camera sees a face with the eyes closed (the labelled set's, its lids drawn down). An
/// infant's photo meets the standard so, which does not ask an infant to open the eyes (nor a
/// child under three for an expression or a gaze): the step says what it did not check, and
/// the photo is used with nothing failed. The same photo of an adult is refused for the eyes.
#[test]
fn an_infants_closed_eyes_are_not_refused_and_an_adults_are() {
    let tmp = tempfile_dir("infant-photo");
    let camera = tmp.join("camera");
    std::fs::create_dir_all(&camera).unwrap();
    crate::in_camera_frame(&crate::root().join("tests/data/photos/set/fer_author-closed.jpg"))
        .save(camera.join("frame.png"))
        .unwrap();
    let photo_step = || [tap("普通护照 首次申请"), tap("下一步"), wait("证件照片"), tap("拍照")];
    // Born on 1 January this year: under twelve months old until the year ends.
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut infant = child_with_guardians(0);
    infant.extend(photo_step());
    infant.extend([
        wait_long("按婴幼儿照相要求，不检测：头部左右转动、抬头或低头、睁眼、闭嘴"),
        // Sixteen of the twenty made: the four not asked of an infant are not counted.
        wait("照片符合标准（共 16 项检测）"),
        tap("采用此照片"),
        wait("指纹采集"),
    ]);
    with_camera(&vault, &tmp, &camera, infant);
    let visit = draft_visit(&vault);
    let Some(PhotoInput::Captured(photo)) = visit.state.photo() else { panic!("a photo: {:?}", visit.state.photo()) };
    assert!(photo.failed_checks.is_empty(), "{:?}", photo.failed_checks);
    assert_eq!(photo.override_reason, None);

    let adult_tmp = tmp.join("adult");
    let (_hub, vault) = hub_and_vault_as(&adult_tmp, DEVICE);
    let mut adult = unlock();
    adult.extend(typed_applicant("卧床或患病", "11010519491231002X"));
    adult.push(wait("申请办理哪些业务？"));
    adult.extend(photo_step());
    adult.extend([wait_long("闭眼或半闭眼：请双眼自然睁开，注视镜头"), wait("照片未通过以上检测")]);
    with_camera(&vault, &adult_tmp, &camera, adult);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Runs the unit on `vault` with the replay camera on the folder `camera`.
fn with_camera(vault: &std::path::Path, tmp: &std::path::Path, camera: &std::path::Path, steps: Vec<ScenarioStep>) {
    let mut app = crate::visit::unit(vault, &tmp.join("receipts"), doorstep_core::Policy::builtin().unwrap());
    app.insert_resource(doorstep::screens::visit::CameraChoice::Replay(camera.to_path_buf()));
    let outcome = crate::visit::drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(app);
    std::thread::sleep(Duration::from_millis(500));
}
