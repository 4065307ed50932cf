//! doorstep-mrz-ocr: reads the machine-readable zone (MRZ) of a travel document from a camera
//! frame.
//!
//! MRZ text is printed in OCR-B (ICAO Doc 9303): the digits, the capital letters and the filler
//! `<`, one width for all. The reader marks the ink against its surroundings (a threshold that
//! follows uneven light), takes each connected mark, chains marks of one height and spacing
//! into rows (a row may slope: a document held a little askew), keeps rows of 20 marks or more,
//! and matches each mark against the glyphs of the OCR-B font it was given (shape, width and
//! height against the row's capitals). OCR-B's 0 and O (1 and I, 8 and B…) differ by little, so
//! each mark keeps its closest digit and closest letter too, and [`zones`] writes each position
//! of the ICAO layouts (TD3, TD1, the 往来港澳通行证's one line) with what it may hold: a digit
//! in a date or a check digit, a letter in a name or a state, and in a document number whichever
//! makes its check digit right. Whether a zone is valid is for doorstep-core's MRZ parser, which
//! the caller runs on what is read; a zone that fails is tried again on the next frame.
//!
//! Architecture invariant: pure. No IO, no clock, no threads: a grey image in, rows of text out.

#![forbid(unsafe_code)]

use image::GrayImage;

/// The characters of an MRZ.
pub const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<";

/// The grid each mark and glyph is reduced to for matching.
const GW: usize = 10;
const GH: usize = 14;

/// Rows with fewer marks are not taken for an MRZ (the shortest, the 往来港澳通行证's, has 30).
pub const MIN_ROW: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("the OCR-B font cannot be read: {0}")]
    Font(#[from] ab_glyph::InvalidFont),
    #[error("the OCR-B font has no outline for {0:?}")]
    MissingGlyph(char),
}

/// One character's shape: its ink on the grid, its width over its height, and its height over
/// a capital's (weighed little: OCR-B's digits stand a few per cent taller than its capitals,
/// which a camera's pixel more or less hides).
struct Shape {
    cells: [f32; GW * GH],
    aspect: f32,
    height: f32,
}

/// One mark as read: the closest character, and the closest digit and letter (a filler `<` is
/// itself in all three).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark3 {
    pub best: char,
    pub digit: char,
    pub letter: char,
    /// How much closer the nearer of the two is, relative to it: 0 when the digit and the
    /// letter fit alike, large when one is plainly the mark.
    pub margin: u16,
}

/// A row as read, left to right.
pub type Row = Vec<Mark3>;

mod layout;
pub use layout::{Agreement, zones};

/// Reads MRZ rows with the glyphs of one OCR-B font.
pub struct MrzReader {
    glyphs: Vec<(char, Shape)>,
}

impl MrzReader {
    /// Renders the alphabet from `font` (an OCR-B OpenType or TrueType font).
    pub fn new(font: &[u8]) -> Result<MrzReader, OcrError> {
        use ab_glyph::{Font as _, FontRef, PxScale, point};
        let font = FontRef::try_from_slice(font)?;
        let capital = {
            let h = font.outline_glyph(font.glyph_id('H').with_scale(PxScale::from(96.0)));
            h.map_or(70.0, |g| g.px_bounds().height())
        };
        let render = |ch: char| -> Result<Ink, OcrError> {
            let glyph = font.glyph_id(ch).with_scale_and_position(PxScale::from(96.0), point(0.0, 0.0));
            let outlined = font.outline_glyph(glyph).ok_or(OcrError::MissingGlyph(ch))?;
            let b = outlined.px_bounds();
            let (w, h) = (b.width().ceil() as usize + 1, b.height().ceil() as usize + 1);
            let mut ink = Ink { w, h, on: vec![false; w * h] };
            outlined.draw(|x, y, c| {
                let (x, y) = (x as usize, y as usize);
                if x < w && y < h && c >= 0.5 {
                    ink.on[y * w + x] = true;
                }
            });
            Ok(ink)
        };
        let mut glyphs = Vec::new();
        for ch in ALPHABET.chars() {
            let ink = render(ch)?;
            let (x0, y0, x1, y1) = ink.bounds().ok_or(OcrError::MissingGlyph(ch))?;
            glyphs.push((ch, shape(&ink, (x0, y0, x1, y1), capital)));
        }
        Ok(MrzReader { glyphs })
    }

    /// The rows of the frame that may be MRZ rows, top to bottom, as read.
    pub fn read(&self, frame: &GrayImage) -> Vec<Row> {
        let ink = threshold(frame);
        let marks = marks(&ink);
        let mut rows = rows(marks);
        rows.sort_by_key(|r| r.iter().map(|m| m.y0 + m.y1).sum::<usize>() / r.len().max(1));
        rows.iter().filter_map(|row| self.read_row(&ink, row)).collect()
    }

