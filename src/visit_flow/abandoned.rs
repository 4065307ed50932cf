//! A visit stopped before its seal, as the vault's audit log records it.

use bevy::prelude::*;
use doorstep_core::visit::Visit;

use crate::session::SharedVault;
use crate::tasks::Waker;

/// What the audit log keeps of a visit stopped before its seal: which visit, the step it was
/// stopped at, the fee taken (and how) and the refund's reference. Not the officer's words
/// (they may name the applicant), nor anyone's name or number.
pub fn abandoned_subject(visit: &Visit) -> Option<String> {
    let doorstep_core::visit::VisitState::Abandoned(a) = &visit.state else { return None };
    let paid = match &a.payment {
        Some(p) if p.method != doorstep_core::policy::PaymentMethod::PayAtPickup => {
            format!("{} {}", p.amount, p.method.key())
        }
        _ => "none".to_string(),
    };
    let refund = refund_field(a.refund_reference.as_deref());
    Some(format!("{} step={} paid={paid} refund={refund}", visit.id, a.at_step.key()))
}

/// Whether the stop recorded as `subject` ([`abandoned_subject`]) had taken a fee (its "paid="
/// field is not "none"): the supervisor's shift counts those refunded.
pub fn took_a_fee(subject: &str) -> bool {
    !subject.split(' ').any(|f| f == "paid=none")
}

/// The refund as the stop's record gives it: the reference's letters, digits, dashes and
/// underscores, at most 64 (anything else typed there, a space or "step=", cannot pass for
/// another field of the record); "given" for a refund written in words only (a cash refund has
/// no number: "已退现金"); "none" where nothing was typed.
pub(super) fn refund_field(typed: Option<&str>) -> String {
    let typed = typed.map(str::trim).unwrap_or_default();
    let kept: String = typed.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).take(64).collect();
    match (kept.is_empty(), typed.is_empty()) {
        (false, _) => kept,
        (true, false) => "given".to_string(),
        (true, true) => "none".to_string(),
    }
}

/// Records a visit stopped before its seal in the vault's audit log, on a task (the record is
/// made durable): the supervisor's diagnostics count it.
/// `discarded`: stopped by a discard on the home screen, from its draft, which may be stale: not
/// recorded for a visit the outbox holds. (A visit stopped in itself is recorded whatever the
/// outbox holds: a seal reported failed whose file was durable, then stopped with its refund,
/// keeps its refund in the record.)
pub(super) fn record_abandoned(
    visit: &Visit,
    vault: Option<SharedVault>,
    waker: &Waker,
    now: time::OffsetDateTime,
    discarded: bool,
) {
    let (Some(vault), Some(subject)) = (vault, abandoned_subject(visit)) else { return };
    let id = visit.id.clone();
    let _ = crate::tasks::spawn("abandoned", waker, move || {
        let mut v = crate::session::lock(&vault);
        // A visit whose application the outbox holds was sealed, whatever its draft said (a
        // seal reported failed whose file was durable): not a stop.
        if discarded && v.outbox().is_ok_and(|o| o.iter().any(|e| e.visit_id == id)) {
            warn!("a sealed visit's draft was discarded: not recorded as a stop");
            return;
        }
        if let Err(e) = v.record_abandoned(now.unix_timestamp(), &subject) {
            error!("a stopped visit could not be recorded in the audit log: {e}");
        }
    });
}
