//! The models on real portraits from registry packages (tests/data/photos, see its README).

use std::path::PathBuf;

use doorstep_photo::face::{Cascade, FaceDetector, find_eyes};

fn photo(name: &str) -> image::DynamicImage {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/photos").join(name);
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
