//! doorstep-core: the domain of exit-entry applications taken on a home visit.
//!
//! It knows applicants, their guardians and the people they entrust, identity and document
//! numbers, machine-readable zones, names and their pinyin, phone numbers; what can be
//! applied for (passports, 往来港澳通行证 and endorsements, 往来台湾通行证 and endorsements,
//! 台胞证), what it costs and when it will be issued; the age rules for fingerprints,
//! signatures, guardians and photos; the published fingerprint procedure; priority
//! categories, urgent grounds; the visit workflow as typed states; appointments, the outreach
//! queue, and praise and complaints. Every error and label is a [`text::Message`] whose words
//! live in the locale files.
//!
//! It deliberately does not know about files, clocks, threads, networks, devices, screens or
//! storage: every function takes what it needs (including "today") as an argument and returns
//! a value or an error. Policy a bureau changes is data (TOML texts, see [`policy`]).
//!
//! Types that hold personal data print `<redacted>` in their `Debug` output, and error
//! messages never repeat an identity number or a name.

#![forbid(unsafe_code)]

pub mod applicant;
pub mod appointment;
pub mod date;
pub mod document;
pub mod feedback;
pub mod fingerprint;
pub mod id_number;
pub mod money;
pub mod mrz;
pub mod name;
pub mod person;
pub mod phone;
pub mod policy;
pub mod queue;
pub mod requirements;
pub mod service;
pub mod shift;
pub mod text;
pub mod visit;

pub use applicant::{Applicant, ApplicantInput, Identity, IdentitySource, Residency};
pub use document::{DocumentKind, DocumentNumber};
pub use id_number::{CitizenId, IdKind, Sex};
pub use money::Yuan;
pub use policy::{Policy, PolicySources};
pub use service::Service;
pub use text::{Lang, Localize, Message};
pub use visit::{Step, Visit, VisitEvent, VisitState};

/// Formats a date as `YYYY-MM-DD`.
pub fn format_date(date: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month() as u8, date.day())
}

/// Serde for dates as `YYYY-MM-DD` strings.
pub(crate) mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    pub fn serialize<S: Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::format_date(*date))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        Date::parse(&s, fmt).map_err(|_| serde::de::Error::custom(format!("{s:?} is not a YYYY-MM-DD date")))
    }

    /// The same, for reading an optional date.
    pub mod option {
        use serde::{Deserialize, Deserializer};
        use time::Date;

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
            #[derive(Deserialize)]
            struct Wrap(#[serde(with = "super")] Date);
            Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(date)| date))
        }
    }
}
