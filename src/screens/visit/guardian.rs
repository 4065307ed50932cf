//! The guardians of a child applicant, on the applicant step: each with custody, here or
//! consenting in writing, and, when none is here, the adult they entrusted to come with the
//! child (the companion). For a child young enough (under 7), a guardian here may apply without
//! the child: the photo is then the printed one the guardian brought, and no fingerprints are
//! taken.

use bevy::prelude::*;
use doorstep_core::id_number::Sex;
use doorstep_core::person::{CompanionInput, GuardianInput, GuardiansInput, IdDocumentKind, Relation};
use doorstep_devices::sam::CardIdentity;

use super::{Act, View, heading, line};
use crate::ui::form::{Form, action_button, choice_button, text_field};
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::label;

/// One guardian's form keys, and the words on their choices and fields (the other
/// guardian's say so, so that no two on the screen read the same).
struct Keys {
    relation: &'static str,
    note: &'static str,
    name: &'static str,
    id: &'static str,
    phone: &'static str,
    /// Father, mother, other; then the captions of the note, name, ID card and phone.
    words: [&'static str; 7],
    /// The button that reads their ID card into the name and number.
    read: &'static str,
}

const FIRST: Keys = Keys {
    relation: "guardian.relation",
    note: "guardian.relation_note",
    name: "guardian.name",
    id: "guardian.id_number",
    phone: "guardian.phone",
    words: [
        "visit.guardian.father",
        "visit.guardian.mother",
        "visit.guardian.other",
        "visit.guardian.relation_note",
        "visit.guardian.name",
        "visit.guardian.id_number",
        "visit.guardian.phone",
    ],
    read: "visit.guardian.read_card",
};

const SECOND: Keys = Keys {
    relation: "guardian2.relation",
    note: "guardian2.relation_note",
    name: "guardian2.name",
    id: "guardian2.id_number",
    phone: "guardian2.phone",
    words: [
        "visit.guardian2.father",
        "visit.guardian2.mother",
        "visit.guardian2.other",
        "visit.guardian2.relation_note",
        "visit.guardian2.name",
        "visit.guardian2.id_number",
        "visit.guardian2.phone",
    ],
    read: "visit.guardian2.read_card",
};

/// Where the first guardian is: "here" (or not chosen), or "absent" with their written consent.
pub const FIRST_WHERE: &str = "guardian.where";
/// The companion entrusted by the guardians when none is here.
const COMPANION_NAME: &str = "companion.name";
const COMPANION_ID: &str = "companion.id_number";
const COMPANION_PHONE: &str = "companion.phone";
const COMPANION_ENTRUSTED: &str = "companion.entrustment_seen";

/// A second guardian with custody is listed.
pub const SECOND_ON: &str = "guardian2.listed";
/// Where the second guardian is: "here", or "absent" with their written consent seen.
pub const SECOND_WHERE: &str = "guardian2.where";
/// The child is not here: a guardian who is applies for them (young children only).
pub const CHILD_ABSENT: &str = "applicant.absent";
/// The officer confirms every guardian with custody is listed, and saw the proof.
pub const ALL_LISTED: &str = "guardians.all_listed";
pub const PROOF: &str = "guardians.proof_seen";

/// The age below which a guardian comes with the applicant, when the ID number on the form says
/// the applicant is that young (the screen shows it once the card is read, or once Next is
/// refused for the guardian).
pub fn minor(form: &Form, policy: &doorstep_core::Policy) -> Option<u32> {
    let below = policy.rules.guardian.required_below_age_years;
    (age(form)? < below).then_some(below)
}

/// The applicant's age today, from the ID number on the form.
fn age(form: &Form) -> Option<u32> {
    let today = crate::settings::now().date();
    let id = doorstep_core::CitizenId::parse(form.get(super::forms::key::ID_NUMBER).trim(), today).ok()?;
    Some(doorstep_core::date::age_on(id.birth_date(), today))
}

/// The age below which a guardian may apply without the child, when the form's applicant is
/// that young.
fn may_apply_without_child(form: &Form, policy: &doorstep_core::Policy) -> Option<u32> {
    let below = policy.rules.guardian.may_apply_for_child_below_age_years;
    (age(form)? < below).then_some(below)
}

/// Whether the form says a guardian applies for a child who is not here (only offered, and
/// only sent, for a child young enough; core checks it again).
pub fn child_absent(form: &Form, policy: &doorstep_core::Policy) -> bool {
    form.is_on(CHILD_ABSENT) && may_apply_without_child(form, policy).is_some()
}

fn fields(v: &View, k: &Keys, ui: &mut ChildSpawnerCommands) {
    ui.spawn(Node { column_gap: Val::Px(12.0), flex_wrap: FlexWrap::Wrap, ..default() }).with_children(|row| {
        for (value, label) in [("father", k.words[0]), ("mother", k.words[1]), ("other", k.words[2])] {
            row.spawn(choice_button(Act::Pick(k.relation, value), Tr::new(label), v.form.get(k.relation) == value));
        }
    });
    said_here(v, k.relation, ui);
    if v.form.get(k.relation) == "other" {
        ui.spawn(text_field(k.note, Tr::new(k.words[3]), 20));
        said_here(v, k.note, ui);
    }
    read_card(v, k.name, k.id, k.read, ui);
    ui.spawn(text_field(k.name, Tr::new(k.words[4]), 30));
    said_here(v, k.name, ui);
    ui.spawn(text_field(k.id, Tr::new(k.words[5]), 18));
    said_here(v, k.id, ui);
    // A number that says the other sex than the relation: pointed out, never refused.
    if let Some(sex) = input(v.form, k, true).sex_to_check() {
        let key = match sex {
            Sex::Male => "visit.guardian.number_says_male",
            Sex::Female => "visit.guardian.number_says_female",
        };
        let relation = if sex == Sex::Male { "relation.mother" } else { "relation.father" };
        ui.spawn(label(Tr::new(key).with_key("relation", relation), theme::BODY_SIZE, theme::WARN));
    }
    ui.spawn(text_field(k.phone, Tr::new(k.words[6]), 20));
    said_here(v, k.phone, ui);
}

/// The button that reads an ID card into a person's name and number (no typing 18 characters),
/// and what came of the last read.
fn read_card(v: &View, name: &'static str, id: &'static str, words: &'static str, ui: &mut ChildSpawnerCommands) {
    ui.spawn(Node::default()).with_child(action_button(Act::ReadCardInto(name, id), Tr::new(words), false));
    if let Some(said) = v.work.card_line_for(id) {
        line(ui, said);
    }
}

/// Here, or away with their written consent seen: two choices under `key`.
fn presence(v: &View, key: &'static str, words: [&'static str; 2], ui: &mut ChildSpawnerCommands) {
    ui.spawn(Node { column_gap: Val::Px(12.0), flex_wrap: FlexWrap::Wrap, ..default() }).with_children(|row| {
        let absent = v.form.get(key) == "absent";
        row.spawn(choice_button(Act::Pick(key, "here"), Tr::new(words[0]), !absent));
        row.spawn(choice_button(Act::Pick(key, "absent"), Tr::new(words[1]), absent));
    });
}

