//! Theme (and its high contrast), fonts, screen text and widgets. No business rules live here.

pub mod contrast;
pub mod fonts;
pub mod form;
pub mod i18n;
pub mod theme;
pub mod widgets;

use bevy::prelude::*;

pub fn plugin(app: &mut App) {
    app.add_plugins((i18n::plugin, widgets::plugin, form::plugin, contrast::plugin));
}
