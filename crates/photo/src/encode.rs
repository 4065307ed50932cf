//! The output JPEG: size, resolution and file-size limits of the exit-entry standard.

use std::io::Cursor;

use image::codecs::jpeg::{JpegEncoder, PixelDensity};
use image::imageops::FilterType;
use image::{ImageEncoder, RgbImage};

/// What the output must be. The defaults are the 出入境证件相片照相指引's digital rules [P].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputSpec {
    pub width: u32,
    pub height: u32,
    pub dpi: u16,
    pub min_bytes: usize,
    pub max_bytes: usize,
}

impl Default for OutputSpec {
    fn default() -> Self {
        OutputSpec { width: 354, height: 472, dpi: 300, min_bytes: 20 * 1024, max_bytes: 80 * 1024 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("the output size must be 3:4 between 354×472 and 480×640, not {0}×{1}")]
    BadSize(u32, u32),
    #[error("no JPEG quality gives a file between {min} and {max} bytes (smallest {smallest}, largest {largest})")]
    SizeOutOfRange { min: usize, max: usize, smallest: usize, largest: usize },
    #[error("the JPEG encoder failed: {0}")]
    Encoder(String),
    #[error("the written JPEG cannot be read back: {0}")]
    Check(#[from] JpegError),
    #[error("the written JPEG is {width}×{height}, {components} component(s), {dpi:?} dpi: not the standard's")]
    Mismatch { width: u32, height: u32, components: u8, dpi: Option<(u16, u16)> },
}

/// Why a JPEG's headers could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JpegError {
    #[error("not a JPEG (no SOI marker)")]
    NotJpeg,
    #[error("no marker at byte {0}")]
    NoMarker(usize),
    #[error("a segment runs past the end")]
    SegmentPastEnd,
    #[error("no frame header")]
    NoFrame,
}

/// What a JPEG's headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegFacts {
    pub width: u32,
    pub height: u32,
    pub components: u8,
    /// JFIF density, when given in dots per inch.
    pub dpi: Option<(u16, u16)>,
    pub bytes: usize,
}

fn encode_at(img: &RgbImage, quality: u8, dpi: u16) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    let mut enc = JpegEncoder::new_with_quality(Cursor::new(&mut out), quality);
    enc.set_pixel_density(PixelDensity::dpi(dpi));
    enc.write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .map_err(|e| EncodeError::Encoder(e.to_string()))?;
    Ok(out)
}

/// Resizes `crop` (already 3:4) to the spec and encodes it, choosing the highest JPEG quality
/// whose file is within the size limits (a binary search over quality 30–98), then reads the
/// result back and checks it.
pub fn encode(crop: &RgbImage, spec: &OutputSpec) -> Result<Vec<u8>, EncodeError> {
    let (w, h) = (spec.width, spec.height);
    if !(354..=480).contains(&w) || !(472..=640).contains(&h) || w * 4 != h * 3 {
        return Err(EncodeError::BadSize(w, h));
    }
    let img = if crop.dimensions() == (w, h) {
        crop.clone()
    } else {
        image::imageops::resize(crop, w, h, FilterType::Lanczos3)
    };
    let (mut lo, mut hi) = (30u8, 98u8);
    let smallest = encode_at(&img, lo, spec.dpi)?;
    if smallest.len() > spec.max_bytes {
        let largest = encode_at(&img, hi, spec.dpi)?.len();
        return Err(EncodeError::SizeOutOfRange {
            min: spec.min_bytes,
            max: spec.max_bytes,
            smallest: smallest.len(),
            largest,
        });
    }
    let mut best = smallest;
    // Invariant: quality `lo` fits under the maximum.
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        let bytes = encode_at(&img, mid, spec.dpi)?;
        if bytes.len() <= spec.max_bytes {
            lo = mid;
            best = bytes;
        } else {
            hi = mid - 1;
        }
    }
    if best.len() < spec.min_bytes {
        return Err(EncodeError::SizeOutOfRange {
            min: spec.min_bytes,
            max: spec.max_bytes,
            smallest: encode_at(&img, 30, spec.dpi)?.len(),
            largest: best.len(),
        });
    }
    let facts = jpeg_facts(&best)?;
    if (facts.width, facts.height) != (w, h) || facts.components != 3 || facts.dpi != Some((spec.dpi, spec.dpi)) {
        return Err(EncodeError::Mismatch {
            width: facts.width,
            height: facts.height,
            components: facts.components,
            dpi: facts.dpi,
        });
    }
    Ok(best)
}

