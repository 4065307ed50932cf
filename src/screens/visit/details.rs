//! The details step: contact, how the document reaches the applicant (collected in person,
//! by a delegate, or posted), urgent processing with the evidence seen, and the priority
//! categories the officer declares.

use bevy::prelude::*;
use doorstep_core::person::{DelegateInput, IdDocumentKind};
use doorstep_core::policy::{Confidence, PostageCollected, PriorityRule};
use doorstep_core::visit::{DeliveryInput, UrgentRequest};

use super::forms::key;
use super::{Act, View, actions, heading, line};
use crate::ui::form::{Form, choice_button, text_field};
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::label;

/// The ways a document reaches the applicant, by their form value, with the words of their
/// buttons (their own keys: a button starts with a capital in English, where the same words
/// inside a sentence of the review and the receipt do not).
const DELIVERIES: [(&str, &str); 3] =
    [("pickup", "visit.details.pickup"), ("delegate", "visit.details.delegate"), ("post", "visit.details.post")];

pub fn view(v: &View, ui: &mut ChildSpawnerCommands) {
    heading(ui, Tr::new("visit.details.title"));
    ui.spawn(text_field(key::PHONE, Tr::new("visit.details.phone"), 20));
    said_here(v, key::PHONE, ui);
    ui.spawn(text_field(key::ADDRESS, Tr::new("visit.details.address"), 80));
    said_here(v, key::ADDRESS, ui);
    line(ui, Tr::new("visit.details.delivery"));
    let postage = &v.policy.rules.postage;
    ui.spawn(Node { column_gap: Val::Px(12.0), flex_wrap: FlexWrap::Wrap, ..default() }).with_children(|row| {
        for (value, label) in DELIVERIES {
            if value == "post" && !postage.offered {
                continue;
            }
            row.spawn(choice_button(
                Act::Pick(key::DELIVERY, value),
                Tr::new(label),
                v.form.get(key::DELIVERY) == value,
            ));
        }
    });
    said_here(v, key::DELIVERY, ui);
    match v.form.get(key::DELIVERY) {
        "post" => {
            line(ui, postage_line(postage));
            // Side by side, as an envelope reads: who, then the region, then the street.
            let rows: [&[(&'static str, &'static str, usize, f32)]; 3] = [
                &[
                    (key::RECIPIENT, "visit.details.recipient", 30, 40.0),
                    (key::RECIPIENT_PHONE, "visit.details.recipient_phone", 20, 60.0),
                ],
                &[
                    (key::PROVINCE, "visit.details.province", 20, 34.0),
                    (key::CITY, "visit.details.city", 20, 33.0),
                    (key::DISTRICT, "visit.details.district", 20, 33.0),
                ],
                &[(key::STREET, "visit.details.street", 80, 70.0), (key::POSTCODE, "visit.details.postcode", 6, 30.0)],
            ];
            for fields in rows {
                ui.spawn(Node { column_gap: Val::Px(12.0), width: Val::Percent(100.0), ..default() }).with_children(
                    |row| {
                        for &(k, caption, max, share) in fields {
                            row.spawn(Node { width: Val::Percent(share), flex_shrink: 1.0, ..default() })
                                .with_child(text_field(k, Tr::new(caption), max));
                        }
                    },
                );
                // Under the row: a refusal names its field.
                said_here(v, fields[0].0, ui);
            }
        }
        "delegate" => {
            ui.spawn(text_field(key::OFFICE, Tr::new("visit.details.office"), 40));
            said_here(v, key::OFFICE, ui);
            ui.spawn(text_field(key::DELEGATE_NAME, Tr::new("visit.details.delegate_name"), 30));
            said_here(v, key::DELEGATE_NAME, ui);
            ui.spawn(text_field(key::DELEGATE_ID, Tr::new("visit.details.delegate_id"), 18));
            said_here(v, key::DELEGATE_ID, ui);
            ui.spawn(text_field(key::DELEGATE_PHONE, Tr::new("visit.details.delegate_phone"), 20));
            said_here(v, key::DELEGATE_PHONE, ui);
        }
        _ => {
            ui.spawn(text_field(key::OFFICE, Tr::new("visit.details.office"), 40));
            said_here(v, key::OFFICE, ui);
        }
    }
    urgency(v, ui);
    priority(v, ui);
    actions(v, vec![(Act::Next, Tr::new("visit.next"), true)]);
}

