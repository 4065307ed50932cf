//! The supervisor's end-of-shift report: the shift's figures as released (counts only, no
//! applicant's name, number or ID; the officers and the supervisor by their ids), shown on the shift screen and kept as PNG and PDF beside the vault
//! (`VAULT.shift-reports/BATCH.png` and `.pdf`), drawn by the receipt renderer at the printer's
//! width so it can also be printed as it is.

use std::collections::BTreeMap;

use doorstep_core::visit::Flag;
use doorstep_devices::escpos::{Align, ReceiptBuilder};

use crate::shift::{BatchView, Decision, Decisions, ShiftItem};
use crate::ui::i18n::Words;

/// What the supervisor looks at, by kind: each of core's flags has its own line in the report
/// (a flag added to core must be given one here: the match has no catch-all), those of one
/// matter together (the fingers' three, the guardians' three, the unconfirmed sources' two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FlagKind {
    PhotoOverride,
    PhotoLookedAt,
    PhotoSupplied,
    Fingers,
    FingerprintsDeclined,
    ReissueAfterHealing,
    UnableToSign,
    Urgent,
    Guardian,
    PayAtPickup,
    Unconfirmed,
    PoorRating,
}

impl FlagKind {
    pub fn of(flag: &Flag) -> FlagKind {
        match flag {
            Flag::PhotoOverride { .. } => FlagKind::PhotoOverride,
            Flag::PhotoLookedAt { .. } => FlagKind::PhotoLookedAt,
            Flag::PhotoSupplied => FlagKind::PhotoSupplied,
            Flag::FingerExceptions { .. } | Flag::FewerFingerprints { .. } | Flag::NoValidFingerprint { .. } => {
                FlagKind::Fingers
            }
            Flag::FingerprintsDeclinedByGuardian => FlagKind::FingerprintsDeclined,
            Flag::ReissueAfterHealing => FlagKind::ReissueAfterHealing,
            Flag::ApplicantUnableToSign => FlagKind::UnableToSign,
            Flag::Urgent => FlagKind::Urgent,
            Flag::Guardian | Flag::AppliedByGuardian | Flag::EntrustedCompanion => FlagKind::Guardian,
            Flag::PayAtPickup => FlagKind::PayAtPickup,
            Flag::UncertainFee | Flag::UnconfirmedPriority { .. } => FlagKind::Unconfirmed,
            Flag::PoorRating => FlagKind::PoorRating,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            FlagKind::PhotoOverride => "report.flag.photo_override",
            FlagKind::PhotoLookedAt => "report.flag.photo_looked_at",
            FlagKind::PhotoSupplied => "report.flag.photo_supplied",
            FlagKind::Fingers => "report.flag.fingers",
            FlagKind::FingerprintsDeclined => "report.flag.fingerprints_declined",
            FlagKind::ReissueAfterHealing => "report.flag.reissue_after_healing",
            FlagKind::UnableToSign => "report.flag.unable_to_sign",
            FlagKind::Urgent => "report.flag.urgent",
            FlagKind::Guardian => "report.flag.guardian",
            FlagKind::PayAtPickup => "report.flag.pay_at_pickup",
            FlagKind::Unconfirmed => "report.flag.unconfirmed",
            FlagKind::PoorRating => "report.flag.poor_rating",
        }
    }
}

/// The shift's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShiftReport {
    pub applications: usize,
    pub approved: usize,
    pub returned: usize,
    /// Left for the next batch: in none of the figures but this one (the next batch's report
    /// counts it).
    pub held: usize,
    /// Applications by service (core's codes); a visit with two services counts in both.
    pub by_service: BTreeMap<&'static str, usize>,
    pub by_officer: BTreeMap<String, usize>,
    /// Applications with at least one flag of the kind.
    pub flags: BTreeMap<FlagKind, usize>,
    /// Returns by reason id.
    pub reasons: BTreeMap<String, usize>,
    /// The first and last seal of the shift (Unix seconds).
    pub sealed: Option<(i64, i64)>,
    /// What was taken, by payment method (its key): how many paid so, and how much in all.
    /// The cash counted at the end of the shift is checked against it.
    pub by_payment: BTreeMap<&'static str, (usize, doorstep_core::Yuan)>,
    /// The cash each officer took (how many paid so, how much): what each hands in.
    pub cash_by_officer: BTreeMap<String, (usize, doorstep_core::Yuan)>,
    /// What of the unit's day is in no batch, as the shift screen said it at the release.
    pub outside: Outside,
}

