//! The steps that are forms: applicant, services, details, review and payment. Each view is
//! drawn from the visit and the form; each Next builds the step's input for core, which
//! decides.

use bevy::prelude::*;
use doorstep_core::id_number::Sex;
use doorstep_core::policy::PaymentMethod;
use doorstep_core::visit::{
    AbandonInput, DetailsInput, Identification, PaymentInput, Step, Visit, VisitEvent, VisitState,
};
use doorstep_core::{ApplicantInput, IdentitySource};

use super::{Act, View, actions, heading, line};
use crate::ui::form::{Form, action_button, choice_button, text_field};
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::label;
use crate::visit_flow::{VisitCmd, VisitFlow};

/// Form keys.
pub mod key {
    pub const NAME: &str = "applicant.name";
    pub const ID_NUMBER: &str = "applicant.id_number";
    pub const CARD_BIRTH: &str = "card.birth";
    pub const CARD_SEX: &str = "card.sex";
    pub const CARD_EXPIRY: &str = "card.expiry";
    pub const PHONE: &str = "details.phone";
    pub const ADDRESS: &str = "details.address";
    pub const OFFICE: &str = "details.office";
    /// The urgent ground's id (empty: not urgent), the evidence seen, the priority declared.
    pub const URGENT_GROUND: &str = "urgent.ground";
    pub const EVIDENCE: &str = "urgent.evidence";
    pub const PRIORITY: &str = "priority.declared";
    /// How the document reaches the applicant: "pickup", "delegate" or "post".
    pub const DELIVERY: &str = "details.delivery";
    pub const DELEGATE_NAME: &str = "delegate.name";
    pub const DELEGATE_ID: &str = "delegate.id_number";
    pub const DELEGATE_PHONE: &str = "delegate.phone";
    pub const RECIPIENT: &str = "post.recipient";
    pub const RECIPIENT_PHONE: &str = "post.phone";
    pub const PROVINCE: &str = "post.province";
    pub const CITY: &str = "post.city";
    pub const DISTRICT: &str = "post.district";
    pub const STREET: &str = "post.street";
    pub const POSTCODE: &str = "post.postcode";
    pub const PAYMENT: &str = "payment";
    pub const REFERENCE: &str = "payment.reference";
    pub const ABANDON_REASON: &str = "abandon.reason";
    pub const REFUND: &str = "abandon.refund";
    /// The officer's tick that the cash taken was handed back.
    pub const CASH_RETURNED: &str = "abandon.cash-returned";
}

/// The office where this unit's applicants collect their documents (`pickup_office` in the
/// configuration file; the demo's test office on a demo unit; otherwise typed each time).
#[derive(Resource, Debug, Clone, Default)]
pub struct PickupOffice(pub String);

/// What a step starts with: the unit's pickup office, collection in person, the applicant as
/// the recipient of a posted document; cash.
pub fn prefill(
    visit: &Visit,
    form: &mut Form,
    office: &str,
    booked: &[doorstep_core::appointment::Appointment],
    policy: &doorstep_core::Policy,
) {
    // A visit for an appointment: what the back office booked, to check and correct.
    let appointment = visit.appointment.as_ref().and_then(|id| booked.iter().find(|a| a.id == *id));
    if let Some(a) = appointment {
        match visit.step() {
            Step::Applicant => {
                form.set(key::NAME, a.name.as_str());
                form.set(key::ID_NUMBER, a.id_number.as_str());
            }
            Step::Services => super::services::fill(form, &a.services, policy),
            Step::Details => {
                form.set(key::PHONE, a.phone.display());
                if matches!(a.mode, doorstep_core::visit::VisitMode::Home { .. }) {
                    form.set(key::ADDRESS, a.address.as_str());
                }
            }
            _ => {}
        }
    }
    match visit.step() {
        Step::Details => {
            form.set(key::OFFICE, office);
            form.choose(key::DELIVERY, "pickup");
            // A child's document goes to the guardian.
            if let Some(who) = visit.state.identified() {
                let guardian = who
                    .guardians
                    .as_ref()
                    .and_then(|g| g.guardians.iter().find(|x| x.present))
                    .map(|g| g.name.as_str());
                form.set(key::RECIPIENT, guardian.unwrap_or(who.applicant.name.as_str()));
            }
        }
        Step::Pay => form.set(key::PAYMENT, "cash"),
        _ => {}
    }
}

