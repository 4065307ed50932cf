//! doorstep-core: the domain of exit-entry applications taken on a home visit.
//!
//! It knows applicants, identity and document numbers, machine-readable zones, names and
//! phone numbers; what can be applied for (passports, 往来港澳通行证 and endorsements,
//! 往来台湾通行证 and endorsements, 台胞证) and what it costs; priority categories, urgent
//! grounds and the 60+ photo-reuse rule; and the visit workflow as a state machine.
//!
//! It deliberately does not know about files, clocks, threads, networks, devices, screens or
//! storage: every function takes what it needs (including "today") as an argument and returns
//! a value or an error. Policy a bureau changes is data (TOML texts, see [`policy`]).
//!
//! Types that hold personal data print `<redacted>` in their `Debug` output, and error
//! messages never repeat an identity number or a name.

#![forbid(unsafe_code)]

pub mod applicant;
pub mod date;
pub mod document;
pub mod id_number;
pub mod money;
pub mod mrz;
pub mod name;
pub mod phone;
pub mod policy;
pub mod service;
pub mod visit;

pub use applicant::{Applicant, ApplicantInput, Identity, IdentitySource, Residency};
pub use document::{DocumentKind, DocumentNumber};
pub use id_number::{CitizenId, IdKind, Sex};
pub use money::Yuan;
pub use policy::{Policy, PolicySources};
pub use service::Service;
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
}
