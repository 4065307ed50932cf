//! Makes the replay camera's demo frames: a compliant portrait from the labelled set (white
//! backdrop) in a 1280×720 frame, as a camera on a tripod sees the applicant against a white
//! sheet, three times with the head a little to the left, centred and to the right (a person
//! is never quite still). `cargo run -p doorstep-photo --example demo_frames -- OUT_DIR`.
//! With `dark` after the folder, the frames are under-exposed (the benchmark's live preview
//! needs frames it keeps giving guidance on).

use image::{Rgb, RgbImage, imageops};

const SOURCE: &str = "whitehouse_4-white.jpg";
/// The head's sideways drift between frames, in pixels.
const DRIFT: [i64; 3] = [-6, 0, 6];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).ok_or("usage: demo_frames OUT_DIR [dark]")?;
    let dark = std::env::args().nth(2).as_deref() == Some("dark");
    let set = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/photos/set");
    let photo = image::open(set.join(SOURCE))?.to_rgb8();
    for (i, drift) in DRIFT.iter().enumerate() {
        // The portrait fills 90 % of the frame's height, centred.
        let h = 648;
        let w = photo.width() * h / photo.height();
        let scaled = imageops::resize(&photo, w, h, imageops::FilterType::Lanczos3);
        let mut frame = RgbImage::from_pixel(1280, 720, Rgb([255, 255, 255]));
        imageops::overlay(&mut frame, &scaled, i64::from((1280 - w) / 2) + drift, 36);
        if dark {
            for p in frame.pixels_mut() {
                p.0 = p.0.map(|v| (f32::from(v) * 0.3) as u8);
            }
        }
        let path = std::path::Path::new(&out).join(format!("frame-{:03}.png", i + 1));
        frame.save(&path)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
