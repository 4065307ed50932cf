//! High contrast (高对比度), for an applicant or officer who sees poorly: every colour of the
//! palette is swapped for its high-contrast one ([`theme::high_contrast`]): black text on white,
//! the chosen option yellow, every text at 7:1 or more against what it stands on (WCAG 2 AAA).
//! The screens keep spawning the normal palette; the colours are swapped as they appear or
//! change, and put back when high contrast is switched off.

use bevy::prelude::*;

use super::theme;

/// Whether high contrast is on.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HighContrast(pub bool);

/// The colours a node had before the swap, to put back, each with the colour the swap showed.
#[derive(Component, Debug, Default, Clone, Copy, PartialEq)]
struct Normal {
    background: Option<(Color, Color)>,
    text: Option<(Color, Color)>,
    border: Option<(BorderColor, BorderColor)>,
}

pub fn plugin(app: &mut App) {
    app.init_resource::<HighContrast>();
    // After every screen's systems (and their commands) and the buttons' press colours.
    app.add_systems(PostUpdate, swap_colours);
}

fn map_border(b: BorderColor) -> BorderColor {
    BorderColor {
        top: theme::high_contrast(b.top),
        right: theme::high_contrast(b.right),
        bottom: theme::high_contrast(b.bottom),
        left: theme::high_contrast(b.left),
    }
}

/// One colour that appeared or changed: the swapped one to set (the normal one kept with it),
/// or none. A colour written anew that the swap leaves as it is (white) is no longer kept, so
/// switching off does not bring back an older one; the colour the swap showed is its own.
fn swap<C: Copy + PartialEq>(current: C, kept: &mut Option<(C, C)>, map: impl Fn(C) -> C) -> Option<C> {
    let mapped = map(current);
    if mapped != current {
        *kept = Some((current, mapped));
        return Some(mapped);
    }
    if kept.is_some_and(|(_, shown)| shown != current) {
        *kept = None;
    }
    None
}

type Coloured<'a> = (
    Entity,
    Option<Mut<'a, BackgroundColor>>,
    Option<Mut<'a, TextColor>>,
    Option<Mut<'a, BorderColor>>,
    Option<&'a Normal>,
);

type AnyColour = Or<(With<BackgroundColor>, With<TextColor>, With<BorderColor>)>;

/// Swaps the colours that appeared or changed since the last frame (all of them when high
/// contrast was just switched on), or puts every swapped colour back when it was switched off.
fn swap_colours(
    contrast: Res<HighContrast>,
    clear: Option<ResMut<ClearColor>>,
    mut commands: Commands,
    mut nodes: Query<Coloured, AnyColour>,
) {
    let switched = contrast.is_changed();
    if switched && let Some(mut clear) = clear {
        clear.0 = if contrast.0 { theme::high_contrast(theme::BACKGROUND) } else { theme::BACKGROUND };
    }
    if !contrast.0 {
        if switched {
            // A colour written this very frame (a button's press) is already a normal one.
            for (entity, bg, text, border, normal) in &mut nodes {
                let Some(normal) = normal.copied() else { continue };
                if let (Some(mut bg), Some((c, _))) = (bg.filter(|c| !c.is_changed()), normal.background) {
                    bg.0 = c;
                }
                if let (Some(mut text), Some((c, _))) = (text.filter(|c| !c.is_changed()), normal.text) {
                    text.0 = c;
                }
                if let (Some(mut border), Some((c, _))) = (border.filter(|c| !c.is_changed()), normal.border) {
                    *border = c;
                }
                commands.entity(entity).try_remove::<Normal>();
            }
        }
        return;
    }
    for (entity, bg, text, border, normal) in &mut nodes {
        let before = normal.copied().unwrap_or_default();
        let mut kept = before;
        if let Some(mut bg) = bg.filter(|c| switched || c.is_changed())
            && let Some(c) = swap(bg.0, &mut kept.background, theme::high_contrast)
        {
            bg.0 = c;
        }
        if let Some(mut text) = text.filter(|c| switched || c.is_changed())
            && let Some(c) = swap(text.0, &mut kept.text, theme::high_contrast)
        {
            text.0 = c;
        }
        if let Some(mut border) = border.filter(|c| switched || c.is_changed())
            && let Some(c) = swap(*border, &mut kept.border, map_border)
        {
            *border = c;
        }
        if kept != before {
            commands.entity(entity).try_insert(kept);
        }
    }
}