pub fn view(v: &View, ui: &mut ChildSpawnerCommands) {
    match &v.visit.state {
        VisitState::Applicant(_) => applicant(v, ui),
        VisitState::Services(_) => super::services::view(v, ui),
        VisitState::Details(_) => super::details::view(v, ui),
        VisitState::Review(r) => review(v, r, ui),
        VisitState::Pay(_) => pay(v, ui),
        _ => {}
    }
}

fn applicant(v: &View, ui: &mut ChildSpawnerCommands) {
    heading(ui, Tr::new("visit.applicant.title"));
    line(ui, v.work.card_line());
    ui.spawn(Node::default()).with_child(action_button(Act::ReadCard, Tr::new("visit.applicant.read_card"), false));
    ui.spawn(text_field(key::NAME, Tr::new("visit.applicant.name"), 30));
    ui.spawn(text_field(key::ID_NUMBER, Tr::new("visit.applicant.id_number"), 18));
    super::held::view(v, ui);
    if let Some(below) = super::guardian::minor(v.form, v.policy) {
        super::guardian::view(v, below, ui);
    }
    actions(v, vec![(Act::Next, Tr::new("visit.next"), true)]);
}

fn review(v: &View, r: &doorstep_core::visit::Review, ui: &mut ChildSpawnerCommands) {
    heading(ui, Tr::new("visit.review.title"));
    // Large, for the applicant to read: each line is checked with them.
    let big = |ui: &mut ChildSpawnerCommands, tr: Tr| {
        ui.spawn(label(tr, theme::HEADING_SIZE, theme::TEXT));
    };
    ui.spawn(Node { column_gap: Val::Px(32.0), ..default() }).with_children(|row| {
        let taken = matches!(
            v.visit.state.photo(),
            Some(doorstep_core::visit::PhotoInput::Captured(_) | doorstep_core::visit::PhotoInput::Supplied(_))
        );
        if let Some(image) = v.work.photo_image().filter(|_| taken) {
            row.spawn((
                ImageNode::new(image),
                Node { width: Val::Px(133.0), height: Val::Px(177.0), flex_shrink: 0.0, ..default() },
            ));
        }
        row.spawn(Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(8.0), ..default() }).with_children(
            |col| {
                if let Some(who) = v.visit.state.identified() {
                    col.spawn(label(
                        Tr::new("visit.review.applicant").with("name", who.applicant.name.as_str()),
                        theme::TITLE_SIZE,
                        theme::TEXT,
                    ));
                    if let doorstep_core::Identity::Citizen { id } = &who.applicant.identity {
                        big(col, Tr::new("visit.review.id_number").with("id", id.as_str()));
                    }
                    if let Some(c) = who.guardians.as_ref().and_then(|g| g.companion.as_ref()) {
                        big(col, Tr::new("visit.review.companion").with("name", c.name.as_str()));
                    }
                    for g in who.guardians.iter().flat_map(|g| &g.guardians) {
                        let key = if g.present { "visit.review.guardian" } else { "visit.review.guardian_away" };
                        big(col, Tr::new(key).with("name", g.name.as_str()).with_key("relation", g.relation.key()));
                    }
                    // The document an endorsement goes on, for the applicant to check it is theirs.
                    for held in &who.applicant.held_documents {
                        let number = held.number.as_ref().map_or("—", |n| n.as_str());
                        let expiry = held.expiry.map_or("—".to_string(), |d| d.to_string());
                        big(
                            col,
                            Tr::new("visit.review.held")
                                .with_key("kind", held.kind.key())
                                .with("number", number)
                                .with("expiry", expiry),
                        );
                    }
                }
                if let Some(s) = v.visit.state.services() {
                    for service in &s.services {
                        big(col, Tr::message(service.describe()));
                    }
                    big(col, Tr::new("visit.services.total").with("amount", s.quote.total));
                }
            },
        );
    });
    big(ui, Tr::new("visit.review.phone").with("phone", r.details.phone.display()));
    big(ui, Tr::new("visit.review.address").with("address", &r.details.address));
    match &r.details.delivery {
        doorstep_core::visit::Delivery::Pickup { office } => {
            let how = Tr::new("visit.review.delivery").with_key("how", r.details.delivery.key());
            big(ui, how.with("office", office));
        }
        doorstep_core::visit::Delivery::Delegate { office, delegate } => {
            let how = Tr::new("visit.review.delivery").with_key("how", r.details.delivery.key());
            big(ui, how.with("office", office));
            big(ui, Tr::new("visit.review.delegate").with("name", delegate.name.as_str()));
        }
        doorstep_core::visit::Delivery::Post { address: a, postage } => {
            let place = format!("{}{}{}{}", a.province, a.city, a.district, a.street);
            big(
                ui,
                Tr::new("visit.review.post")
                    .with("name", a.recipient.as_str())
                    .with("address", place)
                    .with("postcode", &a.postcode),
            );
            // The postage as the details froze it; who takes it, from the rules.
            let rule = doorstep_core::policy::PostageRule { amount: *postage, ..v.policy.rules.postage.clone() };
            line(ui, super::details::postage_line(&rule));
        }
    }
    if let Some(g) = r.details.urgent.as_ref().and_then(|u| v.policy.urgent.ground(&u.ground)) {
        big(ui, Tr::new("visit.review.urgent").with_texts("ground", &g.label_zh, &g.label_en));
    }
    for c in v.policy.priority.categories().iter().filter(|c| r.details.priority.contains(&c.id)) {
        line(ui, Tr::new("visit.review.priority").with_texts("category", &c.label_zh, &c.label_en));
    }
    // Read to whoever confirms: a child's guardian with the child, or alone when the guardian
    // applies for a child who is not there.
    let (check, confirm) = match v.visit.state.identified() {
        Some(w) if w.applied_by_guardian => ("visit.review.check_absent", "visit.review.confirm_guardian"),
        Some(w) if w.guardians.as_ref().is_some_and(|g| g.any_present()) => {
            ("visit.review.check_child", "visit.review.confirm_child")
        }
        _ => ("visit.review.check", "visit.review.confirm"),
    };
    line(ui, Tr::new(check));
    actions(v, vec![(Act::Next, Tr::new(confirm), true)]);
}

