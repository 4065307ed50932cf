//! The report's chart: one horizontal bar per row of the breakdown, split by state (released
//! to the back office, awaiting the supervisor's manifest, returned or rejected), drawn with
//! plotters into an RGB buffer and written as a PNG.
//!
//! Text is drawn by ab_glyph (no fontconfig, no system fonts) with the project's CJK font,
//! `assets/fonts/NotoSansSC-doorstep.otf`, read at run time: keys and reasons may be Chinese,
//! and at 11 MB the font is not built into the serving hub's binary. Without the font file the
//! chart refuses with the path it looked for.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Report, ReportError};

/// The family name the font is registered under.
const FAMILY: &str = "doorstep-cjk";

/// The project's CJK font in a checkout of the repository (`--font` names another).
pub fn default_font() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/fonts/NotoSansSC-doorstep.otf")
}

/// Chart sizes taken, in pixels, each side.
pub const SIZES: std::ops::RangeInclusive<u32> = 320..=4000;

/// Parses `WIDTHxHEIGHT`.
pub fn parse_size(text: &str) -> Result<(u32, u32), ReportError> {
    let bad = || ReportError::BadSize { given: text.to_string() };
    let (w, h) = text.trim().split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.trim().parse().map_err(|_| bad())?, h.trim().parse().map_err(|_| bad())?);
    if !SIZES.contains(&w) || !SIZES.contains(&h) {
        return Err(bad());
    }
    Ok((w, h))
}

/// The font file registered last: plotters keeps fonts for the life of the process, so each
/// file is read (and leaked) once.
static REGISTERED: Mutex<Option<PathBuf>> = Mutex::new(None);

fn register(font: &Path) -> Result<(), ReportError> {
    let mut registered = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
    if registered.as_deref() == Some(font) {
        return Ok(());
    }
    let bytes = std::fs::read(font).map_err(|e| {
        ReportError::Chart(format!("cannot read the font {} ({e}); name the CJK font file with --font", font.display()))
    })?;
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font(FAMILY, FontStyle::Normal, bytes)
        .map_err(|_| ReportError::Chart(format!("{} is not a font file plotters can use", font.display())))?;
    *registered = Some(font.to_path_buf());
    Ok(())
}

