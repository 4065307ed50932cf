//! What a screenshot's report says of the screen as laid out: text that does not fit, and text
//! that does not stand out from what it stands on.

use bevy::prelude::*;

use crate::ui::i18n::Tr;

/// A laid-out node's box, (top left, bottom right) in physical pixels: its centre (where the
/// layout puts its transform, scrolling applied) ± half its size.
pub(super) fn node_box(
    laid_out: &Query<(&ComputedNode, &UiGlobalTransform, Option<&InheritedVisibility>, Option<&Node>)>,
    e: Entity,
) -> Option<(Vec2, Vec2)> {
    let (n, t, _, _) = laid_out.get(e).ok()?;
    let min = t.translation - n.size / 2.0;
    Some((min, min + n.size))
}

/// The locale keys of visible texts that do not fit: outside the window, or sticking out of
/// the node that holds them (bevy breaks Chinese between any two characters, but a long
/// number or word can still overflow).
pub(super) fn clipped_texts(
    window: Vec2,
    laid_out: &Query<(&ComputedNode, &UiGlobalTransform, Option<&InheritedVisibility>, Option<&Node>)>,
    parents: &Query<&ChildOf>,
    texts: &Query<(Entity, &Text, Option<&Tr>)>,
    elsewhere: &dyn Fn(Entity) -> bool,
) -> Vec<String> {
    let rect = |e: Entity| {
        let (min, max) = node_box(laid_out, e)?;
        let (n, _, v, _) = laid_out.get(e).ok()?;
        Some((min, max, v.is_none_or(|v| v.get()) && n.size.x > 0.0))
    };
    let mut out = Vec::new();
    for (e, text, tr) in texts.iter() {
        let Some((min, max, visible)) = rect(e) else { continue };
        if !visible || text.0.is_empty() || elsewhere(e) {
            continue;
        }
        // Below the window inside a scrolling box is reachable: not clipped.
        let scrolls = parents.iter_ancestors(e).any(|a| {
            laid_out.get(a).ok().and_then(|(_, _, _, n)| n).is_some_and(|n| n.overflow.y == OverflowAxis::Scroll)
        });
        let outside_window =
            min.x < -1.0 || max.x > window.x + 1.0 || (!scrolls && (min.y < -1.0 || max.y > window.y + 1.0));
        let parent = parents.get(e).ok().and_then(|p| rect(p.parent()));
        let outside_parent = parent.is_some_and(|(pmin, pmax, _)| max.x > pmax.x + 1.0 || min.x < pmin.x - 1.0);
        if outside_window || outside_parent {
            out.push(tr.map_or("(plain text)", |t| if t.key.is_empty() { "(message)" } else { t.key }).to_string());
        }
    }
    out
}

/// Each visible text that stands out from what it stands on (its nearest ancestor with an
/// opaque background, else the window's `ground`) by less than `least`: its locale key and ratio.
pub(super) fn low_contrast_texts(
    least: f32,
    ground: Color,
    colours: &Query<(Option<&TextColor>, Option<&BackgroundColor>)>,
    laid_out: &Query<(&ComputedNode, &UiGlobalTransform, Option<&InheritedVisibility>, Option<&Node>)>,
    parents: &Query<&ChildOf>,
    texts: &Query<(Entity, &Text, Option<&Tr>)>,
) -> Vec<String> {
    let background = |e: Entity| colours.get(e).ok().and_then(|(_, bg)| bg).map(|bg| bg.0).filter(|c| c.alpha() > 0.99);
    let mut out = Vec::new();
    for (e, text, tr) in texts.iter() {
        let shown = laid_out.get(e).is_ok_and(|(n, _, v, _)| v.is_none_or(|v| v.get()) && n.size.x > 0.0);
        let Ok((Some(colour), _)) = colours.get(e) else { continue };
        if !shown || text.0.trim().is_empty() {
            continue;
        }
        let on = parents.iter_ancestors(e).find_map(background).unwrap_or(ground);
        let ratio = crate::ui::theme::contrast_ratio(colour.0, on);
        if ratio < least {
            let key = tr.map_or("(plain text)", |t| t.message.as_ref().map_or(t.key, |m| m.key));
            out.push(format!("{key} {ratio:.1}:1"));
        }
    }
    out
}
