//! Makes the labelled photo test set in `tests/data/photos` from the real portraits in
//! `tests/data/photos/real` (see that folder's README for where each comes from):
//!
//! `cargo run -p doorstep-photo --example make_test_set -- tests/data/photos`
//!
//! The eye centres of each portrait were marked by hand (checked by drawing them on the face),
//! not taken from the detector under test. From them each portrait is levelled and cropped to
//! the standard's framing (eyes 0.27 W apart on a line 0.44 H from the top, centred), and the
//! backdrop outside a head-and-shoulders outline is replaced with white: the "good" photo.
//! Each variant then changes one thing, and is labelled with the verdict that thing should get;
//! checks a variant was not made to test are not labelled. `labels.toml` is written last.
//!
//! Deterministic: the same inputs give the same files.

mod segmented;

use std::fmt::Write as _;
use std::path::Path;

use image::{Rgb, RgbImage};

const W: u32 = 354;
const H: u32 = 472;
const EYE_DISTANCE: f32 = 0.27;
const EYE_LINE: f32 = 0.44;

/// A real portrait with its hand-marked eye centres (left then right in the image).
struct Source {
    file: &'static str,
    left_eye: (f32, f32),
    right_eye: (f32, f32),
    /// What the original is labelled with (it is in the set as it is, too).
    original: &'static [(&'static str, bool)],
    /// Made into a framed photo and variants.
    base: bool,
    /// What the person in the portrait does not meet, whatever the framing (a smile with teeth,
    /// a turned head): the framed photo is labelled with it.
    person: &'static [(&'static str, bool)],
    /// Whether the person meets every rule the checks judge, so that their photos framed on a
    /// plain backdrop are compliant (`None`: not judged as a whole).
    compliant: Option<bool>,
    /// Checks left unlabelled on this person's photos: near the limit by eye, so no verdict is
    /// claimed.
    unjudged: &'static [&'static str],
}

const SMILE: &[(&str, bool)] = &[("mouth_closed", false)];

const NOT_ID_STYLE: &[(&str, bool)] = &[("single_face", true), ("background", false)];
const FULL_LENGTH: &[(&str, bool)] =
    &[("single_face", true), ("background", false), ("eye_distance", false), ("face_width", false)];

const SOURCES: &[Source] = &[
    Source {
        file: "astronaut.png",
        left_eye: (200.5, 99.5),
        right_eye: (243.5, 101.5),
        original: FULL_LENGTH,
        base: true,
        person: SMILE,
        compliant: Some(false),
        unjudged: &[],
    },
    Source {
        file: "grace_hopper.jpg",
        left_eye: (220.0, 190.0),
        right_eye: (301.5, 186.5),
        original: NOT_ID_STYLE,
        base: true,
        person: &[("head_covering", false)],
        compliant: Some(false),
        unjudged: &[],
    },
    Source {
        file: "whitehouse_1.jpg",
        left_eye: (442.0, 211.0),
        right_eye: (540.0, 210.0),
        original: FULL_LENGTH,
        base: true,
        person: SMILE,
        compliant: Some(false),
        unjudged: &[],
    },
    Source {
        file: "whitehouse_2.jpg",
        left_eye: (246.5, 364.5),
        right_eye: (361.5, 375.5),
        original: NOT_ID_STYLE,
        base: true,
        person: SMILE,
        compliant: Some(false),
        unjudged: &["yaw"],
    },
    Source {
        file: "whitehouse_3.jpg",
        left_eye: (735.0, 383.0),
        right_eye: (851.5, 395.5),
        original: FULL_LENGTH,
        base: true,
        person: &[("pitch", false)],
        compliant: Some(false),
        unjudged: &[],
    },
    Source {
        file: "whitehouse_4.jpg",
        left_eye: (529.0, 325.0),
        right_eye: (643.5, 346.5),
        original: &[
            ("single_face", true),
            ("background", false),
            ("eye_distance", false),
            ("face_width", false),
            ("roll", false),
        ],
        base: true,
        person: &[],
        compliant: Some(true),
        unjudged: &[],
    },
    Source {
        file: "fer_author.jpg",
        left_eye: (148.5, 156.5),
        right_eye: (219.0, 158.0),
        original: NOT_ID_STYLE,
        base: true,
        person: &[],
        compliant: Some(true),
        unjudged: &[],
    },
    // Turned about 30° away from the camera: in the set as it is, not made into a good photo.
    Source {
        file: "mahotas_author.jpg",
        left_eye: (64.0, 169.0),
        right_eye: (138.0, 157.0),
        original: NOT_ID_STYLE,
        base: false,
        person: &[("yaw", false)],
        compliant: Some(false),
        unjudged: &[],
    },
];