/// What the stop's record keeps as the refund of cash handed back (the audit log's
/// `refund=` field).
pub const CASH_RETURNED_RECORD: &str = "cash-returned";

/// Whether the fee taken goes back as cash handed back (the officer's tick), not by a refund's
/// transaction reference: the stop panel and its confirmation ask the same.
fn refunded_in_cash(visit: &Visit) -> bool {
    visit.state.payment().is_some_and(|p| p.method == PaymentMethod::Cash)
}

/// Stopping the visit: why, and the refund when money was taken.
pub fn abandon_panel(v: &View, ui: &mut ChildSpawnerCommands) {
    heading(ui, Tr::new("visit.abandon.title"));
    line(ui, Tr::new("visit.abandon.explain"));
    ui.spawn(text_field(key::ABANDON_REASON, Tr::new("visit.abandon.reason"), 80));
    // What was taken, and how it goes back: cash handed back (no number to write), or the
    // refund's transaction reference.
    if let Some(p) = v.visit.state.payment().filter(|p| p.method != PaymentMethod::PayAtPickup) {
        let amount = p.amount.to_string();
        line(ui, Tr::new("visit.abandon.paid").with("amount", &amount).with_key("method", p.method.key()));
        if refunded_in_cash(v.visit) {
            ui.spawn(choice_button(
                Act::Toggle(key::CASH_RETURNED),
                Tr::new("visit.abandon.cash_returned").with("amount", &amount),
                v.form.is_on(key::CASH_RETURNED),
            ));
        } else {
            ui.spawn(text_field(key::REFUND, Tr::new("visit.abandon.refund"), 40));
        }
    }
    actions(
        v,
        vec![
            (Act::ConfirmAbandon, Tr::new("visit.abandon.confirm"), true),
            (Act::CancelAbandon, Tr::new("visit.abandon.cancel"), false),
        ],
    );
}

