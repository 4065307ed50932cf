//! Fingerprints by the published procedure (DOMAIN.md §5.6).
//!
//! Right hand then left hand, one valid print each. On each hand the fingers are tried in
//! priority order: thumb, index, middle, ring, little; a finger that gives no valid print
//! is recorded with its cause and the next finger of that hand is tried. When one hand
//! gives none, two valid prints are taken from the other hand. With fewer valid prints than
//! wanted, the best images of unreadable fingers are kept, by finger priority, to make up the
//! number. When nothing valid could be taken at all, the visit says "no valid fingerprint"
//! with the reasons, the officer confirms it, and the supervisor sees it.
//!
//! [`next_finger`] tells the shell which finger to ask for; [`record`] checks a finished
//! sequence against the same procedure, so the shell cannot take fingers in another order.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::text::{Arg, Localize, Message};

/// Fingers, numbered as ISO/IEC 19794-4: 1 right thumb … 5 right little, 6 left thumb …
/// 10 left little.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Finger(u8);

impl TryFrom<u8> for Finger {
    type Error = FingerprintError;
    fn try_from(n: u8) -> Result<Finger, FingerprintError> {
        Finger::new(n).ok_or(FingerprintError::NoSuchFinger(n))
    }
}

impl From<Finger> for u8 {
    fn from(f: Finger) -> u8 {
        f.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hand {
    Right,
    Left,
}

impl Finger {
    pub const RIGHT_THUMB: Finger = Finger(1);
    pub const LEFT_THUMB: Finger = Finger(6);

    pub fn new(n: u8) -> Option<Finger> {
        (1..=10).contains(&n).then_some(Finger(n))
    }

    pub fn number(self) -> u8 {
        self.0
    }

    pub fn hand(self) -> Hand {
        if self.0 <= 5 { Hand::Right } else { Hand::Left }
    }

    /// 0 thumb, 1 index, 2 middle, 3 ring, 4 little: the published priority on a hand.
    pub fn priority(self) -> u8 {
        (self.0 - 1) % 5
    }

    /// The next finger of the same hand by priority, if any.
    fn next_on_hand(self) -> Option<Finger> {
        (self.priority() < 4).then_some(Finger(self.0 + 1))
    }

    /// The locale key of the finger's name (右手拇指…).
    pub fn key(self) -> &'static str {
        const KEYS: [&str; 10] = [
            "finger.1",
            "finger.2",
            "finger.3",
            "finger.4",
            "finger.5",
            "finger.6",
            "finger.7",
            "finger.8",
            "finger.9",
            "finger.10",
        ];
        KEYS[usize::from(self.0 - 1)]
    }
}

/// A hospital's grade (医院等级). The rule asks for grade II or above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HospitalGrade {
    One,
    Two,
    Three,
}

/// A hospital's certificate of a finger injury.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalCertificate {
    pub hospital: String,
    pub grade: HospitalGrade,
    #[serde(with = "crate::iso_date")]
    pub issued_on: Date,
}

impl fmt::Debug for HospitalCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HospitalCertificate({:?}, <redacted>)", self.grade)
    }
}

/// How an injury was established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "by")]
pub enum InjuryEvidence {
    /// The officer could see and judge the injury.
    Officer,
    /// The officer could not judge it: a hospital of grade II or above certified it. The
    /// document is then to be re-issued after healing, with the prints taken then.
    Certificate(HospitalCertificate),
}

/// Why a finger gave no valid print.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "cause")]
pub enum NoPrint {
    /// The finger is missing (缺指).
    Missing,
    /// Injured or bandaged (受伤).
    Injured { evidence: InjuryEvidence },
    /// The prints were tried and none reached the quality: worn or unreadable. The best
    /// image is kept (its SHA-256), to make up the number when too few are valid.
    Unreadable { best_quality: u8, image_digest: String },
    /// Anything else, described.
    Other { note: String },
}

impl fmt::Debug for NoPrint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoPrint::Missing => f.write_str("Missing"),
            NoPrint::Injured { evidence } => write!(f, "Injured({evidence:?})"),
            NoPrint::Unreadable { best_quality, .. } => write!(f, "Unreadable({best_quality})"),
            NoPrint::Other { .. } => f.write_str("Other(<redacted>)"),
        }
    }
}

