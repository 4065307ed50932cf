//! Widgets: large buttons with press feedback, and text helpers.

use bevy::prelude::*;

use super::i18n::Tr;
use super::theme;

/// Normal and pressed colours of a button.
#[derive(Component, Debug, Clone, Copy)]
pub struct ButtonColors {
    pub normal: Color,
    pub pressed: Color,
}

/// A box whose content scrolls with the wheel and with a finger dragged on the screen.
#[derive(Component, Debug)]
pub struct Scrolls;

/// A node that takes a dragged finger for itself (the signature pad): no scrolling meanwhile.
#[derive(Component, Debug)]
pub struct TakesDrag;

pub fn plugin(app: &mut App) {
    app.add_systems(Update, (show_press, scroll));
}

fn scroll(
    mut wheel: MessageReader<bevy::input::mouse::MouseWheel>,
    touches: Option<Res<bevy::input::touch::Touches>>,
    drags: Query<&Interaction, With<TakesDrag>>,
    mut boxes: Query<&mut ScrollPosition, With<Scrolls>>,
    scale: Option<Res<UiScale>>,
) {
    use bevy::input::mouse::MouseScrollUnit;
    let mut dy: f32 = wheel.read().map(|w| if w.unit == MouseScrollUnit::Line { w.y * 48.0 } else { w.y }).sum();
    if let Some(t) = touches
        && !drags.iter().any(|i| *i == Interaction::Pressed)
    {
        // The finger moves in window pixels; the scroll is in the interface's (scaled) units.
        let k = scale.map_or(1.0, |s| s.0).max(0.1);
        dy += t.iter().map(|t| t.delta().y).sum::<f32>() / k;
    }
    if dy != 0.0 {
        for mut p in &mut boxes {
            p.y = (p.y - dy).max(0.0);
        }
    }
}

fn show_press(mut buttons: Query<(&Interaction, &ButtonColors, &mut BackgroundColor), Changed<Interaction>>) {
    for (interaction, colors, mut bg) in &mut buttons {
        bg.0 = match interaction {
            Interaction::Pressed => colors.pressed,
            _ => colors.normal,
        };
    }
}

/// A translatable text of `size` and `color`.
pub fn label(tr: Tr, size: f32, color: Color) -> impl Bundle {
    (Text::new(""), tr, TextFont::from_font_size(size), TextColor(color))
}

/// A plain (not translated) text, for digits and symbols.
pub fn plain(text: &str, size: f32, color: Color) -> impl Bundle {
    (Text::new(text), TextFont::from_font_size(size), TextColor(color))
}

/// A keypad-style button: white, bordered, at least [`theme::MIN_TOUCH`] on each side.
pub fn key_button(action: impl Component, width: f32, content: impl Bundle) -> impl Bundle {
    (
        Button,
        action,
        Node {
            width: Val::Px(width.max(theme::MIN_TOUCH)),
            height: Val::Px(88.0),
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            border: UiRect::all(Val::Px(2.0)),
            border_radius: BorderRadius::all(Val::Px(12.0)),
            ..default()
        },
        BackgroundColor(theme::KEY),
        BorderColor::all(theme::KEY_BORDER),
        ButtonColors { normal: theme::KEY, pressed: theme::KEY_PRESSED },
        children![content],
    )
}

/// The main action of a screen: blue, full width of its column.
pub fn primary_button(action: impl Component, tr: Tr) -> impl Bundle {
    (
        Button,
        action,
        Node {
            width: Val::Percent(100.0),
            min_height: Val::Px(88.0),
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            border_radius: BorderRadius::all(Val::Px(12.0)),
            ..default()
        },
        BackgroundColor(theme::PRIMARY),
        ButtonColors { normal: theme::PRIMARY, pressed: theme::PRIMARY_PRESSED },
        children![label(tr, theme::HEADING_SIZE, theme::ON_PRIMARY)],
    )
}
