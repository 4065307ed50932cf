//! The demo visit's steps from a step on to the receipt, for an applicant who is not the demo's
//! adult: a child who signs with a guardian here, one whose guardian alone signs, or one with an
//! entrusted companion.

use doorstep::dev::scenario::{Action, ScenarioStep};

use crate::visit::{steps, tap, wait};

/// The demo visit from the services to the receipt, waiting before the signatures for the pad
/// of `signer` (its caption) to be there.
pub(crate) fn demo_services_to_receipt(signer: &str) -> Vec<ScenarioStep> {
    demo_to_receipt(&Action::Tap("普通护照 首次申请".into()), signer, CHILD_CONSENT)
}

/// The consent of a child who signs, with guardians: the child's and the guardians' both.
const CHILD_CONSENT: &str = "申请人及其监护人同意为本次申请采集申请人的照片和指纹";

/// The applicant's consent to the photo and prints taken, as the demo visit ticks it.
pub(crate) const APPLICANT_CONSENT: &str = "本人同意为本次申请采集照片和指纹";

/// The applicant's declaration, as the demo visit ticks it.
const APPLICANT_DECLARES: &str = "本人申请办理以上业务，并声明所填内容真实";

/// The demo visit from its step `from` to the receipt, waiting before the signatures for the
/// pad of `signer` (its caption) to be there, and ticking `consent` to what was collected.
pub(crate) fn demo_to_receipt(from: &Action, signer: &str, consent: &str) -> Vec<ScenarioStep> {
    let demo = steps();
    let services = demo.iter().position(|s| s.action == *from).expect("the step to start from");
    let receipt = demo.iter().position(|s| s.action == Action::Wait("打印回执".into())).expect("receipt");
    let mut out = Vec::new();
    for step in &demo[services..=receipt] {
        if step.action == Action::Sign {
            out.push(wait(signer));
        }
        // The consent to what was collected is the guardian's where the child does not sign,
        // and so is the declaration that applies.
        if step.action == Action::Tap(APPLICANT_CONSENT.into()) {
            out.push(tap(consent));
            continue;
        }
        if step.action == Action::Tap(APPLICANT_DECLARES.into()) && consent.starts_with("监护人") {
            out.push(tap("监护人代被监护人申请办理以上业务，并声明所填内容真实"));
            continue;
        }
        // The review is confirmed by the guardian alone for a child not there, by the child
        // and the guardian for a child with a guardian here (not with only a companion).
        if step.action == Action::Tap("申请人确认无误".into()) {
            if consent.starts_with("监护人") {
                out.push(tap("监护人确认无误"));
                continue;
            }
            if signer.starts_with("监护人") {
                out.push(tap("申请人及监护人确认无误"));
                continue;
            }
        }
        // A child who signs with guardians declares with them.
        if step.action == Action::Tap(APPLICANT_DECLARES.into()) && consent.starts_with("申请人及其监护人") {
            out.push(tap("申请人及其监护人申请办理以上业务，并声明所填内容真实"));
            continue;
        }
        out.push(step.clone());
    }
    out
}
