//! The checks of each step: input in, checked value or typed error out. Pure functions of the
//! input, what earlier steps established, the policy and the date.

use std::collections::HashSet;

use time::{Date, OffsetDateTime};

use crate::applicant::Applicant;
use crate::fingerprint::{self, Procedure};
use crate::money::Yuan;
use crate::person::PersonName;
use crate::phone::PhoneNumber;
use crate::policy::{PaymentMethod, Policy, PostageCollected};
use crate::requirements::{
    self, ApplicantFacts, FingerprintRequirement, HeldCheck, PhotoRequirement, SignatureRequirement,
};

use super::error::*;
use super::inputs::*;

/// The longest contact address accepted, in characters.
pub const MAX_ADDRESS: usize = 100;

pub(super) fn identification(input: Identification, policy: &Policy, today: Date) -> Result<Identified, VisitError> {
    let applicant = Applicant::from_input(&input.applicant, today)?;
    let age = applicant.age_on(today);
    let rule = &policy.rules.guardian;
    let required = (age < rule.required_below_age_years).then_some(rule.required_below_age_years);
    let absent = || VisitError::Guardian(crate::person::GuardianError::ApplyingGuardianAbsent);
    if input.applied_by_guardian {
        if age >= rule.may_apply_for_child_below_age_years {
            return Err(VisitError::ApplicantMustBePresent { below_age: rule.may_apply_for_child_below_age_years });
        }
        // The guardian applies: one must be here, not a companion. Said before what the
        // guardians' entries lack (a companion, when none is here): the child is not here
        // either, and no companion brings them.
        let listed = &input.guardians.guardians;
        if !listed.is_empty() && !listed.iter().any(|g| g.present) {
            return Err(absent());
        }
    }
    let guardians = input.guardians.validate(required, today)?;
    if input.applied_by_guardian && !guardians.as_ref().is_some_and(|g| g.any_present()) {
        return Err(absent());
    }
    Ok(Identified { applicant, guardians, applied_by_guardian: input.applied_by_guardian })
}

pub(super) fn services(
    who: &Identified,
    input: ServicesInput,
    policy: &Policy,
    today: Date,
) -> Result<ChosenServices, VisitError> {
    let a = &who.applicant;
    let facts = ApplicantFacts {
        birth_date: a.identity.birth_date(),
        residency: a.identity.residency(),
        held: &a.held_documents,
    };
    let checked =
        requirements::check_services(policy, facts, &input.services, &input.facts, HeldCheck::Recorded, today)?;
    let rules = requirements::age_rules(policy, facts.birth_date, &input.services, today);
    let facts = crate::policy::EndorsementFacts { age_years: rules.age, ..input.facts };
    Ok(ChosenServices { services: input.services, facts, quote: checked.quote, rules })
}

