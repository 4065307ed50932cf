//! Writes the demo fingerprint images the simulator's module returns:
//! `cargo run -p doorstep-firmware-bridge --example demo_fingerprints -- assets/demo/fingerprints`
//! Synthetic loop patterns (no real person's print), 256 × 288, 8-bit grey.

use doorstep_devices::quality::synthetic_fingerprint;
use doorstep_devices::zfm::{IMAGE_HEIGHT, IMAGE_WIDTH};

fn main() -> std::process::ExitCode {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "assets/demo/fingerprints".into()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("{}: {e}", dir.display());
        return std::process::ExitCode::FAILURE;
    }
    for (name, seed, contrast, coverage) in [
        ("finger-good-1", 1, 170.0, 1.0),
        ("finger-good-2", 2, 160.0, 0.95),
        ("finger-faint", 3, 25.0, 1.0),
        ("finger-partial", 4, 170.0, 0.4),
    ] {
        let img = synthetic_fingerprint(IMAGE_WIDTH, IMAGE_HEIGHT, seed, contrast, coverage);
        let out = image::GrayImage::from_raw(img.width as u32, img.height as u32, img.pixels).expect("size");
        let path = dir.join(format!("{name}.png"));
        if let Err(e) = out.save(&path) {
            eprintln!("{}: {e}", path.display());
            return std::process::ExitCode::FAILURE;
        }
        println!("{}", path.display());
    }
    std::process::ExitCode::SUCCESS
}
