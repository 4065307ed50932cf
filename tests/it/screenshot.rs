//! The real app under an X server with software Vulkan: a screenshot of the unlock screen
//! must show the Chinese title as real glyphs, not blank and not missing-glyph boxes.
//!
//! Uses `$DISPLAY` when set (for example under `xvfb-run`); otherwise starts its own Xvfb.
//! The screenshots are kept under `target/tmp/screenshots/` for a person to look at.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use image::{GrayImage, RgbImage};

/// An Xvfb this test started, stopped on drop.
pub(crate) struct Xvfb(Option<Child>);

impl Drop for Xvfb {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            // SIGTERM, not SIGKILL: Xvfb removes its lock file and socket only when asked to
            // stop. Killed servers left `/tmp/.X*-lock` behind run after run until no display
            // number was free (a CI failure).
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An X display: `$DISPLAY` when set (unless `private`), otherwise an Xvfb of our own. A
/// private one keeps other tests' windows from waking the app (focus and expose events).
///
/// The server picks a free display number itself (`-displayfd`) and writes it to the pipe we
/// read, so a busy or stale number is its problem, not a guess of ours.
pub(crate) fn display(private: bool) -> (String, Xvfb) {
    use std::io::{BufRead, BufReader};

    if !private
        && let Ok(d) = std::env::var("DISPLAY")
        && !d.is_empty()
    {
        return (d, Xvfb(None));
    }
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("no DISPLAY and Xvfb cannot be started: install xvfb (scripts/setup-test does)");
    let stdout = child.stdout.take().expect("piped stdout");
    let guard = Xvfb(Some(child));
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read the display number from Xvfb");
    let n: u32 = line.trim().parse().unwrap_or_else(|_| panic!("Xvfb gave no display number (said {line:?})"));
    (format!(":{n}"), guard)
}

fn shoot(display: &str, png: &Path, extra: &[&str]) -> serde_json::Value {
    let vault = png.parent().unwrap().join("vault");
    let out = Command::new(env!("CARGO_BIN_EXE_doorstep"))
        .args(["--window", "1280x800", "--screenshot", png.to_str().unwrap()])
        .args(["--vault", vault.to_str().unwrap(), "--demo"])
        .args(extra)
        .env("DISPLAY", display)
        .env("WGPU_BACKEND", "vulkan")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("run doorstep");
    assert!(out.status.success(), "doorstep exited with {:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    let sidecar = std::fs::read_to_string(png.with_extension("json")).expect("sidecar written");
    serde_json::from_str(&sidecar).expect("sidecar is JSON")
}

/// Runs a scenario on a demo unit over `work/vault`, its screenshots into `shots`.
pub(crate) fn run_scenario(
    display: &str,
    window: &[&str],
    work: &Path,
    scenario: &Path,
    shots: &Path,
) -> std::process::Output {
    scenario_command(display, window, work, scenario, shots).output().expect("run doorstep")
}

/// The command [`run_scenario`] runs, to add to.
fn scenario_command(display: &str, window: &[&str], work: &Path, scenario: &Path, shots: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_doorstep"));
    command
        .args(window)
        .arg("--demo")
        .args(["--vault", work.join("vault").to_str().unwrap()])
        .args(["--scenario", scenario.to_str().unwrap()])
        .args(["--screenshots", shots.to_str().unwrap()])
        .env("DISPLAY", display)
        .env("WGPU_BACKEND", "vulkan")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("DOORSTEP_BRIDGE");
    command
}

/// A rectangle from the sidecar: left, top, width, height in physical pixels.
fn rect(v: &serde_json::Value, name: &str) -> (u32, u32, u32, u32) {
    let r: Vec<f64> =
        v[name].as_array().unwrap_or_else(|| panic!("no {name} in {v}")).iter().map(|x| x.as_f64().unwrap()).collect();
    (r[0] as u32, r[1] as u32, r[2] as u32, r[3] as u32)
}

/// Dark pixels (ink) of a region, as a mask.
fn ink(img: &RgbImage, (x, y, w, h): (u32, u32, u32, u32)) -> GrayImage {
    GrayImage::from_fn(w, h, |dx, dy| {
        let p = img.get_pixel(x + dx, y + dy);
        let luma = (u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000;
        image::Luma([if luma < 128 { 255 } else { 0 }])
    })
}

/// The title's glyphs: runs of inked columns separated by blank ones, each reduced to an
/// 8×8 grid of ink coverage over the rows that hold ink.
fn glyph_cells(mask: &GrayImage) -> Vec<Vec<f64>> {
    let inked = |x: u32, y: u32| mask.get_pixel(x, y)[0] > 0;
    let rows: Vec<u32> = (0..mask.height()).filter(|&y| (0..mask.width()).any(|x| inked(x, y))).collect();
    let (top, bottom) = (*rows.first().expect("the title has ink"), *rows.last().unwrap() + 1);
    let column_has_ink = |x: u32| (top..bottom).any(|y| inked(x, y));
    let mut runs = Vec::new();
    let mut start = None;
    for x in 0..=mask.width() {
        match (start, x < mask.width() && column_has_ink(x)) {
            (None, true) => start = Some(x),
            (Some(s), false) => {
                runs.push((s, x));
                start = None;
            }
            _ => {}
        }
    }
    runs.into_iter()
        .map(|(x0, x1)| {
            let mut grid = Vec::with_capacity(64);
            for gy in 0..8 {
                for gx in 0..8 {
                    let (bx0, bx1) = (x0 + (x1 - x0) * gx / 8, x0 + (x1 - x0) * (gx + 1) / 8);
                    let (by0, by1) = (top + (bottom - top) * gy / 8, top + (bottom - top) * (gy + 1) / 8);
                    let total = (bx1.max(bx0 + 1) - bx0) * (by1.max(by0 + 1) - by0);
                    let ink = (bx0..bx1.max(bx0 + 1))
                        .flat_map(|x| (by0..by1.max(by0 + 1)).map(move |y| (x, y)))
                        .filter(|&(x, y)| inked(x.min(mask.width() - 1), y.min(mask.height() - 1)))
                        .count() as u32;
                    grid.push(f64::from(ink) / f64::from(total));
                }
            }
            grid
        })
        .collect()
}

/// How many pairs of glyphs look alike (mean coverage difference under 0.05).
fn look_alike_pairs(cells: &[Vec<f64>]) -> usize {
    let mut pairs = 0;
    for i in 0..cells.len() {
        for j in i + 1..cells.len() {
            let diff: f64 = cells[i].iter().zip(&cells[j]).map(|(a, b)| (a - b).abs()).sum::<f64>() / 64.0;
            if diff < 0.05 {
                pairs += 1;
            }
        }
    }
    pairs
}

fn keep(png: &Path, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let kept = dir.join(name);
    std::fs::copy(png, &kept).unwrap();
    kept
}

#[test]
fn the_unlock_screen_renders_chinese_under_xvfb() {
    let (display, _xvfb) = display(false);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("shots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let real_png = dir.join("unlock.png");
    let real_meta = shoot(&display, &real_png, &[]);
    let probe_png = dir.join("probe.png");
    let probe_meta = shoot(&display, &probe_png, &["--probe-missing-glyphs"]);
    let kept = keep(&real_png, "unlock-zh.png");
    keep(&probe_png, "unlock-missing-glyphs.png");
    eprintln!("screenshot: {}", kept.display());

    let real = image::open(&real_png).expect("screenshot is a PNG").to_rgb8();
    let probe = image::open(&probe_png).unwrap().to_rgb8();
    assert_eq!((real.width(), real.height()), (1280, 800));

    // Not blank: many colours, and more than one tone.
    let mut colours: Vec<[u8; 3]> = real.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 50, "only {} colours: the screen is blank", colours.len());

    let title = rect(&real_meta, "title");
    assert_eq!(title, rect(&probe_meta, "title"), "the title is laid out in the same place");
    let real_ink = ink(&real, title);
    let probe_ink = ink(&probe, title);
    let inked = real_ink.pixels().filter(|p| p[0] > 0).count();
    assert!(inked > 500, "the title has only {inked} dark pixels: it did not render");

    // The real title differs from the same place drawn with missing glyphs…
    let differing = real_ink.pixels().zip(probe_ink.pixels()).filter(|(a, b)| a != b).count();
    assert!(
        differing * 3 > inked,
        "the title looks like missing-glyph boxes ({differing} of {inked} ink pixels differ)"
    );

    // …and its characters are different shapes, where missing-glyph boxes are all alike.
    let probe_cells = glyph_cells(&probe_ink);
    assert_eq!(probe_cells.len(), 9, "the probe draws nine boxes");
    let probe_alike = look_alike_pairs(&probe_cells);
    assert_eq!(probe_alike, 36, "the nine boxes of the probe should all look alike");
    let real_cells = glyph_cells(&real_ink);
    assert!(real_cells.len() >= 9, "出入境上门受理终端 has nine characters, found {} shapes", real_cells.len());
    let real_alike = look_alike_pairs(&real_cells);
    assert!(real_alike <= 1, "{real_alike} pairs of title characters look alike: boxes?");

    // The long Chinese note wraps inside its column (bevy has no Chinese line-break model)
    // instead of running under the keypad.
    let (_, _, width, height) = rect(&real_meta, "privacy_note");
    assert!(width as f32 <= doorstep::screens::unlock::TEXT_COLUMN_WIDTH, "the note is {width} px wide");
    assert!(height >= 2 * 24, "the note should wrap onto two lines or more; it is {height} px high");

    // R26 on the screen: the demo vault's bureau key edited on disk, the right PIN typed: the
    // unit stays locked and says so in red, under the PIN dots (no red before).
    let red = |img: &RgbImage| img.pixels().filter(|p| p[0] > 150 && p[1] < 90 && p[2] < 90).count();
    assert!(red(&real) < 50, "no refusal is shown before a PIN is typed");
    let slots = dir.join("vault").join("keyslots.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&slots).unwrap()).unwrap();
    v["bureau_public_key"] = "11".repeat(32).into();
    std::fs::write(&slots, serde_json::to_vec(&v).unwrap()).unwrap();
    let refused_png = dir.join("refused.png");
    shoot(&display, &refused_png, &["--screenshot-pin", doorstep::demo::DEMO_PIN]);
    keep(&refused_png, "unlock-refused-zh.png");
    let refused = image::open(&refused_png).unwrap().to_rgb8();
    assert!(red(&refused) > 1000, "the refusal is drawn in red ({} red pixels)", red(&refused));
}

#[test]
fn an_idle_unit_does_not_redraw() {
    let (display, _xvfb) = display(true);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("idle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("frames.txt");
    let _ = std::fs::remove_file(&log);
    let mut child = Command::new(env!("CARGO_BIN_EXE_doorstep"))
        .args(["--window", "1280x800", "--frame-log", log.to_str().unwrap()])
        .args(["--vault", dir.join("vault").to_str().unwrap(), "--demo"])
        .env("DISPLAY", &display)
        .env("WGPU_BACKEND", "vulkan")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run doorstep");
    let frames = || std::fs::read_to_string(&log).ok().and_then(|s| s.trim().parse::<u32>().ok());
    let deadline = Instant::now() + Duration::from_secs(60);
    while frames().is_none_or(|f| f < 3) {
        assert!(Instant::now() < deadline, "the unit drew no frames within a minute");
        assert!(child.try_wait().unwrap().is_none(), "the unit exited early");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let start-up settle (the unit draws ten frames when a screen appears), then watch six
    // idle seconds.
    while frames().is_none_or(|f| f < 10) {
        assert!(Instant::now() < deadline, "the first screen did not settle within a minute");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    let before = frames().unwrap();
    std::thread::sleep(Duration::from_secs(6));
    let after = frames().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    // Reactive rendering wakes at most every 5 s (for the idle lock); a game loop would have
    // drawn dozens of frames here.
    assert!(after - before <= 3, "{} frames drawn in 6 idle seconds", after - before);
}

/// The README's demo scenario under Xvfb, in Chinese and in English, the scenario of what it
/// does not show (`scenarios/exceptions-visit.toml`, the supervisor's shift, then a guardian
/// applying for a young child who is not there), the outreach point's queue with its call
/// board, and the feedback box: every screen of a visit is photographed (kept under
/// `target/tmp/screenshots/{visit,exceptions}-LANG/` to look at; English at the larger text
/// size and in high contrast), and none has a text outside the window or sticking out of its
/// box, or one that stands out from what it stands on by less than WCAG asks (4.5:1; 7:1 in
/// high contrast).
#[test]
fn every_visit_screen_in_both_languages() {
    let (display, _xvfb) = display(true);
    let mut demo = std::fs::read_to_string(crate::root().join("scenarios/demo-visit.toml")).unwrap();
    let mut more = std::fs::read_to_string(crate::root().join("scenarios/exceptions-visit.toml")).unwrap();
    // The supervisor's shift, from the home screen the exceptions end on (its file says so).
    let shift = std::fs::read_to_string(crate::root().join("scenarios/supervisor-shift.toml")).unwrap();
    more.push_str(&shift);
    // After the demo visit (whose photo was taken; the exceptions' is the ID card's), the
    // supervisor enlarges the photo in its row, and makes it small again.
    let first_shot = shift.find("[[step]]\nscreenshot = \"07-shift\"").expect("the shift's first screenshot");
    demo.push_str(&shift[..first_shot]);
    for (key, value) in [
        ("tap", "放大照片"),
        ("wait", "缩小照片"),
        ("screenshot", "16-shift-photo"),
        ("tap", "缩小照片"),
        ("wait", "放大照片"),
    ] {
        demo.push_str(&format!("[[step]]\n{key} = \"{value}\"\n"));
    }
    // A five-year-old this year, whatever the year: the guardian applies without the child.
    let child = crate::applicants::id_aged(5, "002");
    for (key, value) in [
        ("tap", "残疾申请人"),
        ("tap", "姓名（与身份证一致）"),
        ("type", "测试"),
        ("tap", "公民身份号码（18 位）"),
        ("type", child.as_str()),
        ("tap", "下一步"),
        ("wait", "须登记监护人"),
        ("tap", "孩子不在场，由在场的监护人代为申请（未满 7 周岁）"),
        ("wait", "照片用监护人带来的纸质照片翻拍"),
        ("scroll", "监护人（申请人未满"),
        ("screenshot", "05-child-absent"),
    ] {
        more.push_str(&format!("[[step]]\n{key} = \"{value}\"\n"));
    }
    // The outreach point's desk and counter, and the call board in its own window.
    let outreach = std::fs::read_to_string(crate::root().join("scenarios/outreach-queue.toml")).unwrap();
    // The feedback box.
    let feedback = std::fs::read_to_string(crate::root().join("scenarios/feedback-box.toml")).unwrap();
    for lang in ["zh", "en"] {
        photographed(&display, lang, "visit", &demo, 16);
        photographed(&display, lang, "exceptions", &more, 10);
        photographed(&display, lang, "outreach", &outreach, 4);
        photographed(&display, lang, "feedback", &feedback, 2);
        let board = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("screenshots")
            .join(format!("outreach-{lang}"))
            .join("04-counter-with-board-window-1.png");
        let img = image::open(&board).unwrap_or_else(|e| panic!("{}: {e}", board.display())).to_rgb8();
        assert_eq!(img.dimensions(), (1280, 720), "the call board's own window");
    }
}

/// The demo officer's unlock (PIN 123456), as scenario steps.
pub(crate) fn officer_unlocks_toml() -> String {
    ["1", "2", "3", "4", "5", "6", "解锁"].iter().map(|key| format!("[[step]]\ntap = \"{key}\"\n")).collect()
}

/// Empty folders for a run named `name`: its screenshots (`screenshots/NAME`, kept after the
/// test to look at) and its unit's work folder (made, removed by the test when it passes).
pub(crate) fn fresh(name: &str) -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    (dir, work)
}

/// Runs `scenario` in `lang` (English at the larger text size and in high contrast) and checks
/// each of its screenshots, at least `least` of them, kept under `screenshots/NAME-LANG`.
fn photographed(display: &str, lang: &str, name: &str, scenario: &str, least: usize) {
    let (dir, work) = fresh(&format!("{name}-{lang}"));
    // English, the longer words, at the larger text size: the hardest case to fit; and in
    // high contrast.
    let mut scenario = scenario.to_string();
    if lang == "en" {
        let home = "[[step]]\nwait = \"开始上门受理\"\n";
        assert!(scenario.contains(home), "the scenario waits for the home screen");
        let larger = "[[step]]\ntap = \"大字\"\n[[step]]\ntap = \"高对比度\"\n";
        scenario = scenario.replacen(home, &format!("{home}{larger}"), 1);
    }
    let scenario_file = work.join("scenario.toml");
    std::fs::write(&scenario_file, scenario).unwrap();
    let out = run_scenario(display, &["--window", "1280x800", "--lang", lang], &work, &scenario_file, &dir);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name} in {lang}: {:?}\n{}",
        out.status,
        said.lines().filter(|l| l.starts_with("doorstep")).collect::<Vec<_>>().join("\n")
    );
    let mut shots = 0;
    for entry in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "json") {
            let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert_eq!(report["clipped"], serde_json::json!([]), "{lang} {}: clipped text", path.display());
            assert_eq!(report["low_contrast"], serde_json::json!([]), "{lang} {}: faint text", path.display());
            let least = if lang == "en" { 7.0 } else { 4.5 };
            assert_eq!(report["least_contrast"], least, "{lang} {}: judged in high contrast or not", path.display());
            assert!(path.with_extension("png").exists(), "{} was saved", path.with_extension("png").display());
            shots += 1;
        }
    }
    assert!(shots >= least, "{name} in {lang}: {shots} screens photographed");
    let _ = std::fs::remove_dir_all(&work);
}

/// A small screen (800×480) shows the whole of the unlock and home screens, scaled down to fit:
/// no text outside the window or its box.
#[test]
fn a_small_screen_shows_every_part_of_the_screens() {
    let (display, _xvfb) = display(true);
    let (dir, work) = fresh("small");
    let mut scenario = String::from("[[step]]\nscreenshot = \"unlock\"\n");
    for key in ["1", "2", "3", "4", "5", "6", "解锁"] {
        scenario.push_str(&format!("[[step]]\ntap = \"{key}\"\n"));
    }
    scenario.push_str("[[step]]\nwait = \"开始上门受理\"\n[[step]]\nscreenshot = \"home\"\n");
    std::fs::write(work.join("small.toml"), scenario).unwrap();
    let out = run_scenario(&display, &["--window", "800x480"], &work, &work.join("small.toml"), &dir);
    assert!(out.status.success(), "{:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    for name in ["unlock", "home"] {
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap()).unwrap();
        assert_eq!(report["clipped"], serde_json::json!([]), "{name}: clipped text");
        let png = image::open(dir.join(format!("{name}.png"))).unwrap();
        assert_eq!((png.width(), png.height()), (800, 480));
    }
    let _ = std::fs::remove_dir_all(&work);
}

/// A screenshot the unit cannot write (a folder stands where its file would go) fails the
/// scenario, saying which, rather than passing with nothing to look at.
#[test]
fn a_screenshot_not_written_fails_its_step() {
    let (display, _xvfb) = display(true);
    let (dir, work) = fresh("not-written");
    std::fs::create_dir_all(dir.join("home.png")).unwrap();
    std::fs::write(work.join("shot.toml"), "[[step]]\nscreenshot = \"home\"\n").unwrap();
    let out = run_scenario(&display, &["--window", "800x480"], &work, &work.join("shot.toml"), &dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("step 1 (Screenshot(\"home\")) failed: screenshot home was not written"), "{err}");
    let _ = std::fs::remove_dir_all(&work);
}

/// On the smallest screen in large text, what the officer must answer stays in view without
/// scrolling: the services step's top (where Next, refused, scrolls to) names what is left of an
/// endorsement half chosen, and a photo held for a look at the head shows both answers.
#[test]
fn a_small_screen_in_large_text_keeps_what_the_officer_must_answer_in_view() {
    let (display, _xvfb) = display(true);
    let (dir, work) = fresh("small-answers");
    let camera = work.join("camera");
    std::fs::create_dir_all(&camera).unwrap();
    // A real portrait in a dark uniform cap, from the labelled set: held for the officer's look.
    let cap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/photos/set/grace_hopper-white.jpg");
    std::fs::copy(cap, camera.join("cap.jpg")).unwrap();
    let mut scenario = officer_unlocks_toml();
    for (action, label) in [
        ("wait", "开始上门受理"),
        ("tap", "大字"),
        ("tap", "高龄申请人"),
        ("tap", "读取身份证"),
        ("wait", "已读取身份证"),
        ("tap", "下一步"),
        ("tap", "普通护照 首次申请"),
        ("tap", "往来港澳通行证 首次申请"),
        ("tap", "T 探亲"),
        // Scrolled down to the endorsement, as the officer is when tapping it: the refused Next
        // scrolls back up to say what is left.
        ("scroll", "T 探亲"),
        ("tap", "下一步"),
        ("in_view", "港澳签注：请选择 T 探亲签注的有效期和次数"),
        // The step is longer than the screen: the foot of the body says so.
        ("in_view", "▼ 下方还有内容，请向下滑动"),
        ("screenshot", "services-half"),
        ("tap", "T 探亲"),
        ("tap", "往来港澳通行证 首次申请"),
        ("tap", "下一步"),
        ("tap", "拍照"),
        ("wait", "请看头部"),
        ("in_view", "已看过：没有戴帽子或头饰（头发无妨）"),
        ("in_view", "已看过：戴有可以保留的头饰（宗教、医疗原因）"),
        ("screenshot", "photo-look"),
    ] {
        // A photo checked may take a while on a loaded machine.
        let timeout = if action == "wait" { "timeout = 60\n" } else { "" };
        scenario.push_str(&format!("[[step]]\n{action} = \"{label}\"\n{timeout}"));
    }
    std::fs::write(work.join("answers.toml"), scenario).unwrap();
    for lang in ["zh", "en"] {
        let (shots, unit) = (dir.join(lang), work.join(lang));
        let window = ["--window", "800x480", "--lang", lang];
        let out = scenario_command(&display, &window, &unit, &work.join("answers.toml"), &shots)
            .env("DOORSTEP_REPLAY", &camera)
            .output()
            .expect("run doorstep");
        assert!(out.status.success(), "{lang}: {:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
        for name in ["services-half", "photo-look"] {
            let report: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(shots.join(format!("{name}.json"))).unwrap()).unwrap();
            assert_eq!(report["clipped"], serde_json::json!([]), "{lang} {name}: clipped text");
        }
    }
    let _ = std::fs::remove_dir_all(&work);
}

/// At the outreach point on the smallest screen in large text, the ticket just issued and
/// whether it printed are in view after the tap (they are under the button, below the fold):
/// an applicant is not sent away without a number when the printer is out of paper.
#[test]
fn the_ticket_issued_and_a_print_that_failed_are_in_view_at_the_desk() {
    let (display, _xvfb) = display(true);
    let (dir, work) = fresh("desk-in-view");
    let mut scenario = officer_unlocks_toml();
    for (action, label) in [
        ("wait", "开始上门受理"),
        ("tap", "大字"),
        ("tap", "取号叫号"),
        ("wait", "1 号窗口"),
        ("tap", "取号并打印"),
        ("in_view", "A001 号：前面还有 0 人"),
        ("in_view", "号票已打印。"),
        ("device", "paper out"),
        ("tap", "取号并打印"),
        ("in_view", "A002 号：前面还有 1 人"),
        ("in_view", "号票未能打印（打印纸用完了：请装入新纸卷）：请告知申请人号码 A002。"),
        ("screenshot", "not-printed"),
    ] {
        // A print refused by the simulated printer is heard after its timeout.
        let timeout = if action == "in_view" { "timeout = 30\n" } else { "" };
        scenario.push_str(&format!("[[step]]\n{action} = \"{label}\"\n{timeout}"));
    }
    std::fs::write(work.join("desk.toml"), &scenario).unwrap();
    let out = run_scenario(&display, &["--window", "800x480"], &work, &work.join("desk.toml"), &dir);
    assert!(out.status.success(), "{:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("not-printed.json")).unwrap()).unwrap();
    assert_eq!(report["clipped"], serde_json::json!([]), "clipped text");
    let _ = std::fs::remove_dir_all(&work);
}
