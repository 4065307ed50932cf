//! The labelled test set (tests/data/photos/labels.toml, made by the `make_test_set` example
//! from real portraits): every labelled verdict must come out right. Prints the accuracy per
//! check, and every miss with its measured value.

use std::collections::BTreeMap;
use std::path::PathBuf;

use doorstep_photo::assess::{Assessor, Profile};
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
    expect: BTreeMap<String, bool>,
}

#[test]
fn every_labelled_verdict_is_right() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/photos");
    let labels: Labels = toml::from_str(&std::fs::read_to_string(dir.join("labels.toml")).unwrap()).unwrap();
    assert!(labels.photo.len() >= 40, "the issue asks for at least 40 labelled photos");
    let mut a = Assessor::new().unwrap();
    let profile = Profile::passport();
    // check → (right, labelled)
    let mut tally: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for l in &labels.photo {
        let img = image::open(dir.join(&l.file)).unwrap_or_else(|e| panic!("{}: {e}", l.file)).to_rgb8();
        let r = a.assess(&img, &profile);
        if let Some(n) = l.faces {
            let t = tally.entry("face_count".into()).or_default();
            t.1 += 1;
            if r.face_count == n {
                t.0 += 1;
            } else {
                misses.push(format!("{} ({}): {} faces found, {n} expected", l.file, l.made, r.face_count));
            }
        }
        for (name, &want) in &l.expect {
            let c = r.check(name).unwrap_or_else(|| panic!("{}: no check named {name}", l.file));
            let t = tally.entry(name.clone()).or_default();
            t.1 += 1;
            if c.pass == Some(want) {
                t.0 += 1;
            } else {
                misses.push(format!(
                    "{} ({}): {name} gave {:?} (value {:?}, threshold {}), {want} expected",
                    l.file, l.made, c.pass, c.value, c.threshold
                ));
            }
        }
    }
    println!("accuracy per check on {} labelled photos:", labels.photo.len());
    for (name, (right, n)) in &tally {
        println!("  {name:<14} {right:>3}/{n:<3} {:5.1} %", 100.0 * *right as f64 / *n as f64);
    }
    assert!(misses.is_empty(), "{} wrong verdicts:\n{}", misses.len(), misses.join("\n"));
}

/// The final path on each good photo set in a wider camera frame: the crop is made, encoded to
/// the standard, checked again, and passes every check.
#[test]
fn the_good_photos_crop_to_compliant_photos() {
    use doorstep_photo::encode::jpeg_facts;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/photos/set");
    let mut a = Assessor::new().unwrap();
    let profile = Profile::passport();
    let mut goods: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("-good.jpg"))
        .collect();
    goods.sort();
    assert!(goods.len() >= 5);
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
