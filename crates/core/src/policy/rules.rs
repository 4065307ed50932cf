//! Rules a bureau may tune, as data: photo reuse, fingerprints, signatures, guardians,
//! endorsement-only visits, processing limits, payment and postage.

use serde::{Deserialize, Serialize};
use time::Date;

use super::{PolicyError, invalid, parse_toml};
use crate::date::age_on;
use crate::money::Yuan;
use crate::policy::Confidence;
use crate::service::Service;
use crate::text::{Localize, Message};

const FILE: &str = "rules.toml";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub photo_reuse: PhotoReuseRule,
    pub photo: PhotoRule,
    pub fingerprints: FingerprintRule,
    pub signature: SignatureRule,
    pub guardian: GuardianRule,
    pub card_validity: CardValidityRule,
    pub processing: ProcessingRule,
    pub payment: PaymentRule,
    pub postage: PostageRule,
    pub shift: crate::shift::ShiftRule,
}

impl Rules {
    pub fn parse(text: &str) -> Result<Rules, PolicyError> {
        let rules: Rules = parse_toml(FILE, text)?;
        let f = &rules.fingerprints;
        if f.min_quality > 100 {
            return Err(invalid(FILE, "fingerprints.min_quality is 0–100"));
        }
        let named = f.services.iter().chain(&rules.card_validity.services);
        let named = named.chain(rules.processing.services.iter().map(|s| &s.service));
        for code in named {
            if !SERVICE_CODES.contains(&code.as_str()) {
                return Err(invalid(FILE, format!("unknown service {code:?}")));
            }
        }
        for code in SERVICE_CODES {
            if !rules.processing.services.iter().any(|s| s.service == code) {
                return Err(invalid(FILE, format!("processing: no time limit for {code}")));
            }
        }
        if rules.shift.max_unapproved == 0 || rules.shift.max_unsynced_hours == 0 {
            return Err(invalid(FILE, "shift: a limit of 0 would stop every visit"));
        }
        if rules.shift.return_reasons.is_empty() {
            return Err(invalid(FILE, "shift.return_reasons is empty"));
        }
        let c = &rules.card_validity;
        if c.minor_months == 0 || c.adult_months < c.minor_months || c.adult_months > 120 {
            return Err(invalid(FILE, "card_validity: months from 1, the adult's at least the minor's, at most 120"));
        }
        if c.services.is_empty() || !(1..=18).contains(&c.adult_from_age) {
            return Err(invalid(FILE, "card_validity: the cards it covers, and an adult's age of 1 to 18"));
        }
        if rules.payment.methods.is_empty() {
            return Err(invalid(FILE, "payment.methods is empty"));
        }
        Ok(rules)
    }
}

const SERVICE_CODES: [&str; 6] = [
    "passport",
    "hk-macao-permit",
    "hk-macao-endorsement",
    "taiwan-permit",
    "taiwan-endorsement",
    "taiwan-resident-permit",
];

// ---------------------------------------------------------------------------------------
// Photos.

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoReuseRule {
    #[serde(with = "crate::iso_date")]
    pub effective_from: Date,
    pub min_age_years: u32,
    pub max_photo_age_years: u32,
    pub confidence: Confidence,
}

/// Where an earlier photo comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhotoSource {
    /// A photo on an earlier exit-entry application.
    ExitEntry,
    /// The photo of the resident identity card.
    IdCard,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PhotoReuseRefusal {
    NotYetInEffect(Date),
    TooYoung { min: u32, age: u32 },
    PhotoTooOld(u32),
    PhotoInFuture,
}

impl Localize for PhotoReuseRefusal {
    fn message(&self) -> Message {
        match *self {
            PhotoReuseRefusal::NotYetInEffect(d) => Message::new("error.photo-reuse.not-yet").with("date", d),
            PhotoReuseRefusal::TooYoung { min, age } => {
                Message::new("error.photo-reuse.too-young").with("min", min).with("age", age)
            }
            PhotoReuseRefusal::PhotoTooOld(years) => Message::new("error.photo-reuse.too-old").with("years", years),
            PhotoReuseRefusal::PhotoInFuture => Message::new("error.photo-reuse.in-future"),
        }
    }
}

crate::localized_error!(PhotoReuseRefusal);

impl PhotoReuseRule {
    /// May an applicant born on `birth` reuse a photo taken on `taken` at a visit on `visit`?
    pub fn check(&self, birth: Date, visit: Date, taken: Date) -> Result<(), PhotoReuseRefusal> {
        self.applies_to(birth, visit)?;
        if taken > visit {
            return Err(PhotoReuseRefusal::PhotoInFuture);
        }
        if age_on(taken, visit) >= self.max_photo_age_years {
            return Err(PhotoReuseRefusal::PhotoTooOld(self.max_photo_age_years));
        }
        Ok(())
    }