impl NoPrint {
    pub fn key(&self) -> &'static str {
        match self {
            NoPrint::Missing => "no-print.missing",
            NoPrint::Injured { evidence: InjuryEvidence::Officer } => "no-print.injured",
            NoPrint::Injured { evidence: InjuryEvidence::Certificate(_) } => "no-print.injured-certified",
            NoPrint::Unreadable { .. } => "no-print.unreadable",
            NoPrint::Other { .. } => "no-print.other",
        }
    }
}

/// What one finger gave, after the retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
pub enum FingerResult {
    /// A print of `quality` (0–100), kept in the vault under `digest` (SHA-256, hex).
    Print {
        quality: u8,
        digest: String,
    },
    NoPrint(NoPrint),
}

/// One finger, in the order they were taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub finger: Finger,
    pub result: FingerResult,
}

/// The fingerprint step's outcome, for the supervisor and the bureau.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum FingerprintStatus {
    /// As many valid prints as wanted.
    Complete,
    /// Fewer: images of unreadable fingers make up the number where there are any.
    Partial { valid: usize },
    /// No valid print at all: recorded with the reasons, confirmed by the officer.
    NoValidPrint,
}

/// A finished, checked fingerprint record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerprintRecord {
    pub attempts: Vec<Attempt>,
    pub status: FingerprintStatus,
    /// The valid prints, in the order taken.
    pub valid: Vec<Finger>,
    /// Unreadable fingers whose best images make up the number, by priority.
    pub make_up_images: Vec<Finger>,
    /// An injury certified by a hospital: the document is re-issued after healing.
    pub reissue_after_healing: bool,
}

