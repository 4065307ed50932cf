//! The services step: every document with its reason (and, for the Taiwan documents, the card
//! or a one-trip permit), and every endorsement type and option the bureau's policy
//! (`endorsements.toml`) lists, with the facts its conditions ask the officer to have seen.
//! Core decides what the applicant may have: a choice it refuses is greyed with its reason.

use bevy::prelude::*;
use doorstep_core::policy::{Condition, EndorsementFacts, EndorsementType};
use doorstep_core::requirements::ServicesError;
use doorstep_core::service::{EndorsementRegion, IssueReason};
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
}

const REGIONS: [Region; 2] = [
    Region {
        region: EndorsementRegion::HkMacao,
        kind: "endorsement.hk-macao.type",
        option: "endorsement.hk-macao.option",
        months: "endorsement.hk-macao.months",
    },
    Region {
        region: EndorsementRegion::Taiwan,
        kind: "endorsement.taiwan.type",
        option: "endorsement.taiwan.option",
        months: "endorsement.taiwan.months",
    },
];

/// The facts a condition asks the officer to have seen proven: (condition, form key, words).
/// Age comes from the birth date; hardship is what the officer can add to it.
const FACTS: [(Condition, &str, &str); 7] = [
    (Condition::CloseRelative, "fact.close_relative", "visit.services.fact_close_relative"),
    (Condition::OtherRelative, "fact.other_relative", "visit.services.fact_other_relative"),
    (Condition::AgeOrHardship, "fact.hardship", "visit.services.fact_hardship"),
    (Condition::RegisteredCompany, "fact.registered_company", "visit.services.fact_registered_company"),
    (Condition::TourLeader, "fact.tour_leader", "visit.services.fact_tour_leader"),
    (Condition::ApprovalDocument, "fact.approval_document", "visit.services.fact_approval_document"),
    (Condition::Talent, "fact.talent", "visit.services.fact_talent"),
];

/// The endorsement facts the form records.
fn facts(form: &Form) -> EndorsementFacts {
    let on = |c: Condition| FACTS.iter().any(|f| f.0 == c && form.is_on(f.1));
    EndorsementFacts {
        close_relative: on(Condition::CloseRelative),
        other_relative: on(Condition::OtherRelative),
        hardship: on(Condition::AgeOrHardship),
        registered_company: on(Condition::RegisteredCompany),
        tour_leader: on(Condition::TourLeader),
        approval_document: on(Condition::ApprovalDocument),
        talent: on(Condition::Talent),
        ..EndorsementFacts::default()
    }
}

/// A document as applied for with `reason` and the form chosen.
fn document(d: &Doc, form: &Form, reason: &str) -> Option<Service> {
    let one_trip = d.form.is_some_and(|k| form.get(k) == "one-trip");
    let spec = if one_trip { format!("{}:one-trip:{reason}", d.code) } else { format!("{}:{reason}", d.code) };
    spec.parse().ok()
}

/// The endorsement the form holds for a region: its type, and its option (the only one, where
/// the type has one), with the months approved where the option's validity is a range.
fn endorsement(r: &Region, form: &Form, policy: &doorstep_core::Policy) -> Option<Service> {
    let code = form.get(r.kind).chars().next()?;
    let t = policy.endorsements.type_of(r.region, code)?;
    let at = match form.get(r.option).parse::<usize>() {
        Ok(at) => at,
        Err(_) if t.options.len() == 1 => 0,
        Err(_) => return None,
    };
    let option = t.options.get(at)?;
    let months = match option.months {
        Some(m) => m,
        None => form.get(r.months).trim().parse().ok()?,
    };
    format!("{}:{code}:{}:{months}m", r.region.code(), option.entries.code()).parse().ok()
}

/// The services chosen on the form, as core parses them.
pub fn chosen(form: &Form, policy: &doorstep_core::Policy) -> Vec<Service> {
    let docs = DOCS.iter().filter_map(|d| match form.get(d.reason) {
        "" => None,
        reason => document(d, form, reason),
    });
    docs.chain(REGIONS.iter().filter_map(|r| endorsement(r, form, policy))).collect()
}

/// The step's input for core. The facts go only with an endorsement they are for: none is
/// sealed with a passport alone.
pub fn input(form: &Form, policy: &doorstep_core::Policy) -> ServicesInput {
    let services = chosen(form, policy);
    let endorsement = services.iter().any(|s| s.endorsement().is_some());
    ServicesInput { services, facts: if endorsement { facts(form) } else { EndorsementFacts::default() } }
}

