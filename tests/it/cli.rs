//! The command line as a user runs it: exit codes, text and JSON.

use std::process::{Command, Output};

use serde_json::Value;

pub(crate) fn doorstep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_doorstep")).args(args).output().expect("run doorstep")
}

pub(crate) fn json(args: &[&str]) -> (i32, Value) {
    let out = doorstep(args);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let value = serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"));
    (out.status.code().unwrap_or(-1), value)
}

const TD3: [&str; 2] = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"];
const TD1: [&str; 3] =
    ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"];

#[test]
fn check_id_published_examples() {
    let (code, v) = json(&["check", "id", "11010519491231002X", "--json", "--date", "2026-11-26"]);
    assert_eq!(code, 0);
    assert_eq!(v["valid"], true);
    assert_eq!(v["birth_date"], "1949-12-31");
    assert_eq!(v["sex"], "female");
    assert_eq!(v["document_number"], "11010519491231002X");
    assert_eq!(v["age"], 76);

    // Born 1880: a fixed date, or the number turns implausible (over 150 years) in 2030.
    let (code, v) = json(&["check", "id", "440524188001010014", "--json", "--date", "2026-11-26"]);
    assert_eq!(code, 0);
    assert_eq!(v["birth_date"], "1880-01-01");
    assert_eq!(v["sex"], "male");
}

