//! The labelled test set (tests/data/photos/labels.toml, made by the `make_test_set` example
//! from real portraits): every labelled verdict must come out right. Prints the accuracy per
//! check, and every miss with its measured value.

use std::collections::BTreeMap;
use std::path::PathBuf;

use doorstep_photo::assess::{Assessor, Profile, Verdict};
use serde::Deserialize;

#[derive(Deserialize)]
struct Labels {
    photo: Vec<Labelled>,
}

#[derive(Deserialize)]
struct Labelled {
    file: String,
    made: String,
    faces: Option<usize>,
    /// The verdict on the whole photo, where the person and the picture were judged as a whole.
    compliant: Option<bool>,
    expect: BTreeMap<String, bool>,
}

/// The verdicts the checks are known to get wrong, each with why; the test fails if one of
/// these comes right (take it off the list) or any other goes wrong. Issue 11 stays open on them.
const KNOWN_MISSES: &[(&str, &str, &str)] = &[
    // Hair cut straight round the head (drawn over the two compliant people) sits on the
    // forehead as low and straight as a dark cap does, and its edge goes round the head as a
    // cap's does: no measure here tells the two apart (a hair or headwear segmentation model
    // would; none ships in a package this project can reach). The check refuses both as a
    // covering that the officer may clear by looking: for this hair, one tap "no covering".
    ("set/fer_author-fringe.jpg", "head_covering", STRAIGHT_CUT),
    ("set/fer_author-fringe.jpg", "(whole photo)", STRAIGHT_CUT),
    ("set/whitehouse_4-fringe.jpg", "head_covering", STRAIGHT_CUT),
    ("set/whitehouse_4-fringe.jpg", "(whole photo)", STRAIGHT_CUT),
];

const STRAIGHT_CUT: &str =
    "hair cut straight round the head: refused as a covering, cleared by the officer's look (not told from a dark cap)";

/// Every photo that the head-covering check refuses as a covering the officer may clear by
/// looking (verdict `Look` where nothing else fails): the dark caps, which it cannot tell from
/// hair cut straight round the head (the real uniform cap, in its original portrait, on each
/// backdrop and lit from one side, and the drawn black caps), and that hair (the known misses
/// above). No other photo may ask, and none labelled bareheaded but that hair.
const LOOKED_AT: &[&str] = &[
    "real/grace_hopper.jpg",
    "set/fer_author-blackcap.jpg",
    "set/fer_author-fringe.jpg",
    "set/grace_hopper-cluttered.jpg",
    "set/grace_hopper-framed.jpg",
    "set/grace_hopper-lightblue.jpg",
    "set/grace_hopper-sidelit.jpg",
    "set/grace_hopper-warm.jpg",
    "set/grace_hopper-white.jpg",
    "set/grace_hopper-yellow.jpg",
    "set/whitehouse_4-blackcap.jpg",
    "set/whitehouse_4-fringe.jpg",
];

