//! The services step: every document with its reason (and, for the Taiwan documents, the card
//! or a one-trip permit), and every endorsement type and option the bureau's policy
//! (`endorsements.toml`) lists, with the facts its conditions ask the officer to have seen.
//! Core decides what the applicant may have: a choice it refuses is greyed with its reason.

use bevy::prelude::*;
use doorstep_core::policy::{Condition, EndorsementError, EndorsementFacts, EndorsementType};
use doorstep_core::requirements::ServicesError;
use doorstep_core::service::{EndorsementRegion, IssueReason};
use doorstep_core::text::Arg;
use doorstep_core::visit::{ServicesInput, VisitError, VisitEvent};
use doorstep_core::{Localize, Service};

use super::{Act, View, actions, heading, line};
use crate::ui::form::{Form, choice_button, text_field};
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::label;

/// A document offered: its code (core's spelling), the form key of its reason (empty: not
/// applied for) and, for the Taiwan documents, of its form (card or one trip).
struct Doc {
    code: &'static str,
    reason: &'static str,
    form: Option<&'static str>,
}

const DOCS: [Doc; 4] = [
    Doc { code: "passport", reason: "service.passport", form: None },
    Doc { code: "hk-macao-permit", reason: "service.hk-macao-permit", form: None },
    Doc { code: "taiwan-permit", reason: "service.taiwan-permit", form: Some("service.taiwan-permit.form") },
    Doc {
        code: "taiwan-resident-permit",
        reason: "service.taiwan-resident-permit",
        form: Some("service.taiwan-resident-permit.form"),
    },
];

