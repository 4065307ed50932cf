//! Tests of [`super`].

use super::*;
use doorstep_core::policy::Confidence;
use doorstep_core::visit::Flag;
use doorstep_core::{Policy, Service};

/// A return's words read back as written, with or without a note; others are not a reason.
#[test]
fn a_return_is_read_back_as_its_reason_and_note() {
    let rule = Policy::builtin().unwrap().rules.shift;
    let first = &rule.return_reasons[0];
    let mut decisions = Decisions::new();
    decisions.insert("a".into(), Decision::Return { reason: first.id.clone(), note: String::new() });
    decisions.insert("b".into(), Decision::Return { reason: first.id.clone(), note: "缺机票行程单".into() });
    let written = returns(&decisions, &rule).unwrap();
    let read: Vec<_> = written.iter().map(|(_, w)| read_return(w, &rule).map(|(r, n)| (r.id.as_str(), n))).collect();
    assert_eq!(read, [Some((first.id.as_str(), "")), Some((first.id.as_str(), "缺机票行程单"))]);
    for other in ["证件照片不合格", "", &format!("{} / ", first.zh), &format!("{}{}x", first.zh, first.en)] {
        assert_eq!(read_return(other, &rule).map(|(r, _)| r.id.as_str()), None, "{other:?}");
    }
}

fn item(id: &str, sealed: i64, flags: Vec<Flag>, sync: ItemSync) -> ShiftItem {
    ShiftItem {
        id: id.into(),
        numbers: Vec::new(),
        summary: Summary { flags, ..Summary::default() },
        sync,
        sealed_at_unix: sealed,
        thumb: None,
        unreadable: false,
        damaged: false,
        not_read: false,
    }
}

fn ids(items: Vec<&ShiftItem>) -> Vec<&str> {
    items.iter().map(|i| i.id.as_str()).collect()
}

#[test]
fn the_filters_and_orders_show_what_they_name() {
    let items = [
        item("a", 1, vec![], ItemSync::AtHub),
        item("b", 2, vec![Flag::Guardian], ItemSync::OnUnit),
        item("c", 3, vec![Flag::Urgent], ItemSync::AtHub),
        item("d", 4, vec![Flag::Guardian, Flag::PayAtPickup], ItemSync::OnUnit),
    ];
    let decided: Decisions = [("b".to_string(), Decision::Approve)].into();
    let cases: [(Filter, Order, Vec<&str>); 6] = [
        (Filter::All, Order::Sealed, vec!["a", "b", "c", "d"]),
        (Filter::Flagged, Order::Sealed, vec!["b", "c", "d"]),
        (Filter::OnUnit, Order::Sealed, vec!["b", "d"]),
        (Filter::Undecided, Order::Sealed, vec!["a", "c", "d"]),
        // Urgent first, then by the number of flags, then as sealed.
        (Filter::All, Order::FlagsFirst, vec!["c", "d", "b", "a"]),
        (Filter::OnUnit, Order::FlagsFirst, vec!["d", "b"]),
    ];
    for (filter, order, expected) in cases {
        assert_eq!(ids(shown(&items, filter, order, &decided)), expected, "{filter:?} {order:?}");
    }
}

#[test]
fn approving_the_rest_leaves_every_flagged_one_to_be_decided_on_its_own() {
    let mut damaged = item("e", 5, vec![], ItemSync::OnUnit);
    damaged.damaged = true;
    let items = [
        item("a", 1, vec![], ItemSync::AtHub),
        item("b", 2, vec![Flag::Guardian], ItemSync::OnUnit),
        item("c", 3, vec![Flag::Urgent], ItemSync::AtHub),
        item("d", 4, vec![], ItemSync::OnUnit),
        damaged,
        item("f", 6, vec![], ItemSync::AtHub),
    ];
    let returned: Decisions = [("f".to_string(), Decision::returned("photo"))].into();
    let cases: [(Filter, &Decisions, Vec<&str>); 4] = [
        (Filter::All, &Decisions::new(), vec!["a", "d", "f"]),
        // Not one already returned; only those the list shows.
        (Filter::All, &returned, vec!["a", "d"]),
        (Filter::OnUnit, &returned, vec!["d"]),
        // The flagged ones alone on the list: none approved in bulk.
        (Filter::Flagged, &returned, vec![]),
    ];
    for (filter, decisions, expected) in cases {
        assert_eq!(approvable_in_bulk(&items, filter, Order::FlagsFirst, decisions), expected, "{filter:?}");
    }
}

