//! `doorstep-hub report` on a hub holding a known set of applications: sealed as the unit
//! seals them, received on days the test sets, released, returned, accepted and rejected. Every
//! figure of the report is checked against counts the test makes from its own inputs, through
//! the command line as the back office runs it: JSON, CSV, the chart, the range's bounds, and
//! the refusals (a bad date, a missing or wrong key, a breakdown that needs the key).

mod common;
mod pg;
mod reported;
mod served;
mod stores;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use doorstep_hub::pki::{self, Hub};
use doorstep_hub::service::Service;
use reported::{Fate, Spec, Tablet, Who};
use serde_json::Value;
use time::macros::datetime;

const DEVICES: [&str; 3] = ["tablet-a", "tablet-b", "tablet-c"];

fn specs() -> Vec<Spec> {
    use Fate::*;
    use Who::*;
    let s = |device, officer, received, lag_secs, who, services, urgent, declared, fate| Spec {
        device,
        officer,
        received,
        lag_secs,
        who,
        services,
        urgent,
        declared,
        fate,
    };
    let medical: Option<(&str, &[&str])> = Some(("medical-treatment", &["hospital-letter", "medical-record"]));
    let critical: Option<(&str, &[&str])> = Some(("critically-ill", &["critical-notice", "relationship"]));
    vec![
        // The second before the range, and the first second of it.
        s(0, 1, datetime!(2026-11-30 23:59:59 +8), 60, Elder, &["passport"], None, &[], Accepted),
        s(
            0,
            1,
            datetime!(2026-12-01 00:00:00 +8),
            600,
            Elder,
            &["hk-macao-permit", "hk-macao-endorsement:T:multi:1y"],
            None,
            &[],
            Approved,
        ),
        s(0, 2, datetime!(2026-12-01 09:30 +8), 3600, Adult, &["passport"], None, &[], Returned("照片背景不合格")),
        s(1, 2, datetime!(2026-12-01 14:00 +8), 93_600, Adult, &["passport"], medical, &[], Accepted),
        s(
            1,
            3,
            datetime!(2026-12-02 10:00 +8),
            120,
            Adult,
            &["hk-macao-permit"],
            None,
            &["disability"],
            Rejected("测试原因：签名不清"),
        ),
        s(1, 3, datetime!(2026-12-02 11:00 +8), 5400, Elder, &["passport"], critical, &["disability"], Waiting),
        // Returned with the supervisor's note after the policy's words: counted under the words.
        s(
            2,
            1,
            datetime!(2026-12-02 16:00 +8),
            300,
            Adult,
            &["taiwan-permit"],
            None,
            &[],
            Returned("照片背景不合格 — 测试：耳朵被遮住"),
        ),
        s(0, 1, datetime!(2026-12-03 08:00 +8), 43_200, Adult, &["passport", "hk-macao-permit"], None, &[], Approved),
        s(2, 1, datetime!(2026-12-03 12:00 +8), 900, Elder, &["passport"], None, &[], Waiting),
        s(2, 2, datetime!(2026-12-03 18:00 +8), 60, Adult, &["hk-macao-permit"], None, &[], Returned("指纹质量不合格")),
        // The last second of the range, and the first after it.
        s(0, 3, datetime!(2026-12-04 23:59:59 +8), 1800, Adult, &["passport"], None, &[], Accepted),
        s(1, 1, datetime!(2026-12-05 00:00:00 +8), 10, Adult, &["passport"], None, &[], Waiting),
    ]
}

const FROM: &str = "2026-12-01";
const TO: &str = "2026-12-04";

