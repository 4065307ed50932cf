//! Colours and sizes. Touch targets are at least 72 px: officers wear gloves in winter,
//! and the applicant may press the screen with a shaking hand.

use bevy::prelude::*;

pub const BACKGROUND: Color = Color::srgb(0.96, 0.97, 0.98);
pub const HEADER: Color = Color::srgb(0.09, 0.23, 0.45);
pub const ON_HEADER: Color = Color::WHITE;
pub const TEXT: Color = Color::srgb(0.10, 0.12, 0.16);
pub const MUTED: Color = Color::srgb(0.35, 0.38, 0.44);
pub const ERROR: Color = Color::srgb(0.75, 0.10, 0.10);
pub const KEY: Color = Color::WHITE;
pub const KEY_PRESSED: Color = Color::srgb(0.80, 0.86, 0.95);
pub const KEY_BORDER: Color = Color::srgb(0.70, 0.74, 0.80);
pub const PRIMARY: Color = Color::srgb(0.09, 0.40, 0.80);
pub const PRIMARY_PRESSED: Color = Color::srgb(0.05, 0.28, 0.60);
pub const ON_PRIMARY: Color = Color::WHITE;
/// A chosen option.
pub const CHOSEN: Color = Color::srgb(0.88, 0.93, 1.0);
pub const OK: Color = Color::srgb(0.10, 0.50, 0.20);
/// Held for the officer to look and answer (a photo a check refused and the officer may
/// clear by looking): not a pass, not a refusal to retake.
pub const WARN: Color = Color::srgb(0.62, 0.33, 0.0);
pub const DEMO_BADGE: Color = Color::srgb(0.95, 0.60, 0.10);
/// A finger still to take, on the hands' diagram (filled, outlined in [`KEY_BORDER`]).
pub const PENDING: Color = Color::srgb(0.70, 0.74, 0.81);

pub const TITLE_SIZE: f32 = 44.0;
pub const HEADING_SIZE: f32 = 30.0;
pub const BODY_SIZE: f32 = 24.0;
pub const KEY_SIZE: f32 = 40.0;

/// The smallest side of any touch target, in logical pixels.
pub const MIN_TOUCH: f32 = 72.0;

/// The high-contrast palette (高对比度), for eyes that need more than the larger text: each
/// colour of the palette above and what it becomes. Black text on white; the chosen option
/// yellow; every text at 7:1 or more against what it stands on (WCAG 2, level AAA). White
/// stays white.
const HIGH_CONTRAST: [(Color, Color); 14] = [
    (BACKGROUND, Color::WHITE),
    (HEADER, Color::BLACK),
    (TEXT, Color::BLACK),
    (MUTED, Color::srgb(0.15, 0.15, 0.15)),
    (ERROR, Color::srgb(0.6, 0.0, 0.0)),
    // Pressed is not chosen: a light grey, the chosen yellow kept for the choice.
    (KEY_PRESSED, Color::srgb(0.8, 0.8, 0.8)),
    (KEY_BORDER, Color::srgb(0.35, 0.35, 0.35)),
    (PRIMARY, Color::srgb(0.0, 0.25, 0.75)),
    (PRIMARY_PRESSED, Color::srgb(0.2, 0.2, 0.2)),
    (CHOSEN, Color::srgb(1.0, 0.92, 0.3)),
    (OK, Color::srgb(0.0, 0.35, 0.1)),
    (WARN, Color::srgb(0.45, 0.2, 0.0)),
    (DEMO_BADGE, Color::srgb(1.0, 0.75, 0.0)),
    // Empty and outlined, where the fingers done and the one asked for are filled: told apart
    // by more than their hue.
    (PENDING, Color::WHITE),
];

/// A colour of the palette as high contrast shows it; any other colour as it is.
pub fn high_contrast(c: Color) -> Color {
    HIGH_CONTRAST.iter().find(|(normal, _)| *normal == c).map_or(c, |(_, high)| *high)
}

/// The contrast ratio of two opaque colours (WCAG 2): 1 (the same) to 21 (black on white).
pub fn contrast_ratio(a: Color, b: Color) -> f32 {
    let luminance = |c: Color| {
        let l = c.to_linear();
        0.2126 * l.red + 0.7152 * l.green + 0.0722 * l.blue
    };
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pairs the screens draw, text on what it stands on: at least 7:1 in high contrast.
    #[test]
    fn high_contrast_texts_reach_seven_to_one() {
        let pairs = [
            (TEXT, BACKGROUND),
            (MUTED, BACKGROUND),
            (ERROR, BACKGROUND),
            (OK, BACKGROUND),
            (WARN, BACKGROUND),
            (PRIMARY, BACKGROUND),
            (TEXT, KEY),
            (TEXT, CHOSEN),
            (TEXT, KEY_PRESSED),
            (MUTED, KEY),
            (ON_PRIMARY, PRIMARY),
            (ON_PRIMARY, PRIMARY_PRESSED),
            (ON_HEADER, HEADER),
            (TEXT, DEMO_BADGE),
        ];
        for (text, on) in pairs {
            let ratio = contrast_ratio(high_contrast(text), high_contrast(on));
            assert!(ratio >= 7.0, "{text:?} on {on:?}: {ratio:.1}:1");
        }
        assert!((contrast_ratio(Color::BLACK, Color::WHITE) - 21.0).abs() < 0.01);
        assert_eq!(contrast_ratio(TEXT, TEXT), 1.0);
        // Swapping twice is swapping once (a colour already swapped is left as it is).
        for (normal, _) in HIGH_CONTRAST {
            assert_eq!(high_contrast(high_contrast(normal)), high_contrast(normal), "{normal:?}");
        }
        assert_eq!(high_contrast(Color::srgb(0.5, 0.1, 0.9)), Color::srgb(0.5, 0.1, 0.9), "not the palette's");
        // What tells states apart stays apart: pressed from chosen, a finger to take (outlined,
        // on the background) from the ones filled.
        assert_ne!(high_contrast(KEY_PRESSED), high_contrast(CHOSEN));
        assert!(contrast_ratio(high_contrast(KEY_BORDER), high_contrast(BACKGROUND)) >= 3.0, "the outline shows");
        for filled in [OK, ERROR, PRIMARY] {
            let ratio = contrast_ratio(high_contrast(filled), high_contrast(PENDING));
            assert!(ratio >= 3.0, "{filled:?} against a finger to take: {ratio:.1}:1");
        }
    }
}