/// Of each guardian on the form (the first, and the second if listed), the sex their ID number
/// says where the relation says the other.
pub fn to_check(form: &Form) -> [Option<Sex>; 2] {
    let second = form.is_on(SECOND_ON).then(|| input(form, &SECOND, true).sex_to_check()).flatten();
    [input(form, &FIRST, true).sex_to_check(), second]
}

/// Puts a card read for the person whose name and number fields are `into` in those fields
/// (their name and number only), unless its number is someone else's on the form (the child's
/// card, or the other guardian's, still on the reader); what came of it.
pub fn take_card(
    form: &mut Form,
    (name, id): (&'static str, &'static str),
    card: &CardIdentity,
    policy: &doorstep_core::Policy,
) -> Tr {
    let number = card.id_number.trim().to_ascii_uppercase();
    if number_elsewhere(form, id, &number, policy) {
        return Tr::new("visit.guardian.card_same");
    }
    form.set(name, card.name.trim());
    form.set(id, &number);
    Tr::new("visit.guardian.card_read")
}

/// Whether `number` is on the form already for someone other than the person whose number
/// field is `id` (the applicant, a guardian, the companion): a card read for the wrong person.
fn number_elsewhere(form: &Form, id: &str, number: &str, policy: &doorstep_core::Policy) -> bool {
    // Only the fields on the screen: a second guardian taken off the list, or a companion no
    // longer needed, is no one's.
    let shown = [
        (super::forms::key::ID_NUMBER, true),
        (FIRST.id, true),
        (SECOND.id, form.is_on(SECOND_ON)),
        (COMPANION_ID, companion_asked(form, policy)),
    ];
    !number.is_empty()
        && shown
            .into_iter()
            .filter(|(k, on)| *on && *k != id)
            .any(|(k, _)| form.get(k).trim().eq_ignore_ascii_case(number))
}

