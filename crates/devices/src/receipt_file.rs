//! A receipt's ESC/POS bytes drawn as a 58 mm thermal printer prints them, and kept as a PNG
//! or a one-page PDF: what the simulated printer saves, and what the unit gives when no
//! printer answers. Pure: bytes in, bytes out; the caller writes the files.

use crate::{DeviceError, escpos};

/// A 58 mm thermal printer: 384 dots across.
pub const PAPER_WIDTH: u32 = 384;
/// The printer's resolution: 8 dots a millimetre (203 dpi).
pub const DOTS_PER_MM: f32 = 8.0;
/// The longest receipt drawn: 2 m of paper at 8 dots a millimetre (6 MB of image).
pub const MAX_RECEIPT_ROWS: usize = 16_000;

/// Why a receipt could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the receipt's bytes: {0}")]
    Bytes(#[from] DeviceError),
    #[error("the receipt font: {0}")]
    Font(#[source] ab_glyph::InvalidFont),
    #[error("the receipt's QR code: {0}")]
    Qr(#[source] qrcode::types::QrError),
    #[error("the receipt is {rows} dots long; at most {MAX_RECEIPT_ROWS} are drawn")]
    TooLong { rows: usize },
    #[error("the receipt image could not be made")]
    Image,
}

/// Draws what a receipt's bytes print, as a thermal printer would: black on white, 384 dots
/// wide, in `font` (it must hold every character printed: the unit's CJK font).
pub fn render(bytes: &[u8], font: &[u8]) -> Result<image::GrayImage, RenderError> {
    let items = escpos::parse(bytes)?;
    use ab_glyph::{Font as _, ScaleFont as _};
    let font = ab_glyph::FontRef::try_from_slice(font).map_err(RenderError::Font)?;
    let mut rows: Vec<Vec<u8>> = Vec::new();
    // Each line feed takes paper, so the image's height is bounded before it is allocated.
    let blank = |rows: &mut Vec<Vec<u8>>, n: usize| {
        let total = rows.len().saturating_add(n);
        if total > MAX_RECEIPT_ROWS {
            return Err(RenderError::TooLong { rows: total });
        }
        rows.extend((0..n).map(|_| vec![255u8; PAPER_WIDTH as usize]));
        Ok(())
    };
    blank(&mut rows, 8)?;
    for item in items {
        match item {
            escpos::PrintItem::Text { text, align, double } => {
                let size = if double { 44.0 } else { 24.0 };
                let scaled = font.as_scaled(size);
                let line_h = (size * 1.3) as usize;
                // A line wider than the paper goes on below, as the printer wraps it.
                let mut lines: Vec<(String, f32)> = vec![(String::new(), 0.0)];
                for c in text.chars() {
                    let w = scaled.h_advance(font.glyph_id(c));
                    let (line, width) = lines.last_mut().expect("one line at least");
                    if *width + w > PAPER_WIDTH as f32 && !line.is_empty() {
                        lines.push((c.to_string(), w));
                    } else {
                        line.push(c);
                        *width += w;
                    }
                }
                for (text, width) in lines {
                    let x0 = match align {
                        // A line the paper's full width (16 Chinese characters) starts at its edge.
                        escpos::Align::Left => (PAPER_WIDTH as f32 - width).clamp(0.0, 4.0),
                        escpos::Align::Centre => ((PAPER_WIDTH as f32 - width) / 2.0).max(0.0),
                        escpos::Align::Right => (PAPER_WIDTH as f32 - width - 4.0).max(0.0),
                    };
                    let top = rows.len();
                    blank(&mut rows, line_h)?;
                    let baseline = top as f32 + scaled.ascent() + (line_h as f32 - scaled.height()) / 2.0;
                    let mut x = x0;
                    for c in text.chars() {
                        let id = font.glyph_id(c);
                        let glyph = id.with_scale_and_position(size, ab_glyph::point(x, baseline));
                        if let Some(outline) = font.outline_glyph(glyph) {
                            let b = outline.px_bounds();
                            outline.draw(|gx, gy, cov| {
                                let (px, py) = (b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32);
                                if cov > 0.45
                                    && px >= 0
                                    && (px as u32) < PAPER_WIDTH
                                    && py >= 0
                                    && (py as usize) < rows.len()
                                {
                                    rows[py as usize][px as usize] = 0;
                                }
                            });
                        }
                        x += scaled.h_advance(id);
                    }
                }
            }
            escpos::PrintItem::Qr(data) => {
                let code = qr_code(&data, 6, 0)?;
                let size = code.width() as usize;
                let x0 = (PAPER_WIDTH as usize).saturating_sub(size) / 2;
                let top = rows.len();
                blank(&mut rows, size + 16)?;
                for (x, y, p) in code.enumerate_pixels() {
                    let x = x0 + x as usize;
                    if p.0[0] == 0 && x < PAPER_WIDTH as usize {
                        rows[top + 8 + y as usize][x] = 0;
                    }
                }
            }
            escpos::PrintItem::Cut => {
                blank(&mut rows, 16)?;
                rows.push(vec![128u8; PAPER_WIDTH as usize]);
            }
        }
    }
    let h = rows.len() as u32;
    image::GrayImage::from_raw(PAPER_WIDTH, h, rows.concat()).ok_or(RenderError::Image)
}

/// A QR code of `text`: black modules on white, `scale` dots a module, inside a quiet zone of
/// `quiet` white modules on each side (the code's standard asks for 4 where nothing else
/// gives one; the paper's margin does on a receipt).
pub fn qr_code(text: &str, scale: u32, quiet: u32) -> Result<image::GrayImage, RenderError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(RenderError::Qr)?;
    let n = code.width() as u32;
    let side = (n + 2 * quiet) * scale;
    let mut image = image::GrayImage::from_pixel(side, side, image::Luma([255]));
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i as u32 % n + quiet, i as u32 / n + quiet);
        for y in my * scale..(my + 1) * scale {
            for x in mx * scale..(mx + 1) * scale {
                image.put_pixel(x, y, image::Luma([0]));
            }
        }
    }
    Ok(image)
}