/// Reads the dimensions, colour components and JFIF density from a JPEG's headers.
pub fn jpeg_facts(bytes: &[u8]) -> Result<JpegFacts, JpegError> {
    if bytes.len() < 4 || bytes[..2] != [0xFF, 0xD8] {
        return Err(JpegError::NotJpeg);
    }
    let mut i = 2;
    let mut dpi = None;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return Err(JpegError::NoMarker(i));
        }
        let marker = bytes[i + 1];
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        let seg = bytes.get(i + 4..i + 2 + len).ok_or(JpegError::SegmentPastEnd)?;
        match marker {
            0xE0 if seg.starts_with(b"JFIF\0") && seg.len() >= 12 && seg[7] == 1 => {
                dpi = Some((u16::from_be_bytes([seg[8], seg[9]]), u16::from_be_bytes([seg[10], seg[11]])));
            }
            0xC0..=0xC3 if seg.len() >= 6 => {
                return Ok(JpegFacts {
                    height: u32::from(u16::from_be_bytes([seg[1], seg[2]])),
                    width: u32::from(u16::from_be_bytes([seg[3], seg[4]])),
                    components: seg[5],
                    dpi,
                    bytes: bytes.len(),
                });
            }
            _ => {}
        }
        i += 2 + len;
    }
    Err(JpegError::NoFrame)
}