/// Whether no guardian is at the visit, as the form says.
fn none_here(form: &Form) -> bool {
    form.get(FIRST_WHERE) == "absent" && (!form.is_on(SECOND_ON) || form.get(SECOND_WHERE) == "absent")
}

/// Whether the form asks for the companion the guardians entrust: none of them is here, and
/// the child is (a companion brings a child no guardian comes with).
fn companion_asked(form: &Form, policy: &doorstep_core::Policy) -> bool {
    none_here(form) && !child_absent(form, policy)
}

/// The control a refusal of the guardians concerns (its form key), under which it is said again:
/// the step is longer than the screen, and the refusal at its top was far from the box to tick.
fn place(refusal: &doorstep_core::text::Message) -> Option<&'static str> {
    let index = refusal.args.iter().find_map(|(name, arg)| match (name, arg) {
        (&"n", doorstep_core::text::Arg::Plain(n)) => n.parse::<usize>().ok(),
        _ => None,
    });
    let k = match index {
        Some(2) => &SECOND,
        _ => &FIRST,
    };
    let place = match refusal.key {
        "error.guardian.required" | "error.guardian.relation-missing" | "error.guardian.relation-twice" => k.relation,
        "error.guardian.relation-note-missing" => k.note,
        "error.guardian.name" => k.name,
        "error.guardian.document-kind-missing"
        | "error.guardian.document"
        | "error.guardian.not-an-adult"
        | "error.guardian.duplicate" => k.id,
        "error.guardian.phone" => k.phone,
        "error.guardian.consent-letter-missing" if index == Some(2) => SECOND_WHERE,
        "error.guardian.consent-letter-missing"
        | "error.guardian.applying-guardian-absent"
        | "error.companion.not-needed" => FIRST_WHERE,
        "error.guardian.custodians-not-confirmed" => ALL_LISTED,
        "error.guardian.proof-not-seen" => PROOF,
        "error.guardian.companion-needed" | "error.companion.name" => COMPANION_NAME,
        "error.companion.document-kind-missing" | "error.companion.document" | "error.companion.not-an-adult" => {
            COMPANION_ID
        }
        "error.companion.phone" => COMPANION_PHONE,
        "error.companion.entrustment-not-seen" => COMPANION_ENTRUSTED,
        _ => return None,
    };
    Some(place)
}

/// The refusal on screen, said again under the control `key` where it concerns it.
fn said_here(v: &View, key: &str, ui: &mut ChildSpawnerCommands) {
    super::said_under(v, key, place, ui);
}