    fn read_row(&self, ink: &Ink, row: &[Mark]) -> Option<Row> {
        let mut heights: Vec<usize> = row.iter().map(Mark::h).collect();
        heights.sort_unstable();
        // The capitals' height: most marks of a row are letters or digits.
        let capital = heights[heights.len() * 3 / 4] as f32;
        // Pieces of one broken mark (one above the other, or side by side) are one mark.
        let mut kept: Vec<Mark> = Vec::new();
        for m in row.iter().filter(|m| (m.h() as f32) > 0.25 * capital && (m.h() as f32) < 1.5 * capital) {
            match kept.last_mut() {
                Some(last) if m.x0 <= last.x1 && (m.x1.min(last.x1) - m.x0) * 2 >= m.w().min(last.w()) => last.join(m),
                _ => kept.push(*m),
            }
        }
        if kept.len() < MIN_ROW {
            return None;
        }
        // The pitch (one character's advance), from the centres of neighbours: a mark two or
        // more pitches wide is characters run together, cut evenly.
        let mut steps: Vec<usize> =
            kept.windows(2).map(|w| ((w[1].x0 + w[1].x1) / 2).abs_diff((w[0].x0 + w[0].x1) / 2)).collect();
        steps.sort_unstable();
        let pitch = steps[steps.len() / 2].max(1) as f32;
        let mut text = Vec::with_capacity(kept.len());
        for m in &kept {
            let parts = ((m.w() as f32 / pitch) + 0.3).floor().max(1.0) as usize;
            for k in 0..parts {
                let x0 = m.x0 + m.w() * k / parts;
                let x1 = m.x0 + m.w() * (k + 1) / parts - 1;
                let Some(bounds) = ink.bounds_in(x0.min(x1), m.y0, x1.max(x0), m.y1) else { continue };
                text.push(self.closest(&shape(ink, bounds, capital)));
            }
        }
        Some(text)
    }