#[test]
fn check_id_negative_cases() {
    let (code, v) = json(&["check", "id", "110105194912310029", "--json"]);
    assert_eq!(code, 1);
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"], "check-character");
    assert!(v["reason"].as_str().unwrap().contains("X"));

    // Valid structure, but born after the given day.
    let (code, v) = json(&["check", "id", "11010519491231002X", "--json", "--date", "1949-12-30"]);
    assert_eq!(code, 1);
    assert_eq!(v["error"], "birth-date-in-future");
    // Said against the day checked, not "today".
    assert_eq!(v["reason"], "the birth date is after 1949-12-30", "{v}");
    assert_eq!(v["reason_zh"], "出生日期晚于 1949-12-30", "{v}");

    let out = doorstep(&["check", "id", "1234"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("18"), "{text}");
}

#[test]
fn check_doc_kinds() {
    for (kind, number, valid) in [
        ("passport", "E12345678", true),
        ("passport", "EA1234567", true),
        ("passport", "EO1234567", false),
        ("hk-macao-permit", "CA0000001", true),
        ("hk-macao-permit", "C1234567", false),
        ("taiwan-permit", "L12345678", true),
        ("taiwan-resident-permit", "12345678", true),
        ("taiwan-resident-permit", "1234567", false),
        ("home-return-permit", "H1234567801", true),
        ("home-return-permit", "X1234567801", false),
    ] {
        let (code, v) = json(&["check", "doc", kind, number, "--json"]);
        assert_eq!(v["valid"], valid, "{kind} {number}: {v}");
        assert_eq!(code, if valid { 0 } else { 1 }, "{kind} {number}");
        if valid {
            assert_eq!(v["document_number"], number);
        } else {
            assert!(v["reason"].is_string());
        }
    }
    let (_, v) = json(&["check", "doc", "taiwan-permit", "L12345678", "--json"]);
    assert_eq!(v["format_unconfirmed"], true);
    let out = doorstep(&["check", "doc", "visa", "X"]);
    assert_eq!(out.status.code(), Some(2), "an unknown kind is a usage error");
}

#[test]
fn check_mrz_specimens_and_tampering() {
    let (code, v) = json(&["check", "mrz", TD3[0], TD3[1], "--json", "--date", "2026-11-26"]);
    assert_eq!(code, 0);
    assert_eq!(v["format"], "td3");
    assert_eq!(v["document_number"], "L898902C3");
    assert_eq!(v["birth_date"], "1974-08-12");
    assert_eq!(v["sex"], "female");
    assert_eq!(v["expiry_date"], "2012-04-15");
    assert_eq!(v["expired"], true);

    let (code, v) = json(&["check", "mrz", TD1[0], TD1[1], TD1[2], "--json", "--date", "2026-11-26"]);
    assert_eq!(code, 0);
    assert_eq!(v["format"], "td1");
    assert_eq!(v["document_number"], "D23145890");

    let tampered = TD3[1].replace("7408122", "7408132");
    let (code, v) = json(&["check", "mrz", TD3[0], &tampered, "--json"]);
    assert_eq!(code, 1);
    assert_eq!(v["valid"], false);
    assert!(v["reason"].as_str().unwrap().contains("birth date"), "{v}");
}

#[test]
fn fee_itemises_the_example_visit() {
    let (code, v) =
        json(&["fee", "passport", "hk-macao-permit", "hk-macao-endorsement:G:1x:3m", "--json", "--date", "2026-11-26"]);
    assert_eq!(code, 0);
    assert_eq!(v["total"], "195.00");
    assert_eq!(v["schedule_id"], "fees-2019-07-01");
    let amounts: Vec<&str> = v["lines"].as_array().unwrap().iter().map(|l| l["amount"].as_str().unwrap()).collect();
    assert_eq!(amounts, ["120.00", "60.00", "15.00"]);

    let text = String::from_utf8(doorstep(&["fee", "passport", "--date", "2019-06-30"]).stdout).unwrap();
    assert!(text.contains("160.00") && text.contains("fees-2017-07-01"), "{text}");

    let (code, v) = json(&["fee", "hk-macao-endorsement:G:multi:5y", "--json", "--date", "2026-11-26"]);
    assert_eq!(code, 1);
    assert!(v["reason"].as_str().unwrap().contains("offered"));
}

#[test]
fn fee_reads_a_bureau_policy_folder() {
    let dir = std::env::temp_dir().join(format!("doorstep-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("fees.toml"),
        r#"
        [[schedule]]
        id = "test-bureau-2026"
        effective_from = "2026-01-01"
        basis = "a test schedule"
        [[schedule.item]]
        service = "passport"
        amount = "100"
        confidence = "confirmed"
        "#,
    )
    .unwrap();
    let (code, v) = json(&["fee", "passport", "--json", "--policy", dir.to_str().unwrap(), "--date", "2026-11-26"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["total"], "100.00");

    std::fs::write(dir.join("fees.toml"), "this is not toml [").unwrap();
    let out = doorstep(&["fee", "passport", "--policy", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fees.toml"));
    std::fs::remove_dir_all(&dir).ok();
}

pub(crate) fn doorstep_with_stdin(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_doorstep"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run doorstep");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn vault_init_status_verify() {
    let tmp = std::env::temp_dir().join(format!("doorstep-cli-vault-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let vault = tmp.join("vault");
    let v = vault.to_str().unwrap();
    let out = doorstep_with_stdin(
        &[
            "vault",
            "init",
            "--vault",
            v,
            "--user",
            "officer-test",
            "--device-id",
            "tablet-test",
            "--demo-bureau",
            "--pin-stdin",
            "--insecure-fast-kdf",
        ],
        "246810\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(tmp.join("vault.demo-bureau-secret.hex").exists(), "the demo bureau key is beside the vault");
    assert!(!vault.join("vault.demo-bureau-secret.hex").exists());

    let again = doorstep_with_stdin(&["vault", "init", "--vault", v, "--demo-bureau", "--pin-stdin"], "246810\n");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let status = doorstep_with_stdin(
        &["vault", "status", "--vault", v, "--user", "officer-test", "--pin-stdin", "--json"],
        "246810\n",
    );
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let s: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(s["device_id"], "tablet-test");
    assert_eq!(s["drafts"], 0);
    // The key for the hub is the one init printed, in the JSON and in the text (scripts/demo-hub
    // reads the text).
    let printed = String::from_utf8_lossy(&out.stdout);
    let key = printed.split("doorstep-hub add-officer ").nth(1).and_then(|r| r.split_whitespace().next()).unwrap();
    assert_eq!((key.len(), s["user_key"].as_str()), (64, Some(key)));
    let text =
        doorstep_with_stdin(&["vault", "status", "--vault", v, "--user", "officer-test", "--pin-stdin"], "246810\n");
    assert!(String::from_utf8_lossy(&text.stdout).contains(&format!("\n  key for the hub: {key}\n")));
    assert!(s["free_bytes"].as_u64().unwrap() > 0);

    let ok =
        doorstep_with_stdin(&["vault", "verify", "--vault", v, "--user", "officer-test", "--pin-stdin"], "246810\n");
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("ok:"));

    let wrong =
        doorstep_with_stdin(&["vault", "verify", "--vault", v, "--user", "officer-test", "--pin-stdin"], "111111\n");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("attempts left"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );

    // A stray envelope file that the index does not know about is reported.
    std::fs::write(vault.join("envelopes").join("0190f3c2-1234-7000-8000-000000000000.env"), b"not an envelope")
        .unwrap();
    let bad =
        doorstep_with_stdin(&["vault", "verify", "--vault", v, "--user", "officer-test", "--pin-stdin"], "246810\n");
    assert_eq!(bad.status.code(), Some(1), "{}", String::from_utf8_lossy(&bad.stdout));
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn devices_list_finds_the_bridge_on_a_pseudo_terminal() {
    use doorstep_firmware_bridge::sim::{SimConfig, Simulator};
    let sim = Simulator::start(SimConfig::default()).expect("simulator");
    let replay = std::env::temp_dir().join(format!("doorstep-cli-replay-{}", std::process::id()));
    std::fs::create_dir_all(&replay).unwrap();
    image::RgbImage::new(4, 4).save(replay.join("f.png")).unwrap();
    let (code, v) = json(&["devices", "list", "--port", &sim.path, "--replay", replay.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let port =
        v["ports"].as_array().unwrap().iter().find(|p| p["path"] == sim.path.as_str()).expect("the pty is listed");
    assert_eq!(port["found"]["kind"], "bridge");
    assert_eq!(port["found"]["devices"], serde_json::json!(["fingerprint", "id-card", "gnss", "printer"]));
    assert_eq!(v["replay_camera"], replay.to_str().unwrap());
    // A silent bridge: nothing answers, and the command still succeeds and says so.
    sim.command("silent fingerprint").unwrap();
    let (_, v) = json(&["devices", "list", "--port", &sim.path, "--json"]);
    let port = v["ports"].as_array().unwrap().iter().find(|p| p["path"] == sim.path.as_str()).unwrap();
    assert_eq!(port["found"]["devices"], serde_json::json!(["id-card", "gnss", "printer"]));
    // A port given that is not there is said so, not reported as silent.
    let gone = replay.join("no-such-tty");
    let (code, v) = json(&["devices", "list", "--port", gone.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let port = v["ports"].as_array().unwrap().iter().find(|p| p["path"] == gone.to_str().unwrap()).unwrap();
    assert!(port["summary"].as_str().unwrap().starts_with("cannot open it: No such file"), "{port}");
    assert!(port["found"]["kind"].is_null() && port["found"]["error"].is_string(), "{port}");
    std::fs::remove_dir_all(&replay).ok();
}

#[test]
fn a_configured_unit_without_a_vault_refuses_to_start_a_demo() {
    let dir = std::env::temp_dir().join(format!("doorstep-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!("vault = \"{}\"\nofficer = \"officer-test\"\n", dir.join("missing-vault").display()),
    )
    .unwrap();
    let out = doorstep(&["--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no vault") && err.contains("vault init"), "{err}");
    assert!(!dir.join("missing-vault").exists(), "nothing was created");
    std::fs::write(&config, "colour = \"red\"\n").unwrap();
    let out = doorstep(&["--config", config.to_str().unwrap(), "check", "id", "11010519491231002X"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid doorstep config"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn photo_check_reports_every_check_by_name() {
    let astronaut = crate::root().join("tests/data/photos/real/astronaut.png");
    let blank = std::env::temp_dir().join(format!("doorstep-blank-{}.png", std::process::id()));
    image::RgbImage::from_pixel(354, 472, image::Rgb([250, 250, 250])).save(&blank).unwrap();
    let out = doorstep(&["photo", "check", "--json", astronaut.to_str().unwrap(), blank.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "neither is a compliant ID photo");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    for v in &lines {
        for n in doorstep_photo::assess::CHECKS {
            let c = &v["checks"][n];
            assert!(c.is_object(), "{n} missing in {v}");
            for k in ["value", "threshold", "pass", "exempt", "advice", "advice_zh", "advice_en"] {
                assert!(c.get(k).is_some(), "{n}.{k}");
            }
        }
    }
    // The full-length portrait: one face, far too small; and a smile with teeth.
    assert_eq!(lines[0]["face_count"], 1);
    let width = &lines[0]["checks"]["face_width"];
    assert_eq!((&width["pass"], &width["advice"]), (&Value::Bool(false), &Value::from("photo.face-width.small")));
    assert_eq!(
        width["advice_zh"],
        doorstep_core::text::Message::new("photo.face-width.small").render(doorstep_core::text::Lang::Zh)
    );
    assert_eq!(lines[0]["checks"]["mouth_closed"]["advice"], "photo.mouth-closed");
    // The blank picture: no face, and every check that needs one says why it cannot judge.
    assert_eq!(lines[1]["face_count"], 0);
    let roll = &lines[1]["checks"]["roll"];
    assert_eq!((&roll["pass"], &roll["advice"]), (&Value::Null, &Value::from("photo.cannot.no-face")));
    assert_eq!(lines[1]["pass"], false);

    let target = std::env::temp_dir().join(format!("doorstep-crop-{}.jpg", std::process::id()));
    let out = doorstep(&["--lang", "en", "photo", "crop", blank.to_str().unwrap(), target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let why = |lang| doorstep_core::text::Message::new("photo.crop.face-count").with("count", "0").render(lang);
    // In the language asked for, and only in it.
    assert!(said.contains(&why(doorstep_core::text::Lang::En)), "{said}");
    assert!(!said.contains(&why(doorstep_core::text::Lang::Zh)), "{said}");
    assert!(!target.exists());
    // Asked for what it cannot do: said before any work, and nothing written.
    let png = target.with_extension("png");
    let out = doorstep(&["photo", "crop", blank.to_str().unwrap(), png.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the crop is written as a JPEG"), "{out:?}");
    assert!(!png.exists());
    let out = doorstep(&["photo", "check", "--profile", "visa", blank.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown profile \"visa\": passport, "), "{out:?}");
    std::fs::remove_file(&blank).ok();
}

/// (birth date, services, fingerprints, signature, photo, guardian required, guardian may apply)
type AgeCase<'a> = (&'a str, &'a [&'a str], &'a str, &'a str, &'a str, bool, bool);

/// `doorstep requirements`: the published age rules as a table.
#[test]
fn requirements_follow_the_published_age_rules() {
    let cases: &[AgeCase] = &[
        ("2010-12-04", &["passport"], "required", "applicant", "new", false, false),
        ("2010-12-05", &["passport"], "guardian-decides", "applicant", "new", true, false),
        ("2018-06-01", &["hk-macao-permit"], "guardian-decides", "applicant", "new", true, false),
        ("2021-01-01", &["passport"], "guardian-decides", "guardian", "new", true, true),
        ("1949-12-31", &["taiwan-permit"], "required", "applicant", "reuse-allowed", false, false),
        ("1980-01-01", &["taiwan-resident-permit"], "not-taken", "applicant", "new", false, false),
    ];
    for &(birth, services, fingers, signature, photo, guardian, may_apply) in cases {
        let mut args = vec!["--birth-date", birth];
        args.extend_from_slice(services);
        let (code, v) = requirements(&args);
        assert_eq!(code, 0, "{birth} {services:?}: {v}");
        assert_eq!(v["fingerprints"], fingers, "{birth}");
        assert_eq!(v["signature"], signature, "{birth}");
        assert_eq!(v["photo"], photo, "{birth}");
        assert_eq!(v["guardian_required"], guardian, "{birth}");
        assert_eq!(v["guardian_may_apply_for_child"], may_apply, "{birth}");
        assert!(v["warnings"].is_array());
    }
}

/// `doorstep requirements --date 2026-12-04 --json` with `args`.
fn requirements(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["requirements", "--date", "2026-12-04", "--json"];
    all.extend_from_slice(args);
    json(&all)
}

#[test]
fn requirements_fee_dates_and_refusals() {
    let (code, v) =
        requirements(&["--birth-date", "2015-03-01", "passport", "hk-macao-permit", "hk-macao-endorsement:G:1x:3m"]);
    assert_eq!(code, 0);
    assert_eq!(v["age"], 11);
    assert_eq!(v["fee_total_yuan"].as_f64(), Some(195.0));
    // Friday 2026-12-04 + 7 working days.
    assert_eq!(v["expected_issue_date"], "2026-12-15");

    // An endorsement alone, with no permit held or applied for.
    let (code, v) = json(&[
        "requirements",
        "--date",
        "2026-12-04",
        "--birth-date",
        "1980-01-01",
        "--json",
        "hk-macao-endorsement:G:1x:3m",
    ]);
    assert_eq!(code, 1);
    assert_eq!((v["valid"].clone(), v["error"].clone()), (Value::Bool(false), Value::from("permit-needed")));
    // With the permit held: no new photo or prints, and the unchecked permit is a warning.
    let (code, v) =
        requirements(&["--birth-date", "1980-01-01", "--held", "hk-macao-permit", "hk-macao-endorsement:G:1x:3m"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!((v["photo"].as_str(), v["fingerprints"].as_str()), (Some("not-needed"), Some("not-taken")));
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1);
    // A held permit that expires before the endorsement would.
    let (code, v) = requirements(&[
        "--birth-date",
        "1980-01-01",
        "--held",
        "hk-macao-permit:2027-06-01",
        "hk-macao-endorsement:G:1x:1y",
    ]);
    assert_eq!((code, v["error"].as_str()), (1, Some("held-permit-expires-first")));
    // The suspended Taiwan individual-travel endorsement is refused, and says why.
    let (code, v) = requirements(&["--birth-date", "1980-01-01", "taiwan-permit", "taiwan-endorsement:G:1x:6m"]);
    assert_eq!((code, v["error"].as_str()), (1, Some("suspended")));
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1, "{v}");
    // An option not offered names those offered, each read as one in both languages (English
    // read "one entry, 6 mo, multiple entries, 1 yr": four, not two).
    let (code, v) = requirements(&["--birth-date", "1949-12-31", "taiwan-permit", "taiwan-endorsement:L:1x:3m"]);
    assert_eq!((code, v["error"].as_str()), (1, Some("no-such-option")));
    let reason = v["reason"].as_str().unwrap();
    assert!(reason.ends_with("offered: one entry for 6 mo, multiple entries for 1 yr"), "{reason}");
    assert!(v["reason_zh"].as_str().unwrap().ends_with("可选：6个月一次、1年多次"), "{v}");
}

#[test]
fn requirements_warn_of_a_lifted_suspension_and_an_unlisted_year() {
    let dir = std::env::temp_dir().join(format!("doorstep-policy-lifted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(crate::root().join("assets/policy/endorsements.toml")).unwrap();
    std::fs::write(
        dir.join("endorsements.toml"),
        text.replace("suspension_lifted = false", "suspension_lifted = true"),
    )
    .unwrap();
    let (code, v) = json(&[
        "requirements",
        "--policy",
        dir.to_str().unwrap(),
        "--date",
        "2026-12-28",
        "--birth-date",
        "1980-01-01",
        "--json",
        "taiwan-permit",
        "taiwan-endorsement:G:1x:6m",
    ]);
    assert_eq!(code, 0, "{v}");
    let warnings: Vec<&str> = v["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert_eq!(
        warnings.len(),
        4,
        "lifted suspension, partly confirmed endorsement and fee, year 2027 not in the calendar: {warnings:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `doorstep check name`: the published surname readings. (name, surname, pinyin, ambiguous)
#[test]
fn check_name_surname_readings() {
    let cases = [
        ("翟测试", "翟", "ZHAI", false),
        ("阚测试", "阚", "KAN", false),
        ("澹台测试", "澹台", "TANTAI", false),
        ("尉测试", "尉", "WEI", false),
        ("尉迟测试", "尉迟", "YUCHI", false),
        ("秘测试", "秘", "BI", false),
        ("乐测试", "乐", "YUE", true),
        ("盖测试", "盖", "GE", true),
    ];
    for (name, surname, pinyin, ambiguous) in cases {
        let (code, v) = json(&["check", "name", name, "--json"]);
        assert_eq!(code, 0, "{name}");
        assert_eq!(v["valid"], true);
        assert_eq!(v["surname"], surname, "{name}");
        assert_eq!(v["given_name"], "测试", "{name}");
        assert_eq!(v["surname_pinyin"], pinyin, "{name}");
        assert_eq!(v["given_name_pinyin"], "CESHI", "{name}");
        assert_eq!(v["mrz_name"], format!("{pinyin}<<CESHI{}", "<".repeat(39 - pinyin.len() - 7)), "{name}");
        assert_eq!(v["ambiguous"], ambiguous, "{name}");
        assert_eq!(v["alternatives"].as_array().unwrap().is_empty(), !ambiguous, "{name}");
    }
    let (code, v) = json(&["check", "name", "测试A", "--json"]);
    assert_eq!((code, v["valid"].as_bool(), v["error"].as_str()), (1, Some(false), Some("invalid-character")));
}

/// The command line honours RUST_LOG: quiet by default, the command's start and end at info.
#[test]
fn the_command_line_logs_as_rust_log_asks() {
    let run = |log: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_doorstep"));
        c.args(["check", "id", "11010519491231002X", "--date", "2026-11-26"]);
        match log {
            Some(l) => c.env("RUST_LOG", l),
            None => c.env_remove("RUST_LOG"),
        };
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stderr).unwrap()
    };
    assert_eq!(run(None), "", "nothing on standard error by default");
    let info = run(Some("info"));
    assert!(info.contains("started") && info.contains("finished") && info.contains("command=\"check\""), "{info}");
    assert!(!info.contains("11010519491231002X"), "no identity number in the logs: {info}");
    // A person's mistake is said once, in words, with no log line before it.
    let out = Command::new(env!("CARGO_BIN_EXE_doorstep"))
        .args(["vault", "status", "--vault", "/nonexistent-doorstep-vault", "--pin-stdin"])
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "doorstep: vault /nonexistent-doorstep-vault: no vault here: run `doorstep vault init` first\n"
    );
}

/// A dark cap the checks cannot tell from hair cut straight: refused as a covering the officer
/// may clear by looking, `LOOK`, exit 3, and what to look at; beside a compliant photo the worst verdict decides the exit (3), beside a failing one 1.
/// Cropped, it is written, and the command says to look at it and exits 3.
#[test]
fn photo_check_asks_a_person_to_look_at_a_dark_cap() {
    let set = crate::root().join("tests/data/photos/set");
    let (cap, good, redcap) =
        (set.join("fer_author-blackcap.jpg"), set.join("fer_author-framed.jpg"), set.join("fer_author-redcap.jpg"));
    let p = |f: &std::path::PathBuf| f.to_str().unwrap().to_string();
    for (files, code) in
        [(vec![p(&good)], 0), (vec![p(&cap)], 3), (vec![p(&good), p(&cap)], 3), (vec![p(&cap), p(&redcap)], 1)]
    {
        let mut args = vec!["photo", "check"];
        args.extend(files.iter().map(String::as_str));
        let out = doorstep(&args);
        assert_eq!(out.status.code(), Some(code), "{files:?}: {}", String::from_utf8_lossy(&out.stdout));
    }
    let out = doorstep(&["photo", "check", "--json", &p(&cap)]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((&v["verdict"], &v["pass"]), (&Value::from("look"), &Value::Bool(false)));
    let covering = &v["checks"]["head_covering"];
    assert_eq!((&covering["pass"], &covering["look"]), (&Value::Bool(false), &Value::Bool(true)));
    assert_eq!(covering["advice"], "photo.look.covering-or-hair");
    let out = doorstep(&["photo", "check", &p(&cap)]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("LOOK 须目视核对"), "{said}");
    // The table in the language asked for: what to look at, in its words.
    let look = |lang| doorstep_core::text::Message::new("photo.look.covering-or-hair").render(lang);
    assert!(said.contains(&look(doorstep_core::text::Lang::Zh)), "{said}");
    let out = doorstep(&["--lang", "en", "photo", "check", &p(&cap)]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains(&look(doorstep_core::text::Lang::En)), "{said}");
    assert!(!said.contains(&look(doorstep_core::text::Lang::Zh)), "{said}");

    // In a camera's frame, cropped: written, with what to look at.
    let frame = crate::in_camera_frame(&cap);
    let dir = std::env::temp_dir().join(format!("doorstep-look-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    frame.save(dir.join("frame.png")).unwrap();
    let out = doorstep(&["photo", "crop", &p(&dir.join("frame.png")), &p(&dir.join("photo.jpg"))]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stdout));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains(&look(doorstep_core::text::Lang::Zh)), "{said}");
    assert!(!said.contains(&look(doorstep_core::text::Lang::En)), "in the unit's language only: {said}");
    assert!(dir.join("photo.jpg").is_file());
    std::fs::remove_dir_all(&dir).ok();
}
