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

/// A node brought into view in the scrolling box it is in, once laid out (a refusal said beside
/// the control it concerns, below the fold); taken off once done, a few frames on (what is laid
/// out above it may still grow meanwhile: a field's count of characters comes a frame later).
#[derive(Component, Debug)]
pub struct BringIntoView;

/// A node that takes a dragged finger for itself (the signature pad): no scrolling meanwhile.
#[derive(Component, Debug)]
pub struct TakesDrag;

pub fn plugin(app: &mut App) {
    app.add_systems(Update, (show_press, scroll));
    // After the layout: where each box ends, and what it holds below that.
    // What is brought into view is measured against the box as laid out, before the cue's room
    // is asked for (it is laid out at the next frame: see `bring_into_view`).
    app.add_systems(PostUpdate, (bring_into_view, more_below).chain().after(bevy::ui::UiSystems::Layout));
}

/// Scrolls each box holding a [`BringIntoView`] node as little as brings the whole node into
/// view: up to its bottom (what it says of the control above it stays in view above it), or
/// down to its top. Layout is in physical pixels, the scroll in logical ones. Drawn at the next
/// frame, which is asked for. Measured again for [`BRING_FRAMES`] frames once laid out: what is
/// above it may still move it down (scrolled once, it was left short of view).
fn bring_into_view(
    mut commands: Commands,
    marked: Query<Entity, With<BringIntoView>>,
    parents: Query<&ChildOf>,
    laid_out: Query<(&ComputedNode, &UiGlobalTransform)>,
    mut boxes: Query<(&mut ScrollPosition, &Node), With<Scrolls>>,
    mut redraw: MessageWriter<bevy::window::RequestRedraw>,
    mut frames: Local<std::collections::HashMap<Entity, u8>>,
) {
    const ROOM: f32 = 8.0;
    frames.retain(|e, _| marked.contains(*e));
    for e in &marked {
        let Some(b) = parents.iter_ancestors(e).find(|a| boxes.contains(*a)) else {
            commands.entity(e).remove::<BringIntoView>();
            continue;
        };
        let (Ok((n, t)), Ok((bn, bt))) = (laid_out.get(e), laid_out.get(b)) else { continue };
        // Not laid out yet.
        if n.size.y <= 0.0 {
            redraw.write(bevy::window::RequestRedraw);
            continue;
        }
        let k = bn.inverse_scale_factor;
        // Where the node's top and bottom are below the box's top, in view (logical pixels).
        let top = ((t.translation.y - n.size.y / 2.0) - (bt.translation.y - bn.size.y / 2.0)) * k;
        let bottom = top + n.size.y * k;
        // A box longer than it shows takes the cue's room under itself (`more_below`), if it has
        // not yet: what is in view then is that much shorter.
        let roomy = boxes.get(b).is_ok_and(|(_, node)| node.margin.bottom == Val::Px(CUE_HEIGHT));
        let overflows = bn.content_size.y > bn.size.y + 1.0;
        let cue = if overflows && !roomy { CUE_HEIGHT } else { 0.0 };
        let (at, height) = (bn.scroll_position.y * k, bn.size.y * k - cue);
        let by = if top < 0.0 {
            top - ROOM
        } else if bottom > height {
            (bottom - height + ROOM).min(top - ROOM)
        } else {
            0.0
        };
        if by != 0.0
            && let Ok((mut p, _)) = boxes.get_mut(b)
        {
            p.y = (at + by).max(0.0);
        }
        let seen = frames.entry(e).or_default();
        *seen += 1;
        if *seen >= BRING_FRAMES {
            commands.entity(e).remove::<BringIntoView>();
        }
        redraw.write(bevy::window::RequestRedraw);
    }
}

/// How many frames a [`BringIntoView`] node is measured once laid out: a few, so that what
/// settles a frame late above it is counted, and few enough (a fifth of a second at the
/// slowest) that the officer's own scroll is never fought.
const BRING_FRAMES: u8 = 4;

/// How far a box can still scroll down, in its own (logical) units: what lies below the part
/// in view.
fn below(node: &ComputedNode) -> f32 {
    let max = (node.content_size.y - node.size.y + node.scrollbar_size.y).max(0.0);
    (max - node.scroll_position.y).max(0.0) * node.inverse_scale_factor
}

/// The cue along the foot of a scrolling box that it holds more below what is in view ("▼
/// 下方还有内容"): a confirm button is not to be tapped with the delivery or the fee unseen,
/// and a field in error may be further down. It sits in a margin the box leaves under itself
/// while it is shown: it covers nothing of what the box shows (drawn over the box's last line,
/// it hid the very line that said there was more). It takes no taps.
#[derive(Component, Debug)]
pub struct MoreBelow(Entity);

/// Height of the cue, in logical pixels.
const CUE_HEIGHT: f32 = 30.0;

/// Below this much hidden (logical pixels: part of a line's spacing), no cue.
const CUE_FROM: f32 = 12.0;

