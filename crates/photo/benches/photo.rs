//! Photo benchmarks (run: `cargo bench -p doorstep-photo`, or `scripts/bench-photo` for the
//! OpenCV side too): the live path on a 1280×720 frame (goal ≤ 33 ms on one core) and a full
//! check plus crop (goal ≤ 300 ms), medians, and the landmark models alone; then doorstep's
//! face detector beside OpenCV's
//! Haar frontal-face cascade (opencv-python-headless, one thread) on every labelled photo:
//! time, and agreement on the face count with each other and with the labels.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use doorstep_photo::assess::{Assessor, Profile};
use doorstep_photo::face::FaceDetector;
use doorstep_photo::iris::IrisModel;
use doorstep_photo::mesh::{Landmarks, MeshModel, Roi};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { 30 } else { 2 };
    let photos = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/photos");
    let path = photos.join("real/astronaut.png");
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
    let slowest = live.iter().max().copied().unwrap_or_default();
    println!(
        "live path, 1280×720 frame (assessed at 426 px wide; the detector on every {}th frame, the mesh following the face between): median {:.1} ms, slowest {:.1} ms (goal ≤ 33 ms)",
        doorstep_photo::assess::REDETECT_EVERY,
        median(live).as_secs_f64() * 1e3,
        slowest.as_secs_f64() * 1e3
    );
    println!(
        "full check + crop + encode of the same frame: median {:.1} ms (goal ≤ 300 ms)",
        median(crop).as_secs_f64() * 1e3
    );
    // The models alone, on the frame's face.
    let face = FaceDetector::new().expect("model").detect(&image::imageops::grayscale(&frame))[0].rect;
    let mesh_model = MeshModel::new().expect("mesh model");
    let iris_model = IrisModel::new().expect("iris model");
    let mesh = mesh_model.run(&frame, Roi::from_box(face)).expect("a mesh");
    let lm = Landmarks::new(mesh);
    let time = |f: &dyn Fn()| {
        median(
            (0..rounds * 3)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .collect(),
        )
        .as_secs_f64()
            * 1e3
    };
    let one_mesh = time(&|| {
        mesh_model.run(&frame, Roi::from_box(face));
    });
    let two_eyes = time(&|| {
        iris_model.openness(&frame, &lm);
    });
    println!(
        "  of which: face mesh (crop sampled + model) {one_mesh:.1} ms a pass; iris model {two_eyes:.1} ms for both eyes"
    );
    compare_with_opencv(&photos, if full { 5 } else { 1 });
}

#[derive(serde::Deserialize)]
struct Labels {
    photo: Vec<Labelled>,
}

#[derive(serde::Deserialize)]
struct Labelled {
    file: String,
    faces: Option<usize>,
}

/// One JSON line of haar.py.
#[derive(serde::Deserialize)]
struct Haar {
    file: String,
    faces: usize,
    ms: f64,
}

fn compare_with_opencv(photos: &Path, rounds: usize) {
    let labels: Labels = toml::from_str(&std::fs::read_to_string(photos.join("labels.toml")).expect("labels.toml"))
        .expect("labels.toml parses");
    let files: Vec<PathBuf> = labels.photo.iter().map(|l| photos.join(&l.file)).collect();
    let mut detector = FaceDetector::new().expect("model");
    let ours: Vec<(usize, f64)> = files
        .iter()
        .map(|f| {
            let grey = image::open(f).expect("photo").to_luma8();
            let mut n = 0;
            let times: Vec<Duration> = (0..rounds)
                .map(|_| {
                    let t = Instant::now();
                    n = detector.detect(&grey).len();
                    t.elapsed()
                })
                .collect();
            (n, median(times).as_secs_f64() * 1e3)
        })
        .collect();
    let python = std::env::var("DOORSTEP_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/haar.py");
    let child = Command::new(&python)
        .arg(&script)
        .arg(rounds.to_string())
        .args(&files)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut version = String::new();
    let mut haar: Vec<Haar> = Vec::new();
    if let Ok(mut child) = child {
        if let Some(out) = child.stdout.take() {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(h) = serde_json::from_str::<Haar>(&line) {
                    haar.push(h);
                } else if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    version = v["opencv"].as_str().unwrap_or_default().to_string();
                }
            }
        }
        let _ = child.wait();
    }
    let labelled: Vec<(usize, usize)> =
        labels.photo.iter().enumerate().filter_map(|(i, l)| l.faces.map(|n| (i, n))).collect();
    let right = |counts: &dyn Fn(usize) -> usize| labelled.iter().filter(|(i, n)| counts(*i) == *n).count();
    let ms = |v: Vec<f64>| {
        let mut v = v;
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    println!("\nface detection on the {} labelled photos (one thread each):", files.len());
    println!(
        "  doorstep (SeetaFace): median {:.1} ms per photo; face count right on {}/{} labelled",
        ms(ours.iter().map(|o| o.1).collect()),
        right(&|i| ours[i].0),
        labelled.len()
    );
    if haar.len() != files.len() {
        println!(
            "  OpenCV Haar: not run ({python} could not import cv2); run scripts/bench-photo, which installs \
             opencv-python-headless"
        );
        return;
    }
    println!(
        "  OpenCV {version} Haar (haarcascade_frontalface_default, scale 1.1, 5 neighbours, min 40 px): \
         median {:.1} ms per photo; face count right on {}/{} labelled",
        ms(haar.iter().map(|h| h.ms).collect()),
        right(&|i| haar[i].faces),
        labelled.len()
    );
    let agree = ours.iter().zip(&haar).filter(|(o, h)| o.0 == h.faces).count();
    println!("  the two agree on the face count for {agree}/{} photos; where they differ:", files.len());
    for (i, (o, h)) in ours.iter().zip(&haar).enumerate() {
        if o.0 != h.faces {
            let label = labels.photo[i].faces.map_or("-".into(), |n| n.to_string());
            let name = Path::new(&h.file).strip_prefix(photos).map_or(h.file.clone(), |p| p.display().to_string());
            println!("    {name:<34} doorstep {}  OpenCV {}  labelled {label}", o.0, h.faces);
        }
    }
}
