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
pub const DEMO_BADGE: Color = Color::srgb(0.95, 0.60, 0.10);

pub const TITLE_SIZE: f32 = 44.0;
pub const HEADING_SIZE: f32 = 30.0;
pub const BODY_SIZE: f32 = 24.0;
pub const KEY_SIZE: f32 = 40.0;

/// The smallest side of any touch target, in logical pixels.
pub const MIN_TOUCH: f32 = 72.0;