/// Each guardian with custody, here or away; the companion when none is here; and what the
/// officer has seen.
pub fn view(v: &View, below: u32, ui: &mut ChildSpawnerCommands) {
    heading(ui, Tr::new("visit.guardian.title").with("age", below));
    if let Some(young) = may_apply_without_child(v.form, v.policy) {
        let absent = v.form.is_on(CHILD_ABSENT);
        ui.spawn(choice_button(
            Act::Toggle(CHILD_ABSENT),
            Tr::new("visit.guardian.child_absent").with("age", young),
            absent,
        ));
        if absent {
            line(ui, Tr::new("visit.guardian.child_absent_means"));
        }
    }
    fields(v, &FIRST, ui);
    presence(v, FIRST_WHERE, ["visit.guardian.first_here", "visit.guardian.first_absent"], ui);
    said_here(v, FIRST_WHERE, ui);
    ui.spawn(choice_button(Act::Toggle(SECOND_ON), Tr::new("visit.guardian.second"), v.form.is_on(SECOND_ON)));
    if v.form.is_on(SECOND_ON) {
        line(ui, Tr::new("visit.guardian.second_title"));
        fields(v, &SECOND, ui);
        presence(v, SECOND_WHERE, ["visit.guardian.here", "visit.guardian.absent"], ui);
        said_here(v, SECOND_WHERE, ui);
    }
    if companion_asked(v.form, v.policy) {
        line(ui, Tr::new("visit.companion.title"));
        read_card(v, COMPANION_NAME, COMPANION_ID, "visit.companion.read_card", ui);
        ui.spawn(text_field(COMPANION_NAME, Tr::new("visit.companion.name"), 30));
        said_here(v, COMPANION_NAME, ui);
        ui.spawn(text_field(COMPANION_ID, Tr::new("visit.companion.id_number"), 18));
        said_here(v, COMPANION_ID, ui);
        ui.spawn(text_field(COMPANION_PHONE, Tr::new("visit.companion.phone"), 20));
        said_here(v, COMPANION_PHONE, ui);
        let seen = v.form.is_on(COMPANION_ENTRUSTED);
        ui.spawn(choice_button(Act::Toggle(COMPANION_ENTRUSTED), Tr::new("visit.companion.entrusted"), seen));
        said_here(v, COMPANION_ENTRUSTED, ui);
    }
    for (k, label) in [(ALL_LISTED, "visit.guardian.all_listed"), (PROOF, "visit.guardian.proof_seen")] {
        ui.spawn(choice_button(Act::Toggle(k), Tr::new(label), v.form.is_on(k)));
        said_here(v, k, ui);
    }
}

fn input(form: &Form, k: &Keys, present: bool) -> GuardianInput {
    let text = |key: &str| form.get(key).trim().to_string();
    let relation = match form.get(k.relation) {
        "father" => Some(Relation::Father),
        "mother" => Some(Relation::Mother),
        "other" => Some(Relation::OtherGuardian),
        _ => None,
    };
    GuardianInput {
        relation,
        relation_note: text(k.note),
        name: text(k.name),
        document_kind: Some(IdDocumentKind::ResidentId),
        document_number: text(k.id).to_ascii_uppercase(),
        document_state: String::new(),
        phone: text(k.phone),
        present,
        // An absent guardian is listed only with their written consent seen.
        consent_letter_seen: !present,
    }
}

/// The guardians the form describes, when the applicant is young enough to need one; nothing
/// entered yet, none (core then asks for the guardian, rather than for each field).
pub fn guardians(form: &Form, policy: &doorstep_core::Policy) -> GuardiansInput {
    let blank = [FIRST.relation, FIRST.name, FIRST.id, FIRST.phone].iter().all(|k| form.get(k).trim().is_empty());
    if minor(form, policy).is_none() || blank {
        return GuardiansInput::default();
    }
    let mut guardians = vec![input(form, &FIRST, form.get(FIRST_WHERE) != "absent")];
    if form.is_on(SECOND_ON) {
        guardians.push(input(form, &SECOND, form.get(SECOND_WHERE) != "absent"));
    }
    GuardiansInput {
        guardians,
        all_custodians_listed: form.is_on(ALL_LISTED),
        proof_seen: form.is_on(PROOF),
        companion: companion_asked(form, policy).then(|| CompanionInput {
            name: form.get(COMPANION_NAME).trim().to_string(),
            document_kind: Some(IdDocumentKind::ResidentId),
            document_number: form.get(COMPANION_ID).trim().to_ascii_uppercase(),
            document_state: String::new(),
            phone: form.get(COMPANION_PHONE).trim().to_string(),
            entrustment_seen: form.is_on(COMPANION_ENTRUSTED),
        }),
    }
}