/// A region's endorsement: the form keys of its type letter, of its option (the option's
/// place in the policy's list) and of the months approved, for an option whose validity
/// follows an approval.
struct Region {
    region: EndorsementRegion,
    kind: &'static str,
    option: &'static str,
    months: &'static str,
    /// The form keys of the facts seen for this region's endorsement, in [`FACTS`]' order: an
    /// approval for a stay in Hong Kong is not the Taiwan Affairs Office's.
    facts: [&'static str; 7],
}

const REGIONS: [Region; 2] = [
    Region {
        region: EndorsementRegion::HkMacao,
        kind: "endorsement.hk-macao.type",
        option: "endorsement.hk-macao.option",
        months: "endorsement.hk-macao.months",
        facts: [
            "fact.hk-macao.close_relative",
            "fact.hk-macao.other_relative",
            "fact.hk-macao.hardship",
            "fact.hk-macao.registered_company",
            "fact.hk-macao.tour_leader",
            "fact.hk-macao.approval_document",
            "fact.hk-macao.talent",
        ],
    },
    Region {
        region: EndorsementRegion::Taiwan,
        kind: "endorsement.taiwan.type",
        option: "endorsement.taiwan.option",
        months: "endorsement.taiwan.months",
        facts: [
            "fact.taiwan.close_relative",
            "fact.taiwan.other_relative",
            "fact.taiwan.hardship",
            "fact.taiwan.registered_company",
            "fact.taiwan.tour_leader",
            "fact.taiwan.approval_document",
            "fact.taiwan.talent",
        ],
    },
];

/// The facts a condition asks the officer to have seen proven: (condition, words). Age comes
/// from the birth date; hardship is what the officer can add to it.
const FACTS: [(Condition, &str); 7] = [
    (Condition::CloseRelative, "visit.services.fact_close_relative"),
    (Condition::OtherRelative, "visit.services.fact_other_relative"),
    (Condition::AgeOrHardship, "visit.services.fact_hardship"),
    (Condition::RegisteredCompany, "visit.services.fact_registered_company"),
    (Condition::TourLeader, "visit.services.fact_tour_leader"),
    (Condition::ApprovalDocument, "visit.services.fact_approval_document"),
    (Condition::Talent, "visit.services.fact_talent"),
];

/// The facts the form records for a region's endorsement.
fn facts(form: &Form, r: &Region) -> EndorsementFacts {
    EndorsementFacts::declared(|c| FACTS.iter().zip(r.facts).any(|(f, k)| f.0 == c && form.is_on(k)))
}

/// A document as applied for with `reason` and the form chosen.
fn document(d: &Doc, form: &Form, reason: &str) -> Option<Service> {
    let one_trip = d.form.is_some_and(|k| form.get(k) == "one-trip");
    let spec = if one_trip { format!("{}:one-trip:{reason}", d.code) } else { format!("{}:{reason}", d.code) };
    spec.parse().ok()
}

/// What the form holds for a region's endorsement.
enum Held {
    None,
    /// A type chosen, and not yet what core can take: why, in the officer's words.
    Incomplete(doorstep_core::Message),
    Chosen(Service),
}

/// The endorsement the form holds for a region: its type, and its option (the only one, where
/// the type has one), with the months approved where the option's validity is a range; and,
/// where the option has a condition, the fact seen for this region (with the applicant's age).
fn endorsement(r: &Region, form: &Form, policy: &doorstep_core::Policy, age_years: u32) -> Held {
    let Some(code) = form.get(r.kind).chars().next() else { return Held::None };
    let Some(t) = policy.endorsements.type_of(r.region, code) else { return Held::None };
    let at = match form.get(r.option).parse::<usize>() {
        Ok(at) => Some(at),
        Err(_) => (t.options.len() == 1).then_some(0),
    };
    let Some(option) = at.and_then(|at| t.options.get(at)) else {
        return Held::Incomplete(
            doorstep_core::Message::new("visit.services.choose_option")
                .with("code", code.to_string())
                .with("name", Arg::Bilingual(t.name_zh.clone(), t.name_en.clone())),
        );
    };
    let months = match option.months {
        Some(m) => m,
        None => {
            let (min, max) = (option.min_months.unwrap_or(1), option.max_months.unwrap_or(120));
            match form.get(r.months).trim().parse::<u32>() {
                Ok(m) if (min..=max).contains(&m) => m,
                _ => {
                    return Held::Incomplete(
                        doorstep_core::Message::new("visit.services.months_needed").with("min", min).with("max", max),
                    );
                }
            }
        }
    };
    let spec = format!("{}:{code}:{}:{months}m", r.region.code(), option.entries.code());
    let Ok(service) = spec.parse::<Service>() else { return Held::None };
    // The condition, against this region's facts: one region's proof is not the other's.
    if option.condition.is_some()
        && let Some(e) = service.endorsement()
    {
        let today = crate::settings::now().date();
        let seen = EndorsementFacts { age_years, ..facts(form, r) };
        if let Err(why @ EndorsementError::ConditionNotMet { .. }) = policy.endorsements.check(e, &seen, today) {
            return Held::Incomplete(why.message());
        }
    }
    Held::Chosen(service)
}

/// The applicant's age today, for the conditions of age.
fn age(visit: &doorstep_core::Visit) -> u32 {
    visit.state.identified().map_or(0, |w| w.applicant.age_on(crate::settings::now().date()))
}

/// The services chosen on the form, as core parses them (an endorsement not complete is not).
pub fn chosen(form: &Form, policy: &doorstep_core::Policy, visit: &doorstep_core::Visit) -> Vec<Service> {
    let docs = DOCS.iter().filter_map(|d| match form.get(d.reason) {
        "" => None,
        reason => document(d, form, reason),
    });
    let endorsements = REGIONS.iter().filter_map(|r| match endorsement(r, form, policy, age(visit)) {
        Held::Chosen(s) => Some(s),
        Held::None | Held::Incomplete(_) => None,
    });
    docs.chain(endorsements).collect()
}

/// What is left to choose of each endorsement chosen and not complete (no option, no months
/// approved, a condition not seen for its region), each with its region's name: Next is not
/// sent to core, and the step says these at its top.
pub fn unfinished(
    form: &Form,
    policy: &doorstep_core::Policy,
    visit: &doorstep_core::Visit,
) -> Vec<doorstep_core::Message> {
    REGIONS
        .iter()
        .filter_map(|r| match endorsement(r, form, policy, age(visit)) {
            Held::Incomplete(why) => Some(
                doorstep_core::Message::new("visit.services.incomplete_in")
                    .with_key("region", r.region.key())
                    .with("why", why),
            ),
            Held::None | Held::Chosen(_) => None,
        })
        .collect()
}

/// Whether an endorsement chosen is not complete ([`unfinished`]).
pub fn incomplete(form: &Form, policy: &doorstep_core::Policy, visit: &doorstep_core::Visit) -> bool {
    !unfinished(form, policy, visit).is_empty()
}

/// The step's input for core. The facts go only with an endorsement they are for (none is
/// sealed with a passport alone), each region's with its own.
pub fn input(form: &Form, policy: &doorstep_core::Policy, visit: &doorstep_core::Visit) -> ServicesInput {
    let services = chosen(form, policy, visit);
    let facts = REGIONS
        .iter()
        .filter(|r| services.iter().any(|s| s.endorsement().is_some_and(|e| e.region == r.region)))
        .map(|r| facts(form, r))
        .fold(EndorsementFacts::default(), |a, b| EndorsementFacts::declared(|c| a.declares(c) || b.declares(c)));
    ServicesInput { services, facts }
}

/// Where the step says an endorsement is not complete, once Next was pressed.
pub const CHECKED: &str = "services.checked";

/// Puts `services` on the form (an appointment's, booked by the back office).
/// A second endorsement on one permit (the unit takes one per permit in a visit), or a type
/// this bureau's policy does not list, is not put on the form: it is kept under [`NOT_TAKEN`]
/// for the step to name.
pub fn fill(form: &mut Form, services: &[Service], policy: &doorstep_core::Policy) {
    let mut not_taken = Vec::new();
    for s in services {
        if let Some(e) = s.endorsement() {
            let region = REGIONS.iter().find(|r| r.region == e.region);
            let t = policy.endorsements.type_of(e.region, e.code);
            let (Some(r), Some(t)) = (region.filter(|r| form.get(r.kind).is_empty()), t) else {
                not_taken.push(s.clone());
                continue;
            };
            form.choose(r.kind, e.code.to_string());
            if let Some(at) = t.options.iter().position(|o| o.allows(e.entries, e.validity)) {
                form.choose(r.option, at.to_string());
                if t.options[at].months.is_none() {
                    form.set(r.months, e.validity.0.to_string());
                }
            }
        } else if let Some(d) = DOCS.iter().find(|d| d.code == s.code()) {
            form.choose(d.reason, s.reason().unwrap_or(IssueReason::First).code());
            if let Some(k) = d.form {
                let one_trip = s.form() == Some(doorstep_core::service::PermitForm::OneTrip);
                form.choose(k, if one_trip { "one-trip" } else { "card" });
            }
        }
    }
    if !not_taken.is_empty() {
        form.set(NOT_TAKEN, serde_json::to_string(&not_taken).unwrap_or_default());
    }
}

/// The services an appointment booked that the form could not hold (JSON).
const NOT_TAKEN: &str = "services.not_taken";

/// A region's type chosen again, or another: its option, months and facts are chosen afresh.
pub fn type_changed(form: &mut Form, group: &str) {
    if let Some(r) = REGIONS.iter().find(|r| r.kind == group) {
        form.choose(r.option, "");
        form.set(r.months, "");
        for k in r.facts {
            form.on.remove(k);
        }
        // Another type is chosen afresh: what it lacks is said once Next is pressed again.
        form.unpress(CHECKED);
    }
}

/// Why core refuses `service`: a document alone; an endorsement alone, or with its permit as
/// chosen on the form (or, where core refuses that as chosen, as core would take it: the
/// permit's own refusal is said under the permit, not under each endorsement). `None` where it
/// is taken.
fn refusal(v: &View, chosen: &[Service], service: Service) -> Option<VisitError> {
    let region = service.endorsement().and_then(|e| REGIONS.iter().find(|r| r.region == e.region));
    refusal_with(v, chosen, service, region.map(|r| facts(v.form, r)).unwrap_or_default())
}

/// As [`refusal`], with the facts given.
fn refusal_with(v: &View, chosen: &[Service], service: Service, facts: EndorsementFacts) -> Option<VisitError> {
    let now = crate::settings::now();
    let allowed = |services: Vec<Service>| {
        let input = ServicesInput { services, facts };
        v.visit.clone().apply(v.policy, now, VisitEvent::ServicesChosen(input)).err()
    };
    let alone = allowed(vec![service.clone()])?;
    let Some(permit) = service.endorsement().map(|e| e.region.permit()) else { return Some(alone) };
    let Some(applied) = chosen.iter().find(|s| s.endorsement().is_none() && s.document() == permit) else {
        return Some(alone);
    };
    // The permit as chosen, or with another reason core takes.
    let doc = DOCS.iter().find(|d| d.code == applied.code());
    let variants = std::iter::once(applied.clone())
        .chain(IssueReason::ALL.into_iter().filter_map(|r| document(doc?, v.form, r.code())));
    for permit in variants {
        if allowed(vec![permit.clone()]).is_none() {
            return allowed(vec![permit, service]);
        }
    }
    Some(alone)
}

/// A choice core refuses: its words greyed, and why.
fn greyed(ui: &mut ChildSpawnerCommands, what: Tr, why: &VisitError) {
    ui.spawn(Node { column_gap: Val::Px(12.0), flex_wrap: FlexWrap::Wrap, ..default() }).with_children(|row| {
        row.spawn(label(what, theme::BODY_SIZE, theme::MUTED));
        row.spawn(label(Tr::message(why.message()), theme::BODY_SIZE * 0.8, theme::MUTED));
    });
}

fn chips(ui: &mut ChildSpawnerCommands, build: impl FnOnce(&mut ChildSpawnerCommands)) {
    ui.spawn(Node {
        column_gap: Val::Px(12.0),
        row_gap: Val::Px(8.0),
        flex_wrap: FlexWrap::Wrap,
        margin: UiRect::left(Val::Px(24.0)),
        ..default()
    })
    .with_children(build);
}

pub fn view(v: &View, ui: &mut ChildSpawnerCommands) {
    heading(ui, Tr::new("visit.services.title"));
    super::forms::none_for_residency(v, ui);
    // Next refused for an endorsement half chosen: what is left, said where the step scrolls
    // to (its top), not only beside the endorsement, which may be below the fold.
    let unfinished = unfinished(v.form, v.policy, v.visit);
    if v.form.pressed(CHECKED) > 0 && !unfinished.is_empty() {
        ui.spawn(label(Tr::new("visit.services.incomplete"), theme::BODY_SIZE, theme::ERROR));
        for why in unfinished {
            ui.spawn(label(Tr::message(why), theme::BODY_SIZE, theme::ERROR));
        }
    }
    // What the appointment booked and the step does not hold (unless the officer has since
    // chosen it instead): said, to take it in another visit.
    let chosen = chosen(v.form, v.policy, v.visit);
    let not_taken: Vec<Service> = serde_json::from_str(v.form.get(NOT_TAKEN)).unwrap_or_default();
    for s in not_taken.iter().filter(|s| !chosen.contains(s)) {
        let tr = Tr::message(doorstep_core::Message::new("visit.services.not_taken").with("service", s.describe()));
        ui.spawn(label(tr, theme::BODY_SIZE, theme::ERROR));
    }
    // The fee, recomputed at every change: the total in one line at the top, there before
    // anything is chosen (so that the first choice does not move the list under the finger),
    // and the items under the list.
    let quote = (!chosen.is_empty()).then(|| v.policy.fees.quote(&chosen, crate::settings::now().date()));
    match &quote {
        None => heading(ui, Tr::new("visit.services.total_none")),
        Some(Ok(q)) => heading(ui, Tr::new("visit.services.total").with("amount", q.total)),
        Some(Err(e)) => line(ui, Tr::message(e.message())),
    }
    let list = Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(8.0), ..default() };
    ui.spawn(list.clone()).with_children(|list| {
        for d in &DOCS {
            documents(v, &chosen, d, list);
        }
    });
    for r in &REGIONS {
        endorsements(v, &chosen, r, ui);
    }
    if let Some(Ok(q)) = &quote {
        for l in &q.lines {
            line(
                ui,
                Tr::new("visit.services.fee_line")
                    .with_texts("item", &l.description_zh, &l.description_en)
                    .with("amount", l.amount),
            );
        }
        super::forms::unconfirmed(ui, v.policy, &chosen, q);
    }
    actions(v, vec![(Act::Next, Tr::new("visit.next"), true)]);
}

