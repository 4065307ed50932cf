use super::synth::{Camera, frame};
use super::*;

const FONT: &[u8] = include_bytes!("../../../assets/fonts/OCRB.otf");

/// The ICAO specimens (DOMAIN.md §4.2, §4.3) and the 往来港澳通行证's one line (§4.4) of the
/// demo's made-up permit, check digits computed by core.
const TD3: [&str; 2] = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"];
const TD1: [&str; 3] =
    ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"];

fn permit_line() -> String {
    super::synth::permit_line("C12345678", "310630", "491231")
}

/// A row of text and where it starts (shares of the frame's width and height).
type Placed<'a> = (&'a str, f32, f32);

fn reader() -> MrzReader {
    MrzReader::new(FONT).expect("the OCR-B font")
}

/// Each zone, drawn under each camera, is read back exactly and parsed by core, and no other
/// zone is found: what the camera does (tilt, blur, noise, shade, a small or large print) is the
/// table.
#[test]
fn zones_are_read_back_as_drawn_under_a_cameras_imperfections() {
    let r = reader();
    let cameras = [
        ("sharp", Camera::default()),
        ("tilted 2°", Camera { tilt_degrees: 2.0, ..Camera::default() }),
        ("tilted -1.5°", Camera { tilt_degrees: -1.5, ..Camera::default() }),
        ("blurred", Camera { blur: 1, ..Camera::default() }),
        ("noisy", Camera { noise: 20, seed: 7, ..Camera::default() }),
        ("shaded", Camera { shade: 90, ..Camera::default() }),
        ("small print", Camera { char_height: 15.0, ..Camera::default() }),
        ("close up", Camera { char_height: 34.0, ..Camera::default() }),
        (
            "all at once",
            Camera { tilt_degrees: 1.0, blur: 1, noise: 12, shade: 50, char_height: 24.0, ..Camera::default() },
        ),
    ];
    let permit = permit_line();
    let blocks: [(&str, Vec<Placed>); 3] = [
        ("TD3", vec![(TD3[0], 0.08, 0.70), (TD3[1], 0.08, 0.78)]),
        ("TD1", vec![(TD1[0], 0.25, 0.62), (TD1[1], 0.25, 0.72), (TD1[2], 0.25, 0.82)]),
        (
            "往来港澳通行证",
            vec![("EXIT-ENTRY PERMIT FOR TRAVELLING TO AND FROM", 0.1, 0.2), (permit.as_str(), 0.2, 0.7)],
        ),
    ];
    let today = time::macros::date!(2026 - 12 - 05);
    for (name, rows) in &blocks {
        for (how, camera) in &cameras {
            // The close-up fits the permit's zone only (the others run off the frame).
            if *how == "close up" && *name != "往来港澳通行证" {
                continue;
            }
            let img = frame(FONT, rows, camera).unwrap();
            let zone: Vec<String> = rows
                .iter()
                .map(|(t, _, _)| t.to_string())
                .filter(|t| t.chars().all(|c| ALPHABET.contains(c)))
                .collect();
            let read = zones(&r.read(&img));
            assert_eq!(read, vec![zone.clone()], "{name}, {how}");
            let lines: Vec<&str> = zone.iter().map(String::as_str).collect();
            assert!(doorstep_core::mrz::parse(&lines, today).is_ok(), "{name}: the specimen parses");
        }
    }
}

/// Where a mark could be a digit or a letter, the layout decides: a date is digits, a name
/// letters, and a document number what makes its check digit right.
#[test]
fn the_layout_decides_between_a_digit_and_a_letter() {
    let m = |best, digit, letter, margin| Mark3 { best, digit, letter, margin };
    let as_read = |s: &str| -> Row { s.chars().map(|c| m(c, c, c, 500)).collect() };
    // The permit's line read with O for 0 everywhere (the reader's closest guess).
    let permit = permit_line();
    let mut row = as_read(&permit);
    for mark in row.iter_mut() {
        if mark.best == '0' {
            *mark = m('O', '0', 'O', 5);
        }
        if mark.best == 'C' {
            *mark = m('C', '0', 'C', 30);
        }
    }
    assert_eq!(zones(&[row]), vec![vec![permit.clone()]]);
    // A G nearly as much a 6: G and 6 have the same check value, so a 6 read for a G would pass
    // every check digit; the G is never turned into the 6, nor the other way.
    let line = super::synth::permit_line("CG1234567", "310630", "491231");
    let mut row = as_read(&line);
    row[3] = m('G', '6', 'G', 5);
    assert_eq!(zones(&[row.clone()]), vec![vec![line.clone()]], "the G stays");
    row[3] = m('6', '6', 'G', 5);
    assert_eq!(zones(&[row])[0][0][2..11], *"C61234567", "a 6 read stays a 6: no check digit tells");
    // A row of another length is no zone.
    assert!(zones(&[as_read(&permit[..29])]).is_empty());
}

/// Text that is not an MRZ row (short words, a large title) and an empty card give no row.
#[test]
fn short_text_and_an_empty_card_give_no_row() {
    let r = reader();
    let rows = [("PEOPLES REPUBLIC OF CHINA", 0.1, 0.1), ("CESHI", 0.1, 0.3), ("12345", 0.6, 0.3)];
    assert!(zones(&r.read(&frame(FONT, &rows, &Camera::default()).unwrap())).is_empty());
    assert!(r.read(&frame(FONT, &[], &Camera { noise: 20, ..Camera::default() }).unwrap()).is_empty());
    // A frame too small for anything, and one all dark, are no error either.
    assert!(r.read(&GrayImage::new(3, 2)).is_empty());
    assert!(r.read(&GrayImage::from_pixel(64, 48, image::Luma([0]))).is_empty());
}

/// A font that is not a font is an error, not a panic.
#[test]
fn a_font_that_is_not_one_is_refused() {
    assert!(matches!(MrzReader::new(b"not a font"), Err(OcrError::Font(_))));
}

/// Under a camera too poor to read (small print, blurred, noisy, tilted), a zone may be misread,
/// even into one that passes core's parser; but the unit takes a zone only when two frames in a
/// row agree on it, and no two frames agree on a misread. The seeds vary the noise frame to frame.
#[test]
fn a_misread_zone_is_never_agreed_on() {
    let r = reader();
    let today = time::macros::date!(2026 - 12 - 05);
    let permit = permit_line();
    let valid = |z: &[String]| {
        let lines: Vec<&str> = z.iter().map(String::as_str).collect();
        doorstep_core::mrz::parse(&lines, today).is_ok()
    };
    let mut agreed = 0;
    for rows in [vec![(TD3[0], 0.08, 0.70), (TD3[1], 0.08, 0.78)], vec![(permit.as_str(), 0.2, 0.7)]] {
        let want: Vec<String> = rows.iter().map(|(t, _, _)| t.to_string()).collect();
        let mut agreement = Agreement::default();
        for seed in 1..=16 {
            let camera = Camera {
                tilt_degrees: 1.5,
                blur: 1,
                noise: 25,
                shade: 60,
                char_height: 19.0,
                seed,
                ..Camera::default()
            };
            if let Some(zone) = agreement.feed(zones(&r.read(&frame(FONT, &rows, &camera).unwrap())), valid) {
                assert_eq!(zone, want, "seed {seed}: a zone two frames agree on is the one drawn");
                agreed += 1;
            }
        }
    }
    eprintln!("under a poor camera: {agreed} zones agreed on");
    assert!(agreed > 0, "a poor camera is slower, not useless");
}