/// What of the unit's day is in no batch: the visits not yet sealed, with the fees taken on
/// them (the cash in hand is more than the takings by that much), and the visits stopped today.
/// The report kept is the supervisor's record that nothing was missing, or what was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outside {
    pub unsealed: usize,
    /// The fees taken on visits not yet sealed, by payment method (its key): how many, how much.
    pub unsealed_paid: BTreeMap<&'static str, (usize, doorstep_core::Yuan)>,
    pub stops: crate::shift::Stops,
}

/// Whether a payment took money at the unit (not one paid at pickup, nor a fee of nothing).
pub fn fee_taken(&(method, amount): &(doorstep_core::policy::PaymentMethod, doorstep_core::Yuan)) -> bool {
    method != doorstep_core::policy::PaymentMethod::PayAtPickup && amount != doorstep_core::Yuan::ZERO
}

impl Outside {
    /// Of the drafts on the unit and the stops recorded today.
    pub fn of(drafts: &[crate::visit_flow::Resumable], stops: crate::shift::Stops) -> Outside {
        let mut o = Outside { stops, ..Outside::default() };
        for d in drafts.iter().filter(|d| d.unsealed()) {
            o.unsealed += 1;
            if let Some((method, amount)) = d.paid.filter(fee_taken) {
                let (n, total) = o.unsealed_paid.entry(method.key()).or_default();
                *n += 1;
                *total = total.checked_add(amount).unwrap_or(*total);
            }
        }
        o
    }
}

/// The figures of `items` as decided: those released (approved or returned) by service,
/// officer, flag and seal time, as the batch's receipt counts them; the held ones only as a
/// number.
pub fn figures(items: &[ShiftItem], decisions: &Decisions) -> ShiftReport {
    let mut r = ShiftReport::default();
    for item in items {
        match decisions.get(&item.id) {
            Some(Decision::Approve) => r.approved += 1,
            Some(Decision::Return { reason, .. }) => {
                r.returned += 1;
                *r.reasons.entry(reason.clone()).or_default() += 1;
            }
            Some(Decision::Hold) => {
                r.held += 1;
                continue;
            }
            None => {}
        }
        r.applications += 1;
        let mut services: Vec<&'static str> = item.summary.services.iter().map(|s| s.code()).collect();
        services.sort_unstable();
        services.dedup();
        for code in services {
            *r.by_service.entry(code).or_default() += 1;
        }
        // A summary from an earlier version names no officer.
        let officer = if item.summary.officer.is_empty() { "—" } else { item.summary.officer.as_str() };
        *r.by_officer.entry(officer.to_string()).or_default() += 1;
        let mut kinds: Vec<FlagKind> = item.summary.flags.iter().map(FlagKind::of).collect();
        kinds.sort();
        kinds.dedup();
        for k in kinds {
            *r.flags.entry(k).or_default() += 1;
        }
        if let Some((method, amount)) = item.summary.paid {
            let add = |(n, total): &mut (usize, doorstep_core::Yuan)| {
                *n += 1;
                *total = total.checked_add(amount).unwrap_or(*total);
            };
            add(r.by_payment.entry(method.key()).or_default());
            if method == doorstep_core::policy::PaymentMethod::Cash {
                add(r.cash_by_officer.entry(officer.to_string()).or_default());
            }
        }
        let t = item.sealed_at_unix;
        r.sealed = Some(r.sealed.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
    }
    r
}

/// The words for a service code on the report.
pub fn service_key(code: &str) -> &'static str {
    match code {
        "passport" => "document.passport",
        "hk-macao-permit" => "document.hk-macao-permit",
        "taiwan-permit" => "document.taiwan-permit",
        "taiwan-resident-permit" => "document.taiwan-resident-permit",
        "hk-macao-endorsement" => "report.service.hk-macao-endorsement",
        "taiwan-endorsement" => "report.service.taiwan-endorsement",
        _ => "report.service.other",
    }
}