/// A document: one button (with the first reason core takes), then, once chosen, its reasons
/// and forms, and core's refusal of what is chosen.
fn documents(v: &View, chosen: &[Service], d: &Doc, ui: &mut ChildSpawnerCommands) {
    let current = v.form.get(d.reason);
    if current.is_empty() {
        let tried = IssueReason::ALL.map(|r| (r, document(d, v.form, r.code())));
        let first = tried.iter().find_map(|(r, s)| {
            let s = s.clone()?;
            refusal(v, chosen, s.clone()).is_none().then_some((*r, s))
        });
        match (first, &tried[0].1) {
            (Some((r, s)), _) => {
                ui.spawn(choice_button(Act::Choose(d.reason, r.code().to_string()), Tr::message(s.describe()), false));
            }
            (None, Some(s)) => match refusal(v, chosen, s.clone()) {
                // A document for the other residency is not this applicant's to ask for.
                Some(VisitError::Services(ServicesError::WrongResidency { .. })) | None => {}
                Some(why) => greyed(ui, Tr::message(s.describe()), &why),
            },
            (None, None) => {}
        }
        return;
    }
    let Some(service) = document(d, v.form, current) else { return };
    ui.spawn(choice_button(Act::Choose(d.reason, current.to_string()), Tr::message(service.describe()), true));
    chips(ui, |row| {
        for r in IssueReason::ALL {
            row.spawn(choice_button(Act::Pick(d.reason, r.code()), Tr::new(r.key()), current == r.code()));
        }
    });
    if let Some(k) = d.form {
        let one_trip = v.form.get(k) == "one-trip";
        chips(ui, |row| {
            row.spawn(choice_button(Act::Pick(k, "card"), Tr::new("visit.services.card"), !one_trip));
            row.spawn(choice_button(Act::Pick(k, "one-trip"), Tr::new("visit.services.one_trip"), one_trip));
        });
    }
    if let Some(why) = refusal(v, chosen, service) {
        ui.spawn(label(Tr::message(why.message()), theme::BODY_SIZE * 0.8, theme::ERROR));
    }
}

