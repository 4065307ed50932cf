//! What a visit must collect for an applicant, asked without the screens: the age rules
//! (guardians, fingerprints, signature, photo), whether the services may be applied for
//! together, the itemised fee and the expected issue dates.
//!
//! The visit's own checks use the same functions, so `doorstep requirements` and the visit
//! cannot disagree.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::applicant::{HeldDocument, Residency};
use crate::date::{add_months, age_on};
use crate::document::DocumentKind;
use crate::policy::{
    Confidence, CountedDate, EndorsementError, EndorsementFacts, FeeError, FeeQuote, Policy, UnderAge,
};
use crate::service::{Endorsement, EndorsementRegion, Entries, IssueReason, Months, PermitForm, Service};
use crate::text::{Localize, Message};

/// Are fingerprints taken?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FingerprintRequirement {
    /// From 16: taken, except fingers missing or damaged.
    Required,
    /// Under 16: the guardian decides.
    GuardianDecides,
    /// Not for these services (or not at this age, where a bureau says so).
    NotTaken,
}

/// Who signs the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureRequirement {
    /// The applicant (and, under 16, every guardian present signs the consent too).
    Applicant,
    /// A pre-school child does not sign: the guardian signs.
    Guardian,
}

/// What photo the visit takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhotoRequirement {
    New,
    /// 60 or over: an exit-entry or ID-card photo from the last 5 years may be reused.
    ReuseAllowed,
    /// Endorsements alone: the permit's photo stands.
    NotNeeded,
}

/// Something the officer should know that does not stop the visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "warning")]
pub enum Warning {
    /// A suspended endorsement type this bureau's policy lifts.
    SuspensionLifted { code: char, since: String },
    /// An amount rests on an unconfirmed or partly confirmed source.
    UncertainFee { service: Service, confidence: Confidence },
    /// An endorsement type (or its letter) rests on an unconfirmed or partly confirmed source.
    UncertainEndorsement { region: EndorsementRegion, code: char, confidence: Confidence },
    /// The calendar does not list a year the count crossed: weekends only were counted.
    CalendarYearMissing { year: i32 },
    /// The held permit's number or expiry was not given: checked at the visit.
    HeldPermitUnchecked { permit: DocumentKind },
    /// A rule resting on a source that is not confirmed.
    UnconfirmedRule { rule: &'static str },
}

impl Localize for Warning {
    fn message(&self) -> Message {
        match self {
            Warning::SuspensionLifted { code, since } => {
                Message::new("warning.suspension-lifted").with("code", *code).with("since", since.as_str())
            }
            Warning::UncertainFee { service, confidence } => Message::new(match confidence {
                Confidence::Unconfirmed => "warning.fee-unconfirmed",
                _ => "warning.fee-partial",
            })
            .with("service", service.describe()),
            Warning::UncertainEndorsement { region, code, confidence } => Message::new(match confidence {
                Confidence::Unconfirmed => "warning.endorsement-unconfirmed",
                _ => "warning.endorsement-partial",
            })
            .with_key("region", region.key())
            .with("code", *code),
            Warning::CalendarYearMissing { year } => Message::new("warning.calendar-year-missing").with("year", *year),
            Warning::HeldPermitUnchecked { permit } => {
                Message::new("warning.held-permit-unchecked").with_key("permit", permit.key())
            }
            Warning::UnconfirmedRule { rule } => Message::new("warning.unconfirmed-rule").with_key("rule", rule),
        }
    }
}

/// Why services cannot be applied for together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServicesError {
    NoneChosen,
    /// A service for the other residency (台胞证 for a mainland resident, or the reverse).
    WrongResidency {
        service: Service,
        taiwan_only: bool,
    },
    DocumentTwice(DocumentKind),
    EndorsementTwice {
        region: EndorsementRegion,
        code: char,
    },
    /// A second endorsement type for the same permit: one type is taken per permit in a visit
    /// (as the visit's screen offers them).
    OneEndorsementPerPermit {
        region: EndorsementRegion,
    },
    Endorsement(EndorsementError),
    /// A first issue of a document already held: renewal, loss or damage is the reason.
    DocumentHeld {
        document: DocumentKind,
    },
    /// An endorsement with no permit held or applied for.
    PermitNeeded {
        code: char,
        permit: DocumentKind,
    },
    /// The held permit's number or expiry is missing.
    HeldPermitDetailsMissing {
        permit: DocumentKind,
    },
    HeldPermitExpired {
        permit: DocumentKind,
        expiry: Date,
    },
    HeldPermitExpiresFirst {
        permit: DocumentKind,
        expiry: Date,
    },
    /// An endorsement applied for with a new card that would run longer than the card does
    /// (`months`: the card's, at the holder's age).
    EndorsementOutlastsCard {
        permit: DocumentKind,
        code: char,
        months: u32,
    },
    /// A one-trip permit takes one trip's endorsement: one entry.
    OneTripPermitOneEntry {
        code: char,
    },
    /// A renewal or replacement after damage needs the document held now.
    PreviousDocumentNeeded {
        document: DocumentKind,
        reason: IssueReason,
    },
    Fee(FeeError),
}