#[cfg(test)]
mod tests {
    use doorstep_core::Localize;
    use doorstep_core::name::NameError;
    use doorstep_core::person::{GuardianError as E, IdDocumentError};
    use doorstep_core::phone::PhoneError;

    /// Each refusal of the guardians is said under the control it concerns, the second
    /// guardian's under theirs; one about no control drawn (too many guardians) only at the top.
    #[test]
    fn each_guardians_refusal_is_placed_under_its_control() {
        use super::*;
        let document = || IdDocumentError::ForeignPassport;
        let cases: Vec<(E, Option<&str>)> = vec![
            (E::Required { below_age: 16 }, Some(FIRST.relation)),
            (E::TooMany, None),
            (E::RelationMissing { index: 1 }, Some(FIRST.relation)),
            (E::RelationMissing { index: 2 }, Some(SECOND.relation)),
            (E::RelationNoteMissing { index: 2 }, Some(SECOND.note)),
            (E::Name { index: 1, error: NameError::Empty }, Some(FIRST.name)),
            (E::Name { index: 2, error: NameError::Empty }, Some(SECOND.name)),
            (E::DocumentKindMissing { index: 1 }, Some(FIRST.id)),
            (E::Document { index: 2, error: document() }, Some(SECOND.id)),
            (E::Phone { index: 1, error: PhoneError::NotAPhoneNumber }, Some(FIRST.phone)),
            (E::Phone { index: 2, error: PhoneError::Empty }, Some(SECOND.phone)),
            (E::NotAnAdult { index: 2 }, Some(SECOND.id)),
            (E::Duplicate { index: 2 }, Some(SECOND.id)),
            (E::RelationTwice { index: 2 }, Some(SECOND.relation)),
            (E::ConsentLetterMissing { index: 1 }, Some(FIRST_WHERE)),
            (E::ConsentLetterMissing { index: 2 }, Some(SECOND_WHERE)),
            (E::CustodiansNotConfirmed, Some(ALL_LISTED)),
            (E::ProofNotSeen, Some(PROOF)),
            (E::CompanionNeeded, Some(COMPANION_NAME)),
            (E::CompanionName(NameError::Empty), Some(COMPANION_NAME)),
            (E::CompanionDocumentKindMissing, Some(COMPANION_ID)),
            (E::CompanionDocument(document()), Some(COMPANION_ID)),
            (E::CompanionPhone(PhoneError::Empty), Some(COMPANION_PHONE)),
            (E::CompanionNotAnAdult, Some(COMPANION_ID)),
            (E::EntrustmentNotSeen, Some(COMPANION_ENTRUSTED)),
            (E::CompanionNotNeeded, Some(FIRST_WHERE)),
            (E::ApplyingGuardianAbsent, Some(FIRST_WHERE)),
        ];
        for (error, at) in &cases {
            assert_eq!(place(&error.message()), *at, "{error:?}");
        }
        // Every refusal of the guardians is in the table (a new one fails to build here).
        let listed = |e: &E| match e {
            E::Required { .. }
            | E::TooMany
            | E::RelationMissing { .. }
            | E::RelationNoteMissing { .. }
            | E::Name { .. }
            | E::DocumentKindMissing { .. }
            | E::Document { .. }
            | E::Phone { .. }
            | E::NotAnAdult { .. }
            | E::Duplicate { .. }
            | E::RelationTwice { .. }
            | E::ConsentLetterMissing { .. }
            | E::CustodiansNotConfirmed
            | E::ProofNotSeen
            | E::CompanionNeeded
            | E::CompanionName(_)
            | E::CompanionDocumentKindMissing
            | E::CompanionDocument(_)
            | E::CompanionPhone(_)
            | E::CompanionNotAnAdult
            | E::EntrustmentNotSeen
            | E::CompanionNotNeeded
            | E::ApplyingGuardianAbsent => std::mem::discriminant(e),
        };
        let kinds: std::collections::HashSet<_> = cases.iter().map(|(e, _)| listed(e)).collect();
        assert_eq!(kinds.len(), 23, "each kind of refusal in the table");
        // Another step's refusal is not the guardians'.
        assert_eq!(place(&doorstep_core::Message::new("error.phone.empty")), None);
    }
}