/// A type's button: its letter and name.
fn type_name(t: &EndorsementType) -> Tr {
    Tr::new("visit.services.type").with("code", t.code).with_texts("name", &t.name_zh, &t.name_en)
}

/// A region's endorsement types, each offered where core takes one of its options (or would,
/// once the officer has seen what its condition asks); once one is chosen, its options, the
/// facts they ask for, and the months approved where the validity follows an approval.
fn endorsements(v: &View, chosen: &[Service], r: &Region, ui: &mut ChildSpawnerCommands) {
    let code = v.form.get(r.kind).chars().next();
    let spec = |t: &EndorsementType, o: &doorstep_core::policy::EndorsementOption| {
        let months = o.months.or(o.min_months).unwrap_or(1);
        format!("{}:{}:{}:{months}m", r.region.code(), t.code, o.entries.code()).parse::<Service>().ok()
    };
    let types = v.policy.endorsements.types(r.region);
    let heading = || Tr::new("visit.services.endorsements").with_key("region", r.region.key());
    if let Some(t) = code.and_then(|c| types.iter().find(|t| t.code == c)) {
        line(ui, heading());
        return chosen_type(v, chosen, r, t, spec, ui);
    }
    // What stops a type whatever the officer has seen (its conditions taken as met): no
    // permit, the other residency, a suspension. The same for every type is said once.
    let all_met = EndorsementFacts::declared(|_| true);
    let blocked: Vec<Option<VisitError>> = types
        .iter()
        .map(|t| {
            let mut refusals = t.options.iter().filter_map(|o| spec(t, o)).map(|s| refusal_with(v, chosen, s, all_met));
            let first = refusals.next().flatten()?;
            refusals.all(|r| r.is_some()).then_some(first)
        })
        .collect();
    // No permit held or applied for: said once for the region, not under each type (a type
    // suspended as well is said once the permit is chosen).
    // Endorsements for the other residency (a Taiwan resident's) are not offered at all.
    let other_residency =
        |b: &Option<VisitError>| matches!(b, Some(VisitError::Services(ServicesError::WrongResidency { .. })));
    if blocked.iter().all(other_residency) {
        return;
    }
    line(ui, heading());
    let permit_needed = |b: &Option<VisitError>| matches!(b, Some(VisitError::Services(ServicesError::PermitNeeded { permit, .. })) if *permit == r.region.permit());
    if blocked.iter().all(Option::is_some) && blocked.iter().any(permit_needed) {
        let tr = Tr::new("visit.services.permit_needed").with_key("permit", r.region.permit().key());
        ui.spawn(label(tr, theme::BODY_SIZE * 0.8, theme::MUTED));
        return;
    }
    chips(ui, |row| {
        for (t, why) in types.iter().zip(&blocked) {
            if why.is_none() {
                row.spawn(choice_button(Act::Choose(r.kind, t.code.to_string()), type_name(t), false));
            }
        }
    });
    for (t, why) in types.iter().zip(&blocked) {
        if let Some(why) = why {
            greyed(ui, type_name(t), why);
        }
    }
}