/// Urgent processing (加急): the ground, and each piece of evidence the bureau asks to see.
fn urgency(v: &View, ui: &mut ChildSpawnerCommands) {
    let services = v.visit.state.services().map(|c| c.services.as_slice()).unwrap_or_default();
    line(ui, Tr::new("visit.details.urgent"));
    let chosen = v.form.get(key::URGENT_GROUND);
    let wrap = Node { column_gap: Val::Px(12.0), row_gap: Val::Px(8.0), flex_wrap: FlexWrap::Wrap, ..default() };
    ui.spawn(wrap.clone()).with_children(|row| {
        row.spawn(choice_button(
            Act::Choose(key::URGENT_GROUND, String::new()),
            Tr::new("visit.details.not_urgent"),
            chosen.is_empty(),
        ));
        // Only the grounds that hold for what the visit applies for (no "document lost" for a
        // first application); one chosen before the services changed stays, to be refused by name.
        let holds: Vec<&str> = v.policy.urgent.grounds_for(services).map(|g| g.id.as_str()).collect();
        let offered = v.policy.urgent.grounds().iter().filter(|g| holds.contains(&g.id.as_str()) || g.id == chosen);
        for g in offered {
            let label = Tr::new("visit.details.text").with_texts("text", &g.label_zh, &g.label_en);
            row.spawn(choice_button(Act::Choose(key::URGENT_GROUND, g.id.clone()), label, chosen == g.id));
        }
    });
    let refused_here = said_here(v, key::URGENT_GROUND, ui);
    let Some(ground) = v.policy.urgent.ground(chosen) else { return };
    // Chosen before the services changed, and no longer holding: said now, not only at Next
    // (where Next refused it, that refusal is said here instead).
    if !ground.holds_for(services) && !refused_here {
        let why = doorstep_core::policy::UrgentError::NotForTheseServices {
            ground: (ground.label_zh.clone(), ground.label_en.clone()),
            reasons: ground.for_reasons.clone(),
        };
        ui.spawn(label(Tr::message(doorstep_core::Localize::message(&why)), theme::BODY_SIZE, theme::WARN));
    }
    line(ui, Tr::new("visit.details.evidence"));
    let seen = v.form.list(key::EVIDENCE);
    ui.spawn(wrap).with_children(|row| {
        for e in &ground.evidence {
            let label = Tr::new("visit.details.text").with_texts("text", &e.zh, &e.en);
            row.spawn(choice_button(Act::Item(key::EVIDENCE, e.id.clone()), label, seen.contains(&e.id)));
        }
    });
    said_here(v, key::EVIDENCE, ui);
}

/// The priority categories the officer declares, each with the evidence to see; those that
/// follow from the birth date are computed by core.
fn priority(v: &View, ui: &mut ChildSpawnerCommands) {
    line(ui, Tr::new("visit.details.priority"));
    let declared = v.form.list(key::PRIORITY);
    let wrap = Node { column_gap: Val::Px(12.0), row_gap: Val::Px(8.0), flex_wrap: FlexWrap::Wrap, ..default() };
    ui.spawn(wrap).with_children(|row| {
        for c in v.policy.priority.categories() {
            let PriorityRule::Declared { evidence_zh, evidence_en } = &c.rule else { continue };
            // A category no published rule confirms is marked so wherever it is shown.
            let key = match c.confidence {
                Confidence::Unconfirmed => "visit.details.priority_item_unconfirmed",
                _ => "visit.details.priority_item",
            };
            let label = Tr::new(key).with_texts("category", &c.label_zh, &c.label_en).with_texts(
                "evidence",
                evidence_zh,
                evidence_en,
            );
            row.spawn(choice_button(Act::Item(key::PRIORITY, c.id.clone()), label, declared.contains(&c.id)));
        }
    });
    said_here(v, key::PRIORITY, ui);
}

/// The refusal on screen, said again under the control `key` where it concerns it.
fn said_here(v: &View, key: &str, ui: &mut ChildSpawnerCommands) -> bool {
    super::said_under(v, key, place, ui)
}

