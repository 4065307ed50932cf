//! The report's counting, as tables: dates and day bounds, percentiles, what a form says, the
//! keys an application counts under, whole reports, and the CSV's and the chart size's
//! spelling.

use time::macros::{date, datetime};

use super::*;

fn unix(t: time::OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

#[test]
fn dates_are_yyyy_mm_dd_and_nothing_else() {
    let cases: [(&str, Option<Date>); 9] = [
        ("2026-12-01", Some(date!(2026 - 12 - 01))),
        (" 2026-02-28 ", Some(date!(2026 - 02 - 28))),
        ("2024-02-29", Some(date!(2024 - 02 - 29))),
        ("2026-02-29", None),
        ("2026-13-01", None),
        ("2026/12/01", None),
        ("20261201", None),
        ("2026-12-01T08:00", None),
        ("", None),
    ];
    for (text, want) in cases {
        match (parse_date(text), want) {
            (Ok(d), Some(w)) => assert_eq!(d, w, "{text:?}"),
            (Err(ReportError::BadDate { given }), None) => assert_eq!(given, text),
            (got, want) => panic!("{text:?}: {got:?}, want {want:?}"),
        }
    }
    assert!(matches!(DateRange::parse("2026-12-02", "2026-12-01"), Err(ReportError::BackwardRange { .. })));
    assert_eq!(DateRange::parse("2026-12-01", "2026-12-01").unwrap().days(), 1);
    assert_eq!(DateRange::parse("2026-02-01", "2026-03-01").unwrap().days(), 29);
}

#[test]
fn a_day_is_a_day_in_china_standard_time_both_ends_included() {
    let range = DateRange::parse("2026-12-01", "2026-12-02").unwrap();
    let cases = [
        (datetime!(2026-11-30 23:59:59 +8), false),
        (datetime!(2026-12-01 00:00:00 +8), true),
        // 2026-12-01 07:59 UTC is still 12-01 in Beijing; 16:00 UTC on 12-02 is 12-03 there.
        (datetime!(2026-11-30 16:00:00 UTC), true),
        (datetime!(2026-12-02 15:59:59 UTC), true),
        (datetime!(2026-12-02 23:59:59 +8), true),
        (datetime!(2026-12-02 16:00:00 UTC), false),
        (datetime!(2026-12-03 00:00:00 +8), false),
    ];
    for (t, inside) in cases {
        assert_eq!(range.contains(unix(t)), inside, "{t}");
    }
    assert!(!range.contains(i64::MAX), "a time out of range is in no day");
}

#[test]
fn percentiles_are_nearest_rank() {
    let cases: [(&[i64], u32, Option<i64>); 9] = [
        (&[], 50, None),
        (&[7], 50, Some(7)),
        (&[7], 90, Some(7)),
        (&[1, 2], 50, Some(1)),
        (&[1, 2], 90, Some(2)),
        (&[1, 2, 3], 50, Some(2)),
        (&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, Some(5)),
        (&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, Some(9)),
        (&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90, Some(10)),
    ];
    for (values, p, want) in cases {
        assert_eq!(percentile(values, p), want, "{values:?} p{p}");
    }
}

/// A form shaped as the unit seals it: the visit at the seal step, each step under `prev`.
fn sealed_form(services: &[&str], urgent: Option<&str>, priority: &[&str]) -> String {
    let services: Vec<serde_json::Value> =
        services.iter().map(|s| serde_json::json!({"service": s, "reason": "first"})).collect();
    let urgent = urgent.map(|g| serde_json::json!({"ground": g, "evidence_seen": ["x"]}));
    serde_json::json!({
        "visit": {
            "id": "visit-test", "officer": "officer-test", "mode": {"mode": "hall"},
            "state": {"step": "seal", "payment": {}, "prev": {"consent": {}, "prev": {"reviewed_at": "x", "prev": {
                "details": {"phone": "x", "urgent": urgent, "priority": priority},
                "prev": {"fingerprints": "not-taken", "prev": {"photo": "not-needed", "services": {
                    "services": services, "facts": {}, "quote": {"lines": [{"service": "not-this"}]}
                }, "prev": {"who": {}}}}
            }}}}
        },
        "capture_sources": {}
    })
    .to_string()
}

#[test]
fn what_a_form_says() {
    let facts = |services: &[&str], urgent: Option<&str>, priority: &[&str]| FormFacts {
        known: true,
        services: services.iter().map(|s| s.to_string()).collect(),
        urgent: urgent.map(str::to_string),
        priority: priority.iter().map(|s| s.to_string()).collect(),
    };
    let cases = [
        (sealed_form(&["passport"], None, &[]), facts(&["passport"], None, &[])),
        (
            sealed_form(&["hk-macao-permit", "hk-macao-endorsement"], Some("medical-treatment"), &["elderly"]),
            facts(&["hk-macao-permit", "hk-macao-endorsement"], Some("medical-treatment"), &["elderly"]),
        ),
        (
            sealed_form(&["taiwan-permit"], None, &["disability", "elderly", "disability"]),
            facts(&["taiwan-permit"], None, &["disability", "elderly"]),
        ),
        // No details step: services known, urgent and priority not.
        (
            r#"{"visit":{"state":{"services":{"services":[{"service":"passport"}]}}}}"#.to_string(),
            FormFacts { services: vec!["passport".into()], ..FormFacts::default() },
        ),
        (r#"{"name":"测试"}"#.to_string(), FormFacts::default()),
        ("not json".to_string(), FormFacts::default()),
        ("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]".to_string(), FormFacts::default()),
    ];
    for (json, want) in cases {
        assert_eq!(form_facts(&json), want, "{json}");
    }
}

/// An application received at `t`, sealed `lag` seconds before, with a status and a form.
fn app(
    device: &str,
    officer: &str,
    t: time::OffsetDateTime,
    lag: i64,
    status: Option<Status>,
    form: Option<FormFacts>,
) -> Application {
    Application {
        device: device.into(),
        received_at_unix: unix(t),
        status,
        officer: officer.into(),
        sealed_at_unix: unix(t) - lag,
        form,
    }
}

fn form(services: &[&str], urgent: Option<&str>, priority: &[&str]) -> FormFacts {
    form_facts(&sealed_form(services, urgent, priority))
}

#[test]
fn the_keys_an_application_counts_under() {
    let t = datetime!(2026-12-01 00:30 +8);
    let with = |f: Option<FormFacts>| app("tablet-a", "officer-1", t, 60, None, f);
    let cases: [(Application, By, &[&str]); 11] = [
        (with(None), By::Device, &["tablet-a"]),
        (with(None), By::Officer, &["officer-1"]),
        // 00:30 in Beijing is the evening before in UTC: the day is Beijing's.
        (with(None), By::Day, &["2026-12-01"]),
        (with(None), By::Service, &[UNKNOWN]),
        // Two Hong Kong endorsements (of two kinds) in one visit: the visit counts once there.
        (
            with(Some(form(&["hk-macao-endorsement", "passport", "hk-macao-endorsement"], None, &[]))),
            By::Service,
            &["hk-macao-endorsement", "passport"],
        ),
        (with(Some(form(&["passport", "hk-macao-permit"], None, &[]))), By::Service, &["hk-macao-permit", "passport"]),
        (with(Some(form(&["passport"], None, &[]))), By::Priority, &[ORDINARY]),
        (with(Some(form(&["passport"], Some("funeral-abroad"), &[]))), By::Priority, &["urgent"]),
        (
            with(Some(form(&["passport"], Some("study"), &["elderly", "disability"]))),
            By::Priority,
            &["disability", "elderly", "urgent"],
        ),
        (with(Some(FormFacts::default())), By::Priority, &[UNKNOWN]),
        (with(Some(form(&["passport"], None, &["military"]))), By::Priority, &["military"]),
    ];
    for (a, by, want) in cases {
        let mut got = keys(&a, by);
        got.sort();
        assert_eq!(got, want, "{by:?} {:?}", a.form);
    }
}

fn returned(reason: &str) -> Option<Status> {
    Some(Status::Returned { batch: "shift-1".into(), reason: reason.into() })
}

#[test]
fn a_report_counts_states_reasons_and_times_within_the_range() {
    let day1 = datetime!(2026-12-01 10:00 +8);
    let day2 = datetime!(2026-12-02 23:00 +8);
    let outside = datetime!(2026-12-03 00:00 +8);
    let apps = vec![
        app("tablet-a", "officer-1", day1, 600, None, None),
        app("tablet-a", "officer-1", day1, 1200, Some(Status::Approved { batch: "b".into() }), None),
        app("tablet-a", "officer-2", day2, 3600, returned("照片背景不合格"), None),
        app("tablet-b", "officer-2", day2, 7200, returned(" 照片背景不合格 "), None),
        app("tablet-b", "officer-2", day2, 60, Some(Status::Rejected { reason: "测试原因".into() }), None),
        app("tablet-b", "officer-1", day2, -30, Some(Status::Accepted), None),
        app("tablet-c", "officer-1", outside, 10, Some(Status::Accepted), None),
    ];
    let range = DateRange::parse("2026-12-01", "2026-12-02").unwrap();
    let r = compute(&apps, &range, By::Device, false);
    let total = States { applications: 6, awaiting_manifest: 1, approved: 1, returned: 2, accepted: 1, rejected: 1 };
    assert_eq!(r.total, total);
    let rows: Vec<(&str, usize)> = r.rows.iter().map(|r| (r.key.as_str(), r.states.applications)).collect();
    assert_eq!(rows, [("tablet-a", 3), ("tablet-b", 3)], "busiest first, then by name; tablet-c is outside");
    assert_eq!(
        r.reasons,
        [
            Reason { by: "back-office", reason: "测试原因".into(), count: 1 },
            Reason { by: "supervisor", reason: "照片背景不合格".into(), count: 2 },
        ]
    );
    // Latencies 0 (clock ahead), 60, 600, 1200, 3600, 7200: median 600, p90 7200.
    let l = r.capture_to_receipt.clone().unwrap();
    assert_eq!((l.count, l.median_secs, l.p90_secs, l.max_secs, l.unit_clock_ahead), (6, 600, 7200, 7200, 1));
    assert_eq!(r.rows[0].median_capture_to_receipt_secs, Some(1200));
    assert_eq!((r.urgent, r.green_channel, r.rows[0].urgent), (None, None, None), "not without the key");
    let missing: Vec<&str> = r.unavailable.iter().map(|u| u.figure).collect();
    assert_eq!(missing, ["services", "priority", "urgent and green channel", "ratings (other than poor ones)"]);
    assert!(!r.rows_overlap);

    let by_day = compute(&apps, &range, By::Day, false);
    let rows: Vec<(&str, usize)> = by_day.rows.iter().map(|r| (r.key.as_str(), r.states.applications)).collect();
    assert_eq!(rows, [("2026-12-01", 2), ("2026-12-02", 4)]);
    let empty = compute(&apps, &DateRange::parse("2026-11-01", "2026-11-03").unwrap(), By::Day, false);
    assert_eq!(empty.total, States::default());
    assert_eq!(
        empty.rows.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["2026-11-01", "2026-11-02", "2026-11-03"]
    );
    assert_eq!((empty.capture_to_receipt, empty.reasons.len()), (None, 0));
    let long = compute(&apps, &DateRange::parse("2026-01-01", "2027-12-31").unwrap(), By::Day, false);
    assert_eq!(long.rows.len(), 3, "over {MAX_LISTED_DAYS} days only days with applications are listed");
}

#[test]
fn with_the_forms_services_and_priority_overlap_and_urgent_is_counted() {
    let t = datetime!(2026-12-01 10:00 +8);
    let apps = vec![
        app("tablet-a", "officer-1", t, 60, None, Some(form(&["passport", "hk-macao-permit"], None, &["elderly"]))),
        app("tablet-a", "officer-1", t, 60, None, Some(form(&["passport"], Some("medical-treatment"), &[]))),
        app("tablet-a", "officer-1", t, 60, returned("测试"), Some(form(&["taiwan-endorsement"], None, &[]))),
        app("tablet-a", "officer-1", t, 60, None, Some(FormFacts::default())),
    ];
    let range = DateRange::parse("2026-12-01", "2026-12-01").unwrap();
    let r = compute(&apps, &range, By::Service, true);
    let rows: Vec<(&str, usize, Option<usize>, Option<usize>)> =
        r.rows.iter().map(|r| (r.key.as_str(), r.states.applications, r.urgent, r.green_channel)).collect();
    assert_eq!(
        rows,
        [
            ("passport", 2, Some(1), Some(2)),
            ("hk-macao-permit", 1, Some(0), Some(1)),
            ("hk-macao-endorsement", 0, Some(0), Some(0)),
            ("taiwan-permit", 0, Some(0), Some(0)),
            ("taiwan-endorsement", 1, Some(0), Some(0)),
            ("taiwan-resident-permit", 0, Some(0), Some(0)),
            (UNKNOWN, 1, Some(0), Some(0)),
        ]
    );
    assert!(r.rows_overlap);
    assert_eq!((r.total.applications, r.urgent, r.green_channel), (4, Some(1), Some(2)));
    assert_eq!(r.urgent_grounds.as_ref().unwrap().get("medical-treatment"), Some(&1));
    let missing: Vec<&str> = r.unavailable.iter().map(|u| u.figure).collect();
    assert_eq!(missing, ["ratings (other than poor ones)"]);
    let p = compute(&apps, &range, By::Priority, true);
    let rows: Vec<(&str, usize)> = p.rows.iter().map(|r| (r.key.as_str(), r.states.applications)).collect();
    assert_eq!(
        rows,
        [
            ("urgent", 1),
            ("elderly", 1),
            ("infant", 0),
            ("pregnancy", 0),
            ("disability", 0),
            (ORDINARY, 1),
            (UNKNOWN, 1)
        ]
    );
}

#[test]
fn csv_fields_and_durations_are_spelled_safely() {
    let fields = [
        ("tablet-a", "tablet-a"),
        ("测试", "测试"),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@sum", "'@sum"),
    ];
    for (text, want) in fields {
        assert_eq!(render::field(text), want, "{text:?}");
    }
    let durations = [
        (0, "0s"),
        (59, "59s"),
        (60, "1m"),
        (3599, "59m"),
        (3600, "1h 00m"),
        (3 * 3600 + 300, "3h 05m"),
        (86_400 * 2 + 3600 * 4, "2d 04h"),
    ];
    for (secs, want) in durations {
        assert_eq!(render::duration(secs), want);
    }
}

#[test]
fn chart_sizes() {
    let cases = [
        ("1200x800", Some((1200, 800))),
        ("320X320", Some((320, 320))),
        (" 4000x4000 ", Some((4000, 4000))),
        ("319x800", None),
        ("1200x4001", None),
        ("1200", None),
        ("axb", None),
        ("-1x800", None),
        ("", None),
    ];
    for (text, want) in cases {
        assert_eq!(chart::parse_size(text).ok(), want, "{text:?}");
    }
}

#[test]
fn the_chart_draws_at_every_size_for_any_number_of_rows() {
    let t = datetime!(2026-12-01 10:00 +8);
    let many: Vec<Application> = (0..400)
        .map(|n| {
            app(
                &format!("测试-tablet-{n:03}"),
                "officer-1",
                t,
                60,
                if n % 3 == 0 { returned("测试") } else { None },
                None,
            )
        })
        .collect();
    let range = DateRange::parse("2026-12-01", "2026-12-01").unwrap();
    let reports = [
        compute(&[], &range, By::Device, false),
        compute(&many[..1], &range, By::Device, false),
        compute(&many, &range, By::Device, false),
        compute(&many, &DateRange::parse("2026-01-01", "2026-12-31").unwrap(), By::Day, false),
    ];
    for r in &reports {
        for size in [(320, 320), (4000, 320), (320, 4000), (1200, 800)] {
            let pixels = chart::draw(r, size, &chart::default_font()).unwrap();
            assert_eq!(pixels.len(), size.0 as usize * size.1 as usize * 3);
            assert!(pixels.iter().any(|&p| p < 128), "something is drawn at {size:?}");
        }
    }
    let missing = std::path::Path::new("/nonexistent/测试.otf");
    assert!(matches!(chart::draw(&reports[0], (400, 400), missing), Err(ReportError::Chart(_))));
}