impl Localize for ServicesError {
    fn message(&self) -> Message {
        match self {
            ServicesError::NoneChosen => Message::new("error.services.none-chosen"),
            ServicesError::WrongResidency { service, taiwan_only } => Message::new(if *taiwan_only {
                "error.services.taiwan-residents-only"
            } else {
                "error.services.mainland-residents-only"
            })
            .with("service", service.describe()),
            ServicesError::DocumentTwice(d) => {
                Message::new("error.services.document-twice").with_key("document", d.key())
            }
            ServicesError::EndorsementTwice { region, code } => {
                Message::new("error.services.endorsement-twice").with_key("region", region.key()).with("code", *code)
            }
            ServicesError::OneEndorsementPerPermit { region } => {
                Message::new("error.services.one-endorsement-per-permit").with_key("region", region.key())
            }
            ServicesError::Endorsement(e) => e.message(),
            ServicesError::PermitNeeded { code, permit } => {
                Message::new("error.services.permit-needed").with("code", *code).with_key("permit", permit.key())
            }
            ServicesError::HeldPermitDetailsMissing { permit } => {
                Message::new("error.services.held-permit-details").with_key("permit", permit.key())
            }
            ServicesError::HeldPermitExpired { permit, expiry } => Message::new("error.services.held-permit-expired")
                .with_key("permit", permit.key())
                .with("date", *expiry),
            ServicesError::HeldPermitExpiresFirst { permit, expiry } => {
                Message::new("error.services.held-permit-expires-first")
                    .with_key("permit", permit.key())
                    .with("date", *expiry)
            }
            ServicesError::EndorsementOutlastsCard { permit, code, months } => {
                Message::new("error.services.endorsement-outlasts-card")
                    .with_key("permit", permit.key())
                    .with("code", *code)
                    .with("validity", Months(*months).describe())
            }
            ServicesError::OneTripPermitOneEntry { code } => {
                Message::new("error.services.one-trip-one-entry").with("code", *code)
            }
            ServicesError::PreviousDocumentNeeded { document, reason } => {
                Message::new("error.services.previous-document")
                    .with_key("document", document.key())
                    .with_key("reason", reason.key())
            }
            ServicesError::DocumentHeld { document } => {
                Message::new("error.services.document-held").with_key("document", document.key())
            }
            ServicesError::Fee(e) => e.message(),
        }
    }
}

crate::localized_error!(ServicesError);

/// How strictly documents already held are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldCheck {
    /// At a visit: a permit an endorsement goes on must have its number and expiry recorded.
    Recorded,
    /// Asked without a visit: a permit named without details is assumed valid, with a warning.
    Assumed,
}

/// Who the applicant is, as far as the rules need.
#[derive(Debug, Clone, Copy)]
pub struct ApplicantFacts<'a> {
    pub birth_date: Date,
    pub residency: Residency,
    pub held: &'a [HeldDocument],
}

/// The outcome of checking services together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedServices {
    pub quote: FeeQuote,
    pub warnings: Vec<Warning>,
}

