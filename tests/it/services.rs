//! The services step on the unit: what the policy lists offered, a choice core refuses greyed
//! with why, an endorsement half chosen refused on the screen, each region's proof its own.

use crate::sync::{hub_and_vault_as, tempfile_dir};
use doorstep::dev::scenario::ScenarioStep;
use doorstep_core::visit::ChosenServices;

use crate::visit::{DEVICE, draft_visit, run_steps, tap, typed, typed_applicant, unlock, wait};

/// The services step taken by `steps` for an applicant of 76 (each test in its own vault),
/// ending on the photo step: what core recorded as chosen.
fn chosen_by(name: &str, steps: Vec<ScenarioStep>) -> ChosenServices {
    let tmp = tempfile_dir(name);
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut all = unlock();
    all.extend(typed_applicant("高龄申请人", "11010519491231002X"));
    all.push(wait("申请办理哪些业务？"));
    all.extend(steps);
    all.push(wait("拍照"));
    let outcome = run_steps(&vault, all);
    assert!(outcome.is_ok(), "{outcome:?}");
    let chosen = draft_visit(&vault).state.services().expect("services chosen").clone();
    let _ = std::fs::remove_dir_all(&tmp);
    chosen
}

/// Services as the command line spells them.
fn services(specs: &[&str]) -> Vec<doorstep_core::Service> {
    specs.iter().map(|s| s.parse().unwrap()).collect()
}

/// A family-visit endorsement is offered once the officer has seen the relationship proven,
/// and is applied for with the permit.
#[test]
fn a_family_visit_endorsement_needs_the_relationship_seen() {
    let chosen = chosen_by(
        "endorsement",
        vec![
            tap("往来港澳通行证 首次申请"),
            tap("T 探亲"),
            // Not offered yet: a spouse, parent or child there must be proven.
            wait("T 类签注 3个月多次须满足"),
            tap("探望配偶、父母或子女（已查验亲属关系证明）"),
            tap("3个月多次有效"),
            tap("下一步"),
        ],
    );
    assert_eq!(chosen.services, services(&["hk-macao-permit", "hk-macao-endorsement:T:multi:3m"]));
    assert!(chosen.facts.close_relative);
}

/// The services step offers what the policy lists, not a fixed few: a passport replaced after
/// loss, a one-trip Taiwan permit, and a stay endorsement whose validity is the months Hong
/// Kong approved, once the approval is seen.
#[test]
fn every_document_reason_and_endorsement_the_policy_lists_can_be_chosen() {
    let chosen = chosen_by(
        "services",
        vec![
            // Core's refusal, greyed once the form is changed: Next checks it again.
            tap("下一步"),
            wait("请至少选择一项业务"),
            tap("普通护照 首次申请"),
            wait("已修改：请再按底部本步骤的按钮（如“下一步”）重新核对"),
            tap("遗失补发"),
            tap("往来台湾通行证 首次申请"),
            tap("一次有效"),
            tap("往来港澳通行证 首次申请"),
            tap("D 逗留"),
            tap("批准的期限（月，1至84）"),
            typed("24"),
            // Not taken before the approval is seen: said on the screen, nothing sent.
            tap("下一步"),
            // Said at the top, where Next scrolls to, with the region: the endorsement itself may
            // be below the fold.
            wait("签注尚未选完，请补全："),
            wait("港澳签注：D 类签注 2年多次须满足"),
            tap("持有批准文件（已查验原件）"),
            // Priced once complete.
            wait("港澳签注 D 2年多次有效：120.00 元"),
            tap("下一步"),
        ],
    );
    assert_eq!(
        chosen.services,
        services(&["passport:lost", "hk-macao-permit", "taiwan-permit:one-trip", "hk-macao-endorsement:D:multi:24m"])
    );
    assert!(chosen.facts.approval_document && !chosen.facts.close_relative);
}

