//! A hat or head covering (DOMAIN.md §1.1: bare-headed; religious, medical or cultural
//! coverings only if the face shows): measured above the brows, in the face's own frame (up
//! the face, and across it).
//!
//! Going up each of a row of columns across the forehead from just above the brows, the skin
//! ends where hair, or a covering, begins. A covering is refused where what can be seen says so
//! and hair could not look the same: its lower edge runs low and smooth across the forehead
//! (a hairline is higher, or uneven), and what lies above it is a colour hair does not have
//! (blue, green, purple, a bright red).
//!
//! A covering of a colour hair has (black, white, grey, beige, brown) is not told from hair by
//! its colour: a straight dark fringe looks the same across the forehead. Followed out beyond
//! the temples, a cap's edge goes on round the head at the same height, and so does hair cut
//! straight round it (a bowl cut), or tucked behind the ears under a straight fringe; hair that
//! hangs down the side of the head does not. Where such an edge goes round the head, the
//! measures cannot tell which it is, and the standard asks for a bare head: the check refuses
//! it as a covering, and the officer, having looked, may clear it as hair with one answer.

use image::RgbImage;

use crate::checks::{CheckResult, Threshold};
use crate::geometry::Plain;
use crate::mesh::{Landmarks, index};
use crate::profile::Profile;

/// What was measured above the brows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Covering {
    /// Share of the columns across the forehead where the skin ends before the backdrop.
    pub coverage: f32,
    /// Where the skin ends, in eye distances above the brows: the median over the columns.
    pub edge_height: f32,
    /// How far the edge strays from the smooth curve (the parabola) that fits it best across
    /// the forehead (root mean square, in eye distances).
    pub edge_spread: f32,
    /// The colour above the edge (median of each channel), where the skin ends.
    pub above: Option<[f32; 3]>,
    /// Beyond the temples, on the side where it holds least: the share of columns where the
    /// colour above the edge comes down to the forehead's edge line, carried on, and ends
    /// there, as a band round the head does (hair goes on down the side of the head, or is not
    /// there). `NaN` where there is no edge, or no colour above it.
    pub round: f32,
}

/// What the measures say of the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Nothing covers it: the skin reaches high, or the edge is a hairline or a fringe.
    Bare,
    /// A covering: low, straight across the forehead, of a colour hair does not have.
    Covered,
    /// Low and straight, of a colour hair has, and round the head: a covering, or hair cut
    /// straight round the head; the measures cannot tell which.
    CoveringOrHair,
}

/// Columns across the forehead, each side of the face's middle, in eye distances.
const HALF_SPAN: f32 = 0.55;
const COLUMNS: usize = 23;
/// Samples per eye distance going up.
const STEPS: f32 = 48.0;
/// Non-skin samples in a row that end the skin.
const RUN: usize = 3;
/// Columns beyond the temples, each side, in eye distances from the face's middle: measuring
/// places, not thresholds (the forehead's own edge at the brows' height is 0.88–0.99 eye
/// distances out on the labelled set, face mesh points 54 and 284; a cap's band reaches past it).
const SIDE_COLUMNS: [f32; 7] = [0.70, 0.75, 0.80, 0.85, 0.90, 0.95, 1.00];
/// How far above the forehead's edge line a side column starts (in the covering's colour).
const SIDE_START: f32 = 0.12;
/// How far below the line a side column looks for the colour's end.
const SIDE_DEPTH: f32 = 1.2;

fn px(img: &RgbImage, x: f32, y: f32) -> Option<[f32; 3]> {
    if x < 0.0 || y < 0.0 || x >= img.width() as f32 || y >= img.height() as f32 {
        return None;
    }
    let p = img.get_pixel(x as u32, y as u32);
    Some([f32::from(p[0]), f32::from(p[1]), f32::from(p[2])])
}

fn median3(v: &mut [[f32; 3]]) -> Option<[f32; 3]> {
    if v.is_empty() {
        return None;
    }
    let mut out = [0.0; 3];
    for (c, o) in out.iter_mut().enumerate() {
        v.sort_by(|a, b| a[c].total_cmp(&b[c]));
        *o = v[v.len() / 2][c];
    }
    Some(out)
}

fn chroma_distance(a: [f32; 3], b: [f32; 3]) -> f32 {
    let sum = |c: [f32; 3]| (c[0] + c[1] + c[2]).max(1.0);
    let (sa, sb) = (sum(a), sum(b));
    ((a[0] / sa - b[0] / sb).powi(2) + (a[1] / sa - b[1] / sb).powi(2)).sqrt()
}