/// The first service listed again in `services`: the same document, the same endorsement type
/// on the same permit, or a second type for a permit (one type per permit in a visit).
pub fn listed_twice(services: &[Service]) -> Option<ServicesError> {
    let mut documents = HashSet::new();
    let mut endorsements: Vec<(EndorsementRegion, char)> = Vec::new();
    services.iter().find_map(|s| match s.endorsement() {
        Some(e) => {
            let earlier = endorsements.iter().find(|(r, _)| *r == e.region).map(|(_, c)| *c);
            endorsements.push((e.region, e.code));
            match earlier {
                Some(c) if c == e.code => Some(ServicesError::EndorsementTwice { region: e.region, code: e.code }),
                Some(_) => Some(ServicesError::OneEndorsementPerPermit { region: e.region }),
                None => None,
            }
        }
        None => (!documents.insert(s.document())).then(|| ServicesError::DocumentTwice(s.document())),
    })
}

/// Checks that `services` may be applied for together by this applicant on `today`.
pub fn check_services(
    policy: &Policy,
    applicant: ApplicantFacts<'_>,
    services: &[Service],
    facts: &EndorsementFacts,
    held_check: HeldCheck,
    today: Date,
) -> Result<CheckedServices, ServicesError> {
    if services.is_empty() {
        return Err(ServicesError::NoneChosen);
    }
    if let Some(twice) = listed_twice(services) {
        return Err(twice);
    }
    let mut warnings = Vec::new();
    let facts = EndorsementFacts { age_years: age_on(applicant.birth_date, today), ..*facts };
    for service in services {
        let taiwan_only = matches!(service, Service::TaiwanResidentPermit { .. });
        let ok = if taiwan_only {
            applicant.residency == Residency::Taiwan
        } else {
            applicant.residency == Residency::Mainland
        };
        if !ok {
            return Err(ServicesError::WrongResidency { service: service.clone(), taiwan_only });
        }
        match service.endorsement() {
            Some(e) => {
                policy.endorsements.check(e, &facts, today).map_err(ServicesError::Endorsement)?;
                if let Some(t) = policy.endorsements.type_of(e.region, e.code) {
                    if let Some(since) = t.suspended_from.filter(|s| *s <= today && t.suspension_lifted) {
                        warnings.push(Warning::SuspensionLifted { code: e.code, since: crate::format_date(since) });
                    }
                    if t.confidence != Confidence::Confirmed {
                        warnings.push(Warning::UncertainEndorsement {
                            region: e.region,
                            code: e.code,
                            confidence: t.confidence,
                        });
                    }
                }
                let permit = e.region.permit();
                let new_card = services.iter().find(|s| s.endorsement().is_none() && s.document() == permit);
                if let Some(card) = new_card {
                    new_card_holds(policy, applicant.birth_date, card, e, today)?;
                } else {
                    let Some(held) = applicant.held.iter().find(|d| d.kind == permit) else {
                        return Err(ServicesError::PermitNeeded { code: e.code, permit });
                    };
                    let recorded = held.number.is_some() && held.expiry.is_some();
                    if !recorded && held_check == HeldCheck::Recorded {
                        return Err(ServicesError::HeldPermitDetailsMissing { permit });
                    }
                    // The endorsement runs from its issue, not from today.
                    let issued = policy
                        .calendar
                        .add_working_days(today, policy.rules.processing.working_days(service, false))
                        .date;
                    match held.expiry {
                        Some(expiry) if expiry <= today => {
                            return Err(ServicesError::HeldPermitExpired { permit, expiry });
                        }
                        Some(expiry) if add_months(issued, e.validity.0) > expiry => {
                            return Err(ServicesError::HeldPermitExpiresFirst { permit, expiry });
                        }
                        Some(_) => {}
                        None => {
                            let w = Warning::HeldPermitUnchecked { permit };
                            if !warnings.contains(&w) {
                                warnings.push(w);
                            }
                        }
                    }
                }
            }
            None => {
                let reason = service.reason().unwrap_or(IssueReason::First);
                let needs_old = matches!(reason, IssueReason::Renewal | IssueReason::Damaged);
                let held = applicant.held.iter().any(|d| d.kind == service.document());
                if needs_old && !held {
                    return Err(ServicesError::PreviousDocumentNeeded { document: service.document(), reason });
                }
                if reason == IssueReason::First && held {
                    return Err(ServicesError::DocumentHeld { document: service.document() });
                }
            }
        }
    }
    let quote = policy.fees.quote(services, today).map_err(ServicesError::Fee)?;
    for line in &quote.lines {
        if line.confidence != Confidence::Confirmed {
            warnings.push(Warning::UncertainFee { service: line.service.clone(), confidence: line.confidence });
        }
    }
    Ok(CheckedServices { quote, warnings })
}

