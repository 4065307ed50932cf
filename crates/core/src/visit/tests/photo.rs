//! The photo step: failed checks need the officer's reason, a note to look needs the
//! officer's look, and a reused photo follows the 60+ rule.

use super::*;

#[test]
fn photos_failed_checks_need_a_reason_and_reuse_follows_the_rule() {
    let at_photo = |who| vec![VisitEvent::Identified(who), services(&["passport"])];
    let failed = PhotoInput::Captured {
        digest: DIGEST.into(),
        failed_checks: vec!["background".into()],
        override_reason: None,
        to_look_at: vec![],
        looked: false,
    };
    let reused =
        PhotoInput::Reused { source: PhotoSource::IdCard, taken_on: date!(2023 - 05 - 01), digest: DIGEST.into() };
    let cases = [
        (at_photo(elder()), failed, PhotoError::FailedChecksNeedReason { checks: vec!["background".into()] }),
        (
            at_photo(adult()),
            reused.clone(),
            PhotoError::Reuse(crate::policy::PhotoReuseRefusal::TooYoung { min: 60, age: 36 }),
        ),
        (
            at_photo(adult()),
            PhotoInput::Captured {
                digest: "abc".into(),
                failed_checks: vec![],
                override_reason: None,
                to_look_at: vec![],
                looked: false,
            },
            PhotoError::BadDigest,
        ),
        (at_photo(adult()), PhotoInput::NotNeeded, PhotoError::Needed),
        // A check that passed but asked the officer to look: not taken until the officer has.
        (at_photo(adult()), to_look_at(false), PhotoError::LookFirst { checks: vec!["head_covering".into()] }),
        (
            at_photo(adult()),
            PhotoInput::Supplied {
                digest: DIGEST.into(),
                failed_checks: vec![],
                override_reason: None,
                to_look_at: vec!["head_covering".into()],
                looked: false,
            },
            PhotoError::LookFirst { checks: vec!["head_covering".into()] },
        ),
        // The look does not stand for a failed check's reason.
        (
            at_photo(adult()),
            PhotoInput::Captured {
                digest: DIGEST.into(),
                failed_checks: vec!["background".into()],
                override_reason: None,
                to_look_at: vec!["head_covering".into()],
                looked: true,
            },
            PhotoError::FailedChecksNeedReason { checks: vec!["background".into()] },
        ),
    ];
    for (setup, input, want) in cases {
        assert_eq!(refused(setup, VisitEvent::PhotoTaken(input)), VisitError::Photo(want.clone()), "{want:?}");
    }
    let mut v = start();
    run(&mut v, at_photo(elder()));
    run(&mut v, vec![VisitEvent::PhotoTaken(reused)]);
    let mut v = start();
    run(&mut v, at_photo(elder()));
    let overridden = PhotoInput::Captured {
        digest: DIGEST.into(),
        failed_checks: vec!["background".into()],
        override_reason: Some("卧床无法端坐".into()),
        to_look_at: vec![],
        looked: false,
    };
    run(&mut v, vec![VisitEvent::PhotoTaken(overridden)]);
    assert!(v.flags(&policy()).contains(&Flag::PhotoOverride { checks: vec!["background".into()] }));
    assert!(!v.flags(&policy()).iter().any(|f| matches!(f, Flag::PhotoLookedAt { .. })));
    // Looked at: taken, and the supervisor is told what the officer looked at.
    let mut v = start();
    run(&mut v, at_photo(adult()));
    run(&mut v, vec![VisitEvent::PhotoTaken(to_look_at(true))]);
    let flags = v.flags(&policy());
    assert!(flags.contains(&Flag::PhotoLookedAt { checks: vec!["head_covering".into()] }), "{flags:?}");
    assert!(!flags.iter().any(|f| matches!(f, Flag::PhotoOverride { .. })), "{flags:?}");
    // A covering seen that may stay (religious): the check is recorded as failed, with the
    // officer's reason, and the supervisor is told of the override, not of a look.
    let mut v = start();
    run(&mut v, at_photo(adult()));
    let kept = PhotoInput::Captured {
        digest: DIGEST.into(),
        failed_checks: vec!["head_covering".into()],
        override_reason: Some("宗教头巾，面部完整露出".into()),
        to_look_at: vec!["head_covering".into()],
        looked: false,
    };
    run(&mut v, vec![VisitEvent::PhotoTaken(kept)]);
    let flags = v.flags(&policy());
    assert!(flags.contains(&Flag::PhotoOverride { checks: vec!["head_covering".into()] }), "{flags:?}");
    assert!(!flags.iter().any(|f| matches!(f, Flag::PhotoLookedAt { .. })), "{flags:?}");
}

fn to_look_at(looked: bool) -> PhotoInput {
    PhotoInput::Captured {
        digest: DIGEST.into(),
        failed_checks: vec![],
        override_reason: None,
        to_look_at: vec!["head_covering".into()],
        looked,
    }
}

#[test]
fn a_photo_recorded_before_the_look_was_kept_reads_as_none_to_look_at() {
    let old = format!(r#"{{"kind":"captured","digest":"{DIGEST}","failed_checks":[],"override_reason":null}}"#);
    let read: PhotoInput = serde_json::from_str(&old).unwrap();
    assert_eq!(read.to_look_at(), &[] as &[String]);
    assert_eq!(
        read,
        PhotoInput::Captured {
            digest: DIGEST.into(),
            failed_checks: vec![],
            override_reason: None,
            to_look_at: vec![],
            looked: false,
        }
    );
    // And one with nothing to look at is written as before.
    assert_eq!(serde_json::to_string(&read).unwrap(), old);
    let looked = serde_json::to_value(to_look_at(true)).unwrap();
    assert_eq!(looked["to_look_at"], serde_json::json!(["head_covering"]));
    assert_eq!(looked["looked"], serde_json::json!(true));
}