/// The control a refusal of the details concerns (its form key, or the first of its row), under
/// which it is said again: the step is longer than the screen, posted most of all.
fn place(refusal: &doorstep_core::text::Message) -> Option<&'static str> {
    let place = match refusal.key {
        "error.details.phone" => key::PHONE,
        "error.details.address-missing" | "error.details.address-too-long" => key::ADDRESS,
        "error.details.pickup-office-missing" => key::OFFICE,
        "error.details.post-not-offered" => key::DELIVERY,
        "error.details.recipient-name" | "error.details.recipient-phone" => key::RECIPIENT,
        "error.details.region-missing" => key::PROVINCE,
        "error.details.street-missing" | "error.details.postcode" => key::STREET,
        "error.delegate.name" => key::DELEGATE_NAME,
        "error.delegate.document-kind-missing" | "error.delegate.document" | "error.delegate.not-an-adult" => {
            key::DELEGATE_ID
        }
        "error.delegate.phone" => key::DELEGATE_PHONE,
        "error.urgent.unknown-ground" | "error.urgent.not-for-services" => key::URGENT_GROUND,
        "error.urgent.missing-evidence" => key::EVIDENCE,
        "error.priority.unknown" | "error.priority.not-declarable" => key::PRIORITY,
        _ => return None,
    };
    Some(place)
}

/// The urgent request the form describes: the ground chosen, with only its own evidence.
pub(super) fn urgent(form: &Form) -> Option<UrgentRequest> {
    let ground = form.get(key::URGENT_GROUND);
    (!ground.is_empty()).then(|| UrgentRequest { ground: ground.to_string(), evidence_seen: form.list(key::EVIDENCE) })
}

/// The postage, and when it is paid.
pub(super) fn postage_line(postage: &doorstep_core::policy::PostageRule) -> Tr {
    let when = match postage.collected {
        PostageCollected::WithFee => "visit.details.postage_with_fee",
        PostageCollected::OnDelivery => "visit.details.postage_on_delivery",
    };
    Tr::new(when).with("amount", postage.amount)
}