/// Whether endorsement `e` fits on `card`, applied for with it on `today` by an applicant born
/// on `birth`: one entry on a one-trip permit; on a card, no longer than the card runs at the
/// holder's age at the application (both run from the card's issue). The age is today's, as
/// every other age rule takes it: the issue date is only a promised latest, urgent or not, and
/// a card issued before a 16th birthday runs 5 years.
fn new_card_holds(
    policy: &Policy,
    birth: Date,
    card: &Service,
    e: &Endorsement,
    today: Date,
) -> Result<(), ServicesError> {
    if matches!(card, Service::TaiwanPermit { form: PermitForm::OneTrip, .. }) && e.entries != Entries::Once {
        return Err(ServicesError::OneTripPermitOneEntry { code: e.code });
    }
    match policy.rules.card_validity.months(card, age_on(birth, today)) {
        Some(months) if e.validity.0 > months => {
            Err(ServicesError::EndorsementOutlastsCard { permit: card.document(), code: e.code, months })
        }
        _ => Ok(()),
    }
}

/// What the officer is warned of at a visit, beside the fee and the choices: each amount and
/// endorsement type of `services` (quoted in `quote`) whose source is unconfirmed ([U] in
/// DOMAIN.md; "shown to the officer with a warning", fees.toml). A partly confirmed one is said
/// by `doorstep requirements` and flagged to the supervisor, not at each visit: most Taiwan
/// amounts are partly confirmed, and a warning on every such visit is one no one reads.
pub fn unconfirmed(policy: &Policy, services: &[Service], quote: &FeeQuote) -> Vec<Warning> {
    let endorsements = services.iter().filter_map(Service::endorsement).filter_map(|e| {
        let t = policy.endorsements.type_of(e.region, e.code)?;
        let confidence = t.confidence;
        (confidence == Confidence::Unconfirmed).then_some(Warning::UncertainEndorsement {
            region: e.region,
            code: e.code,
            confidence,
        })
    });
    let fees = quote
        .lines
        .iter()
        .filter(|l| l.confidence == Confidence::Unconfirmed)
        .map(|l| Warning::UncertainFee { service: l.service.clone(), confidence: l.confidence });
    endorsements.chain(fees).collect()
}

/// The age rules for an applicant born on `birth` applying for `services` on `today`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeRules {
    pub age: u32,
    pub guardian_required: bool,
    pub guardian_may_apply_for_child: bool,
    pub fingerprints: FingerprintRequirement,
    pub signature: SignatureRequirement,
    pub photo: PhotoRequirement,
}

pub fn age_rules(policy: &Policy, birth: Date, services: &[Service], today: Date) -> AgeRules {
    let r = &policy.rules;
    let age = age_on(birth, today);
    let endorsements_only = services.iter().all(|s| s.endorsement().is_some());
    let covered = services.iter().any(|s| r.fingerprints.covers(s))
        || (endorsements_only && r.fingerprints.endorsement_only && !services.is_empty());
    let fingerprints = if !covered {
        FingerprintRequirement::NotTaken
    } else if age >= r.fingerprints.required_from_age {
        FingerprintRequirement::Required
    } else {
        match r.fingerprints.under_age {
            UnderAge::GuardianDecides => FingerprintRequirement::GuardianDecides,
            UnderAge::NotTaken => FingerprintRequirement::NotTaken,
        }
    };
    let photo = if endorsements_only && !services.is_empty() && !r.photo.endorsement_only_needs_photo {
        PhotoRequirement::NotNeeded
    } else if r.photo_reuse.applies_to(birth, today).is_ok() {
        PhotoRequirement::ReuseAllowed
    } else {
        PhotoRequirement::New
    };
    AgeRules {
        age,
        guardian_required: age < r.guardian.required_below_age_years,
        guardian_may_apply_for_child: age < r.guardian.may_apply_for_child_below_age_years,
        fingerprints,
        signature: if age >= r.signature.applicant_signs_from_age {
            SignatureRequirement::Applicant
        } else {
            SignatureRequirement::Guardian
        },
        photo,
    }
}