#[test]
fn every_labelled_verdict_is_right() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/photos");
    let labels: Labels = toml::from_str(&std::fs::read_to_string(dir.join("labels.toml")).unwrap()).unwrap();
    assert!(labels.photo.len() >= 80, "the labelled set has shrunk");
    // Both kinds must be there, so that a checker refusing or accepting everything fails.
    let compliant = labels.photo.iter().filter(|l| l.compliant == Some(true)).count();
    let refused = labels.photo.iter().filter(|l| l.compliant == Some(false)).count();
    assert!(compliant >= 10 && refused >= 30, "{compliant} compliant, {refused} not");
    let mut a = Assessor::new().unwrap();
    let profile = Profile::passport();
    // check → (right, labelled)
    let mut tally: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    let mut looked_at = Vec::new();
    for l in &labels.photo {
        let img = image::open(dir.join(&l.file)).unwrap_or_else(|e| panic!("{}: {e}", l.file)).to_rgb8();
        let r = a.assess(&img, &profile);
        names.extend(r.checks.iter().map(|c| c.name));
        if let Some(n) = l.faces {
            let t = tally.entry("face_count".into()).or_default();
            t.1 += 1;
            if r.face_count == n {
                t.0 += 1;
            } else {
                misses.push((
                    l.file.clone(),
                    "face_count".to_string(),
                    format!("{} ({}): {} faces found, {n} expected", l.file, l.made, r.face_count),
                ));
            }
        }
        if let Some(want) = l.compliant {
            let t = tally.entry("(whole photo)".into()).or_default();
            t.1 += 1;
            if r.pass() == want {
                t.0 += 1;
            } else {
                let refused: Vec<&str> = r.refusals().map(|c| c.name).collect();
                misses.push((
                    l.file.clone(),
                    "(whole photo)".to_string(),
                    format!("{} ({}): whole photo {want} expected, refused by {refused:?}", l.file, l.made),
                ));
            }
            // A photo not accepted names a check labelled as failing: one that refuses it, or
            // (a dark cap) one that holds it for the officer's look.
            if !want && !r.pass() && l.expect.values().any(|v| !v) {
                let named = r.checks.iter().any(|c| c.pass != Some(true) && l.expect.get(c.name) == Some(&false));
                if !named {
                    misses.push((
                        l.file.clone(),
                        "(named)".to_string(),
                        format!("{} ({}): refused, but not by the check that was labelled", l.file, l.made),
                    ));
                }
            }
        }
        let looked = r.looks().any(|look| look == ("head_covering", "photo.look.covering-or-hair"));
        assert_eq!(r.looks().count(), usize::from(looked), "{}: only the head covering asks to look", l.file);
        if looked {
            looked_at.push(l.file.as_str());
            if r.refusals().next().is_none() {
                assert_eq!(r.verdict(), Verdict::Look, "{}", l.file);
            }
        }
        let known = KNOWN_MISSES.iter().any(|k| k.0 == l.file && k.1 == "head_covering");
        if l.expect.get("head_covering") == Some(&true) && !known {
            assert!(!looked, "{}: bareheaded, and the officer is asked to look at a covering", l.file);
        }
        for (name, &want) in &l.expect {
            let c = r.check(name).unwrap_or_else(|| panic!("{}: no check named {name}", l.file));
            let t = tally.entry(name.clone()).or_default();
            t.1 += 1;
            if c.pass == Some(want) {
                t.0 += 1;
            } else {
                misses.push((
                    l.file.clone(),
                    name.clone(),
                    format!(
                        "{} ({}): {name} gave {:?} (value {:?}, threshold {}), {want} expected",
                        l.file, l.made, c.pass, c.value, c.threshold
                    ),
                ));
            }
        }
    }
    println!("accuracy per check on {} labelled photos:", labels.photo.len());
    for (name, (right, n)) in &tally {
        println!("  {name:<14} {right:>3}/{n:<3} {:5.1} %", 100.0 * *right as f64 / *n as f64);
    }
    let unexpected: Vec<&str> = misses
        .iter()
        .filter(|(file, check, _)| !KNOWN_MISSES.iter().any(|k| k.0 == file && k.1 == check))
        .map(|m| m.2.as_str())
        .collect();
    let fixed: Vec<_> =
        KNOWN_MISSES.iter().filter(|k| !misses.iter().any(|(file, check, _)| k.0 == file && k.1 == check)).collect();
    println!("known misses ({}):", KNOWN_MISSES.len());
    for (file, check, why) in KNOWN_MISSES {
        println!("  {file}: {check}: {why}");
    }
    looked_at.sort_unstable();
    assert_eq!(looked_at, LOOKED_AT, "the photos on which the officer is asked to look");
    // Every check has its name in both languages, for the records the supervisor reads
    // ("photo accepted despite: exposure").
    assert_eq!(names.len(), 20, "{names:?}");
    for (lang, text) in [
        ("zh-CN", include_str!("../../../assets/locales/zh-CN.toml")),
        ("en", include_str!("../../../assets/locales/en.toml")),
    ] {
        let table: toml::Table = toml::from_str(text).unwrap();
        for name in &names {
            assert!(table.get(&format!("photo.check.{name}")).is_some_and(|v| v.is_str()), "{name} unnamed in {lang}");
        }
    }
    assert!(unexpected.is_empty(), "{} wrong verdicts:\n{}", unexpected.len(), unexpected.join("\n"));
    assert!(fixed.is_empty(), "these known misses now come right; take them off the list: {fixed:?}");
}

/// The final path on each compliant photo on white, set in a wider camera frame: the crop is
/// made, encoded to the standard, checked again, and passes every check.
#[test]
fn the_good_photos_crop_to_compliant_photos() {
    use doorstep_photo::encode::jpeg_facts;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/photos/set");
    let mut a = Assessor::new().unwrap();
    let profile = Profile::passport();
    let mut goods: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.to_string_lossy();
            ["fer_author", "whitehouse_4"]
                .iter()
                .any(|s| ["white", "tight", "loose"].iter().any(|v| name.ends_with(&format!("{s}-{v}.jpg"))))
        })
        .collect();
    goods.sort();
    assert_eq!(goods.len(), 6);
    for path in goods {
        let good = image::open(&path).unwrap().to_rgb8();
        let mut frame =
            image::RgbImage::from_pixel(good.width() + 300, good.height() + 200, image::Rgb([250, 250, 250]));
        image::imageops::overlay(&mut frame, &good, 150, 100);
        let (jpeg, out) = a.crop(&frame, &profile).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let facts = jpeg_facts(&jpeg).unwrap();
        assert_eq!((facts.width, facts.height, facts.dpi), (354, 472, Some((300, 300))));
        assert!((20 * 1024..=80 * 1024).contains(&jpeg.len()), "{}: {} bytes", path.display(), jpeg.len());
        let fails: Vec<_> = out.checks.iter().filter(|c| c.pass != Some(true)).collect();
        assert!(fails.is_empty(), "{}: {fails:?}", path.display());
    }
}

/// The standard relaxes rules for the youngest: an infant's eyes need not be open, a
/// toddler's expression and gaze are not judged. (Adults' photos stand in: the rule is what
/// is tested.) (photo, age in months, check, exempt, pass)
#[test]
fn infants_and_toddlers_are_exempt_from_what_the_standard_relaxes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/photos/set");
    let table = [
        ("whitehouse_4-closed.jpg", 6, "eyes_open", true, Some(true)),
        ("whitehouse_4-closed.jpg", 24, "eyes_open", false, Some(false)),
        ("astronaut-white.jpg", 24, "mouth_closed", true, Some(true)),
        ("astronaut-white.jpg", 36, "mouth_closed", false, Some(false)),
        ("mahotas_author-white.jpg", 30, "yaw", true, Some(true)),
        ("mahotas_author-white.jpg", 40, "yaw", false, Some(false)),
    ];
    let mut a = Assessor::new().unwrap();
    for (file, months, check, exempt, pass) in table {
        let img = image::open(dir.join(file)).unwrap().to_rgb8();
        let r = a.assess(&img, &Profile::passport().for_age_months(months));
        let c = r.check(check).unwrap();
        assert_eq!((c.exempt, c.pass), (exempt, pass), "{file} at {months} months: {c:?}");
    }
}