#[test]
fn a_return_carries_the_policy_words_in_both_languages_and_an_unknown_reason_is_refused() {
    let rule = ShiftRule {
        max_unapproved: 1,
        max_unsynced_hours: 1,
        return_reasons: vec![ReturnReason { id: "photo".into(), zh: "照片".into(), en: "photo".into() }],
        confidence: Confidence::Unconfirmed,
    };
    let mut d: Decisions =
        [("x".to_string(), Decision::Approve), ("y".to_string(), Decision::returned("photo"))].into();
    assert_eq!(returns(&d, &rule), Ok(vec![("y".to_string(), "照片 / photo".to_string())]));
    // The supervisor's note follows the policy's words; blanks alone add nothing.
    let note = |n: &str| Decision::Return { reason: "photo".into(), note: n.into() };
    d.insert("y".into(), note("测试：耳朵被头发遮住"));
    assert_eq!(returns(&d, &rule), Ok(vec![("y".to_string(), "照片 / photo — 测试：耳朵被头发遮住".to_string())]));
    d.insert("y".into(), note("  "));
    assert_eq!(returns(&d, &rule), Ok(vec![("y".to_string(), "照片 / photo".to_string())]));
    // Control and direction-changing characters are dropped; at most MAX_RETURN_NOTE kept.
    d.insert("y".into(), note("测试\u{202e}\n耳朵"));
    assert_eq!(returns(&d, &rule), Ok(vec![("y".to_string(), "照片 / photo — 测试耳朵".to_string())]));
    d.insert("y".into(), note(&"测".repeat(MAX_RETURN_NOTE + 5)));
    let long = returns(&d, &rule).unwrap().remove(0).1;
    assert_eq!(long, format!("照片 / photo — {}", "测".repeat(MAX_RETURN_NOTE)));
    d.insert("z".into(), Decision::returned("nonsense"));
    assert_eq!(returns(&d, &rule), Err("nonsense".to_string()));
}