/// The segments of a bar: label, colour, and the count in a row.
type Segment = (&'static str, RGBColor, fn(&super::States) -> usize);

const SEGMENTS: [Segment; 3] = [
    ("approved or accepted", RGBColor(46, 125, 50), |s| s.approved + s.accepted),
    ("awaiting the manifest", RGBColor(144, 164, 174), |s| s.awaiting_manifest),
    ("returned or rejected", RGBColor(230, 81, 0), |s| s.returned + s.rejected),
];

fn chart_error(e: impl std::fmt::Display) -> ReportError {
    ReportError::Chart(e.to_string())
}

/// Where each legend entry goes: its swatch's left edge and its line, wrapped to the width.
fn legend_layout(widths: &[i32], swatch: i32, base: f64, start: i32, width: i32) -> Vec<(i32, i32)> {
    let (gap, space, margin) = (8, (base * 1.5) as i32, (base * 0.8) as i32);
    let whole = widths.iter().map(|w| swatch + gap + w).sum::<i32>() + space * (widths.len() as i32 - 1);
    // In one line over the bars when it fits there, else in one line centred, else wrapped.
    let mut x = if start + whole <= width - margin { start } else { ((width - whole) / 2).max(margin) };
    let mut line = 0;
    let mut at = Vec::new();
    for w in widths {
        if x > margin && x + swatch + gap + w > width - margin {
            (x, line) = (margin, line + 1);
        }
        at.push((x, line));
        x += swatch + gap + w + space;
    }
    at
}

/// Draws the chart as RGB pixels (`width * height * 3` bytes).
pub fn draw(report: &Report, (width, height): (u32, u32), font: &Path) -> Result<Vec<u8>, ReportError> {
    register(font)?;
    let mut pixels = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let rows = &report.rows;
        let n = rows.len().max(1);
        let max = rows.iter().map(|r| r.states.applications).max().unwrap_or(0).max(1);
        // Type sized to the picture; row labels also to the bars' height, and when the bars
        // are too thin for a label each, every few rows are labelled.
        let base = (height.min(width) as f64 / 30.0).clamp(14.0, 40.0);
        let bar = (height as f64 * 0.7 / n as f64).max(1.0);
        let label_size = (bar * 0.7).max(18.0).min(base.max(18.0));
        let every = ((label_size * 1.4) / bar).ceil().max(1.0) as usize;
        let longest = rows.iter().map(|r| r.key.chars().count()).max().unwrap_or(4) as f64;
        let label_area = ((longest * label_size * 0.62) as u32 + 16).min(width / 3).max(60);

        let legend =
            (FAMILY, (base * 0.75).max(13.0)).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
        let swatch = (base * 0.7) as i32;
        let mut widths = Vec::new();
        for (label, _, _) in &SEGMENTS {
            widths.push(root.estimate_text_size(label, &legend).map_err(chart_error)?.0 as i32);
        }
        let places = legend_layout(&widths, swatch, base, label_area as i32, width as i32);
        let lines = places.iter().map(|p| p.1).max().unwrap_or(0) + 1;
        let line = (base * 1.2) as i32;

        // The title (in two lines when one is too wide), the legend under it, the bars below.
        let title = [
            format!("Applications received {} to {} (UTC{})", report.from, report.to, report.time_zone),
            format!("by {}: {}", report.by.name(), report.total.applications),
        ];
        let room = width as f64 - base * 1.6;
        let mut title_size = base * 1.1;
        let one_line = format!("{}, {}", title[0], title[1]);
        let fits = |text: &str, size: f64| -> Result<bool, ReportError> {
            let style = TextStyle::from((FAMILY, size).into_font());
            Ok(root.estimate_text_size(text, &style).map_err(chart_error)?.0 as f64 <= room)
        };
        let title: Vec<String> = if fits(&one_line, title_size)? { vec![one_line] } else { title.to_vec() };
        while title_size > 12.0 && !fits(&title[0], title_size)? {
            title_size -= 1.0;
        }
        let title_line = (title_size * 1.3) as i32;
        let title_height = (base * 0.5) as i32 + title_line * title.len() as i32 + (base * 0.3) as i32;
        let header = title_height + line * lines + (base * 0.4) as i32;
        let (top, body) = root.split_vertically(header as u32);
        let title_style = (FAMILY, title_size).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
        for (k, text) in title.iter().enumerate() {
            let y = (base * 0.5) as i32 + title_line * k as i32;
            top.draw(&Text::new(text.as_str(), (width as i32 / 2, y), title_style.clone())).map_err(chart_error)?;
        }
        for ((label, colour, _), (x, l)) in SEGMENTS.iter().zip(&places) {
            let y = title_height + line * l + line / 2;
            top.draw(&Rectangle::new([(*x, y - swatch / 2), (x + swatch, y + swatch / 2)], colour.filled()))
                .map_err(chart_error)?;
            top.draw(&Text::new(label.to_string(), (x + swatch + 8, y), legend.clone())).map_err(chart_error)?;
        }

        let x_desc = if report.rows_overlap {
            "applications (an application may count in several rows)"
        } else {
            "applications"
        };
        let mut chart = ChartBuilder::on(&body)
            .margin((base * 0.8) as u32)
            .x_label_area_size((base * 2.4) as u32)
            .y_label_area_size(label_area)
            .build_cartesian_2d(0usize..max + max.div_ceil(10), (0usize..n - 1).into_segmented())
            .map_err(chart_error)?;
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        let y_label = |v: &SegmentValue<usize>| match v {
            // Row 0 at the top: the y axis counts up from the bottom.
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                let row = n.saturating_sub(1 + i);
                keys.get(row).filter(|_| row.is_multiple_of(every)).map(|k| k.to_string()).unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        };
        let x_label = |v: &usize| v.to_string();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&y_label)
            .y_label_style((FAMILY, label_size).into_font())
            .x_labels(10.min(max + 1))
            .x_label_formatter(&x_label)
            .x_label_style((FAMILY, base * 0.9).into_font())
            .x_desc(x_desc)
            .axis_desc_style((FAMILY, base * 0.8).into_font())
            .draw()
            .map_err(chart_error)?;
        let inset = ((bar * 0.15) as u32).min(12);
        for (i, row) in rows.iter().enumerate() {
            let y = n - 1 - i;
            let upper = if y + 1 < n { SegmentValue::Exact(y + 1) } else { SegmentValue::Last };
            let mut at = 0;
            for (_, colour, count) in SEGMENTS {
                let c = count(&row.states);
                if c > 0 {
                    let mut r =
                        Rectangle::new([(at, SegmentValue::Exact(y)), (at + c, upper.clone())], colour.filled());
                    r.set_margin(inset, inset, 0, 0);
                    chart.draw_series(std::iter::once(r)).map_err(chart_error)?;
                    at += c;
                }
            }
        }
        root.present().map_err(chart_error)?;
    }
    Ok(pixels)
}

/// Draws the chart and writes it to `path` as a PNG.
pub fn write(report: &Report, size: (u32, u32), font: &Path, path: &Path) -> Result<(), ReportError> {
    let pixels = draw(report, size, font)?;
    let image = image::RgbImage::from_raw(size.0, size.1, pixels)
        .ok_or_else(|| ReportError::Chart("the drawing has the wrong size".into()))?;
    image.save_with_format(path, image::ImageFormat::Png).map_err(|e| match e {
        image::ImageError::IoError(source) => ReportError::Io { path: path.display().to_string(), source },
        other => ReportError::Chart(other.to_string()),
    })
}
