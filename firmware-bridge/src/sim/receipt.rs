//! Draws a receipt's ESC/POS bytes as a 58 mm thermal printer would print them.

use std::vec;
use std::vec::Vec;

use doorstep_devices::escpos;

use super::SimError;

/// The CJK font, for drawing receipts.
const FONT: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-doorstep.otf");
/// A 58 mm thermal printer: 384 dots across.
const PAPER_WIDTH: u32 = 384;
/// The longest receipt drawn: 2 m of paper at 8 dots a millimetre (6 MB of image).
pub(crate) const MAX_RECEIPT_ROWS: usize = 16_000;

/// Draws what a receipt's bytes print, as a thermal printer would: black on white, 384 dots wide.
pub fn render_receipt(bytes: &[u8]) -> Result<image::GrayImage, SimError> {
    let items = escpos::parse(bytes)?;
    use ab_glyph::{Font as _, ScaleFont as _};
    let font = ab_glyph::FontRef::try_from_slice(FONT).map_err(SimError::Font)?;
    let mut rows: Vec<Vec<u8>> = Vec::new();
    // Each line feed takes paper, so the image's height is bounded before it is allocated.
    let blank = |rows: &mut Vec<Vec<u8>>, n: usize| {
        let total = rows.len().saturating_add(n);
        if total > MAX_RECEIPT_ROWS {
            return Err(SimError::ReceiptTooLong { rows: total });
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
                let width: f32 = text.chars().map(|c| scaled.h_advance(font.glyph_id(c))).sum();
                let x0 = match align {
                    escpos::Align::Left => 4.0,
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
            escpos::PrintItem::Qr(data) => {
                let code = qrcode::QrCode::new(data.as_bytes()).map_err(SimError::Qr)?;
                let modules = code.width();
                let scale = 6usize;
                let size = modules * scale;
                let x0 = (PAPER_WIDTH as usize).saturating_sub(size) / 2;
                let top = rows.len();
                blank(&mut rows, size + 16)?;
                for (i, dark) in code.to_colors().into_iter().enumerate() {
                    if dark == qrcode::Color::Dark {
                        let (mx, my) = (i % modules, i / modules);
                        for dy in 0..scale {
                            for dx in 0..scale {
                                let x = x0 + mx * scale + dx;
                                if x < PAPER_WIDTH as usize {
                                    rows[top + 8 + my * scale + dy][x] = 0;
                                }
                            }
                        }
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
    image::GrayImage::from_raw(PAPER_WIDTH, h, rows.concat()).ok_or(SimError::ReceiptImage)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let bytes = escpos::ReceiptBuilder::new()
            .align(escpos::Align::Centre)
            .double(true)
            .line("受理回执")
            .double(false)
            .line("测试")
            .qr("APP-1")
            .cut();
        let img = render_receipt(&bytes).unwrap();
        assert_eq!(img.width(), PAPER_WIDTH);
        let dark = img.pixels().filter(|p| p.0[0] == 0).count();
        assert!(dark > 2000, "{dark} dark dots");
    }

    #[test]
    fn a_receipt_longer_than_the_paper_is_refused_before_it_is_drawn() {
        let bytes = escpos::ReceiptBuilder::new().feed(255).feed(255).line("测试").cut();
        let img = render_receipt(&bytes).unwrap();
        assert!(img.height() as usize <= MAX_RECEIPT_ROWS);
        let bytes = escpos::ReceiptBuilder::new().feed(255).feed(255).feed(255).cut();
        let err = render_receipt(&bytes).unwrap_err();
        assert!(matches!(err, SimError::ReceiptTooLong { rows } if rows > MAX_RECEIPT_ROWS), "{err:?}");
    }
}