/// Bilinear sample, white outside the image.
fn sample(img: &RgbImage, x: f32, y: f32, outside: f32) -> [f32; 3] {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let px = |xi: f32, yi: f32| -> [f32; 3] {
        if xi < 0.0 || yi < 0.0 || xi >= img.width() as f32 || yi >= img.height() as f32 {
            return [outside; 3];
        }
        let p = img.get_pixel(xi as u32, yi as u32);
        [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])]
    };
    let (a, b, c, d) = (px(x0, y0), px(x0 + 1.0, y0), px(x0, y0 + 1.0), px(x0 + 1.0, y0 + 1.0));
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = (a[i] * (1.0 - fx) + b[i] * fx) * (1.0 - fy) + (c[i] * (1.0 - fx) + d[i] * fx) * fy;
    }
    out
}

fn to_px(v: [f32; 3]) -> Rgb<u8> {
    Rgb([v[0].clamp(0.0, 255.0) as u8, v[1].clamp(0.0, 255.0) as u8, v[2].clamp(0.0, 255.0) as u8])
}

/// Maps `src` so the eyes land level at `eye_distance`·W apart, their midpoint at `centre`,
/// then turned by `turn` degrees about the output's centre.
fn frame(src: &RgbImage, s: &Source, eye_distance: f32, centre: (f32, f32), turn: f32) -> RgbImage {
    frame_with(src, s, eye_distance, centre, turn, 255.0)
}

fn frame_with(src: &RgbImage, s: &Source, eye_distance: f32, centre: (f32, f32), turn: f32, outside: f32) -> RgbImage {
    let (l, r) = (s.left_eye, s.right_eye);
    let d = ((r.0 - l.0).powi(2) + (r.1 - l.1).powi(2)).sqrt();
    let roll = (r.1 - l.1).atan2(r.0 - l.0);
    let scale = eye_distance * W as f32 / d;
    let mid = ((l.0 + r.0) / 2.0, (l.1 + r.1) / 2.0);
    let t = turn.to_radians();
    let (oc_x, oc_y) = (W as f32 / 2.0, H as f32 / 2.0);
    RgbImage::from_fn(W, H, |u, v| {
        // Undo the turn about the output centre.
        let (du, dv) = (u as f32 - oc_x, v as f32 - oc_y);
        let (u1, v1) = (oc_x + du * t.cos() + dv * t.sin(), oc_y - du * t.sin() + dv * t.cos());
        // Output → source: relative to the eye midpoint, unscaled, rotated by the roll.
        let (ox, oy) = ((u1 - centre.0) / scale, (v1 - centre.1) / scale);
        let (sx, sy) = (mid.0 + ox * roll.cos() - oy * roll.sin(), mid.1 + ox * roll.sin() + oy * roll.cos());
        to_px(sample(src, sx, sy, outside))
    })
}