impl FingerprintRecord {
    /// The fingers without a valid print, with their causes.
    pub fn exceptions(&self) -> impl Iterator<Item = (Finger, &NoPrint)> {
        self.attempts.iter().filter_map(|a| match &a.result {
            FingerResult::NoPrint(n) => Some((a.finger, n)),
            FingerResult::Print { .. } => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FingerprintError {
    NoSuchFinger(u8),
    /// The procedure asks for `expected` next (or nothing more, when `None`).
    OutOfOrder {
        expected: Option<Finger>,
        got: Finger,
    },
    /// The sequence stops before the procedure is done.
    Unfinished {
        next: Finger,
    },
    /// A print below the minimum quality: retry it, or record the finger as unreadable.
    LowQuality {
        finger: Finger,
        quality: u8,
        min: u8,
    },
    BadDigest {
        finger: Finger,
    },
    /// An unreadable finger's best quality reaches the minimum: it is a valid print.
    UnreadableButValid {
        finger: Finger,
    },
    DescriptionMissing {
        finger: Finger,
    },
    CertificateIncomplete {
        finger: Finger,
    },
    CertificateGradeTooLow {
        finger: Finger,
    },
    CertificateInFuture {
        finger: Finger,
    },
    /// No valid print at all and the officer has not confirmed it.
    NoValidPrintNotConfirmed,
}

impl Localize for FingerprintError {
    fn message(&self) -> Message {
        let f = |key: &'static str, finger: &Finger| Message::new(key).with_key("finger", finger.key());
        match self {
            FingerprintError::NoSuchFinger(n) => Message::new("error.fingerprint.no-such-finger").with("n", *n),
            FingerprintError::OutOfOrder { expected: Some(e), got } => {
                f("error.fingerprint.out-of-order", got).with_key("expected", e.key())
            }
            FingerprintError::OutOfOrder { expected: None, got } => f("error.fingerprint.done-already", got),
            FingerprintError::Unfinished { next } => f("error.fingerprint.unfinished", next),
            FingerprintError::LowQuality { finger, quality, min } => {
                f("error.fingerprint.low-quality", finger).with("quality", *quality).with("min", *min)
            }
            FingerprintError::BadDigest { finger } => f("error.fingerprint.bad-digest", finger),
            FingerprintError::UnreadableButValid { finger } => f("error.fingerprint.unreadable-but-valid", finger),
            FingerprintError::DescriptionMissing { finger } => f("error.fingerprint.description-missing", finger),
            FingerprintError::CertificateIncomplete { finger } => f("error.fingerprint.certificate-incomplete", finger),
            FingerprintError::CertificateGradeTooLow { finger } => f("error.fingerprint.certificate-grade", finger),
            FingerprintError::CertificateInFuture { finger } => f("error.fingerprint.certificate-in-future", finger),
            FingerprintError::NoValidPrintNotConfirmed => {
                Message::new("error.fingerprint.no-valid-print-not-confirmed")
            }
        }
    }
}

crate::localized_error!(FingerprintError);

/// Valid prints wanted: one per hand. The procedure is written for two, as published; it is
/// not a setting.
pub const WANTED: usize = 2;

/// What the procedure needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Procedure {
    /// A print below this quality is not valid.
    pub min_quality: u8,
}

fn is_valid(a: &Attempt, p: &Procedure) -> bool {
    matches!(a.result, FingerResult::Print { quality, .. } if quality >= p.min_quality)
}

/// The finger the procedure asks for after `attempts`, or `None` when it is done.
///
/// `attempts` is assumed to follow the procedure (as [`record`] checks).
pub fn next_finger(attempts: &[Attempt], p: &Procedure) -> Option<Finger> {
    let valid_on = |hand: Hand| attempts.iter().filter(|a| a.finger.hand() == hand && is_valid(a, p)).count();
    let total = valid_on(Hand::Right) + valid_on(Hand::Left);
    if total >= WANTED {
        return None;
    }
    let last_on = |hand: Hand| attempts.iter().rev().find(|a| a.finger.hand() == hand).map(|a| a.finger);
    let next_on = |hand: Hand, first: Finger| match last_on(hand) {
        None => Some(first),
        Some(f) => f.next_on_hand(),
    };
    // Right hand until one valid print or the hand is exhausted.
    if valid_on(Hand::Right) == 0
        && let Some(f) = next_on(Hand::Right, Finger::RIGHT_THUMB)
    {
        return Some(f);
    }
    // Then the left hand, the same way; when the right gave none, the left gives the rest.
    let left_target = if valid_on(Hand::Right) == 0 { WANTED } else { 1 };
    if valid_on(Hand::Left) < left_target
        && let Some(f) = next_on(Hand::Left, Finger::LEFT_THUMB)
    {
        return Some(f);
    }
    // The left gave none: the right hand gives the rest, after its valid finger.
    if valid_on(Hand::Left) == 0 && valid_on(Hand::Right) > 0 {
        return next_on(Hand::Right, Finger::RIGHT_THUMB);
    }
    None
}

fn is_digest(d: &str) -> bool {
    d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Checks a finished sequence of attempts on `today` and makes the record.
/// `no_valid_print_confirmed` is the officer's confirmation, needed when no print is valid.
pub fn record(
    attempts: Vec<Attempt>,
    p: &Procedure,
    no_valid_print_confirmed: bool,
    today: Date,
) -> Result<FingerprintRecord, FingerprintError> {
    for (i, a) in attempts.iter().enumerate() {
        let expected = next_finger(&attempts[..i], p);
        if expected != Some(a.finger) {
            return Err(FingerprintError::OutOfOrder { expected, got: a.finger });
        }
        check_attempt(a, p, today)?;
    }
    if let Some(next) = next_finger(&attempts, p) {
        return Err(FingerprintError::Unfinished { next });
    }
    let valid: Vec<Finger> = attempts.iter().filter(|a| is_valid(a, p)).map(|a| a.finger).collect();
    let status = match valid.len() {
        n if n >= WANTED => FingerprintStatus::Complete,
        0 => FingerprintStatus::NoValidPrint,
        n => FingerprintStatus::Partial { valid: n },
    };
    if status == FingerprintStatus::NoValidPrint && !no_valid_print_confirmed {
        return Err(FingerprintError::NoValidPrintNotConfirmed);
    }
    let mut unreadable: Vec<Finger> = attempts
        .iter()
        .filter(|a| matches!(a.result, FingerResult::NoPrint(NoPrint::Unreadable { .. })))
        .map(|a| a.finger)
        .collect();
    // By finger priority: thumbs first, right before left within a priority.
    unreadable.sort_by_key(|f| (f.priority(), f.hand() == Hand::Left));
    let make_up_images = unreadable.into_iter().take(WANTED.saturating_sub(valid.len())).collect();
    let reissue_after_healing = attempts.iter().any(|a| {
        matches!(a.result, FingerResult::NoPrint(NoPrint::Injured { evidence: InjuryEvidence::Certificate(_) }))
    });
    Ok(FingerprintRecord { attempts, status, valid, make_up_images, reissue_after_healing })
}

fn check_attempt(a: &Attempt, p: &Procedure, today: Date) -> Result<(), FingerprintError> {
    let finger = a.finger;
    match &a.result {
        FingerResult::Print { quality, digest } => {
            if !is_digest(digest) {
                return Err(FingerprintError::BadDigest { finger });
            }
            if *quality < p.min_quality {
                return Err(FingerprintError::LowQuality { finger, quality: *quality, min: p.min_quality });
            }
        }
        FingerResult::NoPrint(NoPrint::Unreadable { best_quality, image_digest }) => {
            if *best_quality >= p.min_quality {
                return Err(FingerprintError::UnreadableButValid { finger });
            }
            if !is_digest(image_digest) {
                return Err(FingerprintError::BadDigest { finger });
            }
        }
        FingerResult::NoPrint(NoPrint::Other { note }) if note.trim().is_empty() => {
            return Err(FingerprintError::DescriptionMissing { finger });
        }
        FingerResult::NoPrint(NoPrint::Injured { evidence: InjuryEvidence::Certificate(c) }) => {
            if c.hospital.trim().is_empty() {
                return Err(FingerprintError::CertificateIncomplete { finger });
            }
            if c.grade < HospitalGrade::Two {
                return Err(FingerprintError::CertificateGradeTooLow { finger });
            }
            if c.issued_on > today {
                return Err(FingerprintError::CertificateInFuture { finger });
            }
        }
        FingerResult::NoPrint(_) => {}
    }
    Ok(())
}

/// The reasons of a record's exceptions, for the supervisor: "右手拇指：缺指、…".
pub fn exceptions_message(record: &FingerprintRecord) -> Message {
    Message::new("fingerprint.exceptions").with(
        "items",
        Arg::List(
            record
                .exceptions()
                .map(|(f, n)| {
                    Message::new("fingerprint.exception").with_key("finger", f.key()).with_key("cause", n.key()).into()
                })
                .collect(),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const P: Procedure = Procedure { min_quality: 40 };
    const TODAY: Date = date!(2026 - 11 - 26);
    const D: &str = "5f2b1c0e8a7d6b4c3a2918f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5c4b3a2";

    fn f(n: u8) -> Finger {
        Finger::new(n).unwrap()
    }

    /// `V` valid print, `M` missing, `U` unreadable, `I` injured (seen), `C` certified injury.
    fn seq(spec: &str) -> Vec<Attempt> {
        spec.split_whitespace()
            .map(|item| {
                let (n, kind) = item.split_at(item.len() - 1);
                let result = match kind {
                    "V" => FingerResult::Print { quality: 80, digest: D.into() },
                    "M" => FingerResult::NoPrint(NoPrint::Missing),
                    "U" => FingerResult::NoPrint(NoPrint::Unreadable { best_quality: 20, image_digest: D.into() }),
                    "I" => FingerResult::NoPrint(NoPrint::Injured { evidence: InjuryEvidence::Officer }),
                    "C" => FingerResult::NoPrint(NoPrint::Injured {
                        evidence: InjuryEvidence::Certificate(HospitalCertificate {
                            hospital: "测试医院".into(),
                            grade: HospitalGrade::Two,
                            issued_on: date!(2026 - 11 - 01),
                        }),
                    }),
                    _ => unreachable!("{item}"),
                };
                Attempt { finger: f(n.parse().unwrap()), result }
            })
            .collect()
    }

    fn fingers(v: &[Finger]) -> Vec<u8> {
        v.iter().map(|f| f.number()).collect()
    }

    /// The published order: (attempts, status, valid fingers, make-up images).
    #[test]
    fn the_published_order_table() {
        let partial = |valid| FingerprintStatus::Partial { valid };
        let cases: &[(&str, FingerprintStatus, &[u8], &[u8])] = &[
            // Both thumbs.
            ("1V 6V", FingerprintStatus::Complete, &[1, 6], &[]),
            // Right thumb missing: the right index next, then the left thumb.
            ("1M 2V 6V", FingerprintStatus::Complete, &[2, 6], &[]),
            // Left thumb and index unreadable: the left middle finger.
            ("1V 6U 7U 8V", FingerprintStatus::Complete, &[1, 8], &[]),
            // The right hand gives none: two from the left.
            ("1M 2M 3M 4M 5M 6V 7V", FingerprintStatus::Complete, &[6, 7], &[]),
            ("1M 2M 3M 4M 5M 6U 7V 8I 9V", FingerprintStatus::Complete, &[7, 9], &[]),
            // The left hand gives none: a second from the right, after its valid finger.
            ("1V 6M 7M 8M 9M 10M 2V", FingerprintStatus::Complete, &[1, 2], &[]),
            ("1U 2V 6I 7I 8I 9I 10I 3U 4V", FingerprintStatus::Complete, &[2, 4], &[]),
            // One valid print in all: the best unreadable image makes up the number.
            ("1V 6U 7U 8U 9U 10U 2M 3M 4M 5M", partial(1), &[1], &[6]),
            // None valid at all: images by priority (thumbs first).
            ("1U 2U 3U 4U 5U 6U 7U 8U 9U 10U", FingerprintStatus::NoValidPrint, &[], &[1, 6]),
            ("1M 2M 3M 4M 5M 6M 7M 8M 9M 10M", FingerprintStatus::NoValidPrint, &[], &[]),
        ];
        for &(spec, ref status, valid, images) in cases {
            let r = record(seq(spec), &P, true, TODAY).unwrap_or_else(|e| panic!("{spec}: {e:?}"));
            assert_eq!(&r.status, status, "{spec}");
            assert_eq!(fingers(&r.valid), valid, "{spec}");
            assert_eq!(fingers(&r.make_up_images), images, "{spec}");
        }
    }

    #[test]
    fn other_orders_are_refused() {
        let cases: &[(&str, FingerprintError)] = &[
            // Left before right.
            ("6V 1V", FingerprintError::OutOfOrder { expected: Some(f(1)), got: f(6) }),
            // Skipping the right thumb.
            ("2V 6V", FingerprintError::OutOfOrder { expected: Some(f(1)), got: f(2) }),
            // Two from the right while the left was not tried.
            ("1V 2V", FingerprintError::OutOfOrder { expected: Some(f(6)), got: f(2) }),
            // Left index before the left thumb.
            ("1V 7V", FingerprintError::OutOfOrder { expected: Some(f(6)), got: f(7) }),
            // A third print once two are valid.
            ("1V 6V 2V", FingerprintError::OutOfOrder { expected: None, got: f(2) }),
            // Stopping before the procedure is done.
            ("1V", FingerprintError::Unfinished { next: f(6) }),
            ("1M 2M 3M 4M 5M 6V", FingerprintError::Unfinished { next: f(7) }),
            ("", FingerprintError::Unfinished { next: f(1) }),
        ];
        for (spec, want) in cases {
            assert_eq!(record(seq(spec), &P, true, TODAY), Err(want.clone()), "{spec}");
        }
    }

    #[test]
    fn next_finger_leads_the_officer() {
        let mut taken = Vec::new();
        // The right hand gives nothing; the left gives two.
        for (spec, next) in [("1M", 2), ("2M", 3), ("3M", 4), ("4M", 5), ("5U", 6), ("6V", 7)] {
            taken.extend(seq(spec));
            assert_eq!(next_finger(&taken, &P), Some(f(next)), "after {spec}");
        }
        taken.extend(seq("7V"));
        assert_eq!(next_finger(&taken, &P), None);
    }

    #[test]
    fn each_finger_result_is_checked() {
        let low = vec![Attempt { finger: f(1), result: FingerResult::Print { quality: 39, digest: D.into() } }];
        assert_eq!(
            record(low, &P, true, TODAY),
            Err(FingerprintError::LowQuality { finger: f(1), quality: 39, min: 40 })
        );
        let valid_unreadable = vec![Attempt {
            finger: f(1),
            result: FingerResult::NoPrint(NoPrint::Unreadable { best_quality: 55, image_digest: D.into() }),
        }];
        assert_eq!(
            record(valid_unreadable, &P, true, TODAY),
            Err(FingerprintError::UnreadableButValid { finger: f(1) })
        );
        let other = vec![Attempt { finger: f(1), result: FingerResult::NoPrint(NoPrint::Other { note: " ".into() }) }];
        assert_eq!(record(other, &P, true, TODAY), Err(FingerprintError::DescriptionMissing { finger: f(1) }));
        let cert = |grade, issued_on| {
            vec![Attempt {
                finger: f(1),
                result: FingerResult::NoPrint(NoPrint::Injured {
                    evidence: InjuryEvidence::Certificate(HospitalCertificate {
                        hospital: "测试医院".into(),
                        grade,
                        issued_on,
                    }),
                }),
            }]
        };
        assert_eq!(
            record(cert(HospitalGrade::One, TODAY), &P, true, TODAY),
            Err(FingerprintError::CertificateGradeTooLow { finger: f(1) })
        );
        assert_eq!(
            record(cert(HospitalGrade::Three, date!(2026 - 12 - 01)), &P, true, TODAY),
            Err(FingerprintError::CertificateInFuture { finger: f(1) })
        );
    }

    #[test]
    fn a_certified_injury_flags_reissue_and_no_valid_print_needs_confirming() {
        let r = record(seq("1C 2V 6V"), &P, false, TODAY).unwrap();
        assert!(r.reissue_after_healing);
        assert_eq!(r.exceptions().count(), 1);
        let r = record(seq("1I 2V 6V"), &P, false, TODAY).unwrap();
        assert!(!r.reissue_after_healing);
        let none = "1M 2M 3M 4M 5M 6I 7I 8I 9I 10I";
        assert_eq!(record(seq(none), &P, false, TODAY), Err(FingerprintError::NoValidPrintNotConfirmed));
        let r = record(seq(none), &P, true, TODAY).unwrap();
        assert_eq!(r.status, FingerprintStatus::NoValidPrint);
        assert_eq!(r.exceptions().count(), 10);
    }

    proptest::proptest! {
        /// Whatever each finger can give, following `next_finger` yields a sequence `record`
        /// accepts, complete exactly when the hands hold two valid prints between them as
        /// the procedure can reach them; and swapping two attempts is refused.
        #[test]
        fn following_the_procedure_is_accepted_and_nothing_else(gives in proptest::collection::vec(0u8..3, 10)) {
            let outcome = |f: Finger| match gives[usize::from(f.number() - 1)] {
                0 => FingerResult::Print { quality: 90, digest: D.into() },
                1 => FingerResult::NoPrint(NoPrint::Missing),
                _ => FingerResult::NoPrint(NoPrint::Unreadable { best_quality: 10, image_digest: D.into() }),
            };
            let mut attempts = Vec::new();
            while let Some(f) = next_finger(&attempts, &P) {
                attempts.push(Attempt { finger: f, result: outcome(f) });
                proptest::prop_assert!(attempts.len() <= 10);
            }
            let r = record(attempts.clone(), &P, true, TODAY).unwrap();
            let valid_on = |hand: Hand| (1..=10u8).filter(|&n| f(n).hand() == hand && gives[usize::from(n - 1)] == 0).count();
            let (right, left) = (valid_on(Hand::Right), valid_on(Hand::Left));
            let complete = (right >= 1 && left >= 1) || right >= 2 || left >= 2;
            proptest::prop_assert_eq!(r.status == FingerprintStatus::Complete, complete);
            if attempts.len() >= 2 {
                let mut swapped = attempts.clone();
                swapped.swap(0, 1);
                proptest::prop_assert!(record(swapped, &P, true, TODAY).is_err());
            }
        }
    }

    #[test]
    fn fingers_are_numbered_as_iso() {
        assert_eq!(Finger::new(0), None);
        assert_eq!(Finger::new(11), None);
        assert_eq!((f(1).hand(), f(1).priority()), (Hand::Right, 0));
        assert_eq!((f(10).hand(), f(10).priority()), (Hand::Left, 4));
        assert!(serde_json::from_str::<Finger>("11").is_err());
        assert_eq!(serde_json::from_str::<Finger>("7").unwrap(), f(7));
    }
}
