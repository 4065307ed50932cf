//! Writes the frames the demo unit's document camera replays: a made-up 往来港澳通行证 (card
//! C12345678 of the published example person, 测试, born 1949-12-31, valid to 2031-06-30) with
//! its one-line machine-readable zone under a few words of printed text, upright and a little
//! tilted, as a camera would see it. No real document.
//! `cargo run -p doorstep-mrz-ocr --example demo_documents -- assets/demo/documents`

use doorstep_mrz_ocr::synth::{Camera, frame, permit_line};

const FONT: &[u8] = include_bytes!("../../../assets/fonts/OCRB.otf");

fn main() -> std::process::ExitCode {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "assets/demo/documents".into()));
    let mrz = permit_line("C12345678", "310630", "491231");
    assert_eq!(mrz.len(), 30, "{mrz}");
    let rows = [
        ("EXIT-ENTRY PERMIT FOR TRAVELLING TO AND FROM", 0.12, 0.18),
        ("HONG KONG AND MACAO", 0.12, 0.26),
        ("CESHI", 0.45, 0.40),
        (mrz.as_str(), 0.22, 0.74),
    ];
    let cameras = [
        ("frame-001", Camera { char_height: 24.0, noise: 8, shade: 40, ..Camera::default() }),
        (
            "frame-002",
            Camera { char_height: 24.0, tilt_degrees: 1.5, blur: 1, noise: 10, seed: 2, ..Camera::default() },
        ),
    ];
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("{}: {e}", dir.display());
        return std::process::ExitCode::FAILURE;
    }
    for (name, camera) in cameras {
        let img = frame(FONT, &rows, &camera).expect("the OCR-B font");
        let path = dir.join(format!("{name}.jpg"));
        if let Err(e) = img.save(&path) {
            eprintln!("{}: {e}", path.display());
            return std::process::ExitCode::FAILURE;
        }
        println!("{}", path.display());
    }
    std::process::ExitCode::SUCCESS
}