    fn closest(&self, s: &Shape) -> Mark3 {
        let distance = |g: &Shape| {
            let cells: f32 = g.cells.iter().zip(&s.cells).map(|(a, b)| (a - b) * (a - b)).sum();
            cells / (GW * GH) as f32 + 0.5 * (g.aspect - s.aspect).powi(2) + 0.5 * (g.height - s.height).powi(2)
        };
        let nearest = |keep: &dyn Fn(char) -> bool| {
            self.glyphs
                .iter()
                .filter(|(c, _)| keep(*c))
                .map(|(c, g)| (*c, distance(g)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or(('<', f32::MAX))
        };
        let (best, _) = nearest(&|_| true);
        if best == '<' {
            return Mark3 { best, digit: '<', letter: '<', margin: u16::MAX };
        }
        let (digit, dd) = nearest(&|c| c.is_ascii_digit());
        let (letter, dl) = nearest(&|c| c.is_ascii_uppercase());
        let margin = ((dd - dl).abs() / dd.min(dl).max(1e-6) * 100.0).min(f32::from(u16::MAX - 1)) as u16;
        Mark3 { best, digit, letter, margin }
    }
}

/// Ink marked on a grid.
struct Ink {
    w: usize,
    h: usize,
    on: Vec<bool>,
}

impl Ink {
    fn at(&self, x: usize, y: usize) -> bool {
        self.on[y * self.w + x]
    }

    fn bounds(&self) -> Option<(usize, usize, usize, usize)> {
        self.bounds_in(0, 0, self.w.checked_sub(1)?, self.h.checked_sub(1)?)
    }

    /// The box around the ink inside the box given (inclusive), if any.
    fn bounds_in(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> Option<(usize, usize, usize, usize)> {
        let mut b: Option<(usize, usize, usize, usize)> = None;
        for y in y0..=y1.min(self.h.saturating_sub(1)) {
            for x in x0..=x1.min(self.w.saturating_sub(1)) {
                if self.at(x, y) {
                    b = Some(b.map_or((x, y, x, y), |(a, c, d, e)| (a.min(x), c.min(y), d.max(x), e.max(y))));
                }
            }
        }
        b
    }
}

/// The ink in a box, reduced to the grid (the share of each cell inked), with its proportions
/// (its height over `capital`, a capital letter's).
fn shape(ink: &Ink, (x0, y0, x1, y1): (usize, usize, usize, usize), capital: f32) -> Shape {
    let (w, h) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
    let mut cells = [0f32; GW * GH];
    for (i, cell) in cells.iter_mut().enumerate() {
        let (cx, cy) = ((i % GW) as f32, (i / GW) as f32);
        // Each cell samples a 3 × 3 pattern of points inside it.
        let mut n = 0;
        for sy in 0..3 {
            for sx in 0..3 {
                let x = x0 + (((cx + (sx as f32 + 0.5) / 3.0) / GW as f32) * w) as usize;
                let y = y0 + (((cy + (sy as f32 + 0.5) / 3.0) / GH as f32) * h) as usize;
                n += usize::from(ink.at(x.min(x1), y.min(y1)));
            }
        }
        *cell = n as f32 / 9.0;
    }
    Shape { cells, aspect: w / h, height: h / capital.max(1.0) }
}

/// Ink: darker than its neighbourhood by 15 % or more (a mean over a window an eighth of the
/// frame wide, from an integral image), so shade across the document does not matter.
fn threshold(frame: &GrayImage) -> Ink {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let mut sums = vec![0u64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u64;
        for x in 0..w {
            row += u64::from(frame.as_raw()[y * w + x]);
            sums[(y + 1) * (w + 1) + x + 1] = sums[y * (w + 1) + x + 1] + row;
        }
    }
    let r = (w / 16).max(6);
    let mut on = vec![false; w * h];
    for y in 0..h {
        let (ya, yb) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (xa, xb) = (x.saturating_sub(r), (x + r + 1).min(w));
            let total =
                sums[yb * (w + 1) + xb] + sums[ya * (w + 1) + xa] - sums[ya * (w + 1) + xb] - sums[yb * (w + 1) + xa];
            let count = ((yb - ya) * (xb - xa)) as u64;
            on[y * w + x] = u64::from(frame.as_raw()[y * w + x]) * 100 * count < total * 85;
        }
    }
    Ink { w, h, on }
}

/// A connected mark's box (inclusive).
#[derive(Debug, Clone, Copy)]
struct Mark {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

impl Mark {
    fn w(&self) -> usize {
        self.x1 - self.x0 + 1
    }
    fn h(&self) -> usize {
        self.y1 - self.y0 + 1
    }
    fn cy(&self) -> f32 {
        (self.y0 + self.y1) as f32 / 2.0
    }
    fn join(&mut self, o: &Mark) {
        (self.x0, self.y0, self.x1, self.y1) =
            (self.x0.min(o.x0), self.y0.min(o.y0), self.x1.max(o.x1), self.y1.max(o.y1));
    }
}

/// The connected marks (8-neighbours) of a size a character can have: from 3 pixels high to a
/// sixth of the frame, and not a long rule or a block.
fn marks(ink: &Ink) -> Vec<Mark> {
    let mut seen = vec![false; ink.on.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..ink.on.len() {
        if !ink.on[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let (mut m, mut count) = (Mark { x0: usize::MAX, y0: usize::MAX, x1: 0, y1: 0 }, 0usize);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % ink.w, i / ink.w);
            m.join(&Mark { x0: x, y0: y, x1: x, y1: y });
            count += 1;
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if nx < 0 || ny < 0 || nx >= ink.w as i64 || ny >= ink.h as i64 {
                        continue;
                    }
                    let j = ny as usize * ink.w + nx as usize;
                    if ink.on[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        let (w, h) = (m.w(), m.h());
        if (3..=ink.h / 6).contains(&h) && w <= 3 * h + 2 && w <= ink.w / 8 && count >= 4 {
            out.push(m);
        }
    }
    out
}

/// Marks chained into rows, left to right: the next mark of a row starts within three
/// character heights of the last and its middle is within half a height of the last's.
fn rows(mut marks: Vec<Mark>) -> Vec<Vec<Mark>> {
    marks.sort_by_key(|m| m.x0);
    let mut rows: Vec<Vec<Mark>> = Vec::new();
    // Each row's tallest mark (a filler is shorter than a capital), and the rows still open: a
    // row whose last mark ends three heights before this one's start takes no more (marks come
    // left to right), so a textured page's many small marks do not make every mark try every row.
    let mut tallest: Vec<usize> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    for m in marks {
        open.retain(|&i| {
            let last = rows[i].last().map_or(0, |l| l.x1);
            (last as f32 + 3.0 * tallest[i] as f32) >= m.x0 as f32
        });
        let best = open
            .iter()
            .map(|&i| (i, &rows[i]))
            .filter_map(|(i, r)| {
                let last = r.last()?;
                let h = tallest[i] as f32;
                let gap = m.x0 as f32 - last.x1 as f32;
                let dy = (m.cy() - last.cy()).abs();
                let fits = gap > -0.5 * h && gap < 3.0 * h && dy < 0.5 * h && (m.h() as f32) < 1.6 * h;
                fits.then_some((i, dy))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i);
        match best {
            Some(i) => {
                tallest[i] = tallest[i].max(m.h());
                rows[i].push(m);
            }
            None => {
                open.push(rows.len());
                tallest.push(m.h());
                rows.push(vec![m]);
            }
        }
    }
    rows.retain(|r| r.len() >= MIN_ROW);
    rows
}

pub mod synth;

#[cfg(test)]
mod tests;