/// The hub, with every spec received and decided; returns it and the bureau key file.
fn hub_with_applications(dir: &Path) -> (Hub, std::path::PathBuf) {
    let mut hub = stores::init(&dir.join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:1");
    let supervisor = doorstep_envelope::signing_key_from_seed(&[42; 32]);
    hub.add_supervisor(&hex::encode(supervisor.verifying_key().to_bytes())).unwrap();
    for n in 1..=3 {
        let (id, key) = reported::officer(n);
        common::enroll_officer(&hub, &key, &id);
    }
    let mut tablets: Vec<Tablet> = DEVICES.iter().enumerate().map(|(i, d)| Tablet::new(&hub, d, i as u8 + 1)).collect();
    // The hub's clock is one for the whole test binary: one hub is filled at a time.
    static FILLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = FILLING.lock().unwrap_or_else(|e| e.into_inner());
    let mut service = Service::new(stores::open(&hub), &hub).unwrap();
    service.now = || reported::CLOCK.load(std::sync::atomic::Ordering::SeqCst);
    let mut done = Vec::new();
    for (n, spec) in specs().iter().enumerate() {
        let (id, digest) = reported::upload(&service, &mut tablets[spec.device], n, spec);
        done.push((spec.device, id, digest, spec.fate));
    }
    reported::decide(&service, &tablets, &supervisor, &done);
    drop(service);
    let key = pki::bureau_dir(&hub.dir).join("bureau.key");
    (hub, key)
}

fn cli(hub: &Hub, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_doorstep-hub")).arg("--hub").arg(&hub.dir).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn report_json(hub: &Hub, args: &[&str]) -> Value {
    let (ok, out, err) = cli(hub, &[&["report", "--json"], args].concat());
    assert!(ok, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// A row's figures: applications, awaiting, approved, returned, accepted, rejected, urgent,
/// green channel.
type Figures = [usize; 8];

/// What the test expects by `by`, counted from its own specs (those received in the range).
fn expected(by: &str) -> BTreeMap<String, Figures> {
    let range = (datetime!(2026-12-01 00:00 +8), datetime!(2026-12-05 00:00 +8));
    let mut rows: BTreeMap<String, Figures> = BTreeMap::new();
    for s in specs().iter().filter(|s| range.0 <= s.received && s.received < range.1) {
        let keys: BTreeSet<String> = match by {
            "device" => [DEVICES[s.device].to_string()].into(),
            "officer" => [reported::officer(s.officer).0].into(),
            "day" => [s.received.to_offset(doorstep_hub::report::CHINA_STANDARD_TIME).date().to_string()].into(),
            "service" => s.services.iter().map(|x| x.split(':').next().unwrap().to_string()).collect(),
            "priority" => {
                let mut k: BTreeSet<String> = s.declared.iter().map(|d| d.to_string()).collect();
                if s.urgent.is_some() {
                    k.insert("urgent".into());
                }
                if s.who == Who::Elder {
                    k.insert("elderly".into());
                }
                if k.is_empty() {
                    k.insert("ordinary".into());
                }
                k
            }
            _ => unreachable!(),
        };
        let state = match s.fate {
            Fate::Waiting => 1,
            Fate::Approved => 2,
            Fate::Returned(_) => 3,
            Fate::Accepted => 4,
            Fate::Rejected(_) => 5,
        };
        let urgent = s.urgent.is_some();
        let green = urgent || s.who == Who::Elder || !s.declared.is_empty();
        for key in keys {
            let row = rows.entry(key).or_default();
            row[0] += 1;
            row[state] += 1;
            row[6] += usize::from(urgent);
            row[7] += usize::from(green);
        }
    }
    rows
}

fn figures(row: &Value) -> Figures {
    let n = |k: &str| row[k].as_u64().unwrap_or(0) as usize;
    [
        n("applications"),
        n("awaiting_manifest"),
        n("approved"),
        n("returned"),
        n("accepted"),
        n("rejected"),
        n("urgent"),
        n("green_channel"),
    ]
}

/// The report's rows by key, each checked to have a row in `want` or to be empty.
fn check_rows(report: &Value, want: &BTreeMap<String, Figures>, with_key: bool) {
    let mut got = BTreeMap::new();
    for row in report["rows"].as_array().unwrap() {
        let mut f = figures(row);
        if !with_key {
            assert!(row.get("urgent").is_none() && row.get("green_channel").is_none(), "{row}");
        }
        if f[0] == 0 {
            assert_eq!(f, Figures::default(), "an empty row is empty: {row}");
            continue;
        }
        if !with_key {
            f[6..].copy_from_slice(&[0, 0]);
        }
        got.insert(row["key"].as_str().unwrap().to_string(), f);
    }
    let want: BTreeMap<String, Figures> = if with_key {
        want.clone()
    } else {
        want.iter().map(|(k, f)| (k.clone(), [f[0], f[1], f[2], f[3], f[4], f[5], 0, 0])).collect()
    };
    assert_eq!(got, want, "by {}", report["by"]);
}

/// Nearest-rank percentile of the test's own lags.
fn nearest_rank(sorted: &[i64], p: usize) -> i64 {
    sorted[(sorted.len() * p).div_ceil(100) - 1]
}

#[test]
fn every_figure_matches_the_tests_own_counts() {
    let d = tempfile::tempdir().unwrap();
    let (hub, key) = hub_with_applications(d.path());
    let key = key.to_str().unwrap();
    let inside: Vec<Spec> = specs()
        .into_iter()
        .filter(|s| {
            s.received.date() >= time::macros::date!(2026 - 12 - 01)
                && s.received.date() <= time::macros::date!(2026 - 12 - 04)
        })
        .collect();
    assert_eq!(inside.len(), 10, "both ends of the range are in it, the seconds beside them are not");
    for by in ["device", "officer", "day", "service", "priority"] {
        let r = report_json(&hub, &["--from", FROM, "--to", TO, "--by", by, "--key", key]);
        check_rows(&r, &expected(by), true);
        // The totals, whatever the breakdown.
        let total = figures(&r["total"]);
        let count = |f: &dyn Fn(&Spec) -> bool| inside.iter().filter(|s| f(s)).count();
        assert_eq!(total[0], inside.len());
        assert_eq!(total[1], count(&|s| s.fate == Fate::Waiting));
        assert_eq!(total[2], count(&|s| s.fate == Fate::Approved));
        assert_eq!(total[3], count(&|s| matches!(s.fate, Fate::Returned(_))));
        assert_eq!(total[4], count(&|s| s.fate == Fate::Accepted));
        assert_eq!(total[5], count(&|s| matches!(s.fate, Fate::Rejected(_))));
        assert_eq!(r["urgent"].as_u64(), Some(count(&|s| s.urgent.is_some()) as u64));
        let green = count(&|s| s.urgent.is_some() || s.who == Who::Elder || !s.declared.is_empty());
        assert_eq!(r["green_channel"].as_u64(), Some(green as u64));
        assert_eq!(
            (r["basis"].as_str(), r["time_zone"].as_str(), r["opened"].as_bool()),
            (Some("received"), Some("+08:00"), Some(true))
        );
    }
    let r = report_json(&hub, &["--from", FROM, "--to", TO, "--by", "device", "--key", key]);
    // Returns and rejections with their reasons.
    let mut reasons: BTreeMap<(String, String), u64> = BTreeMap::new();
    for s in &inside {
        match s.fate {
            Fate::Returned(why) => {
                let words = why.split_once(" — ").map_or(why, |(words, _)| words);
                *reasons.entry(("supervisor".into(), words.into())).or_default() += 1
            }
            Fate::Rejected(why) => *reasons.entry(("back-office".into(), why.into())).or_default() += 1,
            _ => {}
        }
    }
    let got: BTreeMap<(String, String), u64> = r["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            ((x["by"].as_str().unwrap().into(), x["reason"].as_str().unwrap().into()), x["count"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(got, reasons);
    assert!(!got.keys().any(|(_, reason)| reason.contains("耳朵")), "no supervisor's note in the report: {got:?}");
    let mut grounds: BTreeMap<String, u64> = BTreeMap::new();
    for (ground, _) in inside.iter().filter_map(|s| s.urgent) {
        *grounds.entry(ground.into()).or_default() += 1;
    }
    assert_eq!(serde_json::from_value::<BTreeMap<String, u64>>(r["urgent_grounds"].clone()).unwrap(), grounds);
    // Capture (the unit sealing it) to receipt.
    let mut lags: Vec<i64> = inside.iter().map(|s| s.lag_secs).collect();
    lags.sort();
    let l = &r["capture_to_receipt"];
    assert_eq!(l["count"].as_u64(), Some(lags.len() as u64));
    assert_eq!(l["median_secs"].as_i64(), Some(nearest_rank(&lags, 50)));
    assert_eq!(l["p90_secs"].as_i64(), Some(nearest_rank(&lags, 90)));
    assert_eq!(l["max_secs"].as_i64(), lags.last().copied());
    // Ratings other than poor ones never reach the hub: said, not given as zero. Feedback is
    // counted from the hub's records: none was sent in this test.
    let missing: Vec<&str> =
        r["unavailable"].as_array().unwrap().iter().map(|u| u["figure"].as_str().unwrap()).collect();
    assert_eq!(missing, ["ratings (other than poor ones)"]);
    assert!(r.get("ratings").is_none());
    assert_eq!(r["feedback"]["received"].as_u64(), Some(0));
    assert_eq!(r["feedback"]["poor_ratings"].as_u64(), Some(0));
}

#[test]
fn without_the_key_the_hubs_own_figures_and_a_plain_list_of_the_rest() {
    let d = tempfile::tempdir().unwrap();
    let (hub, _) = hub_with_applications(d.path());
    for by in ["device", "officer", "day"] {
        let r = report_json(&hub, &["--from", FROM, "--to", TO, "--by", by]);
        check_rows(&r, &expected(by), false);
        assert_eq!(r["opened"].as_bool(), Some(false));
        assert!(r.get("urgent").is_none() && r.get("green_channel").is_none());
        let missing: Vec<&str> =
            r["unavailable"].as_array().unwrap().iter().map(|u| u["figure"].as_str().unwrap()).collect();
        assert_eq!(missing, ["services", "priority", "urgent and green channel", "ratings (other than poor ones)"]);
    }
    for by in ["service", "priority"] {
        let (ok, _, err) = cli(&hub, &["report", "--from", FROM, "--to", TO, "--by", by]);
        assert!(!ok && err.contains(&format!("a report by {by} needs the sealed forms: give --key")), "{err}");
    }
    // The text a person reads says the same.
    let (ok, out, _) = cli(&hub, &["report", "--from", FROM, "--to", TO]);
    assert!(
        ok && out.contains("Applications received 2026-12-01 to 2026-12-04") && out.contains("Not in this report:"),
        "{out}"
    );
    assert!(
        out.contains("services: in the sealed form: give --key") && out.contains("ratings (other than poor ones): "),
        "{out}"
    );
    assert!(out.contains("Feedback received: 0") && out.contains("poor ratings (complaints they opened): 0"), "{out}");
}

#[test]
fn csv_has_one_line_per_row_and_a_total() {
    let d = tempfile::tempdir().unwrap();
    let (hub, key) = hub_with_applications(d.path());
    let (ok, out, err) =
        cli(&hub, &["report", "--from", FROM, "--to", TO, "--by", "service", "--csv", "--key", key.to_str().unwrap()]);
    assert!(ok, "{err}");
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split(',').collect()).collect();
    let header =
        ["service"].iter().chain(doorstep_hub::report::render::CSV_COLUMNS.iter()).copied().collect::<Vec<_>>();
    assert_eq!(lines[0], header);
    assert!(lines.iter().all(|l| l.len() == header.len()), "{out}");
    let want = expected("service");
    let mut got = BTreeMap::new();
    for l in &lines[1..lines.len() - 1] {
        let n: Vec<usize> = l[1..9].iter().map(|x| x.parse().unwrap()).collect();
        if n[0] > 0 {
            got.insert(l[0].to_string(), [n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]]);
        }
    }
    assert_eq!(got, want);
    let total = lines.last().unwrap();
    assert_eq!((total[0], total[1]), ("(all)", "10"), "{out}");
}

#[test]
fn an_empty_range_is_all_zero_and_bad_input_is_refused_by_name() {
    let d = tempfile::tempdir().unwrap();
    let (hub, key) = hub_with_applications(d.path());
    let key = key.to_str().unwrap();
    let r = report_json(&hub, &["--from", "2027-01-01", "--to", "2027-01-02", "--by", "day", "--key", key]);
    assert_eq!(figures(&r["total"]), Figures::default());
    let days: Vec<&str> = r["rows"].as_array().unwrap().iter().map(|x| x["key"].as_str().unwrap()).collect();
    assert_eq!(days, ["2027-01-01", "2027-01-02"]);
    assert!(r["capture_to_receipt"].is_null() && r["reasons"].as_array().unwrap().is_empty());
    let wrong_key = d.path().join("other.key");
    let other = doorstep_envelope::BureauKeyPair::generate(&mut rand::rng());
    std::fs::write(&wrong_key, hex::encode(*other.secret.to_bytes())).unwrap();
    let garbage = d.path().join("garbage.key");
    std::fs::write(&garbage, "测试 not a key").unwrap();
    let missing = d.path().join("missing.key");
    let cases: [(Vec<&str>, &str); 8] = [
        (vec!["--from", "2026-12-32", "--to", TO], "\"2026-12-32\" is not a date: write it as YYYY-MM-DD"),
        (vec!["--from", "12/01/2026", "--to", TO], "\"12/01/2026\" is not a date"),
        (vec!["--from", TO, "--to", FROM], "the range ends (2026-12-01) before it starts (2026-12-04)"),
        (vec!["--from", FROM, "--to", TO, "--key", missing.to_str().unwrap()], "cannot be read"),
        (vec!["--from", FROM, "--to", TO, "--key", garbage.to_str().unwrap()], "is not 64 hex characters"),
        (vec!["--from", FROM, "--to", TO, "--key", wrong_key.to_str().unwrap()], "cannot open it with this key"),
        (vec!["--from", FROM, "--to", TO, "--chart", "x.png", "--size", "10x10"], "is not a chart size"),
        (
            vec!["--from", FROM, "--to", TO, "--chart", "x.png", "--font", missing.to_str().unwrap()],
            "name the CJK font file with --font",
        ),
    ];
    for (args, said) in cases {
        let (ok, out, err) = cli(&hub, &[&["report"], args.as_slice()].concat());
        assert!(!ok && err.contains(said) && out.is_empty(), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn the_chart_is_a_png_of_the_size_asked_with_bars_in_it() {
    let d = tempfile::tempdir().unwrap();
    let (hub, key) = hub_with_applications(d.path());
    let png = d.path().join("chart.png");
    let args = ["report", "--from", FROM, "--to", TO, "--by", "officer", "--key", key.to_str().unwrap()];
    let (ok, out, err) = cli(&hub, &[&args[..], &["--chart", png.to_str().unwrap(), "--size", "900x600"]].concat());
    assert!(ok && out.contains(&format!("chart: {}", png.display())), "{err}{out}");
    let image = image::open(&png).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), (900, 600));
    let white = image.pixels().filter(|p| p.0 == [255, 255, 255]).count();
    assert!(white < 900 * 600 * 95 / 100, "there is more than background: {white} white pixels");
    // Each state's colour is there: every state has applications in the range.
    for colour in [[46u8, 125, 50], [144, 164, 174], [230, 81, 0]] {
        let n = image.pixels().filter(|p| p.0 == colour).count();
        assert!(n > 100, "{colour:?}: {n} pixels");
    }
}

#[test]
fn a_serving_hub_gives_the_same_report_through_its_admin_socket() {
    let d = tempfile::tempdir().unwrap();
    let (hub, key) = hub_with_applications(d.path());
    let args = ["--from", FROM, "--to", TO, "--by", "priority", "--key", key.to_str().unwrap()];
    let stopped = report_json(&hub, &args);
    let served = served::Served::start(&hub.dir, "warn");
    assert!(doorstep_hub::admin::AdminClient::connect(&hub.dir).is_some(), "the hub serves");
    assert_eq!(report_json(&hub, &args), stopped);
    served.stop();
}
