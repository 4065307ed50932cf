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

/// One finger's result against the rules, as [`record`] checks each: a screen checks an
/// exception with it when it is entered.
pub fn check_attempt(a: &Attempt, p: &Procedure, today: Date) -> Result<(), FingerprintError> {
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

/// Fingers that gave no print, each with its cause as recorded (the certificate's hospital,
/// grade and date; the note written), for the supervisor deciding on the application.
pub fn exceptions_list<'a>(items: impl IntoIterator<Item = (Finger, &'a NoPrint)>) -> Message {
    let items = items.into_iter().map(|(f, n)| {
        Message::new("fingerprint.exception").with_key("finger", f.key()).with("cause", n.describe()).into()
    });
    Message::new("fingerprint.exceptions").with("items", Arg::List(items.collect()))
}

impl NoPrint {
    /// The cause as recorded, with what stands for it.
    pub fn describe(&self) -> Message {
        match self {
            NoPrint::Injured { evidence: InjuryEvidence::Certificate(c) } => {
                let grade = match c.grade {
                    HospitalGrade::One => "hospital-grade.1",
                    HospitalGrade::Two => "hospital-grade.2",
                    HospitalGrade::Three => "hospital-grade.3",
                };
                Message::new("no-print.injured-certified-by")
                    .with("hospital", c.hospital.as_str())
                    .with_key("grade", grade)
                    .with("date", c.issued_on)
            }
            NoPrint::Other { note } => Message::new("no-print.other-because").with("note", note.as_str()),
            other => Message::new(other.key()),
        }
    }
}

#[cfg(test)]
mod tests;
