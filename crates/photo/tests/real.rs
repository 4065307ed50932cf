//! The models on real portraits from registry packages (tests/data/photos, see its README).

use std::path::PathBuf;

use doorstep_photo::face::{Cascade, FaceDetector, find_eyes};

fn photo(name: &str) -> image::DynamicImage {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/photos/real").join(name);
    image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn one_face_and_two_level_eyes_in_the_astronaut_portrait() {
    let grey = photo("astronaut.png").to_luma8();
    let mut d = FaceDetector::new().unwrap();
    let faces = d.detect(&grey);
    assert_eq!(faces.len(), 1, "{faces:?}");
    let f = faces[0].rect;
    eprintln!("face {f:?}");
    let (l, r) = find_eyes(&grey, f, &Cascade::eyes().unwrap()).expect("two eyes");
    eprintln!("eyes {l:?} {r:?}");
    assert!(l.0 < r.0);
    let roll = (r.1 - l.1).atan2(r.0 - l.0).to_degrees();
    assert!(roll.abs() < 10.0, "roll {roll}");
    let distance = r.0 - l.0;
    assert!(
        distance > f.width as f32 * 0.25 && distance < f.width as f32 * 0.6,
        "eye distance {distance} in a face {}",
        f.width
    );
}

#[test]
fn the_astronaut_crop_meets_the_geometry_and_is_told_about_the_background() {
    use doorstep_photo::assess::{Assessor, Profile};
    use doorstep_photo::encode::jpeg_facts;
    let frame = photo("astronaut.png").to_rgb8();
    let mut a = Assessor::new().unwrap();
    let profile = Profile::passport();
    let (jpeg, out) = a.crop(&frame, &profile).expect("crop");
    let facts = jpeg_facts(&jpeg).unwrap();
    assert_eq!((facts.width, facts.height, facts.dpi), (354, 472, Some((300, 300))));
    assert!((20 * 1024..=80 * 1024).contains(&jpeg.len()));
    for name in ["single_face", "eye_distance", "head_position", "roll", "centred"] {
        assert_eq!(out.check(name).unwrap().pass, Some(true), "{name}: {:?}", out.check(name));
    }
    // The original has a mottled grey studio backdrop, not white: the check says so.
    let bg = out.check("background").unwrap();
    eprintln!("{:?}", out.checks);
    assert_eq!(bg.pass, Some(false), "{bg:?}");
    assert!(!out.pass());
    // The uncropped frame: one face, but far too small and off the eye line.
    let whole = a.assess(&frame, &profile);
    assert_eq!(whole.face_count, 1);
    assert_eq!(whole.check("eye_distance").unwrap().pass, Some(false));
    // No face at all.
    let blank = image::RgbImage::from_pixel(354, 472, image::Rgb([250, 250, 250]));
    let none = a.assess(&blank, &profile);
    assert_eq!(none.face_count, 0);
    let names: Vec<&str> = none.checks.iter().map(|c| c.name).collect();
    assert_eq!(names, doorstep_photo::assess::CHECKS, "every check is reported, in order");
    assert_eq!(none.check("single_face").unwrap().pass, Some(false));
    assert_eq!(none.check("roll").unwrap().pass, None, "cannot be assessed without a face");
    assert!(a.crop(&blank, &profile).is_err());
}

#[test]
fn the_live_path_finds_the_face_in_a_camera_frame_and_maps_it_back() {
    use doorstep_photo::assess::{Assessor, Profile};
    let portrait = photo("astronaut.png").to_rgb8();
    let mut frame = image::RgbImage::from_pixel(1280, 720, image::Rgb([235, 235, 232]));
    let big = image::imageops::resize(&portrait, 717, 717, image::imageops::FilterType::Triangle);
    image::imageops::overlay(&mut frame, &big, 281, 0);
    let mut a = Assessor::new().unwrap();
    let live = a.assess_live(&frame, &Profile::passport());
    assert_eq!(live.face_count, 1);
    let f = live.face.unwrap();
    // The face sits at about (173..272, 68..167) × 1.4 + (281, 0): centre near (592, 165).
    let (cx, cy) = (f.x + f.width / 2, f.y + f.height / 2);
    assert!((560..=625).contains(&cx) && (140..=190).contains(&cy), "{f:?}");
    assert!(live.eyes.is_some());
    assert_eq!(live.check("eye_distance").unwrap().pass, Some(false), "a whole camera frame is not yet framed");
}