/// When one application is expected to be issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedIssue {
    pub service: Service,
    pub working_days: u32,
    pub date: CountedDate,
    /// How sure the processing limit's source is.
    pub confidence: Confidence,
}

/// The expected issue date of each service applied for on `today`, urgent or not.
pub fn expected_issue(policy: &Policy, services: &[Service], urgent: bool, today: Date) -> Vec<ExpectedIssue> {
    services
        .iter()
        .map(|s| {
            let processing = &policy.rules.processing;
            let working_days = processing.working_days(s, urgent);
            let confidence = if urgent {
                processing.urgent_confidence.min(processing.confidence(s))
            } else {
                processing.confidence(s)
            };
            let date = policy.calendar.add_working_days(today, working_days);
            ExpectedIssue { service: s.clone(), working_days, date, confidence }
        })
        .collect()
}

/// Everything `doorstep requirements` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirements {
    #[serde(flatten)]
    pub rules: AgeRules,
    pub quote: FeeQuote,
    pub expected: Vec<ExpectedIssue>,
    pub urgent: Vec<ExpectedIssue>,
    /// Priority categories that follow from the birth date.
    pub priority: Vec<String>,
    pub warnings: Vec<Warning>,
}

impl Requirements {
    /// The latest expected issue date of the visit's applications.
    pub fn expected_issue_date(&self) -> Option<Date> {
        self.expected.iter().map(|e| e.date.date).max()
    }

    pub fn urgent_issue_date(&self) -> Option<Date> {
        self.urgent.iter().map(|e| e.date.date).max()
    }
}

/// What the visit must collect for this applicant and these services.
pub fn requirements(
    policy: &Policy,
    applicant: ApplicantFacts<'_>,
    services: &[Service],
    facts: &EndorsementFacts,
    held_check: HeldCheck,
    today: Date,
) -> Result<Requirements, ServicesError> {
    let checked = check_services(policy, applicant, services, facts, held_check, today)?;
    let rules = age_rules(policy, applicant.birth_date, services, today);
    let expected = expected_issue(policy, services, false, today);
    let urgent = expected_issue(policy, services, true, today);
    let mut warnings = checked.warnings;
    for year in expected.iter().chain(&urgent).filter_map(|e| e.date.unlisted_year) {
        let w = Warning::CalendarYearMissing { year };
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    }
    let counted_years = expected.iter().flat_map(|e| today.year()..=e.date.date.year());
    for year in counted_years.collect::<std::collections::BTreeSet<_>>() {
        if policy.calendar.year(year).is_some_and(|y| y.confidence == Confidence::Unconfirmed) {
            warnings.push(Warning::UnconfirmedRule { rule: "rule.calendar" });
        }
    }
    if expected.iter().any(|e| e.confidence == Confidence::Unconfirmed) {
        warnings.push(Warning::UnconfirmedRule { rule: "rule.processing" });
    }
    let r = &policy.rules;
    let mut unconfirmed = |confidence: Confidence, rule: &'static str| {
        if confidence == Confidence::Unconfirmed {
            warnings.push(Warning::UnconfirmedRule { rule });
        }
    };
    if rules.fingerprints != FingerprintRequirement::NotTaken {
        unconfirmed(r.fingerprints.confidence, "rule.fingerprints");
    }
    if rules.guardian_required {
        unconfirmed(r.guardian.confidence, "rule.guardian");
    }
    if rules.signature == SignatureRequirement::Guardian {
        unconfirmed(r.signature.confidence, "rule.signature");
    }
    let priority = policy
        .priority
        .applicable(applicant.birth_date, today, &[])
        .map(|cats| cats.into_iter().map(|c| c.id.clone()).collect())
        .unwrap_or_default();
    Ok(Requirements { rules, quote: checked.quote, expected, urgent, priority, warnings })
}

#[cfg(test)]
mod tests;