/// How much of the person (0–1) a pixel of the standard framing is: a head ellipse and the
/// neck and shoulders below it, feathered over a few pixels.
fn person(u: u32, v: u32) -> f32 {
    let ed = EYE_DISTANCE * W as f32;
    let (cx, ey) = (W as f32 / 2.0, EYE_LINE * H as f32);
    let (x, y) = (u as f32, v as f32);
    let (ax, ay) = (1.22 * ed, 1.85 * ed);
    let head_cy = ey + 0.1 * ed;
    let e = ((x - cx) / ax).powi(2) + ((y - head_cy) / ay).powi(2);
    let head = ((1.0 - e.sqrt()) * ay / 4.0 + 0.5).clamp(0.0, 1.0);
    // Neck from the chin, widening into shoulders.
    let chin = ey + 1.6 * ed;
    let body = if y < chin {
        0.0
    } else {
        let half = 0.65 * ed + (y - chin).max(0.0) * 2.2;
        ((half - (x - cx).abs()) / 4.0 + 0.5).clamp(0.0, 1.0)
    };
    head.max(body)
}

fn replace_backdrop(img: &RgbImage, colour: [f32; 3]) -> RgbImage {
    RgbImage::from_fn(W, H, |u, v| {
        let p = img.get_pixel(u, v);
        let a = person(u, v);
        to_px([
            f32::from(p[0]) * a + colour[0] * (1.0 - a),
            f32::from(p[1]) * a + colour[1] * (1.0 - a),
            f32::from(p[2]) * a + colour[2] * (1.0 - a),
        ])
    })
}

fn map(img: &RgbImage, f: impl Fn(u32, u32, [f32; 3]) -> [f32; 3]) -> RgbImage {
    RgbImage::from_fn(img.width(), img.height(), |u, v| {
        let p = img.get_pixel(u, v);
        to_px(f(u, v, [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])]))
    })
}

fn blur(img: &RgbImage, sigma: f32) -> RgbImage {
    image::imageops::blur(img, sigma)
}

/// Moves the picture by `dx` pixels, white coming in.
fn shift(img: &RgbImage, dx: i32) -> RgbImage {
    RgbImage::from_fn(W, H, |u, v| {
        let x = u as i32 - dx;
        if x < 0 || x >= W as i32 { Rgb([250, 250, 250]) } else { *img.get_pixel(x as u32, v) }
    })
}

/// Shrinks the picture about its centre by `k`, white around.
fn shrink(img: &RgbImage, k: f32) -> RgbImage {
    let (nw, nh) = ((W as f32 * k) as u32, (H as f32 * k) as u32);
    let small = image::imageops::resize(img, nw, nh, image::imageops::FilterType::Triangle);
    let mut out = RgbImage::from_pixel(W, H, Rgb([250, 250, 250]));
    image::imageops::overlay(&mut out, &small, i64::from((W - nw) / 2), i64::from((H - nh) / 5));
    out
}

/// Things behind the person: patches of the original scene in the upper corners.
fn clutter(good: &RgbImage, scene: &RgbImage) -> RgbImage {
    RgbImage::from_fn(W, H, |u, v| {
        let p = *good.get_pixel(u, v);
        let corner = v < H / 2 && !(W / 5..W * 4 / 5).contains(&u);
        if corner && person(u, v) < 0.5 { *scene.get_pixel(u, v) } else { p }
    })
}

/// Two people side by side, each in half the width.
fn two(a: &RgbImage, b: &RgbImage) -> RgbImage {
    let mut out = RgbImage::from_pixel(W, H, Rgb([250, 250, 250]));
    for (img, x) in [(a, 0), (b, W / 2)] {
        let half = image::imageops::resize(img, W / 2, H / 2, image::imageops::FilterType::Triangle);
        image::imageops::overlay(&mut out, &half, i64::from(x), i64::from(H / 4));
    }
    out
}

