//! Photo benchmarks (run: `cargo bench -p doorstep-photo`): the live path on a 1280×720 frame
//! (goal ≤ 33 ms on one core) and a full check plus crop (goal ≤ 300 ms), medians.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use doorstep_photo::assess::{Assessor, Profile};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { 30 } else { 2 };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/photos/real/astronaut.png");
    let portrait = image::open(&path).expect("astronaut.png").to_rgb8();
    // A 1280×720 camera frame with the portrait (enlarged 1.4×) in the middle.
    let mut frame = image::RgbImage::from_pixel(1280, 720, image::Rgb([235, 235, 232]));
    let big = image::imageops::resize(&portrait, 717, 717, image::imageops::FilterType::Triangle);
    image::imageops::overlay(&mut frame, &big, 281, 0);
    let profile = Profile::passport();
    let mut a = Assessor::new().expect("models");
    let live: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            let r = a.assess_live(&frame, &profile);
            assert_eq!(r.face_count, 1);
            t.elapsed()
        })
        .collect();
    let crop: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            let r = a.crop(&frame, &profile);
            assert!(r.is_ok(), "{:?}", r.err());
            t.elapsed()
        })
        .collect();
    println!(
        "live path, 1280×720 frame (assessed at 400 px wide): median {:.1} ms (goal ≤ 33 ms)",
        median(live).as_secs_f64() * 1e3
    );
    println!(
        "full check + crop + encode of the same frame: median {:.1} ms (goal ≤ 300 ms)",
        median(crop).as_secs_f64() * 1e3
    );
}