/// Puts `services` on the form (an appointment's, booked by the back office).
pub fn fill(form: &mut Form, services: &[Service], policy: &doorstep_core::Policy) {
    for s in services {
        if let Some(e) = s.endorsement() {
            let Some(r) = REGIONS.iter().find(|r| r.region == e.region) else { continue };
            let Some(t) = policy.endorsements.type_of(e.region, e.code) else { continue };
            form.choose(r.kind, e.code.to_string());
            let fits = |o: &doorstep_core::policy::EndorsementOption| {
                o.entries == e.entries
                    && o.months.map_or_else(
                        || {
                            o.min_months.is_none_or(|lo| e.validity.0 >= lo)
                                && o.max_months.is_none_or(|hi| e.validity.0 <= hi)
                        },
                        |m| m == e.validity.0,
                    )
            };
            if let Some(at) = t.options.iter().position(fits) {
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
}

/// A region's type chosen again, or another: its option and months are chosen afresh.
pub fn type_changed(form: &mut Form, group: &str) {
    if let Some(r) = REGIONS.iter().find(|r| r.kind == group) {
        form.choose(r.option, "");
        form.set(r.months, "");
    }
}

/// Why core refuses `service` with what is chosen already (an endorsement with its permit),
/// and alone: `None` where either way takes it.
fn refusal(v: &View, chosen: &[Service], service: Service) -> Option<VisitError> {
    refusal_with(v, chosen, service, facts(v.form))
}

/// As [`refusal`], with the facts given.
fn refusal_with(v: &View, chosen: &[Service], service: Service, facts: EndorsementFacts) -> Option<VisitError> {
    let now = crate::settings::now();
    let allowed = |services: Vec<Service>| {
        let input = ServicesInput { services, facts };
        v.visit.clone().apply(v.policy, now, VisitEvent::ServicesChosen(input)).err()
    };
    let mut with_chosen: Vec<Service> = chosen.iter().filter(|s| s.code() != service.code()).cloned().collect();
    with_chosen.push(service.clone());
    allowed(vec![service]).and_then(|alone| allowed(with_chosen).map(|_| alone))
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
    let chosen = chosen(v.form, v.policy);
    // The fee, itemised, recomputed at every change.
    if !chosen.is_empty() {
        match v.policy.fees.quote(&chosen, crate::settings::now().date()) {
            Ok(q) => {
                for l in &q.lines {
                    line(
                        ui,
                        Tr::new("visit.services.fee_line")
                            .with_texts("item", &l.description_zh, &l.description_en)
                            .with("amount", l.amount),
                    );
                }
                heading(ui, Tr::new("visit.services.total").with("amount", q.total));
            }
            Err(e) => line(ui, Tr::message(e.message())),
        }
    }
    let list = Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(8.0), ..default() };
    ui.spawn(list.clone()).with_children(|list| {
        for d in &DOCS {
            documents(v, &chosen, d, list);
        }
    });
    for r in &REGIONS {
        line(ui, Tr::new("visit.services.endorsements").with_key("region", r.region.key()));
        ui.spawn(list.clone()).with_children(|list| endorsements(v, &chosen, r, list));
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
            (None, Some(s)) => {
                if let Some(why) = refusal(v, chosen, s.clone()) {
                    greyed(ui, Tr::message(s.describe()), &why);
                }
            }
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
    if let Some(t) = code.and_then(|c| types.iter().find(|t| t.code == c)) {
        return chosen_type(v, chosen, r, t, spec, ui);
    }
    // What stops a type whatever the officer has seen (its conditions taken as met): no
    // permit, the other residency, a suspension. The same for every type is said once.
    let all_met = EndorsementFacts {
        close_relative: true,
        other_relative: true,
        hardship: true,
        registered_company: true,
        tour_leader: true,
        approval_document: true,
        talent: true,
        ..EndorsementFacts::default()
    };
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
    let at: Option<usize> = v.form.get(r.option).parse().ok().or((t.options.len() == 1).then_some(0));
    // Each option with its words, and why core refuses it (the one chosen is not asked).
    let options: Vec<(usize, Tr, Option<VisitError>)> = t
        .options
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let validity = match o.months {
                Some(m) => doorstep_core::service::Months(m).describe(),
                None => doorstep_core::policy::Offered::Range { min: o.min_months.unwrap_or(1), max: o.max_months }
                    .describe(),
            };
            let words = Tr::message(
                doorstep_core::Message::new("visit.services.option")
                    .with_key("entries", o.entries.key())
                    .with("validity", validity),
            );
            let refused = if at == Some(i) { None } else { spec(t, o).and_then(|s| refusal(v, chosen, s)) };
            (i, words, refused)
        })
        .collect();
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
    // The facts the type's conditions ask for, as the officer saw them proven.
    let asked: Vec<_> = FACTS.iter().filter(|f| t.options.iter().any(|o| o.condition == Some(f.0))).collect();
    if !asked.is_empty() {
        line(ui, Tr::new("visit.services.facts"));
        chips(ui, |row| {
            for &&(_, k, words) in &asked {
                row.spawn(choice_button(Act::Toggle(k), Tr::new(words), v.form.is_on(k)));
            }
        });
    }
    let Some(option) = at.and_then(|i| t.options.get(i)) else { return };
    if option.months.is_none() {
        let caption = Tr::new("visit.services.months")
            .with("min", option.min_months.unwrap_or(1))
            .with("max", option.max_months.map_or("—".to_string(), |m| m.to_string()));
        ui.spawn(text_field(r.months, caption, 3));
    }
    if let Some(days) = option.stay_days.or(t.stay_days) {
        ui.spawn(label(Tr::new("visit.services.stay").with("days", days), theme::BODY_SIZE * 0.8, theme::MUTED));
    }
    if let Some(service) = endorsement(r, v.form, v.policy)
        && let Some(why) = refusal(v, chosen, service)
    {
        ui.spawn(label(Tr::message(why.message()), theme::BODY_SIZE * 0.8, theme::ERROR));
    }
}
