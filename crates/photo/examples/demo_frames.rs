//! Makes the replay camera's demo frames: compliant portraits from the labelled set (white
//! backdrop), each set in a 1280×720 frame as a camera on a tripod would see the applicant
//! against a white sheet. `cargo run -p doorstep-photo --example demo_frames -- OUT_DIR`.

use image::{Rgb, RgbImage, imageops};

const SOURCES: [&str; 2] = ["whitehouse_4-white.jpg", "fer_author-white.jpg"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).ok_or("usage: demo_frames OUT_DIR")?;
    let set = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/photos/set");
    for (i, name) in SOURCES.iter().enumerate() {
        let photo = image::open(set.join(name))?.to_rgb8();
        // The portrait fills 90 % of the frame's height, centred.
        let h = 648;
        let w = photo.width() * h / photo.height();
        let scaled = imageops::resize(&photo, w, h, imageops::FilterType::Lanczos3);
        let mut frame = RgbImage::from_pixel(1280, 720, Rgb([255, 255, 255]));
        imageops::overlay(&mut frame, &scaled, i64::from((1280 - w) / 2), 36);
        let path = std::path::Path::new(&out).join(format!("frame-{:03}.png", i + 1));
        frame.save(&path)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