fn chosen_type(
    v: &View,
    chosen: &[Service],
    r: &Region,
    t: &EndorsementType,
    spec: impl Fn(&EndorsementType, &doorstep_core::policy::EndorsementOption) -> Option<Service>,
    ui: &mut ChildSpawnerCommands,
) {
    ui.spawn(choice_button(Act::Choose(r.kind, t.code.to_string()), type_name(t), true));
    if let (Some(zh), Some(en)) = (&t.note_zh, &t.note_en) {
        ui.spawn(label(
            Tr::new("visit.services.note").with_texts("note", zh, en),
            theme::BODY_SIZE * 0.8,
            theme::MUTED,
        ));
    }
    // The facts the type's conditions ask for, as the officer saw them proven: above the
    // options they open, which are greyed until they are ticked.
    let asked: Vec<_> =
        FACTS.iter().zip(r.facts).filter(|(f, _)| t.options.iter().any(|o| o.condition == Some(f.0))).collect();
    if !asked.is_empty() {
        line(ui, Tr::new("visit.services.facts"));
        chips(ui, |row| {
            for &(&(_, words), k) in &asked {
                row.spawn(choice_button(Act::Toggle(k), Tr::new(words), v.form.is_on(k)));
            }
        });
    }
    let at: Option<usize> = v.form.get(r.option).parse().ok().or((t.options.len() == 1).then_some(0));
    // Each option with its words, and why core refuses it (the one chosen is not asked).
    let options: Vec<(usize, Tr, Option<VisitError>)> = t
        .options
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let validity = o.validity().describe();
            let words = Tr::message(
                doorstep_core::Message::new("visit.services.option")
                    .with_key("entries", o.entries.key())
                    .with("validity", validity),
            );
            let refused = if at == Some(i) { None } else { spec(t, o).and_then(|s| refusal(v, chosen, s)) };
            (i, words, refused)
        })
        .collect();
    if !asked.is_empty() {
        // Set apart from the facts above, which look alike.
        line(ui, Tr::new("visit.services.options"));
    }
    chips(ui, |row| {
        for (i, words, refused) in &options {
            if refused.is_none() {
                row.spawn(choice_button(Act::Choose(r.option, i.to_string()), words.clone(), at == Some(*i)));
            }
        }
    });
    for (_, words, refused) in &options {
        if let Some(why) = refused {
            greyed(ui, words.clone(), why);
        }
    }
    if let Some(option) = at.and_then(|i| t.options.get(i)) {
        months_and_stay(r, t, option, ui);
    }
    match endorsement(r, v.form, v.policy, age(v.visit)) {
        // What is left to choose, said in red once Next was pressed.
        Held::Incomplete(why) => {
            let colour = if v.form.pressed(CHECKED) == 0 { theme::MUTED } else { theme::ERROR };
            ui.spawn(label(Tr::message(why), theme::BODY_SIZE * 0.8, colour));
        }
        Held::Chosen(service) => {
            if let Some(why) = refusal(v, chosen, service) {
                ui.spawn(label(Tr::message(why.message()), theme::BODY_SIZE * 0.8, theme::ERROR));
            }
        }
        Held::None => {}
    }
}