    /// May an applicant born on `birth` reuse some recent photo at a visit on `visit`?
    pub fn applies_to(&self, birth: Date, visit: Date) -> Result<(), PhotoReuseRefusal> {
        if visit < self.effective_from {
            return Err(PhotoReuseRefusal::NotYetInEffect(self.effective_from));
        }
        let age = age_on(birth, visit);
        if age < self.min_age_years {
            return Err(PhotoReuseRefusal::TooYoung { min: self.min_age_years, age });
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoRule {
    /// Does a visit for endorsements alone take a new photo? The permit held has one.
    pub endorsement_only_needs_photo: bool,
    pub confidence: Confidence,
}

// ---------------------------------------------------------------------------------------
// Fingerprints, signature, guardians.

/// What happens below `required_from_age`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnderAge {
    /// The guardian decides whether they are taken (the published rule).
    GuardianDecides,
    /// Never taken.
    NotTaken,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FingerprintRule {
    /// From this age (inclusive) prints must be taken, except missing or damaged fingers.
    pub required_from_age: u32,
    pub under_age: UnderAge,
    /// The services (by code) whose documents store fingerprints.
    pub services: Vec<String>,
    /// Does a visit for endorsements alone take prints?
    pub endorsement_only: bool,
    /// Capture quality (0–100) below which a print is not valid.
    pub min_quality: u8,
    pub confidence: Confidence,
}

impl FingerprintRule {
    pub fn covers(&self, service: &Service) -> bool {
        service.endorsement().is_none() && self.services.iter().any(|s| s == service.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureRule {
    /// Below this age (pre-school) the applicant does not sign; the guardian signs.
    pub applicant_signs_from_age: u32,
    pub confidence: Confidence,
}

/// How long a new card is valid, by the holder's age when applying: an endorsement applied for
/// with the card cannot outlast it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardValidityRule {
    /// The cards (service codes) this rule covers.
    pub services: Vec<String>,
    /// From this age a card runs `adult_months`; below it, `minor_months`.
    pub adult_from_age: u32,
    pub adult_months: u32,
    pub minor_months: u32,
    pub confidence: Confidence,
}

impl CardValidityRule {
    /// The months a new card of `service` runs for a holder of `age`; `None` where the rule
    /// does not cover it (a one-trip permit, a passport, a 台胞证).
    pub fn months(&self, service: &crate::service::Service, age: u32) -> Option<u32> {
        use crate::service::{PermitForm, Service};
        if matches!(service, Service::TaiwanPermit { form: PermitForm::OneTrip, .. }) {
            return None;
        }
        let covered = service.endorsement().is_none() && self.services.iter().any(|s| s == service.code());
        covered.then_some(if age >= self.adult_from_age { self.adult_months } else { self.minor_months })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardianRule {
    /// Below this age every guardian with custody consents, and one accompanies.
    pub required_below_age_years: u32,
    /// Below this age the guardian may make the application without the child.
    pub may_apply_for_child_below_age_years: u32,
    pub confidence: Confidence,
}

// ---------------------------------------------------------------------------------------
// Processing limits.

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceLimit {
    pub service: String,
    /// Working days from the day of application.
    pub working_days: u32,
    pub confidence: Confidence,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessingRule {
    pub services: Vec<ServiceLimit>,
    /// Working days for an urgent (加急) application with its evidence seen.
    pub urgent_working_days: u32,
    pub urgent_confidence: Confidence,
}

impl ProcessingRule {
    /// Working days for `service`, normal or urgent.
    pub fn working_days(&self, service: &Service, urgent: bool) -> u32 {
        let normal = self.services.iter().find(|s| s.service == service.code()).map_or(0, |s| s.working_days);
        if urgent { normal.min(self.urgent_working_days) } else { normal }
    }

    pub fn confidence(&self, service: &Service) -> Confidence {
        self.services.iter().find(|s| s.service == service.code()).map_or(Confidence::Unconfirmed, |s| s.confidence)
    }
}

// ---------------------------------------------------------------------------------------
// Payment and postage.

/// How the fee is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PaymentMethod {
    Cash,
    /// The bureau's mobile-payment QR code (WeChat Pay, Alipay…).
    MobileQr,
    BankCard,
    /// Nothing now: paid when the document is collected, where the bureau allows it.
    PayAtPickup,
}

impl PaymentMethod {
    pub fn key(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "payment.cash",
            PaymentMethod::MobileQr => "payment.mobile-qr",
            PaymentMethod::BankCard => "payment.bank-card",
            PaymentMethod::PayAtPickup => "payment.pay-at-pickup",
        }
    }

    /// Does the method leave a transaction reference to record?
    pub fn needs_reference(self) -> bool {
        matches!(self, PaymentMethod::MobileQr | PaymentMethod::BankCard)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRule {
    /// The methods this bureau takes on a visit; `pay-at-pickup` only where it allows it.
    pub methods: Vec<PaymentMethod>,
    pub confidence: Confidence,
}

/// Who pays for posting the document, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PostageCollected {
    /// Taken with the fee on the visit.
    WithFee,
    /// Paid to the courier on delivery.
    OnDelivery,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostageRule {
    pub offered: bool,
    pub amount: Yuan,
    pub collected: PostageCollected,
    pub confidence: Confidence,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySources;
    use time::macros::date;

    fn rules() -> Rules {
        Rules::parse(PolicySources::BUILTIN.rules).unwrap()
    }

    #[test]
    fn photo_reuse_for_sixty_plus_within_five_years() {
        let r = rules().photo_reuse;
        let visit = date!(2026 - 11 - 26);
        let sixty = date!(1966 - 11 - 26);
        let cases = [
            (sixty, visit, date!(2022 - 01 - 01), Ok(())),
            (sixty, visit, date!(2021 - 11 - 27), Ok(())),
            (sixty, visit, date!(2021 - 11 - 26), Err(PhotoReuseRefusal::PhotoTooOld(5))),
            (
                date!(1966 - 11 - 27),
                visit,
                date!(2025 - 01 - 01),
                Err(PhotoReuseRefusal::TooYoung { min: 60, age: 59 }),
            ),
            (
                sixty,
                date!(2021 - 03 - 31),
                date!(2020 - 01 - 01),
                Err(PhotoReuseRefusal::NotYetInEffect(date!(2021 - 04 - 01))),
            ),
            (sixty, visit, date!(2026 - 12 - 01), Err(PhotoReuseRefusal::PhotoInFuture)),
        ];
        for (birth, on, taken, want) in cases {
            assert_eq!(r.check(birth, on, taken), want, "{birth} {on} {taken}");
        }
    }

    #[test]
    fn the_published_fingerprint_and_signature_ages() {
        let r = rules();
        assert_eq!(r.fingerprints.required_from_age, 16);
        assert_eq!(r.fingerprints.under_age, UnderAge::GuardianDecides);
        assert!(r.fingerprints.covers(&"passport".parse().unwrap()));
        assert!(r.fingerprints.covers(&"taiwan-permit".parse().unwrap()));
        assert!(!r.fingerprints.covers(&"hk-macao-endorsement:G:1x:3m".parse().unwrap()));
        assert_eq!(r.signature.applicant_signs_from_age, 6);
        assert_eq!(r.guardian.required_below_age_years, 16);
        assert_eq!(r.guardian.may_apply_for_child_below_age_years, 7);
    }

    #[test]
    fn processing_limits_cover_every_service() {
        let r = rules();
        assert_eq!(r.processing.working_days(&"passport".parse().unwrap(), false), 7);
        assert_eq!(r.processing.working_days(&"passport".parse().unwrap(), true), 5);
        let broken = PolicySources::BUILTIN.rules.replace("service = \"taiwan-resident-permit\"", "service = \"visa\"");
        assert!(matches!(Rules::parse(&broken), Err(PolicyError::Invalid { .. })));
    }

    /// A card's months are refused where they make no card: none, the adult's shorter than the
    /// minor's, longer than any card runs, or a service that is none.
    #[test]
    fn a_cards_validity_is_refused_where_it_makes_no_card() {
        for (from, to) in [
            ("minor_months = 60", "minor_months = 0"),
            ("adult_months = 120", "adult_months = 48"),
            ("adult_months = 120", "adult_months = 240"),
            ("services = [\"hk-macao-permit\", \"taiwan-permit\"]", "services = [\"visa\"]"),
            ("services = [\"hk-macao-permit\", \"taiwan-permit\"]", "services = []"),
            ("adult_from_age = 16", "adult_from_age = 0"),
            ("adult_from_age = 16", "adult_from_age = 200"),
        ] {
            let broken = PolicySources::BUILTIN.rules.replacen(from, to, 1);
            assert_ne!(broken, PolicySources::BUILTIN.rules, "{from}");
            assert!(matches!(Rules::parse(&broken), Err(PolicyError::Invalid { .. })), "{to}");
        }
    }
}