/// Whether a JPEG file is whole: walked from its start, segment by segment (each skipped by its
/// length, so a thumbnail inside one is never read as the image) and through each scan's data
/// (which cannot hold a marker: a data byte `FF` is followed by `00`, and restart markers are
/// `FF D0`–`FF D7`), it reaches its end-of-image marker (`FF D9`). A file cut short (a copy or a
/// download that stopped) does not; the decoder would fill the rest with grey and say nothing.
/// Whatever a camera appends after the end (a motion photo's video) is not read. Not a JPEG at
/// all: `false`.
pub fn jpeg_whole(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let mut i = 2;
    loop {
        // A marker: FF (fill bytes FF may come first), then its code.
        if bytes.get(i) != Some(&0xFF) {
            return false;
        }
        while bytes.get(i) == Some(&0xFF) {
            i += 1;
        }
        let Some(&code) = bytes.get(i) else { return false };
        i += 1;
        match code {
            0xD9 => return true,
            0xD0..=0xD7 | 0x01 => continue,
            _ => {}
        }
        let Some(len) = bytes.get(i..i + 2).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]]))) else {
            return false;
        };
        if len < 2 {
            return false;
        }
        i += len;
        if code == 0xDA {
            // The scan's data, to the next marker that is not a stuffed byte or a restart.
            loop {
                match (bytes.get(i), bytes.get(i + 1)) {
                    (Some(0xFF), Some(0x00 | 0xD0..=0xD7)) => i += 2,
                    (Some(0xFF), Some(_)) => break,
                    (Some(_), _) => i += 1,
                    (None, _) => return false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A portrait-like test card: a textured background and a face-sized ellipse with detail,
    /// so JPEG sizes behave like a photo's.
    pub fn test_card(w: u32, h: u32, detail: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let (dx, dy) = (x as f32 - w as f32 / 2.0, y as f32 - h as f32 * 0.45);
            let inside = (dx / (w as f32 * 0.25)).powi(2) + (dy / (h as f32 * 0.3)).powi(2) < 1.0;
            let noise = ((x * 7919 + y * 104_729) % 97) as f32 / 97.0;
            let t = ((x as f32 / 3.0).sin() * (y as f32 / 5.0).cos() * detail as f32) as i32;
            if inside {
                let v = (180 + t + (noise * 20.0) as i32).clamp(0, 255) as u8;
                image::Rgb([v, (v as f32 * 0.8) as u8, (v as f32 * 0.7) as u8])
            } else {
                let v = (240 + (noise * 8.0) as i32).clamp(0, 255) as u8;
                image::Rgb([v, v, v])
            }
        })
    }

    #[test]
    fn the_output_meets_the_standard() {
        let card = test_card(900, 1200, 40);
        let spec = OutputSpec::default();
        let jpeg = encode(&card, &spec).unwrap();
        assert!((spec.min_bytes..=spec.max_bytes).contains(&jpeg.len()), "{} bytes", jpeg.len());
        let f = jpeg_facts(&jpeg).unwrap();
        assert_eq!((f.width, f.height, f.components, f.dpi), (354, 472, 3, Some((300, 300))));
        let big = encode(&card, &OutputSpec { width: 480, height: 640, ..spec }).unwrap();
        assert_eq!(jpeg_facts(&big).unwrap().width, 480);
    }

    #[test]
    fn sizes_the_standard_does_not_allow_are_refused() {
        let card = test_card(300, 400, 10);
        for (w, h) in [(300, 400), (354, 480), (500, 666), (480, 600)] {
            assert_eq!(
                encode(&card, &OutputSpec { width: w, height: h, ..OutputSpec::default() }),
                Err(EncodeError::BadSize(w, h))
            );
        }
        // A flat image cannot reach 20 KB at any quality: said clearly.
        let flat = RgbImage::from_pixel(354, 472, image::Rgb([250, 250, 250]));
        assert!(matches!(encode(&flat, &OutputSpec::default()), Err(EncodeError::SizeOutOfRange { .. })));
    }

    #[test]
    fn headers_are_read_or_refused() {
        assert_eq!(jpeg_facts(b"GIF89a"), Err(JpegError::NotJpeg));
        assert_eq!(jpeg_facts(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0xFF]), Err(JpegError::SegmentPastEnd));
        assert_eq!(jpeg_facts(&[0xFF, 0xD8, 0x00, 0xE0, 0x00, 0x02]), Err(JpegError::NoMarker(2)));
        assert_eq!(jpeg_facts(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02]), Err(JpegError::NoFrame));
    }

    /// A file cut anywhere in its image data is not whole; a whole one is, with bytes after
    /// its end (some cameras append them) or a thumbnail's end marker before its scan.
    #[test]
    fn a_jpeg_cut_short_is_told() {
        let img = RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 90]));
        let mut whole = Vec::new();
        JpegEncoder::new_with_quality(&mut whole, 90).encode_image(&img).unwrap();
        assert!(jpeg_whole(&whole));
        let scan = whole.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
        for cut in [scan + 2, scan + 40, whole.len() - 2, whole.len() - 1] {
            assert!(!jpeg_whole(&whole[..cut]), "cut at {cut} of {}", whole.len());
        }
        let mut trailer = whole.clone();
        trailer.extend_from_slice(b"camera trailer");
        assert!(jpeg_whole(&trailer));
        // A motion photo's video after the end, holding what looks like a scan marker.
        let mut motion = whole.clone();
        motion.extend_from_slice(&[0x00, 0x00, 0x00, 0x18, b'f', b't', b'y', b'p', 0xFF, 0xDA, 0x12, 0x34, b'm', b'o']);
        assert!(jpeg_whole(&motion));
        // A thumbnail (an end marker early, in an APP1 segment) in a file cut short after it.
        let mut thumb = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x06, 0xFF, 0xD9, 0x00, 0x00];
        thumb.extend_from_slice(&whole[2..whole.len() - 200]);
        assert!(!jpeg_whole(&thumb));
        assert!(!jpeg_whole(b"\x89PNG not a jpeg"));
    }
}
