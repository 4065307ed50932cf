//! The command line given what it must refuse or survive: a reader that goes away, a photo
//! file cut short, a PIN or key that is not one, names whose notes must name the real cause.

use std::process::Command;

use crate::cli::json;

/// A reader that stops early (`| head -1`) ends the command quietly with SIGPIPE's status, as
/// for any Unix tool; it does not panic.
#[test]
fn a_closed_pipe_ends_the_command_without_a_panic() {
    use std::io::BufRead;
    let photos = crate::root().join("tests/data/photos/set");
    let mut files: Vec<_> = std::fs::read_dir(&photos).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut child = Command::new(env!("CARGO_BIN_EXE_doorstep"))
        .args(["photo", "check"])
        .args(&files)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.contains(" 张人脸，"), "{first}");
    // The reader is gone: the next line written meets a closed pipe.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}

/// A JPEG cut short (a copy that stopped) is refused as such, not checked with its missing part
/// filled in grey; the whole file is checked as ever.
#[test]
fn a_photo_file_cut_short_is_refused_as_such() {
    let whole = crate::root().join("tests/data/photos/set/fer_author-white.jpg");
    let bytes = std::fs::read(&whole).unwrap();
    let dir = std::env::temp_dir().join(format!("doorstep-cut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.jpg");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let (code, v) = json(&["photo", "check", "--json", cut.to_str().unwrap()]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["verdict"], "fail");
    assert!(v["error"].as_str().unwrap().contains("cut short"), "{v}");
    assert_eq!(v["error_code"], "cut-short", "{v}");
    // A file not there, and one that is no image: each named for what it is, in both languages.
    let text = dir.join("notes.jpg");
    std::fs::write(&text, "测试：不是照片").unwrap();
    for (file, code, zh) in [
        (dir.join("absent.jpg"), "not-found", "没有这个文件"),
        (text.clone(), "not-an-image", "不是 JPEG 或 PNG 图像"),
        (dir.clone(), "folder", "这是文件夹"),
    ] {
        let (exit, v) = json(&["photo", "check", "--json", file.to_str().unwrap()]);
        assert_eq!((exit, &v["error_code"]), (1, &serde_json::json!(code)), "{v}");
        assert!(v["error_zh"].as_str().unwrap().contains(zh), "{v}");
        // Without --json, in the screens' language (Chinese unless --lang says otherwise).
        let out = crate::cli::doorstep_with_stdin(&["photo", "check", file.to_str().unwrap()], "");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains(&format!("：无法读取图像：{zh}")), "{said}");
    }
    let (code, v) = json(&["photo", "check", "--json", whole.to_str().unwrap()]);
    assert_eq!((code, &v["verdict"]), (0, &serde_json::json!("pass")), "{v}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `vault init` checks what it is given before it writes anything: a PIN that is not one leaves
/// no folder and no demo bureau key behind; a key file that is not there, or a folder given
/// for it, is named so; and an
/// error is said once, not once per cause.
#[test]
fn vault_init_refuses_bad_input_before_writing_anything() {
    let dir = std::env::temp_dir().join(format!("doorstep-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str], stdin: &str| {
        let out = crate::cli::doorstep_with_stdin(args, stdin);
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let vault = dir.join("unit/vault");
    let v = vault.to_str().unwrap();
    let (code, err) = run(&["vault", "init", "--vault", v, "--demo-bureau", "--pin-stdin"], "123\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("doorstep: the new PIN: the PIN has 6 to 12 digits\n"), "said once: {err}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing written");
    // Nothing on standard input is not a PIN of the wrong length.
    let (code, err) = run(&["vault", "init", "--vault", v, "--demo-bureau", "--pin-stdin"], "");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no new PIN given"), "{err}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing written");
    // A device id the hub would not enrol (a space, a path).
    for bad in ["tablet 01", "../tablet", ""] {
        let args = ["vault", "init", "--vault", v, "--demo-bureau", "--device-id", bad, "--pin-stdin"];
        let (code, err) = run(&args, "246802\n");
        assert_eq!(code, Some(1), "{bad:?}: {err}");
        assert!(err.contains("the name the hub enrols it under"), "{bad:?}: {err}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing written");
    }
    let missing = dir.join("bureau.pub");
    let (code, err) =
        run(&["vault", "init", "--vault", v, "--bureau-key", missing.to_str().unwrap(), "--pin-stdin"], "246802\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no such file, and not a key in hex"), "{err}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing written");
    // A folder named instead of the key file in it.
    let (code, err) =
        run(&["vault", "init", "--vault", v, "--bureau-key", dir.to_str().unwrap(), "--pin-stdin"], "246802\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("is a folder: give the key file in it"), "{err}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing written");
    // So few attempts that a slip or two would erase the unit.
    for few in ["0", "2"] {
        let (code, err) =
            run(&["vault", "init", "--vault", v, "--demo-bureau", "--max-failures", few, "--pin-stdin"], "246802\n");
        assert_eq!(code, Some(2), "{few}: {err}");
        assert!(err.contains("--max-failures") && err.contains("3..=100"), "{few}: {err}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing written");
    }
    let (code, err) = run(&["vault", "status", "--vault", v, "--pin-stdin"], "246802\n");
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(err.matches("no vault here").count(), 1, "said once: {err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The note on a name says what it is about: a rare character with no reading is not called a
/// name with the separator ·, and a name that reads two ways lists each whole reading once.
#[test]
fn check_name_notes_name_the_real_cause() {
    let note = |name: &str| {
        let (code, v) = json(&["check", "name", name, "--json"]);
        assert_eq!(code, 0, "{v}");
        v["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect::<Vec<_>>().join("\n")
    };
    let rare = note("𠮷测试");
    assert!(rare.contains("rare character") && !rare.contains('·'), "{rare}");
    let minority = note("测试·测试");
    assert!(minority.contains("separator ·"), "{minority}");
    let twice = note("曾曾");
    assert!(twice.contains("ZENG ZENG, or ZENG CENG"), "{twice}");
    assert!(!twice.contains("ZENG or ZENG"), "{twice}");
}

/// A fee is quoted only for what a visit could hold on the date: a service listed twice, a
/// type suspended, or one not offered yet, is refused with its reason, not priced.
#[test]
fn a_fee_is_not_quoted_for_what_no_visit_could_hold() {
    // (services, date, the error's code, its reason in English and in Chinese)
    for (services, date, error, reason, reason_zh) in [
        (
            &["passport", "passport:lost"][..],
            "2026-11-26",
            "document-twice",
            "Ordinary Passport is chosen twice",
            "普通护照选择了两次",
        ),
        (
            &["hk-macao-permit", "hk-macao-endorsement:Q:1x:3m", "hk-macao-endorsement:Q:2x:3m"][..],
            "2026-11-26",
            "endorsement-twice",
            "twice",
            "选择了两次",
        ),
        // Two types on one permit: a visit takes one (as its screen offers them).
        (
            &["hk-macao-permit", "hk-macao-endorsement:G:1x:3m", "hk-macao-endorsement:T:1x:3m"][..],
            "2026-11-26",
            "one-endorsement-per-permit",
            "one HK/Macao endorsement type is taken per permit",
            "每本通行证一次受理一种港澳签注",
        ),
        (&["taiwan-endorsement:G:1x:6m"][..], "2026-11-26", "suspended", "suspended since 2019-08-01", "暂停受理"),
        (
            &["hk-macao-endorsement:R:multi:1y"][..],
            "2020-01-01",
            "not-yet-offered",
            "offered from 2023-02-20",
            "起受理",
        ),
        (&["passport:bogus"][..], "2026-11-26", "unknown-option", "unknown option bogus", "没有选项 bogus"),
    ] {
        let mut args = vec!["fee"];
        args.extend(services);
        args.extend(["--json", "--date", date]);
        let (code, v) = json(&args);
        assert_eq!(
            (code, &v["valid"], &v["error"]),
            (1, &serde_json::json!(false), &serde_json::json!(error)),
            "{services:?}: {v}"
        );
        assert!(v["reason"].as_str().unwrap().contains(reason), "{services:?}: {v}");
        assert!(v["reason_zh"].as_str().unwrap().contains(reason_zh), "{services:?}: {v}");
        // In text, both languages, as `check` and `requirements` say it.
        let text = String::from_utf8(
            crate::cli::doorstep(&args[..args.len() - 3].iter().chain(&["--date", date]).copied().collect::<Vec<_>>())
                .stdout,
        )
        .unwrap();
        assert!(text.contains(reason_zh) && text.contains(reason), "{services:?}: {text}");
    }
    // The same type on the two permits is priced.
    let args = ["fee", "hk-macao-endorsement:Q:1x:3m", "taiwan-endorsement:Q:1x:6m", "--json", "--date", "2026-11-26"];
    let (code, v) = json(&args);
    assert_eq!(code, 0, "{v}");
}

/// A provisioned unit (not a demo vault) runs no scenario, no benchmark and no screenshot past
/// the PIN: each would put an officer's PIN on a command line, or the home screen's names in a
/// file. Refused before a window opens, naming the flags.
#[test]
fn a_provisioned_unit_refuses_the_demo_only_flags() {
    let tmp = std::env::temp_dir().join(format!("doorstep-demo-only-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let vault = tmp.join("vault");
    let v = vault.to_str().unwrap();
    let init = ["vault", "init", "--vault", v, "--user", "officer-test", "--device-id", "tablet-test"];
    let out = crate::cli::doorstep_with_stdin(
        &[&init[..], &["--demo-bureau", "--pin-stdin", "--insecure-fast-kdf"]].concat(),
        "246810\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shot = tmp.join("shot.png");
    let shot = shot.to_str().unwrap();
    let scenario = crate::root().join("scenarios/demo-visit.toml");
    for flags in [
        vec!["--screenshot", shot, "--screenshot-pin", "246810"],
        vec!["--scenario", scenario.to_str().unwrap()],
        vec!["--bench-pin", "246810"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_doorstep"))
            .args(["--vault", v])
            .args(&flags)
            .env_remove("DISPLAY")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flags:?}: {err}");
        assert!(err.contains("run on a demo unit only"), "{flags:?}: {err}");
        assert!(!err.contains("246810"), "{flags:?}: the PIN is not echoed");
    }
    assert!(!tmp.join("shot.png").exists());
    let _ = std::fs::remove_dir_all(&tmp);
}
