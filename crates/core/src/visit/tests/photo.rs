//! The photo step: failed checks need the officer's reason, a check that asks to look needs
//! the officer's answer, and a reused photo follows the 60+ rule.

use super::*;

#[test]
fn photos_failed_checks_need_a_reason_and_reuse_follows_the_rule() {
    let at_photo = |who| vec![VisitEvent::Identified(who), services(&["passport"])];
    let failed = PhotoInput::Captured(TakenPhoto {
        digest: DIGEST.into(),
        failed_checks: vec!["background".into()],
        override_reason: None,
        to_look_at: vec![],
        looked: None,
    });
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
            PhotoInput::Captured(TakenPhoto {
                digest: "abc".into(),
                failed_checks: vec![],
                override_reason: None,
                to_look_at: vec![],
                looked: None,
            }),
            PhotoError::BadDigest,
        ),
        (at_photo(adult()), PhotoInput::NotNeeded, PhotoError::Needed),
    ];
    for (setup, input, want) in cases {
        assert_eq!(refused(setup, VisitEvent::PhotoTaken(input)), VisitError::Photo(want.clone()), "{want:?}");
    }
    let mut v = start();
    run(&mut v, at_photo(elder()));
    run(&mut v, vec![VisitEvent::PhotoTaken(reused)]);
    let mut v = start();
    run(&mut v, at_photo(elder()));
    let overridden = PhotoInput::Captured(TakenPhoto {
        digest: DIGEST.into(),
        failed_checks: vec!["background".into()],
        override_reason: Some("卧床无法端坐".into()),
        to_look_at: vec![],
        looked: None,
    });
    run(&mut v, vec![VisitEvent::PhotoTaken(overridden)]);
    assert!(v.flags(&policy()).contains(&Flag::PhotoOverride { checks: vec!["background".into()] }));
    assert!(!v.flags(&policy()).iter().any(|f| matches!(f, Flag::PhotoLookedAt { .. })));
}

/// The head-covering check asked to look: what the officer answers, and what then needs a
/// reason, is refused, or goes to the supervisor.
#[test]
fn a_photo_the_checks_ask_to_look_at_waits_for_the_officers_answer() {
    let at_photo = || vec![VisitEvent::Identified(adult()), services(&["passport"])];
    let covering = || vec!["head_covering".to_string()];
    let photo = |failed: &[&str], reason: Option<&str>, looked: Option<LookAnswer>| {
        PhotoInput::Captured(TakenPhoto {
            digest: DIGEST.into(),
            failed_checks: failed.iter().map(|c| c.to_string()).collect(),
            override_reason: reason.map(str::to_string),
            to_look_at: covering(),
            looked,
        })
    };
    let (none, kept) = (Some(LookAnswer::NoCovering), Some(LookAnswer::CoveringKept));
    let look_first = Err(PhotoError::LookFirst { checks: covering() });
    let reason_for = |checks: &[&str]| {
        Err(PhotoError::FailedChecksNeedReason { checks: checks.iter().map(|c| c.to_string()).collect() })
    };
    let looked_at = Flag::PhotoLookedAt { checks: covering() };
    let overridden = |checks: &[&str]| Flag::PhotoOverride { checks: checks.iter().map(|c| c.to_string()).collect() };
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, PhotoInput, Result<(), PhotoError>, Vec<Flag>)> = vec![
        ("not answered", photo(&[], None, None), look_first.clone(), vec![]),
        ("not answered, a reason written", photo(&[], Some("测试"), None), look_first.clone(), vec![]),
        // A reason written for a failed check does not stand for the look.
        (
            "a check failed, its reason, no answer",
            photo(&["background"], Some("测试"), None),
            look_first.clone(),
            vec![],
        ),
        (
            "supplied, not answered",
            PhotoInput::Supplied(TakenPhoto {
                digest: DIGEST.into(),
                failed_checks: vec![],
                override_reason: None,
                to_look_at: covering(),
                looked: None,
            }),
            look_first,
            vec![],
        ),
        ("no covering seen", photo(&[], None, none), Ok(()), vec![looked_at.clone()]),
        // The look does not stand for a failed check's reason.
        ("no covering, a check failed", photo(&["background"], None, none), reason_for(&["background"]), vec![]),
        (
            "no covering, a check failed with its reason",
            photo(&["background"], Some("卧床无法端坐"), none),
            Ok(()),
            vec![overridden(&["background"]), looked_at],
        ),
        // A covering that may stay (religious, medical) is a check overridden: with a reason.
        ("covering kept, no reason", photo(&[], None, kept), reason_for(&["head_covering"]), vec![]),
        ("covering kept, a blank reason", photo(&[], Some("  "), kept), reason_for(&["head_covering"]), vec![]),
        (
            "covering kept, its reason",
            photo(&[], Some("测试：宗教头巾"), kept),
            Ok(()),
            vec![overridden(&["head_covering"])],
        ),
        (
            "covering kept, a check failed too",
            photo(&["background"], Some("测试：宗教头巾"), kept),
            Ok(()),
            vec![overridden(&["background", "head_covering"])],
        ),
    ];
    for (what, input, want, flags) in cases {
        let mut v = start();
        run(&mut v, at_photo());
        let got = v.apply(&policy(), NOW, VisitEvent::PhotoTaken(input));
        match (&got, &want) {
            (Ok(_), Ok(())) => {}
            (Err(VisitError::Photo(e)), Err(w)) => assert_eq!(e, w, "{what}"),
            _ => panic!("{what}: {got:?}, {want:?} wanted"),
        }
        let photo_flags: Vec<Flag> = v
            .flags(&policy())
            .into_iter()
            .filter(|f| matches!(f, Flag::PhotoOverride { .. } | Flag::PhotoLookedAt { .. }))
            .collect();
        assert_eq!(photo_flags, flags, "{what}");
    }
}

fn to_look_at(looked: Option<LookAnswer>) -> PhotoInput {
    PhotoInput::Captured(TakenPhoto {
        digest: DIGEST.into(),
        failed_checks: vec![],
        override_reason: None,
        to_look_at: vec!["head_covering".into()],
        looked,
    })
}
#[test]
fn a_photo_recorded_before_the_look_was_kept_reads_as_none_to_look_at() {
    let old = format!(r#"{{"kind":"captured","digest":"{DIGEST}","failed_checks":[],"override_reason":null}}"#);
    let read: PhotoInput = serde_json::from_str(&old).unwrap();
    assert_eq!(read.to_look_at(), &[] as &[String]);
    assert_eq!(
        read,
        PhotoInput::Captured(TakenPhoto {
            digest: DIGEST.into(),
            failed_checks: vec![],
            override_reason: None,
            to_look_at: vec![],
            looked: None,
        })
    );
    // And one with nothing to look at is written as before.
    assert_eq!(serde_json::to_string(&read).unwrap(), old);
    let looked = serde_json::to_value(to_look_at(Some(LookAnswer::NoCovering))).unwrap();
    assert_eq!(looked["to_look_at"], serde_json::json!(["head_covering"]));
    assert_eq!(looked["looked"], serde_json::json!("no-covering"));
    let kept = serde_json::to_value(to_look_at(Some(LookAnswer::CoveringKept))).unwrap();
    assert_eq!(kept["looked"], serde_json::json!("covering-kept"));
}