struct Labelled {
    file: String,
    made: String,
    faces: Option<usize>,
    compliant: Option<bool>,
    expect: Vec<(&'static str, bool)>,
}

fn save(dir: &Path, name: &str, img: &RgbImage) -> String {
    let file = format!("set/{name}.jpg");
    let mut bytes = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90);
    enc.encode_image(img).expect("encode");
    std::fs::write(dir.join(&file), bytes).expect("write");
    file
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "tests/data/photos".into());
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir.join("set")).expect("set folder");
    let mut out: Vec<Labelled> = Vec::new();
    let all_pass = all_checks();
    let mut goods: Vec<RgbImage> = Vec::new();
    for (i, s) in SOURCES.iter().enumerate() {
        let src = image::open(dir.join("real").join(s.file)).expect(s.file).to_rgb8();
        out.push(Labelled {
            file: format!("real/{}", s.file),
            made: "the original portrait".into(),
            faces: Some(1),
            compliant: Some(false),
            expect: s.original.to_vec(),
        });
        let mask = image::open(dir.join("masks").join(format!("{}.png", s.file.split('.').next().unwrap_or(s.file))))
            .expect("mask: run scripts/photo-set/segment.py")
            .to_rgb8();
        out.extend(segmented::photos(dir, &src, &mask, s));
        if s.file == "whitehouse_3.jpg" {
            out.push(segmented::narrow_face(dir, &src, &mask, s));
        }
        if !s.base {
            continue;
        }
        let stem = s.file.split('.').next().unwrap_or(s.file);
        let centre = (W as f32 / 2.0, EYE_LINE * H as f32);
        let framed = frame(&src, s, EYE_DISTANCE, centre, 0.0);
        let good = replace_backdrop(&framed, [250.0, 250.0, 250.0]);
        let mut add =
            |name: &str, made: &str, img: &RgbImage, faces: Option<usize>, expect: Vec<(&'static str, bool)>| {
                let file = save(dir, &format!("{stem}-{name}"), img);
                let compliant = (name == "framed").then_some(s.compliant).flatten();
                out.push(Labelled { file, made: made.into(), faces, compliant, expect });
            };
        add(
            "framed",
            "levelled, framed to the standard, backdrop outside a drawn outline made white",
            &good,
            Some(1),
            person_labels(&all_pass, s),
        );
        // Each portrait gets six of the twelve variants, in turn, so each variant is made from
        // several different people.
        for k in 0..6 {
            let (name, made, img, faces, expect) = variant((i * 6 + k) % 12, &src, s, &framed, &good);
            add(name, made, &img, faces, expect);
        }
        goods.push(good);
    }
    for (k, pair) in goods.windows(2).enumerate().step_by(2) {
        let file = save(dir, &format!("two-{k}"), &two(&pair[0], &pair[1]));
        out.push(Labelled {
            file,
            made: "two framed photos side by side".into(),
            faces: Some(2),
            compliant: Some(false),
            expect: vec![("single_face", false)],
        });
    }
    let mut toml = String::from(
        "# Written by `cargo run -p doorstep-photo --example make_test_set`; see README.md.\n\
         # `faces`: how many faces are in the picture. `expect`: the verdict each check must give\n\
         # (checks the image was not made to test are left out).\n",
    );
    for l in &out {
        let _ = writeln!(toml, "\n[[photo]]\nfile = \"{}\"\nmade = \"{}\"", l.file, l.made);
        if let Some(f) = l.faces {
            let _ = writeln!(toml, "faces = {f}");
        }
        if let Some(c) = l.compliant {
            let _ = writeln!(toml, "compliant = {c}");
        }
        let expect: Vec<String> = l.expect.iter().map(|(n, p)| format!("{n} = {p}")).collect();
        let _ = writeln!(toml, "expect = {{ {} }}", expect.join(", "));
    }
    std::fs::write(dir.join("labels.toml"), toml).expect("labels.toml");
    println!("{} labelled photos in {}", out.len(), dir.display());
}

