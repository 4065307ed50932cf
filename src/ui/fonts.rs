//! The CJK font, embedded in the binary and installed as bevy's default font, so every
//! text (Chinese, English, digits) uses it and none can fall back to a font without Chinese.

use bevy::prelude::*;

/// Noto Sans CJK SC, subset (see assets/fonts/NotoSansSC-doorstep.LICENSE.txt).
pub const CJK_FONT: &[u8] = include_bytes!("../../assets/fonts/NotoSansSC-doorstep.otf");

/// Installs the CJK font behind `Handle::<Font>::default()`. Needs the text plugin.
pub fn plugin(app: &mut App) {
    let font = Font::from_bytes(CJK_FONT.to_vec());
    let mut fonts = app.world_mut().resource_mut::<Assets<Font>>();
    if let Err(e) = fonts.insert(AssetId::default(), font) {
        error!("cannot install the CJK font: {e}");
    }
}