fn luma3(c: [f32; 3]) -> f32 {
    0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
}

/// Whether `p` is the colour `of` a covering or hair: near it in brightness (within 40 %, or 25
/// levels for the darkest), and in chromaticity too unless both are dark (under 70, where the
/// chromaticity of a dark colour is JPEG noise: the real cap's black band measured 0.02–0.12
/// apart from its own median). Measuring tolerances, set on the labelled set's caps and hair.
fn like(p: [f32; 3], of: [f32; 3]) -> bool {
    let (lp, lo) = (luma3(p), luma3(of));
    (lp - lo).abs() <= (0.4 * lo).max(25.0) && (lp.max(lo) < 70.0 || chroma_distance(p, of) <= 0.06)
}

/// Whether `p` is the colour of the skin `skin`: near it in chromaticity, and in brightness
/// within a wide range (a forehead is often lit more, or less, than the cheeks).
fn is_skin(p: [f32; 3], skin: [f32; 3]) -> bool {
    let bright = (p[0] + p[1] + p[2]) / (skin[0] + skin[1] + skin[2]).max(1.0);
    chroma_distance(p, skin) <= 0.035 && (0.6..=1.45).contains(&bright)
}

/// Whether a colour is one hair has, natural or as people commonly dye it: grey to white,
/// black, dark reds (burgundy), and brown to blonde and auburn (a warm hue, not strongly
/// saturated when it is bright).
pub fn hair_colour(c: [f32; 3]) -> bool {
    let mx = c[0].max(c[1]).max(c[2]);
    let mn = c[0].min(c[1]).min(c[2]);
    let sat = if mx > 0.0 { (mx - mn) / mx } else { 0.0 };
    if mx < 60.0 || sat < 0.25 || (c[0] == mx && mx < 120.0) {
        return true;
    }
    // Warm: red the largest channel and blue the smallest, green not far below red.
    let warm = c[0] >= c[1] && c[1] >= c[2] && (c[1] - c[2]) >= 0.25 * (c[0] - c[2]);
    warm && sat <= 0.85
}

/// How far the points `(s, t)` stray from the parabola that fits them best (least squares; root
/// mean square): a band round the head has a smooth edge, and follows the head's curve down
/// toward the temples, so it is not held to a straight line; a hairline is uneven about any
/// smooth curve. `NaN` under four points.
fn curve_spread(points: &[(f32, f32)]) -> f32 {
    if points.len() < 4 {
        return f32::NAN;
    }
    let n = points.len() as f64;
    let mid = points.iter().map(|p| p.0 as f64).sum::<f64>() / n;
    // Σ xᵏ (k = 0..4) and Σ xᵏ t (k = 0..2), x measured from the middle.
    let (mut x, mut xt) = ([0.0f64; 5], [0.0f64; 3]);
    for &(s, t) in points {
        let (d, t) = (s as f64 - mid, t as f64);
        for (k, sum) in x.iter_mut().enumerate() {
            *sum += d.powi(k as i32);
        }
        for (k, sum) in xt.iter_mut().enumerate() {
            *sum += d.powi(k as i32) * t;
        }
    }
    let det3 = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let normal = [[x[0], x[1], x[2]], [x[1], x[2], x[3]], [x[2], x[3], x[4]]];
    let det = det3(normal);
    if det.abs() < 1e-12 {
        return f32::NAN;
    }
    // Cramer's rule: each coefficient with its column of the normal matrix replaced by Σ xᵏ t.
    let coef = |c: usize| {
        let mut m = normal;
        (0..3).for_each(|r| m[r][c] = xt[r]);
        det3(m) / det
    };
    let (a, b, c) = (coef(0), coef(1), coef(2));
    let sum = points
        .iter()
        .map(|&(s, t)| {
            let d = s as f64 - mid;
            (t as f64 - (a + b * d + c * d * d)).powi(2)
        })
        .sum::<f64>();
    (sum / n).sqrt() as f32
}