#[test]
fn a_summary_keeps_its_flags_as_json_and_reads_back() {
    let s = Summary {
        name: "测试".into(),
        officer: "officer-test".into(),
        services: vec![Service::Passport { reason: doorstep_core::service::IssueReason::First }],
        flags: vec![Flag::Urgent, Flag::FingerExceptions { count: 2 }],
        photo_reused: true,
        paid: Some((doorstep_core::policy::PaymentMethod::Cash, doorstep_core::Yuan::from_fen(12_000))),
        unable_to_sign: Some("双手截肢".into()),
        finger_exceptions: vec![(
            doorstep_core::fingerprint::Finger::RIGHT_THUMB,
            doorstep_core::fingerprint::NoPrint::Other { note: "石膏固定".into() },
        )],
    };
    // Its debug form names no one and says no reason (SECURITY.md R10).
    let debug = format!("{s:?}");
    for private in ["测试", "officer-test", "双手截肢", "石膏固定"] {
        assert!(!debug.contains(private), "{private} in {debug}");
    }
    let strings = s.flag_strings();
    assert_eq!(strings.len(), 2);
    let back: Vec<Flag> = strings.iter().map(|f| serde_json::from_str(f).unwrap()).collect();
    assert_eq!(back, s.flags);
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(serde_json::from_str::<Summary>(&json).unwrap(), s);
    assert!(s.urgent());
    // An earlier version's summary (services as codes, no name) reads as empty, not an error.
    let old: Summary = serde_json::from_str(r#"{"services":["passport"],"step":"done"}"#).unwrap_or_default();
    assert_eq!(old, Summary::default());
}

#[test]
fn a_thumbnail_fits_its_box_and_a_missing_or_broken_photo_gives_none() {
    let img = image::RgbImage::from_pixel(354, 472, image::Rgb([200, 180, 160]));
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    let t = thumbnail(&jpeg).expect("a thumbnail");
    assert!(t.width <= PHOTO_SHOWN.0 && t.height <= PHOTO_SHOWN.1);
    assert!(t.width == PHOTO_SHOWN.0 || t.height == PHOTO_SHOWN.1);
    assert_eq!(t.rgba.len(), (t.width * t.height * 4) as usize);
    assert!(thumbnail(&[]).is_none());
    assert!(thumbnail(&jpeg[..100]).is_none());
}

/// The decisions kept read back as taken, each kind; an entry this version cannot read is
/// dropped alone, and a record that does not read at all gives none (taken again, never
/// released unseen).
#[test]
fn the_decisions_kept_read_back_and_what_does_not_read_is_taken_again() {
    let decisions: Decisions = [
        ("a".to_string(), Decision::Approve),
        ("b".to_string(), Decision::Return { reason: "photo".into(), note: "背景有阴影".into() }),
        ("c".to_string(), Decision::Hold),
    ]
    .into();
    let json = serde_json::to_vec(&decisions).unwrap();
    assert_eq!(read_decisions(&json), decisions);
    let newer = br#"{"a":{"decision":"approve"},"d":{"decision":"escalate"},"e":7}"#;
    assert_eq!(read_decisions(newer), Decisions::from([("a".to_string(), Decision::Approve)]));
    for bad in [&b""[..], b"[]", b"{\"a\":", b"\xff"] {
        assert_eq!(read_decisions(bad), Decisions::new(), "{bad:?}");
    }
}

/// What is put back of the decisions kept: only on applications still on the list, and
/// decidable (a damaged one, or one not read just now, is not decided on unseen).
#[test]
fn decisions_are_put_back_only_on_applications_still_waiting_and_decidable() {
    let damaged = ShiftItem { damaged: true, ..item("c", 3, vec![], ItemSync::OnUnit) };
    let not_read = ShiftItem { not_read: true, ..item("d", 4, vec![], ItemSync::AtHub) };
    let items = [item("a", 1, vec![], ItemSync::AtHub), item("b", 2, vec![], ItemSync::OnUnit), damaged, not_read];
    let kept: Decisions = [
        ("a".to_string(), Decision::Approve),
        ("b".to_string(), Decision::Hold),
        ("c".to_string(), Decision::Approve),
        ("d".to_string(), Decision::Approve),
        ("released".to_string(), Decision::returned("photo")),
    ]
    .into();
    let back = restorable(kept, &items);
    assert_eq!(back, Decisions::from([("a".to_string(), Decision::Approve), ("b".to_string(), Decision::Hold)]));
    assert_eq!(restorable(Decisions::new(), &items), Decisions::new());
}

#[test]
fn the_stops_since_the_day_began_are_counted_with_those_that_took_a_fee() {
    let entry = |at: i64, action: &str, subject: &str| doorstep_vault::AuditEntry {
        seq: 0,
        at_unix: at,
        action: action.into(),
        subject: subject.into(),
        prev: String::new(),
        hash: String::new(),
        signature: String::new(),
    };
    let entries = [
        entry(90, doorstep_vault::ABANDON, "visit-1 step=step.pay paid=none refund=none"),
        entry(100, doorstep_vault::ABANDON, "visit-2 step=step.photo paid=none refund=none"),
        entry(150, doorstep_vault::ABANDON, "visit-3 step=step.seal paid=120.00 payment.cash refund=cash-returned"),
        entry(160, "seal", "visit-4 paid=none"),
        entry(170, doorstep_vault::ABANDON, "visit-5 step=step.seal paid=200.00 payment.mobile-qr refund=R123"),
    ];
    let cases = [
        (0, Stops { count: 4, paid: 2 }),
        (100, Stops { count: 3, paid: 2 }),
        (151, Stops { count: 1, paid: 1 }),
        (171, Stops::default()),
    ];
    for (since, expected) in cases {
        assert_eq!(stops_since(&entries, since), expected, "since {since}");
    }
}