/// An endorsement whose type is chosen and whose option is not is not dropped on Next: the step
/// says what is left to choose and stays. A document refused beside it (a passport's
/// replacement after damage with no passport recorded) does not grey the endorsement. A proof
/// ticked for one region's endorsement (Hong Kong's approval of a stay) does not stand for the
/// other's (the Taiwan Affairs Office's approval).
#[test]
fn an_endorsement_half_chosen_or_proven_for_the_other_region_is_not_taken() {
    let chosen = chosen_by(
        "services-half",
        vec![
            tap("往来港澳通行证 首次申请"),
            tap("Q 其他"),
            tap("下一步"),
            wait("签注尚未选完，请补全："),
            wait("港澳签注：请选择 Q 其他签注的有效期和次数"),
            // A passport refused beside it leaves the endorsement's options as they were.
            tap("普通护照 首次申请"),
            tap("损毁换发"),
            wait("普通护照损毁换发须持有原证件"),
            tap("3个月一次有效"),
            tap("普通护照 损毁换发"),
            // Hong Kong's approval of a stay does not open Taiwan's invited endorsement.
            tap("Q 其他"),
            tap("D 逗留"),
            tap("批准的期限（月，1至84）"),
            typed("24"),
            tap("持有批准文件（已查验原件）"),
            tap("往来台湾通行证 首次申请"),
            tap("Y 应邀"),
            wait("Y 类签注 6个月一次须满足：持有批准文件"),
            tap("Y 应邀"),
            tap("下一步"),
        ],
    );
    assert_eq!(chosen.services, services(&["hk-macao-permit", "taiwan-permit", "hk-macao-endorsement:D:multi:24m"]));
    assert!(chosen.facts.approval_document, "Hong Kong's approval, sealed with its endorsement");
}

/// Both regions' endorsements half chosen: the step's top names what is left of each, with its
/// region (Next, refused, scrolls there); taken off again, the permits alone go on.
#[test]
fn each_region_half_chosen_is_named_at_the_top() {
    let chosen = chosen_by(
        "services-both-half",
        vec![
            tap("往来港澳通行证 首次申请"),
            tap("T 探亲"),
            tap("往来台湾通行证 首次申请"),
            // Hong Kong's chosen type is the only one of its region still shown: this is Taiwan's.
            tap("L 团队旅游"),
            tap("下一步"),
            wait("签注尚未选完，请补全："),
            wait("港澳签注：请选择 T 探亲签注的有效期和次数"),
            wait("赴台签注：请选择 L 团队旅游签注的有效期和次数"),
            // Taken off: Taiwan's first, while Hong Kong's other types are still folded away.
            tap("L 团队旅游"),
            tap("T 探亲"),
            tap("下一步"),
        ],
    );
    assert_eq!(chosen.services, services(&["hk-macao-permit", "taiwan-permit"]));
}

/// An endorsement type resting on an unconfirmed source (Taiwan's group tour, [U]) is said so
/// beside the fee at the services step, in time to check it before anything is taken.
#[test]
fn what_rests_on_an_unconfirmed_source_is_said_beside_the_fee() {
    let chosen = chosen_by(
        "services-unconfirmed",
        vec![
            tap("往来台湾通行证 首次申请"),
            tap("L 团队旅游"),
            tap("6个月一次有效"),
            wait("赴台签注 L 的依据未经证实，请核对本局规定"),
            tap("下一步"),
        ],
    );
    assert_eq!(chosen.services, services(&["taiwan-permit", "taiwan-endorsement:L:1x:6m"]));
}

/// A Hong Kong or Macao resident's card, or a foreign permanent resident's: nothing here is
/// theirs to apply for, and the services step says so, not an empty list.
#[test]
fn a_card_of_another_residency_is_told_nothing_here_is_for_them() {
    for (id, said) in [
        ("810000198001010014", "此证为港澳居民所持：本机受理的证件均不适用"),
        ("910105198001010015", "此证为外国人永久居留身份证：本机受理的证件均不适用"),
    ] {
        let tmp = tempfile_dir("services-residency");
        let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
        let mut all = unlock();
        all.extend(typed_applicant("高龄申请人", id));
        all.push(wait("申请办理哪些业务？"));
        all.push(wait(said));
        let outcome = run_steps(&vault, all);
        let _ = std::fs::remove_dir_all(&tmp);
        assert!(outcome.is_ok(), "{id}: {outcome:?}");
    }
}

/// `in_view` judges what is drawn: on a unit with no window of its own it fails and says why,
/// instead of passing as `see` would.
#[test]
fn in_view_needs_a_window() {
    let tmp = tempfile_dir("in-view-headless");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let mut steps = unlock();
    steps.push(wait("开始上门受理"));
    steps.push(ScenarioStep {
        action: doorstep::dev::scenario::Action::InView("开始上门受理".into()),
        timeout: std::time::Duration::from_secs(5),
    });
    let (step, why) = run_steps(&vault, steps.clone()).expect_err("no window: nothing is in view");
    assert_eq!(step, steps.len(), "{why}");
    assert!(why.starts_with("\"开始上门受理\": in_view needs the unit's own window;"), "{why}");
    let _ = std::fs::remove_dir_all(&tmp);
}