/// Measures what lies above the brows, or `None` where the face's frame leaves the picture.
pub fn measure(img: &RgbImage, lm: &Landmarks, plain: Option<&Plain>, profile: &Profile) -> Option<Covering> {
    let (ux, uy) = lm.up();
    let (rx, ry) = (-uy, ux);
    let ed = lm.eye_distance().max(1.0);
    let (br, bl) = (lm.p(index::BROW_RIGHT), lm.p(index::BROW_LEFT));
    let brow = ((br.x + bl.x) / 2.0, (br.y + bl.y) / 2.0);
    let at = |s: f32, t: f32| (brow.0 + (rx * s + ux * t) * ed, brow.1 + (ry * s + uy * t) * ed);
    // The skin: the forehead just above the brows, between them, unless a covering comes down
    // that far (its colour or its brightness unlike the cheeks'); then the cheeks.
    let mut forehead = Vec::new();
    for a in 0..9 {
        for b in 0..4 {
            let (x, y) = at(-0.2 + 0.05 * a as f32, 0.05 + 0.03 * b as f32);
            forehead.extend(px(img, x, y));
        }
    }
    let mut cheeks = Vec::new();
    for i in [index::CHEEK_PATCH_RIGHT, index::CHEEK_PATCH_LEFT] {
        let c = lm.p(i);
        for a in 0..5 {
            for b in 0..5 {
                cheeks.extend(px(img, c.x + (a as f32 - 2.0) * 0.04 * ed, c.y + (b as f32 - 2.0) * 0.04 * ed));
            }
        }
    }
    let cheeks = median3(&mut cheeks)?;
    let forehead = median3(&mut forehead);
    let skin = match forehead {
        Some(f) if chroma_distance(f, cheeks) <= 0.15 && (0.6..=1.8).contains(&(luma3(f) / luma3(cheeks).max(1.0))) => {
            f
        }
        _ => cheeks,
    };
    let backdrop = |p: [f32; 3]| plain.is_some_and(|pl| pl.matches_lit(&image::Rgb(p.map(|v| v as u8))));
    let mut edges: Vec<(f32, f32)> = Vec::new();
    let mut above: Vec<[f32; 3]> = Vec::new();
    for k in 0..COLUMNS {
        let s = -HALF_SPAN + 2.0 * HALF_SPAN * k as f32 / (COLUMNS - 1) as f32;
        let mut run = 0;
        let mut edge = None;
        let mut step = (0.1 * STEPS) as usize;
        while step < (3.0 * STEPS) as usize {
            let t = step as f32 / STEPS;
            let (x, y) = at(s, t);
            let Some(p) = px(img, x, y) else { break };
            if backdrop(p) {
                break;
            }
            match edge {
                None if is_skin(p, skin) => run = 0,
                None => {
                    run += 1;
                    if run == RUN {
                        edge = Some(t - (RUN - 1) as f32 / STEPS);
                    }
                }
                Some(e) => {
                    if t - e > 0.1 && t - e < 0.9 {
                        above.push(p);
                    }
                }
            }
            step += 1;
        }
        if let Some(e) = edge {
            edges.push((s, e));
        }
    }
    let coverage = edges.len() as f32 / COLUMNS as f32;
    let mut heights: Vec<f32> = edges.iter().map(|e| e.1).collect();
    heights.sort_by(f32::total_cmp);
    let edge_height = heights.get(heights.len() / 2).copied().unwrap_or(f32::NAN);
    // A straight line through the edge points (least squares), carried on beyond the temples.
    let n = edges.len() as f32;
    let line = (edges.len() >= 3).then(|| {
        let (ms, mt) = (edges.iter().map(|e| e.0).sum::<f32>() / n, edges.iter().map(|e| e.1).sum::<f32>() / n);
        let sst = edges.iter().map(|e| (e.0 - ms).powi(2)).sum::<f32>().max(1e-6);
        let b = edges.iter().map(|e| (e.0 - ms) * (e.1 - mt)).sum::<f32>() / sst;
        move |s: f32| mt + b * (s - ms)
    });
    let edge_spread = curve_spread(&edges);
    let above = median3(&mut above);
    // Each side column starts just above the line, in the covering's colour, and goes down to
    // where that colour ends.
    let max_offset = profile.value("head_covering", "max_round_offset");
    let round = match (line, above) {
        (Some(line), Some(colour)) => {
            let banded = |x: f32, y: f32| px(img, x, y).is_some_and(|c| !backdrop(c) && like(c, colour));
            let ends_at_line = |s: f32| {
                let from = line(s) + SIDE_START;
                let (x, y) = at(s, from);
                if !banded(x, y) {
                    return false;
                }
                let mut miss = 0;
                let mut step = 1;
                while step as f32 / STEPS <= SIDE_START + SIDE_DEPTH {
                    let t = from - step as f32 / STEPS;
                    let (x, y) = at(s, t);
                    if banded(x, y) {
                        miss = 0;
                    } else {
                        miss += 1;
                        if miss == RUN {
                            let end = t + (RUN - 1) as f32 / STEPS;
                            return (end - line(s)).abs() <= max_offset;
                        }
                    }
                    step += 1;
                }
                false
            };
            let share = |sign: f32| {
                SIDE_COLUMNS.iter().filter(|&&s| ends_at_line(sign * s)).count() as f32 / SIDE_COLUMNS.len() as f32
            };
            share(-1.0).min(share(1.0))
        }
        _ => f32::NAN,
    };
    Some(Covering { coverage, edge_height, edge_spread, above, round })
}