/// The delivery the form describes; a blank recipient's phone is the contact phone.
pub(super) fn delivery(form: &Form) -> DeliveryInput {
    let text = |k: &str| form.get(k).trim().to_string();
    match form.get(key::DELIVERY) {
        "post" => {
            let phone = text(key::RECIPIENT_PHONE);
            DeliveryInput::Post {
                recipient: text(key::RECIPIENT),
                phone: if phone.is_empty() { text(key::PHONE) } else { phone },
                province: text(key::PROVINCE),
                city: text(key::CITY),
                district: text(key::DISTRICT),
                street: text(key::STREET),
                postcode: text(key::POSTCODE),
            }
        }
        "delegate" => DeliveryInput::Delegate {
            office: text(key::OFFICE),
            delegate: DelegateInput {
                name: text(key::DELEGATE_NAME),
                document_kind: Some(IdDocumentKind::ResidentId),
                document_number: text(key::DELEGATE_ID).to_ascii_uppercase(),
                document_state: String::new(),
                phone: text(key::DELEGATE_PHONE),
            },
        },
        _ => DeliveryInput::Pickup { office: text(key::OFFICE) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&'static str, &str)]) -> Form {
        let mut f = Form::default();
        for (k, v) in pairs {
            f.set(k, *v);
        }
        f
    }

    #[test]
    fn the_delivery_is_what_the_form_chose() {
        let post = [
            (key::DELIVERY, "post"),
            (key::PHONE, "010-65123456"),
            (key::RECIPIENT, "测试"),
            (key::PROVINCE, "测试省"),
            (key::CITY, "测试市"),
            (key::DISTRICT, "测试区"),
            (key::STREET, " 测试路1号 "),
            (key::POSTCODE, "100000"),
        ];
        let posted = |phone: &str| DeliveryInput::Post {
            recipient: "测试".into(),
            phone: phone.into(),
            province: "测试省".into(),
            city: "测试市".into(),
            district: "测试区".into(),
            street: "测试路1号".into(),
            postcode: "100000".into(),
        };
        let mut with_phone = post.to_vec();
        with_phone.push((key::RECIPIENT_PHONE, "13800138000"));
        type Fields<'a> = Vec<(&'static str, &'a str)>;
        let cases: Vec<(&str, Fields, DeliveryInput)> = vec![
            ("a blank recipient's phone is the contact phone", post.to_vec(), posted("010-65123456")),
            ("the recipient's own phone", with_phone, posted("13800138000")),
            (
                "a delegate with a resident ID card, its x in capitals",
                vec![
                    (key::DELIVERY, "delegate"),
                    (key::OFFICE, "测试出入境接待大厅"),
                    (key::DELEGATE_NAME, "测试代领"),
                    (key::DELEGATE_ID, "11010519491231002x"),
                    (key::DELEGATE_PHONE, "13800138000"),
                ],
                DeliveryInput::Delegate {
                    office: "测试出入境接待大厅".into(),
                    delegate: DelegateInput {
                        name: "测试代领".into(),
                        document_kind: Some(IdDocumentKind::ResidentId),
                        document_number: "11010519491231002X".into(),
                        document_state: String::new(),
                        phone: "13800138000".into(),
                    },
                },
            ),
            (
                "collected in person",
                vec![(key::DELIVERY, "pickup"), (key::OFFICE, "测试出入境接待大厅"), (key::STREET, "ignored")],
                DeliveryInput::Pickup { office: "测试出入境接待大厅".into() },
            ),
        ];
        for (what, pairs, want) in cases {
            assert!(delivery(&form(&pairs)) == want, "{what}");
        }
    }

    /// Each refusal of the details is said under the control it concerns (a posted address's
    /// under the row of its field).
    #[test]
    fn each_refusal_of_the_details_is_placed_under_its_control() {
        use doorstep_core::Localize;
        use doorstep_core::name::NameError;
        use doorstep_core::person::DelegateError as D;
        use doorstep_core::phone::PhoneError;
        use doorstep_core::policy::{PriorityError, UrgentError};
        use doorstep_core::visit::DetailsError as E;
        let ground = || ("测试".to_string(), "test".to_string());
        let cases: Vec<(E, &str)> = vec![
            (E::Phone(PhoneError::Empty), key::PHONE),
            (E::AddressMissing, key::ADDRESS),
            (E::AddressTooLong { max: 80 }, key::ADDRESS),
            (E::PickupOfficeMissing, key::OFFICE),
            (E::Delegate(D::Name(NameError::Empty)), key::DELEGATE_NAME),
            (E::Delegate(D::DocumentKindMissing), key::DELEGATE_ID),
            (E::Delegate(D::Document(doorstep_core::person::IdDocumentError::ForeignPassport)), key::DELEGATE_ID),
            (E::Delegate(D::Phone(PhoneError::NotAPhoneNumber)), key::DELEGATE_PHONE),
            (E::Delegate(D::NotAnAdult), key::DELEGATE_ID),
            (E::PostNotOffered, key::DELIVERY),
            (E::RecipientName(NameError::Empty), key::RECIPIENT),
            (E::RecipientPhone(PhoneError::Empty), key::RECIPIENT),
            (E::RegionMissing, key::PROVINCE),
            (E::StreetMissing, key::STREET),
            (E::Postcode, key::STREET),
            (E::Urgent(UrgentError::UnknownGround("x".into())), key::URGENT_GROUND),
            (E::Urgent(UrgentError::MissingEvidence { ground: ground(), missing: vec![ground()] }), key::EVIDENCE),
            (E::Urgent(UrgentError::NotForTheseServices { ground: ground(), reasons: Vec::new() }), key::URGENT_GROUND),
            (E::Priority(PriorityError::Unknown("x".into())), key::PRIORITY),
            (E::Priority(PriorityError::NotDeclarable("x".into())), key::PRIORITY),
        ];
        for (error, at) in &cases {
            let message = doorstep_core::visit::VisitError::Details(error.clone()).message();
            assert_eq!(place(&message), Some(*at), "{error:?}");
        }
        // Every refusal of the details is in the table (a new one fails to build here).
        let listed = |e: &E| match e {
            E::Phone(_)
            | E::AddressMissing
            | E::AddressTooLong { .. }
            | E::PickupOfficeMissing
            | E::Delegate(_)
            | E::PostNotOffered
            | E::RecipientName(_)
            | E::RecipientPhone(_)
            | E::RegionMissing
            | E::StreetMissing
            | E::Postcode
            | E::Urgent(_)
            | E::Priority(_) => std::mem::discriminant(e),
        };
        let kinds: std::collections::HashSet<_> = cases.iter().map(|(e, _)| listed(e)).collect();
        assert_eq!(kinds.len(), 13, "a kind of refusal is missing from the table");
        // Another step's refusal is not said here.
        assert_eq!(place(&doorstep_core::text::Message::new("error.guardian.name")), None);
    }

    #[test]
    fn urgency_is_the_ground_chosen_with_the_evidence_seen() {
        assert!(urgent(&form(&[(key::EVIDENCE, "death-notice")])).is_none(), "no ground: not urgent");
        let u = urgent(&form(&[(key::URGENT_GROUND, "funeral-abroad"), (key::EVIDENCE, "death-notice,relationship")]))
            .expect("a ground chosen");
        assert_eq!(u.ground, "funeral-abroad");
        assert_eq!(u.evidence_seen, ["death-notice", "relationship"]);
    }
}
