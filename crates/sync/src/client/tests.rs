//! The client's own rules: which answers are passing faults, and an upload that stops.

use super::{Exchange, Outgoing, Response, Start, SyncError, upload, wire};

fn refused(status: u16, code: &str) -> SyncError {
    SyncError::Refused { status, code: code.into(), message: String::new() }
}

/// Each answer is a passing fault (try again), a refusal (someone must act first), or
/// neither (a race the upload settles itself, or this unit's own fault).
#[test]
fn answers_are_passing_faults_or_refusals_or_neither() {
    let cases = [
        (SyncError::Connection("reset".into()), true, false),
        (SyncError::Protocol("half a reply".into()), true, false),
        (refused(500, "store"), true, false),
        (refused(503, "busy"), true, false),
        (refused(409, super::wire::IN_FLIGHT), true, false),
        (refused(409, "offset"), false, false),
        (refused(429, "too-many-uploads"), false, false),
        (refused(super::wire::STATUS_CHECKSUM_MISMATCH, "checksum"), false, false),
        (refused(422, "officer-key"), false, true),
        (refused(422, "conflict"), false, true),
        (refused(422, "demo-unit"), false, true),
        (refused(403, "revoked-device"), false, true),
        (refused(413, "too-large"), false, true),
        (SyncError::TooLarge(9 << 20), false, true),
        (SyncError::Url("ftp://hub".into()), false, false),
    ];
    for (e, transient, refusal) in cases {
        assert_eq!((e.is_transient(), e.is_refusal()), (transient, refusal), "{e}");
    }
}

/// A hub that answers every chunk with the same offset, or one past the envelope's end.
struct Stuck {
    answer: u64,
    asked: u32,
}

impl Exchange for Stuck {
    fn request(&mut self, _: &str, _: &str, _: &[(&str, String)], _: &[u8]) -> Result<Response, SyncError> {
        self.asked += 1;
        Ok(Response { status: 204, headers: vec![(wire::UPLOAD_OFFSET.into(), self.answer.to_string())], body: vec![] })
    }
}

/// An upload ends with the hub's fault named when its offsets do not move forward or pass
/// the envelope's end; it does not go round for ever.
/// A certificate refused is told from no coverage: what answered is not the hub.
#[test]
fn a_refused_certificate_is_not_no_coverage() {
    let cases = [
        ("invalid peer certificate: Revoked", true),
        ("invalid peer certificate: UnknownIssuer (the server is not this tablet's hub: ...)", true),
        ("invalid peer certificate: certificate not valid for name \"localhost\"", true),
        ("received fatal alert: BadCertificate", false),
        ("Connection refused (os error 111)", false),
        ("the hub closed the connection", false),
    ];
    for (m, untrusted) in cases {
        assert_eq!(SyncError::Connection(m.into()).is_untrusted_hub(), untrusted, "{m}");
    }
    assert!(!SyncError::Protocol("invalid peer certificate".into()).is_untrusted_hub());
}

#[test]
fn a_hub_whose_offset_does_not_move_is_given_up() {
    let bytes = vec![7u8; 1000];
    let digest = [0u8; 32];
    for (answer, said) in [(0, "stays at 0 of 1000"), (1001, "holds 1001 of 1000"), (u64::MAX, "of 1000 bytes")] {
        let mut hub = Stuck { answer, asked: 0 };
        let envelope = Outgoing {
            id: doorstep_envelope::ApplicationId([1; 16]),
            digest: &digest,
            bytes: &bytes,
            start: Start::New,
        };
        let mut heard = Vec::new();
        let got = upload(&mut hub, 100, &envelope, None, &mut |o, l| heard.push((o, l)));
        match got {
            Err(SyncError::Protocol(m)) => assert!(m.contains(said), "{answer}: {m}"),
            other => panic!("{answer}: {other:?}"),
        }
        assert!(hub.asked <= 6, "{answer}: asked {} times", hub.asked);
        assert!(heard.iter().all(|(o, l)| o <= l), "{answer}: progress past the end {heard:?}");
    }
}