/// The scrolling boxes, as laid out, with their nodes (to leave room for the cue).
type ScrollBoxes<'w, 's> = Query<
    'w,
    's,
    (Entity, &'static ComputedNode, &'static UiGlobalTransform, &'static mut Node),
    (With<Scrolls>, Without<MoreBelow>),
>;

/// Puts the cue on each scrolling box with more below, under the box; takes it off the others
/// (scrolled to the end, or gone).
fn more_below(
    mut commands: Commands,
    mut boxes: ScrollBoxes,
    mut cues: Query<(Entity, &MoreBelow, &mut Node), Without<Scrolls>>,
    mut redraw: MessageWriter<bevy::window::RequestRedraw>,
) {
    // Under the box, in its margin once that is laid out (the frame after it is given).
    let place = |node: &ComputedNode, at: &UiGlobalTransform, margin_laid_out: bool| {
        let k = node.inverse_scale_factor;
        let (centre, size) = (at.translation, node.size);
        let left = (centre.x - size.x / 2.0) * k;
        let top = (centre.y + size.y / 2.0) * k - if margin_laid_out { 0.0 } else { CUE_HEIGHT };
        (Val::Px(left), Val::Px(top), Val::Px(size.x * k))
    };
    let mut cued = Vec::new();
    for (cue, MoreBelow(of), mut n) in &mut cues {
        match boxes.get_mut(*of) {
            Ok((_, node, at, mut box_node)) if below(node) > CUE_FROM => {
                let laid_out = box_node.margin.bottom == Val::Px(CUE_HEIGHT);
                if !laid_out {
                    box_node.margin.bottom = Val::Px(CUE_HEIGHT);
                }
                let (left, top, width) = place(node, at, laid_out);
                if (n.left, n.top, n.width) != (left, top, width) {
                    (n.left, n.top, n.width) = (left, top, width);
                    // Laid out at the next frame, which an idle unit would not draw.
                    redraw.write(bevy::window::RequestRedraw);
                }
                cued.push(*of);
            }
            // Scrolled to the end (the box keeps the room while what it holds is longer than
            // it: given back there, the content would jump down under the finger), or gone.
            _ => {
                commands.entity(cue).despawn();
                redraw.write(bevy::window::RequestRedraw);
            }
        }
    }
    for (entity, node, at, mut n) in &mut boxes {
        let roomy = n.margin.bottom == Val::Px(CUE_HEIGHT);
        // Not on a box too low to hold it and something else (in logical pixels; with the room
        // it may have kept for the cue).
        let room = if roomy { CUE_HEIGHT } else { 0.0 };
        let low = node.size.y * node.inverse_scale_factor + room < CUE_HEIGHT * 3.0;
        if cued.contains(&entity) || below(node) <= CUE_FROM || low {
            // The room given back once what the box holds fits in it (another step, shorter).
            let overflows = node.content_size.y > node.size.y + 1.0;
            if roomy && !cued.contains(&entity) && !overflows {
                n.margin.bottom = Val::Px(0.0);
                redraw.write(bevy::window::RequestRedraw);
            }
            continue;
        }
        n.margin.bottom = Val::Px(CUE_HEIGHT);
        let (left, top, width) = place(node, at, roomy);
        redraw.write(bevy::window::RequestRedraw);
        commands.spawn((
            MoreBelow(entity),
            Node {
                position_type: PositionType::Absolute,
                left,
                top,
                width,
                height: Val::Px(CUE_HEIGHT),
                justify_content: JustifyContent::Center,
                align_items: AlignItems::Center,
                ..default()
            },
            BackgroundColor(theme::BACKGROUND.with_alpha(0.85)),
            GlobalZIndex(50),
            // Taps pass through to what is under it (the default; said, as it matters here).
            bevy::ui::FocusPolicy::Pass,
            children![label(Tr::new("ui.more_below"), theme::BODY_SIZE * 0.8, theme::PRIMARY)],
        ));
    }
}

fn scroll(
    mut wheel: MessageReader<bevy::input::mouse::MouseWheel>,
    touches: Option<Res<bevy::input::touch::Touches>>,
    drags: Query<&Interaction, With<TakesDrag>>,
    mut boxes: Query<(&mut ScrollPosition, &ComputedNode), With<Scrolls>>,
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
        for (mut p, node) in &mut boxes {
            // From where the box is (as laid out), not where it was asked to be: a screen that
            // asked for its end (f32::MAX) or a finger that went on pushing would otherwise
            // have to take the excess back before the box moved up again. Not past the end.
            let at = node.scroll_position.y * node.inverse_scale_factor;
            let end = at + below(node);
            p.y = (at - dy).clamp(0.0, end.max(0.0));
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
        children![(crate::ui::i18n::Capitalised, label(tr, theme::HEADING_SIZE, theme::ON_PRIMARY))],
    )
}