type Variant = (&'static str, &'static str, RgbImage, Option<usize>, Vec<(&'static str, bool)>);

/// The `k`th variant of a good photo: one thing changed, and the verdict it should get.
fn variant(k: usize, src: &RgbImage, s: &Source, framed: &RgbImage, good: &RgbImage) -> Variant {
    let centre = (W as f32 / 2.0, EYE_LINE * H as f32);
    let white = [250.0; 3];
    match k {
        0 => {
            let img = map(good, |_, _, p| p.map(|c| 255.0 * (c / 255.0).powf(2.2) * 0.8));
            // Refused for its exposure only: dark is not blurred.
            ("dark", "underexposed (gamma 2.2, ×0.8)", img, Some(1), vec![("exposure", false), ("sharpness", true)])
        }
        1 => {
            let img = map(good, |_, _, p| p.map(|c| c * 1.9 + 30.0));
            // A light face is burnt out to white entirely: whether a face is found is not
            // labelled, only that the picture is too bright.
            ("bright", "overexposed (×1.9 + 30, clipped)", img, None, vec![("exposure", false)])
        }
        2 => ("blurred", "Gaussian blur σ 3.5", blur(good, 3.5), Some(1), vec![("sharpness", false)]),
        3 => {
            let img = replace_backdrop(&frame(src, s, EYE_DISTANCE, centre, 12.0), white);
            ("rotated", "head turned 12° in the picture", img, Some(1), vec![("roll", false)])
        }
        4 => (
            "offcentre",
            "moved 20 % of the width right",
            shift(good, (W / 5) as i32),
            Some(1),
            vec![("centred", false)],
        ),
        5 => (
            "small",
            "shrunk to 0.55 of the picture",
            shrink(good, 0.55),
            Some(1),
            vec![("eye_distance", false), ("face_width", false)],
        ),
        6 => (
            "cluttered",
            "the original scene left in the upper corners",
            clutter(good, framed),
            Some(1),
            vec![("background", false)],
        ),
        7 => {
            let img = replace_backdrop(framed, [235.0, 205.0, 90.0]);
            ("yellow", "backdrop yellow", img, Some(1), vec![("background", false)])
        }
        8 => {
            let img = replace_backdrop(framed, [110.0, 195.0, 250.0]);
            (
                "lightblue",
                "backdrop light blue (allowed)",
                img,
                Some(1),
                vec![("background", true), ("colour_cast", true)],
            )
        }
        9 => {
            let img = map(good, |_, _, p| [p[0], p[1] * 0.88, p[2] * 0.62]);
            ("warm", "whole picture cast orange (G ×0.88, B ×0.62)", img, Some(1), vec![("colour_cast", false)])
        }
        10 => {
            let img = map(good, |u, _, p| if u < W / 2 { p.map(|c| c * 0.55) } else { p });
            ("sidelit", "the left half in shadow (×0.55)", img, Some(1), vec![("face_lighting", false)])
        }
        _ => {
            let shoulders = EYE_LINE * H as f32 + 1.4 * EYE_DISTANCE * W as f32;
            let img = map(good, |_, v, p| if v as f32 > shoulders { p } else { white });
            ("noface", "the top of the picture blanked: shoulders only", img, Some(0), vec![("single_face", false)])
        }
    }
}

/// Every check passing, but for the ones in `except`.
fn with(all: &[(&'static str, bool)], except: &[(&'static str, bool)]) -> Vec<(&'static str, bool)> {
    all.iter().map(|&(n, p)| (n, except.iter().find(|e| e.0 == n).map_or(p, |e| e.1))).collect()
}

/// `with`, less the checks the person's photos leave unlabelled.
fn person_labels(all: &[(&'static str, bool)], s: &Source) -> Vec<(&'static str, bool)> {
    with(all, s.person).into_iter().filter(|(n, _)| !s.unjudged.contains(n)).collect()
}

fn all_checks() -> Vec<(&'static str, bool)> {
    doorstep_photo::assess::CHECKS.into_iter().map(|n| (n, true)).collect()
}