/// The ways to pay at the door, by their form value (a button's words start with a capital in
/// English, [`crate::ui::i18n::Capitalised`]; the same words inside a sentence do not).
const METHODS: [(&str, PaymentMethod); 3] =
    [("cash", PaymentMethod::Cash), ("mobile-qr", PaymentMethod::MobileQr), ("bank-card", PaymentMethod::BankCard)];

fn pay(v: &View, ui: &mut ChildSpawnerCommands) {
    heading(ui, Tr::new("visit.pay.title"));
    if let Some(amount) = v.visit.amount_due(v.policy) {
        ui.spawn(label(Tr::new("visit.pay.due").with("amount", amount), theme::TITLE_SIZE, theme::TEXT));
    }
    if let Some(c) = v.visit.state.services() {
        unconfirmed(ui, v.policy, &c.services, &c.quote);
    }
    ui.spawn(Node { column_gap: Val::Px(12.0), flex_wrap: FlexWrap::Wrap, ..default() }).with_children(|row| {
        for (code, method) in METHODS {
            let words = Tr::new(method.key());
            row.spawn(choice_button(Act::Pick(key::PAYMENT, code), words, v.form.get(key::PAYMENT) == code));
        }
    });
    if v.form.get(key::PAYMENT) != "cash" {
        ui.spawn(text_field(key::REFERENCE, Tr::new("visit.pay.reference"), 40));
    }
    actions(v, vec![(Act::Next, Tr::new("visit.pay.confirm"), true)]);
}

/// The warnings of what the fee and the endorsements chosen rest on, where that is
/// unconfirmed, in the warning's colour: at the services step, and at the payment, before the
/// money is taken.
pub(super) fn unconfirmed(
    ui: &mut ChildSpawnerCommands,
    policy: &doorstep_core::Policy,
    services: &[doorstep_core::Service],
    quote: &doorstep_core::policy::FeeQuote,
) {
    for w in doorstep_core::requirements::unconfirmed(policy, services, quote) {
        ui.spawn(label(Tr::message(doorstep_core::Localize::message(&w)), theme::BODY_SIZE, theme::WARN));
    }
}

/// An applicant whose card says they live in Hong Kong, Macao or abroad: nothing this unit
/// takes is theirs to apply for (their documents are issued elsewhere), and the services step
/// says so, instead of an empty list.
pub(super) fn none_for_residency(v: &View, ui: &mut ChildSpawnerCommands) {
    use doorstep_core::Residency;
    let residency = v.visit.state.identified().map(|w| w.applicant.identity.residency());
    let key = match residency {
        Some(Residency::HongKongMacao) => "visit.services.none_hk_macao",
        Some(Residency::Foreign) => "visit.services.none_foreign",
        _ => return,
    };
    ui.spawn(label(Tr::new(key), theme::BODY_SIZE, theme::ERROR));
}