pub(super) fn is_digest(d: &str) -> bool {
    d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(super) fn photo(
    who: &Identified,
    chosen: &ChosenServices,
    photo: &PhotoInput,
    policy: &Policy,
    today: Date,
) -> Result<(), PhotoError> {
    match photo {
        PhotoInput::NotNeeded if chosen.rules.photo == PhotoRequirement::NotNeeded => Ok(()),
        PhotoInput::NotNeeded => Err(PhotoError::Needed),
        PhotoInput::Captured(_) if who.applied_by_guardian => Err(PhotoError::ApplicantAbsent),
        PhotoInput::Captured(taken) | PhotoInput::Supplied(taken) => {
            let TakenPhoto { digest, override_reason, to_look_at, looked, .. } = taken;
            if !is_digest(digest) {
                return Err(PhotoError::BadDigest);
            }
            // Where the checks asked to look, the officer says what was seen; a reason written
            // for a failed check does not stand for that.
            if !to_look_at.is_empty() && looked.is_none() {
                return Err(PhotoError::LookFirst { checks: to_look_at.clone() });
            }
            let reason_given = override_reason.as_deref().is_some_and(|r| !r.trim().is_empty());
            let overridden = taken.overridden();
            if !overridden.is_empty() && !reason_given {
                return Err(PhotoError::FailedChecksNeedReason { checks: overridden });
            }
            Ok(())
        }
        PhotoInput::Reused { taken_on, digest, .. } => {
            if !is_digest(digest) {
                return Err(PhotoError::BadDigest);
            }
            policy
                .rules
                .photo_reuse
                .check(who.applicant.identity.birth_date(), today, *taken_on)
                .map_err(PhotoError::Reuse)
        }
    }
}

pub(super) fn fingerprints(
    who: &Identified,
    chosen: &ChosenServices,
    input: FingerprintsInput,
    policy: &Policy,
    today: Date,
) -> Result<Fingerprints, FingerprintsStepError> {
    let wanted = chosen.rules.fingerprints;
    if who.applied_by_guardian && wanted != FingerprintRequirement::NotTaken {
        // The child is not here: nothing can be taken, whatever the guardian would decide.
        return match input {
            FingerprintsInput::Taken { .. } => Err(FingerprintsStepError::ApplicantAbsent),
            _ => Ok(Fingerprints::ApplicantAbsent),
        };
    }
    match (input, wanted) {
        (FingerprintsInput::NotTaken, FingerprintRequirement::NotTaken) => Ok(Fingerprints::NotTaken),
        (FingerprintsInput::NotTaken, FingerprintRequirement::Required) => Err(FingerprintsStepError::Required),
        (FingerprintsInput::NotTaken, FingerprintRequirement::GuardianDecides) => {
            Err(FingerprintsStepError::DeclineNotAllowed)
        }
        (_, FingerprintRequirement::NotTaken) => Err(FingerprintsStepError::NotTaken),
        (FingerprintsInput::DeclinedByGuardian, FingerprintRequirement::GuardianDecides) => {
            Ok(Fingerprints::DeclinedByGuardian)
        }
        (FingerprintsInput::DeclinedByGuardian, _) => Err(FingerprintsStepError::DeclineNotAllowed),
        (FingerprintsInput::Taken { attempts, no_valid_print_confirmed }, _) => {
            let rule = &policy.rules.fingerprints;
            let procedure = Procedure { min_quality: rule.min_quality };
            fingerprint::record(attempts, &procedure, no_valid_print_confirmed, today)
                .map(Fingerprints::Taken)
                .map_err(FingerprintsStepError::Procedure)
        }
    }
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

pub(super) fn details(
    who: &Identified,
    services: &[crate::Service],
    input: &DetailsInput,
    policy: &Policy,
    today: Date,
) -> Result<Details, DetailsError> {
    let phone = PhoneNumber::parse(&input.phone).map_err(DetailsError::Phone)?;
    let address = non_empty(&input.address).ok_or(DetailsError::AddressMissing)?;
    if address.chars().count() > MAX_ADDRESS {
        return Err(DetailsError::AddressTooLong { max: MAX_ADDRESS });
    }
    let delivery = match &input.delivery {
        DeliveryInput::Pickup { office } => {
            Delivery::Pickup { office: non_empty(office).ok_or(DetailsError::PickupOfficeMissing)? }
        }
        DeliveryInput::Delegate { office, delegate } => Delivery::Delegate {
            office: non_empty(office).ok_or(DetailsError::PickupOfficeMissing)?,
            delegate: delegate.validate(today).map_err(DetailsError::Delegate)?,
        },
        DeliveryInput::Post { recipient, phone, province, city, district, street, postcode } => {
            let postage = &policy.rules.postage;
            if !postage.offered {
                return Err(DetailsError::PostNotOffered);
            }
            let recipient = PersonName::parse(recipient).map_err(DetailsError::RecipientName)?;
            let phone = PhoneNumber::parse(phone).map_err(DetailsError::RecipientPhone)?;
            let (Some(province), Some(city), Some(district)) =
                (non_empty(province), non_empty(city), non_empty(district))
            else {
                return Err(DetailsError::RegionMissing);
            };
            let street = non_empty(street).ok_or(DetailsError::StreetMissing)?;
            let postcode = postcode.trim().to_string();
            if postcode.len() != 6 || !postcode.bytes().all(|b| b.is_ascii_digit()) {
                return Err(DetailsError::Postcode);
            }
            Delivery::Post {
                address: PostalAddress { recipient, phone, province, city, district, street, postcode },
                postage: postage.amount,
            }
        }
    };
    if let Some(urgent) = &input.urgent {
        policy.urgent.check(&urgent.ground, &urgent.evidence_seen, services).map_err(DetailsError::Urgent)?;
    }
    let priority = policy
        .priority
        .applicable(who.applicant.identity.birth_date(), today, &input.declared_priority)
        .map_err(DetailsError::Priority)?
        .into_iter()
        .map(|c| c.id.clone())
        .collect();
    Ok(Details { phone, address, delivery, urgent: input.urgent.clone(), priority })
}

fn strokes(s: &Strokes) -> Result<(), ConsentError> {
    if is_digest(&s.digest) && s.strokes > 0 { Ok(()) } else { Err(ConsentError::EmptySignature) }
}

pub(super) fn consent(who: &Identified, chosen: &ChosenServices, input: ConsentInput) -> Result<Consent, ConsentError> {
    if !input.application {
        return Err(ConsentError::ApplicationNotAgreed);
    }
    let biometrics_taken = chosen.rules.photo != PhotoRequirement::NotNeeded
        || chosen.rules.fingerprints != FingerprintRequirement::NotTaken;
    if biometrics_taken && !input.biometrics {
        return Err(ConsentError::BiometricsNotAgreed);
    }
    let too_young = chosen.rules.signature == SignatureRequirement::Guardian;
    let applicant = match input.applicant {
        Some(_) if too_young || who.applied_by_guardian => return Err(ConsentError::ApplicantDoesNotSign),
        // Both a signature and a reason not to sign: neither is dropped without a word.
        Some(_) if non_empty(&input.applicant_unable_reason).is_some() => return Err(ConsentError::SignedAndUnable),
        Some(s) => {
            strokes(&s)?;
            ApplicantSignature::Signed(s)
        }
        None if who.applied_by_guardian => ApplicantSignature::AppliedByGuardian,
        None if too_young => ApplicantSignature::PreSchool,
        None => match non_empty(&input.applicant_unable_reason) {
            Some(reason) => ApplicantSignature::Unable { reason },
            None => return Err(ConsentError::ApplicantSignatureMissing),
        },
    };
    let present: Vec<bool> = who.guardians.iter().flat_map(|g| g.guardians.iter().map(|x| x.present)).collect();
    let mut guardians = Vec::new();
    let count = present.len().max(input.guardians.len());
    let mut given = input.guardians.into_iter();
    for i in 0..count {
        let index = i + 1;
        match (given.next().flatten(), present.get(i).copied()) {
            (Some(s), Some(true)) => {
                strokes(&s)?;
                guardians.push((index, s));
            }
            (Some(_), _) => return Err(ConsentError::GuardianNotPresent { index }),
            (None, Some(true)) => return Err(ConsentError::GuardianSignatureMissing { index }),
            (None, _) => {}
        }
    }
    let entrusted = who.guardians.as_ref().is_some_and(|g| g.companion.is_some());
    let companion = match (input.companion, entrusted) {
        (Some(s), true) => {
            strokes(&s)?;
            Some(s)
        }
        (Some(_), false) => return Err(ConsentError::CompanionNotEntrusted),
        (None, true) => return Err(ConsentError::CompanionSignatureMissing),
        (None, false) => None,
    };
    let applicant_signed = matches!(applicant, ApplicantSignature::Signed(_));
    let someone_for_child = !guardians.is_empty() || companion.is_some();
    if !applicant_signed && !matches!(applicant, ApplicantSignature::Unable { .. }) && !someone_for_child {
        return Err(ConsentError::NobodySigns);
    }
    Ok(Consent { application: true, biometrics: input.biometrics, applicant, guardians, companion })
}

/// What is due at payment: the fees, plus postage where the bureau takes it with them.
pub(super) fn amount_due(chosen: &ChosenServices, details: &Details, policy: &Policy) -> (Yuan, Yuan) {
    let postage = match &details.delivery {
        Delivery::Post { postage, .. } if policy.rules.postage.collected == PostageCollected::WithFee => *postage,
        _ => Yuan::ZERO,
    };
    (chosen.quote.total.checked_add(postage).unwrap_or(chosen.quote.total), postage)
}

pub(super) fn payment(
    chosen: &ChosenServices,
    details: &Details,
    input: PaymentInput,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<Payment, PaymentError> {
    if !policy.rules.payment.methods.contains(&input.method) {
        return Err(PaymentError::MethodNotOffered(input.method));
    }
    let (due, postage) = amount_due(chosen, details, policy);
    let due_now = if input.method == PaymentMethod::PayAtPickup { Yuan::ZERO } else { due };
    if input.amount != due_now {
        return Err(PaymentError::WrongAmount { due: due_now, given: input.amount });
    }
    let reference = non_empty(&input.reference);
    if input.method.needs_reference() && reference.is_none() {
        return Err(PaymentError::ReferenceMissing);
    }
    Ok(Payment { method: input.method, quote: chosen.quote.clone(), postage, amount: input.amount, reference, at: now })
}

pub(super) fn application_numbers(numbers: &[String], wanted: usize) -> Result<(), SealError> {
    if numbers.len() != wanted {
        return Err(SealError::WrongCount { expected: wanted, given: numbers.len() });
    }
    let unique: HashSet<&str> = numbers.iter().map(|n| n.trim()).collect();
    if unique.len() != wanted || unique.contains("") {
        return Err(SealError::NumbersNotDistinct);
    }
    Ok(())
}

/// A rating code: 6–16 capitals and digits.
pub(super) fn rating_code(code: &str) -> Result<(), SealError> {
    let ok = (6..=16).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok { Ok(()) } else { Err(SealError::RatingCodeInvalid) }
}

pub(super) fn rating(input: RatingInput, code: &str, policy: &Policy) -> Result<Rating, RatingError> {
    let rule = &policy.feedback.rating;
    match input {
        RatingInput::Score { stars, reasons, call_back } => {
            if !(1..=5).contains(&stars) {
                return Err(RatingError::OutOfRange(stars));
            }
            let poor = stars <= rule.poor_at_most;
            if poor && reasons.is_empty() {
                return Err(RatingError::ReasonsNeeded);
            }
            if !poor && (!reasons.is_empty() || call_back) {
                return Err(RatingError::ReasonsNotAsked);
            }
            if let Some(bad) = reasons.iter().find(|r| policy.feedback.rating_reason(r).is_none()) {
                return Err(RatingError::UnknownReason(bad.clone()));
            }
            Ok(Rating::Score { stars, reasons, call_back })
        }
        RatingInput::Later => Ok(Rating::Later { code: code.to_string() }),
        RatingInput::Declined => Ok(Rating::Declined),
    }
}