/// The report as the printer would print it (and as its files are drawn).
pub fn report_bytes(
    r: &ShiftReport,
    batch: &BatchView,
    supervisor: &str,
    reason_words: &dyn Fn(&str) -> String,
    words: Words,
) -> Vec<u8> {
    let time = crate::shift::local_time;
    let mut b = ReceiptBuilder::new()
        .align(Align::Centre)
        .double(true)
        .line(&words("report.title", &[]))
        .double(false)
        .line(&words("report.batch", &[("id", batch.batch_id.clone())]))
        .align(Align::Left)
        .line(&words("report.supervisor", &[("id", supervisor.to_string())]))
        .line(&words(
            "report.counts",
            &[
                ("n", r.applications.to_string()),
                ("approved", r.approved.to_string()),
                ("returned", r.returned.to_string()),
            ],
        ));
    if r.held > 0 {
        b = b.line(&words("report.held", &[("n", r.held.to_string())]));
    }
    let outside = &r.outside;
    if outside.unsealed > 0 {
        b = b.line(&words("report.unsealed", &[("n", outside.unsealed.to_string())]));
        if !outside.unsealed_paid.is_empty() {
            b = b.line(&words("report.unsealed_paid", &[]));
        }
        for (method, (n, total)) in &outside.unsealed_paid {
            let paid = words("report.paid", &[("n", n.to_string()), ("amount", total.to_string())]);
            b = b.line(&format!("  {}  {paid}", words(method, &[])));
        }
    }
    if outside.stops.count > 0 {
        let (n, paid) = (outside.stops.count.to_string(), outside.stops.paid.to_string());
        b = b.line(&words("report.stopped", &[("n", n), ("paid", paid)]));
    }
    if let Some((first, last)) = r.sealed {
        b = b.line(&words("report.sealed", &[("first", time(first)), ("last", time(last))]));
    }
    b = b.line(&words("report.by_service", &[]));
    for (code, n) in &r.by_service {
        b = b.line(&format!("  {}  {n}", words(service_key(code), &[])));
    }
    b = b.line(&words("report.by_officer", &[]));
    for (officer, n) in &r.by_officer {
        b = b.line(&format!("  {officer}  {n}"));
    }
    if !r.by_payment.is_empty() {
        b = b.line(&words("report.by_payment", &[]));
        for (method, (n, total)) in &r.by_payment {
            let paid = words("report.paid", &[("n", n.to_string()), ("amount", total.to_string())]);
            b = b.line(&format!("  {}  {paid}", words(method, &[])));
        }
    }
    if !r.cash_by_officer.is_empty() {
        b = b.line(&words("report.cash_by_officer", &[]));
        for (officer, (n, total)) in &r.cash_by_officer {
            let paid = words("report.paid", &[("n", n.to_string()), ("amount", total.to_string())]);
            b = b.line(&format!("  {officer}  {paid}"));
        }
    }
    b = b.line(&words("report.flags", &[]));
    if r.flags.is_empty() {
        b = b.line("  —");
    }
    for (kind, n) in &r.flags {
        b = b.line(&format!("  {}  {n}", words(kind.key(), &[])));
    }
    if !r.reasons.is_empty() {
        b = b.line(&words("report.reasons", &[]));
        for (reason, n) in &r.reasons {
            b = b.line(&format!("  {}  {n}", reason_words(reason)));
        }
    }
    // Two lines: one would not fit the printer's 58 mm.
    b.line(&words("report.hub", &[("hub", batch.hub_id.clone()), ("at", time(batch.received_at_unix))]))
        .line(&words("report.digest", &[("digest", batch.manifest.clone())]))
        .feed(3)
        .cut()
}