/// The input of a form step, from the form.
fn event(visit: &Visit, form: &Form, policy: &doorstep_core::Policy) -> Option<VisitEvent> {
    let text = |k: &str| form.get(k).trim().to_string();
    Some(match visit.step() {
        Step::Applicant => {
            let from_card = !form.get(key::CARD_BIRTH).is_empty();
            let sex = match form.get(key::CARD_SEX) {
                "1" => Some(Sex::Male),
                "2" => Some(Sex::Female),
                _ => None,
            };
            VisitEvent::Identified(Identification {
                applicant: ApplicantInput {
                    source: Some(if from_card { IdentitySource::CardReader } else { IdentitySource::Typed }),
                    name: text(key::NAME),
                    id_number: text(key::ID_NUMBER).to_ascii_uppercase(),
                    card_birth_date: text(key::CARD_BIRTH),
                    card_sex: sex,
                    card_expiry: text(key::CARD_EXPIRY),
                    held_documents: super::held::held(form).ok().flatten().into_iter().collect(),
                    ..Default::default()
                },
                guardians: super::guardian::guardians(form, policy),
                applied_by_guardian: super::guardian::child_absent(form, policy),
            })
        }
        Step::Services => VisitEvent::ServicesChosen(super::services::input(form, policy, visit)),
        Step::Details => VisitEvent::DetailsEntered(DetailsInput {
            phone: text(key::PHONE),
            address: text(key::ADDRESS),
            delivery: super::details::delivery(form),
            urgent: super::details::urgent(form),
            declared_priority: form.list(key::PRIORITY),
        }),
        Step::Review => VisitEvent::ReviewConfirmed,
        Step::Pay => {
            let method = METHODS.iter().find(|(c, _)| *c == form.get(key::PAYMENT)).map(|(_, m)| *m)?;
            VisitEvent::Paid(PaymentInput {
                method,
                amount: visit.amount_due(policy)?,
                reference: text(key::REFERENCE),
            })
        }
        _ => return None,
    })
}

pub fn act(
    mut acts: MessageReader<Act>,
    flow: Res<VisitFlow>,
    mut form: ResMut<Form>,
    mut cmds: MessageWriter<VisitCmd>,
    work: Res<super::Work>,
    flow_policy: Res<crate::screens::PolicyInUse>,
    mut seen: Local<super::SeenStep>,
) {
    if seen.changed(&flow) {
        acts.clear();
        return;
    }
    let Some(visit) = &flow.visit else {
        acts.clear();
        return;
    };
    let form_step = matches!(visit.step(), Step::Applicant | Step::Services | Step::Details | Step::Review | Step::Pay);
    for act in acts.read() {
        match act {
            Act::Toggle(k) => form.toggle(k),
            Act::Pick(group, value) => form.choose(group, *value),
            Act::Choose(group, value) => {
                let again = form.get(group) == value.as_str();
                form.choose(group, if again { "" } else { value.as_str() });
                super::services::type_changed(&mut form, group);
                if *group == key::URGENT_GROUND {
                    // Another ground asks for other evidence: seen again, for it.
                    form.choose(key::EVIDENCE, "");
                }
            }
            Act::Item(list, item) => form.toggle_item(list, item),
            Act::Abandon | Act::CancelAbandon => {
                form.toggle(super::ABANDONING);
                form.focus = None;
            }
            Act::ConfirmAbandon if work.closing_busy() => {}
            Act::ConfirmAbandon => {
                // Cash handed back is recorded as such; any other refund by its reference.
                let refund = if refunded_in_cash(visit) {
                    if form.is_on(key::CASH_RETURNED) { CASH_RETURNED_RECORD.to_string() } else { String::new() }
                } else {
                    form.get(key::REFUND).trim().to_string()
                };
                cmds.write(VisitCmd::apply(VisitEvent::Abandon(AbandonInput {
                    reason: form.get(key::ABANDON_REASON).trim().to_string(),
                    refund_reference: (!refund.is_empty()).then_some(refund),
                })));
            }
            // A held document half written: said under its fields, nothing sent.
            Act::Next if visit.step() == Step::Applicant && super::held::held(&form).is_err() => {
                form.press(super::held::CHECKED);
            }
            // An endorsement half chosen: said under it, nothing sent.
            Act::Next
                if visit.step() == Step::Services && super::services::incomplete(&form, &flow_policy.0, visit) =>
            {
                form.press(super::services::CHECKED);
            }
            Act::Next if form_step => {
                if let Some(e) = event(visit, &form, &flow_policy.0) {
                    form.focus = None;
                    cmds.write(VisitCmd::apply(e));
                }
            }
            _ => {}
        }
    }
}