/// A receipt's image as a one-page PDF, the page the paper's width (58 mm) and the image at the
/// printer's own size, so printed on an office printer at 100 % it matches the thermal one.
pub fn to_pdf(receipt: &image::GrayImage) -> Vec<u8> {
    use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref};
    const PT_PER_MM: f32 = 72.0 / 25.4;
    const PAPER_MM: f32 = 58.0;
    let (w, h) = (receipt.width() as f32 / DOTS_PER_MM * PT_PER_MM, receipt.height() as f32 / DOTS_PER_MM * PT_PER_MM);
    let margin = 4.0 * PT_PER_MM;
    let page_w = (PAPER_MM * PT_PER_MM).max(w + 2.0 * margin);
    let page_h = h + 2.0 * margin;
    let (catalog, pages, page, image, content) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5));
    let name = Name(b"Receipt");
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, page_w, page_h));
    p.parent(pages);
    p.contents(content);
    p.resources().x_objects().pair(name, image);
    p.finish();
    let level = miniz_oxide::deflate::CompressionLevel::DefaultLevel as u8;
    let samples = miniz_oxide::deflate::compress_to_vec_zlib(receipt.as_raw(), level);
    let mut x = pdf.image_xobject(image, &samples);
    x.filter(Filter::FlateDecode);
    x.width(receipt.width() as i32);
    x.height(receipt.height() as i32);
    x.color_space().device_gray();
    x.bits_per_component(8);
    x.finish();
    let mut c = Content::new();
    c.save_state();
    c.transform([w, 0.0, 0.0, h, (page_w - w) / 2.0, margin]);
    c.x_object(name);
    c.restore_state();
    pdf.stream(content, &c.finish());
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unit's CJK font, the one the receipts are drawn in.
    const FONT: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-doorstep.otf");

    fn sample() -> Vec<u8> {
        escpos::ReceiptBuilder::new()
            .align(escpos::Align::Centre)
            .double(true)
            .line("受理回执")
            .double(false)
            .line("测试")
            .qr("APP-1")
            .cut()
    }

    #[test]
    fn the_font_maps_every_character_a_receipt_prints() {
        use ab_glyph::Font as _;
        let font = ab_glyph::FontRef::try_from_slice(FONT).unwrap();
        // These were lost when the subset font had only a format 4 cmap longer than 64 KB.
        for c in "受理回执往来港澳通行证首次申请签注合计领取方式：邮寄凭此查询办理进度测试㐀".chars()
        {
            assert_ne!(font.glyph_id(c).0, 0, "no glyph for {c}");
        }
    }

    #[test]
    fn receipts_render_with_text_and_qr() {
        let img = render(&sample(), FONT).unwrap();
        assert_eq!(img.width(), PAPER_WIDTH);
        let dark = img.pixels().filter(|p| p.0[0] == 0).count();
        assert!(dark > 2000, "{dark} dark dots");
    }

    /// A line wider than the paper is wrapped, as the printer does, not cut at the edge: the
    /// long line takes the height of two and nothing is drawn in the margin.
    #[test]
    fn a_line_wider_than_the_paper_goes_on_below() {
        let one = |text: &str| render(&escpos::ReceiptBuilder::new().line(text).cut(), FONT).unwrap();
        let short = one("测试测试");
        let long = one(&"测试".repeat(12));
        assert_eq!(long.height() - short.height(), (24.0f32 * 1.3) as u32, "one more line");
        let right_margin_ink = long.enumerate_pixels().filter(|(x, _, p)| *x >= PAPER_WIDTH - 2 && p.0[0] == 0).count();
        assert_eq!(right_margin_ink, 0);
    }

    #[test]
    fn a_font_that_is_not_one_is_refused() {
        assert!(matches!(render(&sample(), b"not a font"), Err(RenderError::Font(_))));
    }

    #[test]
    fn a_receipt_longer_than_the_paper_is_refused_before_it_is_drawn() {
        let bytes = escpos::ReceiptBuilder::new().feed(255).feed(255).line("测试").cut();
        let img = render(&bytes, FONT).unwrap();
        assert!(img.height() as usize <= MAX_RECEIPT_ROWS);
        let bytes = escpos::ReceiptBuilder::new().feed(255).feed(255).feed(255).cut();
        let err = render(&bytes, FONT).unwrap_err();
        assert!(matches!(err, RenderError::TooLong { rows } if rows > MAX_RECEIPT_ROWS), "{err:?}");
    }

    /// The PDF's page is the paper's width and the receipt's length (at 8 dots a millimetre),
    /// and its one image holds the receipt's own samples.
    #[test]
    fn the_pdf_is_one_page_of_the_receipt_at_its_printed_size() {
        let img = render(&sample(), FONT).unwrap();
        let pdf = to_pdf(&img);
        let text = String::from_utf8_lossy(&pdf);
        assert!(pdf.starts_with(b"%PDF-"), "a PDF header");
        assert!(text.trim_end().ends_with("%%EOF"), "a PDF trailer");
        assert_eq!(text.matches("/Type /Page").count() - text.matches("/Type /Pages").count(), 1, "one page");
        let pt = |dots: u32| dots as f32 / DOTS_PER_MM * 72.0 / 25.4;
        let media = text.split("/MediaBox [").nth(1).and_then(|r| r.split(']').next()).unwrap();
        let nums: Vec<f32> = media.split_whitespace().map(|n| n.parse().unwrap()).collect();
        assert!((nums[2] - 58.0 * 72.0 / 25.4).abs() < 0.5, "58 mm wide: {media}");
        assert!(
            (nums[3] - (pt(img.height()) + 8.0 * 72.0 / 25.4)).abs() < 0.5,
            "the receipt's length and margins: {media}"
        );
        assert!(
            text.contains(&format!("/Width {}", img.width())) && text.contains(&format!("/Height {}", img.height()))
        );
        // The image stream, inflated, is the receipt's samples.
        let start = pdf.windows(6).position(|w| w == b"stream").unwrap() + "stream\n".len();
        let end = pdf.windows(9).position(|w| w == b"endstream").unwrap();
        let samples = miniz_oxide::inflate::decompress_to_vec_zlib(pdf[start..end].trim_ascii_end()).unwrap();
        assert_eq!(samples, img.as_raw().as_slice());
    }
}