impl Covering {
    /// What the head is, by the policy's measures. The skin ends across the forehead
    /// (`min_coverage` of the columns), low (at most `max_edge_height` eye distances above the
    /// brows) and along a smooth curve (`max_edge_spread`): under a colour hair does not have,
    /// a covering; under a colour hair has, a covering or hair where the edge goes round the
    /// head (`min_round` of the columns beyond the temples, each side), else a fringe.
    pub fn seen(&self, p: &Profile) -> Seen {
        let m = |k| p.value("head_covering", k);
        let low_and_straight = self.coverage >= m("min_coverage")
            && self.edge_height <= m("max_edge_height")
            && self.edge_spread <= m("max_edge_spread");
        match self.above {
            Some(above) if low_and_straight && !hair_colour(above) => Seen::Covered,
            Some(_) if low_and_straight && self.round >= m("min_round") => Seen::CoveringOrHair,
            _ => Seen::Bare,
        }
    }
}

/// What the officer is asked to look at where a covering is not told from hair.
pub const LOOK: &str = "photo.look.covering-or-hair";

/// The check: a head covering refuses the photo. Its value is the edge's height above the
/// brows (eye distances), where the skin ends across the forehead; with no edge (a bald head
/// on a plain backdrop), nothing covers the head. Where a covering is not told from hair cut
/// straight round the head, the check refuses it as a covering that the officer may clear by
/// looking (`CheckResult::look`): hair cut so, or tucked behind the ears under a straight
/// fringe, looks the same to these measures, and is common, so it costs one answer on the
/// unit, not a written reason; a dark cap is never let through unseen.
pub fn head_covering(img: &RgbImage, lm: &Landmarks, plain: Option<&Plain>, p: &Profile) -> CheckResult {
    let threshold =
        Threshold::new("photo.threshold.head-covering", &[("max", p.value("head_covering", "max_edge_height"))]);
    match measure(img, lm, plain, p) {
        None => CheckResult::cannot("head_covering", threshold, crate::checks::NO_LANDMARKS),
        Some(c) => {
            // No edge found (the skin reaches the crown): no height to report.
            let value = c.edge_height.is_finite().then_some(c.edge_height);
            match c.seen(p) {
                // Refused as a covering, which the officer may clear by looking (a cap, or hair
                // cut straight?).
                Seen::CoveringOrHair => CheckResult::look("head_covering", value, threshold, LOOK),
                seen => {
                    let mut r = CheckResult::judged(
                        "head_covering",
                        c.edge_height,
                        threshold,
                        seen == Seen::Bare,
                        "photo.head-covering",
                    );
                    r.value = value;
                    r
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hair_colours_and_others() {
        for (c, hair) in [
            ([20.0, 18.0, 16.0], true),     // black
            ([90.0, 60.0, 35.0], true),     // brown
            ([200.0, 170.0, 110.0], true),  // blonde
            ([150.0, 70.0, 35.0], true),    // auburn
            ([210.0, 210.0, 205.0], true),  // white
            ([130.0, 128.0, 125.0], true),  // grey
            ([38.0, 48.0, 92.0], false),    // navy
            ([176.0, 36.0, 42.0], false),   // red
            ([40.0, 120.0, 60.0], false),   // green
            ([230.0, 120.0, 170.0], false), // pink
        ] {
            assert_eq!(hair_colour(c), hair, "{c:?}");
        }
    }

    /// The edge's spread is about the best parabola: a band's edge curving down toward the
    /// temples is smooth, a hairline's zigzag is not.
    #[test]
    fn an_edge_is_measured_against_a_smooth_curve() {
        let across = |f: &dyn Fn(f32) -> f32| -> Vec<(f32, f32)> {
            (0..COLUMNS)
                .map(|k| -HALF_SPAN + 2.0 * HALF_SPAN * k as f32 / (COLUMNS - 1) as f32)
                .map(|s| (s, f(s)))
                .collect()
        };
        let zigzag = |s: f32| 0.3 + if ((s + 1.0) * 20.0) as i32 % 2 == 0 { 0.08 } else { -0.08 };
        for (what, points, low, high) in [
            ("level", across(&|_| 0.25), 0.0, 1e-4),
            ("tilted", across(&|s| 0.25 + 0.2 * s), 0.0, 1e-4),
            ("curving down at the temples", across(&|s| 0.3 - 0.5 * s * s), 0.0, 1e-4),
            ("curving down off-centre", across(&|s| 0.3 - 0.5 * (s - 0.1) * (s - 0.1)), 0.0, 1e-4),
            ("a zigzag", across(&zigzag), 0.07, 0.09),
        ] {
            let spread = curve_spread(&points);
            assert!((low..=high).contains(&spread), "{what}: {spread}");
        }
        assert!(curve_spread(&[(0.0, 0.1), (0.1, 0.2), (0.2, 0.1)]).is_nan(), "three points fit any parabola");
    }

    /// Each row changes one thing from a navy cap low and straight across the forehead, whose
    /// edge does not go round the head.
    #[test]
    fn what_makes_a_covering() {
        let p = Profile::passport();
        let cap = Covering {
            coverage: 1.0,
            edge_height: 0.25,
            edge_spread: 0.02,
            above: Some([38.0, 48.0, 92.0]),
            round: 0.0,
        };
        let black = Some([35.0, 21.0, 25.0]);
        for (what, c, seen) in [
            ("a navy cap", cap, Seen::Covered),
            ("a red cap", Covering { above: Some([176.0, 36.0, 42.0]), ..cap }, Seen::Covered),
            ("a navy cap, round the head", Covering { round: 1.0, ..cap }, Seen::Covered),
            ("the edge high on the forehead: a hairline", Covering { edge_height: 0.8, ..cap }, Seen::Bare),
            ("the edge uneven", Covering { edge_spread: 0.12, ..cap }, Seen::Bare),
            ("the skin ends in a few columns only", Covering { coverage: 0.5, ..cap }, Seen::Bare),
            ("a dark fringe, the hair turning down at the temples", Covering { above: black, ..cap }, Seen::Bare),
            (
                "dark, round the head: a cap or a bowl cut",
                Covering { above: black, round: 1.0, ..cap },
                Seen::CoveringOrHair,
            ),
            (
                "dark, round the head at a few columns: hair hanging down at a temple",
                Covering { above: black, round: 0.2, ..cap },
                Seen::Bare,
            ),
            (
                "dark, round the head, one side in shade (fewer columns matched)",
                Covering { above: black, round: 0.45, ..cap },
                Seen::CoveringOrHair,
            ),
            (
                "dark, round the head but high: a hairline",
                Covering { above: black, round: 1.0, edge_height: 0.8, ..cap },
                Seen::Bare,
            ),
            ("a light brown fringe", Covering { above: Some([152.0, 129.0, 89.0]), ..cap }, Seen::Bare),
            ("a burgundy-dyed fringe", Covering { above: Some([105.0, 32.0, 45.0]), ..cap }, Seen::Bare),
            (
                "the skin never ends",
                Covering { above: None, edge_height: f32::NAN, round: f32::NAN, ..cap },
                Seen::Bare,
            ),
        ] {
            assert_eq!(c.seen(&p), seen, "{what}");
        }
    }

    #[test]
    fn colours_alike() {
        for (a, b, alike) in [
            ([32.0, 30.0, 33.0], [20.0, 12.0, 30.0], true), // two blacks: chromaticity is noise
            ([32.0, 30.0, 33.0], [90.0, 88.0, 95.0], false), // black and grey
            ([150.0, 128.0, 90.0], [140.0, 118.0, 82.0], true), // one brown, lit a little less
            ([150.0, 128.0, 90.0], [120.0, 128.0, 150.0], false), // brown and a grey-blue
        ] {
            assert_eq!(like(a, b), alike, "{a:?} {b:?}");
        }
    }
}