/// The months approved, where the option's validity follows an approval, and the stay.
fn months_and_stay(
    r: &Region,
    t: &EndorsementType,
    option: &doorstep_core::policy::EndorsementOption,
    ui: &mut ChildSpawnerCommands,
) {
    if option.months.is_none() {
        let caption = Tr::new("visit.services.months")
            .with("min", option.min_months.unwrap_or(1))
            .with("max", option.max_months.map_or("—".to_string(), |m| m.to_string()));
        ui.spawn(text_field(r.months, caption, 3));
    }
    if let Some(days) = option.stay_days.or(t.stay_days) {
        ui.spawn(label(Tr::new("visit.services.stay").with("days", days), theme::BODY_SIZE * 0.8, theme::MUTED));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An appointment's second endorsement on one permit is not dropped unseen: the first is put
    /// on the form, the second kept to be named.
    #[test]
    fn a_booked_service_the_form_cannot_hold_is_kept_to_be_named() {
        let policy = doorstep_core::Policy::builtin().unwrap();
        let booked: Vec<Service> = ["hk-macao-permit", "hk-macao-endorsement:G:1x:3m", "hk-macao-endorsement:T:1x:3m"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let mut form = Form::default();
        fill(&mut form, &booked, &policy);
        assert_eq!(form.get("service.hk-macao-permit"), "first");
        match endorsement(&REGIONS[0], &form, &policy, 40) {
            Held::Chosen(s) => assert_eq!(s, booked[1]),
            _ => panic!("the first endorsement is on the form"),
        }
        let kept: Vec<Service> = serde_json::from_str(form.get(NOT_TAKEN)).unwrap();
        assert_eq!(kept, [booked[2].clone()]);
    }
}
