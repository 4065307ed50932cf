//! How long reading a 1280 × 720 frame takes (the unit reads frames until one parses): prints
//! the median and the slowest of 20 reads, for a frame with a TD3 MRZ and for an empty one.

use std::time::Instant;

use doorstep_mrz_ocr::MrzReader;
use doorstep_mrz_ocr::synth::{Camera, frame};

const FONT: &[u8] = include_bytes!("../../../assets/fonts/OCRB.otf");

fn main() {
    let reader = MrzReader::new(FONT).expect("the OCR-B font");
    let rows = [
        ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", 0.08, 0.70),
        ("L898902C36UTO7408122F1204159ZE184226B<<<<<10", 0.08, 0.78),
    ];
    let camera = Camera { tilt_degrees: 1.0, blur: 1, noise: 10, shade: 40, ..Camera::default() };
    // A page of fine print and specks (a data page's guilloche): many small marks.
    let mut textured = frame(FONT, &rows, &camera).expect("frame");
    let mut state = 7u32;
    for p in textured.pixels_mut() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        if state.is_multiple_of(9) {
            p.0[0] = 60;
        }
    }
    for (name, img) in [
        ("TD3 frame", frame(FONT, &rows, &camera).expect("frame")),
        ("empty frame", frame(FONT, &[], &camera).expect("frame")),
        ("textured frame", textured),
    ] {
        let mut ms: Vec<f64> = (0..20)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(reader.read(&img));
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        println!("mrz read, {name} 1280x720: median {:.1} ms, slowest {:.1} ms", ms[10], ms[19]);
    }
}