/// Where the shift reports are kept: beside the vault.
pub fn folder(vault_dir: &std::path::Path) -> std::path::PathBuf {
    vault_dir.with_extension("shift-reports")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shift::{ItemSync, Summary};
    use doorstep_core::Service;
    use doorstep_core::service::IssueReason;

    fn item(id: &str, officer: &str, services: Vec<Service>, flags: Vec<Flag>, sealed: i64) -> ShiftItem {
        ShiftItem {
            id: id.into(),
            numbers: Vec::new(),
            summary: Summary { officer: officer.into(), services, flags, ..Summary::default() },
            sync: ItemSync::AtHub,
            sealed_at_unix: sealed,
            thumb: None,
            unreadable: false,
            damaged: false,
            not_read: false,
        }
    }

    #[test]
    fn the_figures_count_each_application_once_per_key() {
        let passport = Service::Passport { reason: IssueReason::First };
        let permit = Service::HkMacaoPermit { reason: IssueReason::First };
        // A visit with the permit, a passport and the permit's code again counts once per service.
        let items = [
            item(
                "a",
                "officer-1",
                vec![permit.clone(), passport.clone(), permit.clone()],
                vec![Flag::Urgent, Flag::Guardian],
                300,
            ),
            item("b", "officer-1", vec![passport.clone()], vec![Flag::FingerExceptions { count: 1 }], 100),
            item(
                "c",
                "officer-2",
                vec![permit],
                vec![Flag::NoValidFingerprint { exceptions: 10 }, Flag::FewerFingerprints { valid: 0 }],
                200,
            ),
            item("d", "officer-2", vec![passport.clone()], vec![], 400),
            // Held: sealed first, flagged, by another officer, and in none of the figures.
            item("e", "officer-3", vec![passport], vec![Flag::Urgent], 50),
        ];
        let decisions: Decisions = [
            ("a".to_string(), Decision::Approve),
            ("b".to_string(), Decision::returned("photo")),
            ("c".to_string(), Decision::returned("photo")),
            ("d".to_string(), Decision::Approve),
            ("e".to_string(), Decision::Hold),
        ]
        .into();
        let r = figures(&items, &decisions);
        // The batch's figures, as its receipt counts it; the held one only as a number.
        assert_eq!((r.applications, r.approved, r.returned, r.held), (4, 2, 2, 1));
        assert_eq!(r.by_service, [("hk-macao-permit", 2), ("passport", 3)].into());
        assert_eq!(r.by_officer, [("officer-1".to_string(), 2), ("officer-2".to_string(), 2)].into());
        // Two finger flags on one application count it once.
        assert_eq!(r.flags, [(FlagKind::Fingers, 2), (FlagKind::Urgent, 1), (FlagKind::Guardian, 1)].into());
        assert_eq!(r.reasons, [("photo".to_string(), 2)].into());
        assert_eq!(r.sealed, Some((100, 400)));
        assert_eq!(figures(&[], &Decisions::new()), ShiftReport::default());
    }

    /// Each flag is counted under its own words in the report, in both languages: an
    /// applicant who could not sign, or whose guardian declined the fingerprints, is not
    /// "other".
    #[test]
    fn every_flag_is_counted_under_its_own_words() {
        let table = [
            (Flag::PhotoOverride { checks: vec![] }, "照片未通过检测或保留头饰，经说明采用"),
            (Flag::PhotoLookedAt { checks: vec![] }, "照片经民警目视确认无头饰"),
            (Flag::PhotoSupplied, "申请人自带纸质照片"),
            (Flag::FingerExceptions { count: 1 }, "有手指无有效指纹"),
            (Flag::FewerFingerprints { valid: 1 }, "有手指无有效指纹"),
            (Flag::NoValidFingerprint { exceptions: 10 }, "有手指无有效指纹"),
            (Flag::FingerprintsDeclinedByGuardian, "监护人不同意采集指纹"),
            (Flag::ReissueAfterHealing, "手指伤病，痊愈后换发"),
            (Flag::ApplicantUnableToSign, "申请人无法签名"),
            (Flag::Urgent, "加急"),
            (Flag::Guardian, "有监护人"),
            (Flag::AppliedByGuardian, "有监护人"),
            (Flag::EntrustedCompanion, "有监护人"),
            (Flag::PayAtPickup, "取证时缴费"),
            (Flag::UncertainFee, "收费或优先类别依据未经证实"),
            (Flag::UnconfirmedPriority { id: "military".into() }, "收费或优先类别依据未经证实"),
            (Flag::PoorRating, "差评，须回访"),
        ];
        let strings = crate::ui::i18n::Strings::embedded();
        for (flag, zh) in &table {
            let key = FlagKind::of(flag).key();
            assert_eq!(strings.get(crate::settings::Lang::Zh, key, &[]), *zh, "{flag:?}");
            assert_ne!(strings.get(crate::settings::Lang::En, key, &[]), key, "{flag:?}: no English words");
        }
        // One application with both counts once under each.
        let both = item("a", "o", vec![], vec![Flag::ApplicantUnableToSign, Flag::FingerprintsDeclinedByGuardian], 1);
        let r = figures(&[both], &[("a".to_string(), Decision::Approve)].into());
        assert_eq!(r.flags, [(FlagKind::FingerprintsDeclined, 1), (FlagKind::UnableToSign, 1)].into());
    }

    /// The fees taken, by how they were paid, over what the batch released: the held one's
    /// money is counted with its batch, and one that paid nothing at the visit adds nothing.
    #[test]
    fn the_fees_taken_are_summed_by_payment_method() {
        use doorstep_core::Yuan;
        use doorstep_core::policy::PaymentMethod;
        let passport = Service::Passport { reason: IssueReason::First };
        let paid = |id: &str, how: Option<(PaymentMethod, u64)>| {
            let mut i = item(id, "officer-1", vec![passport.clone()], vec![], 100);
            i.summary.paid = how.map(|(m, fen)| (m, Yuan::from_fen(fen)));
            i
        };
        let items = [
            paid("a", Some((PaymentMethod::Cash, 12_000))),
            paid("b", Some((PaymentMethod::Cash, 16_000))),
            paid("c", Some((PaymentMethod::MobileQr, 12_000))),
            paid("d", None),
            paid("e", Some((PaymentMethod::Cash, 12_000))),
        ];
        let decisions: Decisions = [
            ("a".to_string(), Decision::Approve),
            ("b".to_string(), Decision::returned("photo")),
            ("c".to_string(), Decision::Approve),
            ("d".to_string(), Decision::Approve),
            ("e".to_string(), Decision::Hold),
        ]
        .into();
        let r = figures(&items, &decisions);
        assert_eq!(
            r.by_payment,
            [("payment.cash", (2, Yuan::from_fen(28_000))), ("payment.mobile-qr", (1, Yuan::from_fen(12_000)))].into()
        );
        // The cash by the officer who took it (the QR payment is not in a drawer).
        let mut other = paid("f", Some((PaymentMethod::Cash, 6_000)));
        other.summary.officer = "officer-2".into();
        let mut decisions = decisions;
        decisions.insert("f".into(), Decision::Approve);
        let items: Vec<ShiftItem> = items.into_iter().chain([other]).collect();
        assert_eq!(
            figures(&items, &decisions).cash_by_officer,
            [
                ("officer-1".to_string(), (2, Yuan::from_fen(28_000))),
                ("officer-2".to_string(), (1, Yuan::from_fen(6_000)))
            ]
            .into()
        );
    }

    #[test]
    fn the_report_prints_the_figures_and_no_applicant() {
        let passport = Service::Passport { reason: IssueReason::First };
        let mut a = item("a", "officer-1", vec![passport.clone()], vec![], 100);
        a.summary.paid = Some((doorstep_core::policy::PaymentMethod::Cash, doorstep_core::Yuan::from_fen(12_000)));
        let items = [a, item("b", "officer-1", vec![passport], vec![], 90)];
        let decisions: Decisions =
            [("a".to_string(), Decision::returned("photo")), ("b".to_string(), Decision::Hold)].into();
        let mut r = figures(&items, &decisions);
        // Visits not sealed, one paid in cash; one stopped today, refunded.
        let draft = |paid, sealed| crate::visit_flow::Resumable {
            id: "visit-1".into(),
            step: doorstep_core::visit::Step::Seal,
            who: Some("测试".into()),
            started: "12-07 08:00".into(),
            officer: "officer-2".into(),
            paid,
            sealed,
        };
        let cash = Some((doorstep_core::policy::PaymentMethod::Cash, doorstep_core::Yuan::from_fen(12_000)));
        // Paid at pickup, or a fee of nothing: no money taken at the unit.
        use doorstep_core::policy::PaymentMethod::{Cash, PayAtPickup};
        let (at_pickup, nothing) =
            (Some((PayAtPickup, doorstep_core::Yuan::from_fen(12_000))), Some((Cash, doorstep_core::Yuan::ZERO)));
        // And one whose seal was reported failed though its file was durable: its fee is in
        // the batch's takings already, and is not told again.
        let drafts =
            [draft(cash, false), draft(None, false), draft(at_pickup, false), draft(nothing, false), draft(cash, true)];
        r.outside = Outside::of(&drafts, crate::shift::Stops { count: 1, paid: 1 });
        assert_eq!(r.outside.unsealed, 4);
        assert_eq!(r.outside.unsealed_paid, [("payment.cash", (1, doorstep_core::Yuan::from_fen(12_000)))].into());
        let batch = BatchView {
            batch_id: "demo-tablet-1".into(),
            applications: 1,
            hub_id: "hub-test".into(),
            received_at_unix: 200,
            manifest: "0011223344556677".into(),
        };
        let words = |key: &'static str, args: &[(&str, String)]| {
            format!("{key}{}", args.iter().map(|(k, v)| format!(" {k}={v}")).collect::<String>())
        };
        let bytes = report_bytes(&r, &batch, "supervisor-1", &|id| format!("reason:{id}"), &words);
        // The printed lines, joined as they were broken (at spaces, the paper being narrow).
        let text = doorstep_devices::escpos::parse(&bytes)
            .unwrap()
            .into_iter()
            .filter_map(|i| match i {
                doorstep_devices::escpos::PrintItem::Text { text, .. } => Some(text),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ");
        for want in [
            "report.batch id=demo-tablet-1",
            "report.counts n=1 approved=0 returned=1",
            "report.held n=1",
            "document.passport  1",
            "officer-1  1",
            "reason:photo  1",
            "report.hub hub=hub-test",
            "report.digest digest=0011223344556677",
            "report.flags",
            "  —",
            "report.by_payment",
            "payment.cash  report.paid n=1 amount=120.00",
            "report.unsealed n=4",
            "report.unsealed_paid",
            "report.stopped n=1 paid=1",
        ] {
            assert!(text.contains(want), "{want} in {text}");
        }
        // The fee taken on the visit not sealed is its own line, after the takings'.
        let unsealed = text.find("report.unsealed_paid").unwrap();
        assert!(text[unsealed..].contains("payment.cash  report.paid n=1 amount=120.00"), "{text}");
        // The applicant's name on the draft is not printed.
        assert!(!text.contains("测试"), "{text}");
    }
}
