//! Form widgets for the visit: text fields that take Chinese through the platform's input
//! method, choice buttons, and action buttons. What was typed lives in [`Form`], so a screen
//! rebuilt after a language switch or a refused step keeps every value.
//!
//! Why our own field and not bevy 0.19's `EditableText`: that one needs the `bevy_ui_widgets`
//! feature and brings its own focus model; ours is a few systems over the same winit events
//! (`KeyboardInput` for keys, `Ime::Commit`/`Ime::Preedit` for the input method), shows the
//! composition as it is typed, and keeps one focus with the screen's buttons. It has no
//! cursor movement or selection: fields here are short (a phone number, an address line) and
//! are corrected with backspace.

use std::collections::{BTreeMap, BTreeSet};

use bevy::input::ButtonState;
use bevy::input::keyboard::{Key, KeyboardInput};
use bevy::prelude::*;
use bevy::window::{Ime, PrimaryWindow};

use super::i18n::{Capitalised, Tr};
use super::theme;
use super::widgets::{ButtonColors, label, plain};

/// Values typed and chosen on the screen in hand.
#[derive(Resource, Default, Debug, Clone)]
pub struct Form {
    values: BTreeMap<&'static str, String>,
    pub on: BTreeSet<&'static str>,
    pub focus: Option<&'static str>,
    /// The input method's composition, not yet committed.
    pub preedit: String,
    /// Counts choices made (not typing), for screens that redraw on a choice.
    pub choices: u64,
    /// How many times Next was refused on the screen itself, by what it checks (a held
    /// document half written, an endorsement half chosen): not what was typed or chosen.
    pressed: BTreeMap<&'static str, u32>,
}

impl Form {
    pub fn get(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }

    pub fn set(&mut self, key: &'static str, value: impl Into<String>) {
        self.values.insert(key, value.into());
    }

    /// Next was refused on the screen for what `key` checks: the screen shows why (and redraws).
    pub fn press(&mut self, key: &'static str) {
        *self.pressed.entry(key).or_default() += 1;
        self.choices += 1;
    }

    /// How many times Next was refused for what `key` checks (0: not yet, or forgotten).
    pub fn pressed(&self, key: &str) -> u32 {
        self.pressed.get(key).copied().unwrap_or(0)
    }

    /// What `key` checks is asked afresh: not said until Next is refused again.
    pub fn unpress(&mut self, key: &str) {
        self.pressed.remove(key);
    }

    /// Switches an option on or off.
    pub fn toggle(&mut self, key: &'static str) {
        if !self.on.remove(key) {
            self.on.insert(key);
        }
        self.choices += 1;
    }

    /// Sets a value chosen (not typed): the screen redraws.
    pub fn choose(&mut self, key: &'static str, value: impl Into<String>) {
        self.set(key, value);
        self.choices += 1;
    }

    /// Adds `item` to, or takes it from, the comma-separated list under `key`.
    pub fn toggle_item(&mut self, key: &'static str, item: &str) {
        let mut items: Vec<String> = self.list(key);
        match items.iter().position(|i| i == item) {
            Some(at) => {
                items.remove(at);
            }
            None => items.push(item.to_string()),
        }
        self.choose(key, items.join(","));
    }

    /// The comma-separated list under `key`.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key).split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
    }

    /// What was typed and chosen, as one number: another whenever a value or an option
    /// changes (not the focus, nor a composition under way).
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        // A value chosen and cleared again is as if never set.
        self.values.iter().filter(|(_, v)| !v.is_empty()).for_each(|kv| kv.hash(&mut h));
        self.on.hash(&mut h);
        h.finish()
    }

    pub fn is_on(&self, key: &str) -> bool {
        self.on.contains(key)
    }

    /// Forgets everything (a new step or visit).
    pub fn clear(&mut self) {
        *self = Form::default();
    }

    /// What was typed and chosen on a step, put back over what the step fills in by itself
    /// (the officer came back to it): not the focus, nor a composition under way.
    pub fn restore(&mut self, kept: &Form) {
        self.values.extend(kept.values.iter().map(|(k, v)| (*k, v.clone())));
        self.on.clone_from(&kept.on);
        self.focus = None;
        self.preedit.clear();
        self.choices += 1;
    }

    /// What was typed and chosen, to keep in a draft (not the focus, nor a composition).
    pub fn typed(&self) -> Typed {
        Typed {
            // Emptied ones too: a field the step filled in and the officer cleared stays clear.
            values: self.values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            on: self.on.iter().map(|k| k.to_string()).collect(),
        }
    }

    /// A form holding what [`Form::typed`] kept, to [`Form::restore`] over a step.
    pub fn from_typed(typed: &Typed) -> Form {
        Form {
            values: typed.values.iter().map(|(k, v)| (intern(k), v.clone())).collect(),
            on: typed.on.iter().map(|k| intern(k)).collect(),
            ..Form::default()
        }
    }
}

/// What was typed and chosen on a form, as a draft keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Typed {
    pub values: BTreeMap<String, String>,
    pub on: BTreeSet<String>,
}

/// A field's name read back from a draft, as the form names fields: each name is made
/// static once (the fields are the screens' own few dozen, so this stays small).
fn intern(name: &str) -> &'static str {
    use std::sync::{Mutex, PoisonError};
    static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    match names.get(name) {
        Some(known) => known,
        None => {
            let made: &'static str = Box::leak(name.to_owned().into_boxed_str());
            names.insert(made);
            made
        }
    }
}

/// A text field for `key`. `max` characters at most.
#[derive(Component, Debug, Clone, Copy)]
pub struct TextField {
    pub key: &'static str,
    pub max: usize,
}

/// The text inside a field.
#[derive(Component, Debug, Clone, Copy)]
struct FieldText(&'static str);

/// Under a long field (a complaint, a note): how many characters of how many, and, at the
/// limit, that nothing more is taken (what is typed past it is not silently lost).
#[derive(Component, Debug, Clone, Copy)]
struct FieldCount(TextField);

/// A field allowed this many characters or more (a reason, a note, a complaint) says how many
/// are typed; a name or a number does not.
pub const COUNTED: usize = 60;

/// The words under a field: none for a short one or an empty one, the count, or the limit.
fn count_words(field: TextField, typed: usize) -> Option<Tr> {
    if field.max < COUNTED || typed == 0 {
        return None;
    }
    let key = if typed >= field.max { "form.count_full" } else { "form.count" };
    Some(Tr::new(key).with("n", typed).with("max", field.max))
}

pub fn plugin(app: &mut App) {
    app.init_resource::<Form>();
    // Registered by the window plugin too; the headless tests have none.
    app.add_message::<Ime>();
    app.add_systems(Update, (focus_fields, type_into_field, show_fields).chain());
    app.add_systems(PostUpdate, (drop_hidden_focus, follow_ime).chain());
}

/// A labelled text field, full width of its column.
pub fn text_field(key: &'static str, caption: Tr, max: usize) -> impl Bundle {
    (
        Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(4.0), width: Val::Percent(100.0), ..default() },
        children![
            label(caption, theme::BODY_SIZE, theme::MUTED),
            (
                Button,
                TextField { key, max },
                Node {
                    width: Val::Percent(100.0),
                    min_height: Val::Px(theme::MIN_TOUCH),
                    padding: UiRect::horizontal(Val::Px(16.0)),
                    align_items: AlignItems::Center,
                    border: UiRect::all(Val::Px(2.0)),
                    border_radius: BorderRadius::all(Val::Px(10.0)),
                    ..default()
                },
                BackgroundColor(theme::KEY),
                BorderColor::all(theme::KEY_BORDER),
                children![(FieldText(key), plain("", theme::HEADING_SIZE, theme::TEXT))],
            ),
            (
                FieldCount(TextField { key, max }),
                label(Tr::new(""), theme::BODY_SIZE, theme::MUTED),
                Node { display: Display::None, align_self: AlignSelf::End, ..default() },
            ),
        ],
    )
}

/// A button that sends `action` when pressed: `primary` for the screen's main action.
pub fn action_button(action: impl Component, tr: Tr, primary: bool) -> impl Bundle {
    let (bg, pressed, fg) = if primary {
        (theme::PRIMARY, theme::PRIMARY_PRESSED, theme::ON_PRIMARY)
    } else {
        (theme::KEY, theme::KEY_PRESSED, theme::TEXT)
    };
    (
        Button,
        action,
        Node {
            min_width: Val::Px(160.0),
            min_height: Val::Px(theme::MIN_TOUCH),
            padding: UiRect::axes(Val::Px(24.0), Val::Px(8.0)),
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            border: UiRect::all(Val::Px(2.0)),
            border_radius: BorderRadius::all(Val::Px(12.0)),
            ..default()
        },
        BackgroundColor(bg),
        BorderColor::all(if primary { bg } else { theme::KEY_BORDER }),
        ButtonColors { normal: bg, pressed },
        children![(Capitalised, label(tr, theme::BODY_SIZE, fg))],
    )
}

/// A choice that is on or off, shown with a tick.
pub fn choice_button(action: impl Component, tr: Tr, on: bool) -> impl Bundle {
    let bg = if on { theme::CHOSEN } else { theme::KEY };
    (
        Button,
        action,
        Node {
            min_height: Val::Px(theme::MIN_TOUCH),
            padding: UiRect::axes(Val::Px(20.0), Val::Px(8.0)),
            column_gap: Val::Px(12.0),
            align_items: AlignItems::Center,
            border: UiRect::all(Val::Px(if on { 4.0 } else { 2.0 })),
            border_radius: BorderRadius::all(Val::Px(12.0)),
            ..default()
        },
        BackgroundColor(bg),
        BorderColor::all(if on { theme::PRIMARY } else { theme::KEY_BORDER }),
        ButtonColors { normal: bg, pressed: theme::KEY_PRESSED },
        children![tick(on), (Capitalised, label(tr, theme::BODY_SIZE, theme::TEXT))],
    )
}

/// A tick box, drawn (the CJK font has no ballot-box glyphs).
fn tick(on: bool) -> impl Bundle {
    (
        Node {
            width: Val::Px(28.0),
            height: Val::Px(28.0),
            border: UiRect::all(Val::Px(3.0)),
            border_radius: BorderRadius::all(Val::Px(4.0)),
            padding: UiRect::all(Val::Px(4.0)),
            ..default()
        },
        BorderColor::all(theme::PRIMARY),
        children![(
            Node { width: Val::Percent(100.0), height: Val::Percent(100.0), ..default() },
            BackgroundColor(if on { theme::PRIMARY } else { Color::NONE }),
        )],
    )
}

fn focus_fields(fields: Query<(&Interaction, &TextField), Changed<Interaction>>, mut form: ResMut<Form>) {
    for (i, f) in &fields {
        if *i == Interaction::Pressed && form.focus != Some(f.key) {
            form.focus = Some(f.key);
            form.preedit.clear();
        }
    }
}

/// A field the screen no longer shows (an answer that asks no reason was picked, the screen
/// changed) loses the focus: a key pressed then edits nothing hidden, and the input method
/// closes. Runs after the screens have rebuilt, so a field drawn again keeps it.
fn drop_hidden_focus(fields: Query<&TextField>, mut form: ResMut<Form>) {
    if let Some(key) = form.focus
        && !fields.iter().any(|f| f.key == key)
    {
        form.focus = None;
        form.preedit.clear();
    }
}

/// Keys and the input method's text go into the focused field.
pub(crate) fn type_into_field(
    mut keys: MessageReader<KeyboardInput>,
    mut ime: MessageReader<Ime>,
    fields: Query<&TextField>,
    mut form: ResMut<Form>,
) {
    let Some(key) = form.focus else {
        keys.clear();
        ime.clear();
        return;
    };
    let max = fields.iter().find(|f| f.key == key).map_or(0, |f| f.max);
    let mut value = form.get(key).to_string();
    let mut changed = false;
    for k in keys.read() {
        if k.state != ButtonState::Pressed {
            continue;
        }
        match &k.logical_key {
            Key::Backspace => changed |= value.pop().is_some(),
            Key::Character(s) if form.preedit.is_empty() => {
                for c in s.chars().filter(|c| !c.is_control()) {
                    if value.chars().count() < max {
                        value.push(c);
                        changed = true;
                    }
                }
            }
            _ => {}
        }
    }
    let mut preedit = None;
    for event in ime.read() {
        match event {
            Ime::Commit { value: text, .. } => {
                for c in text.chars().filter(|c| !c.is_control()) {
                    if value.chars().count() < max {
                        value.push(c);
                        changed = true;
                    }
                }
                preedit = Some(String::new());
            }
            Ime::Preedit { value: text, .. } => preedit = Some(text.clone()),
            Ime::Disabled { .. } => preedit = Some(String::new()),
            Ime::Enabled { .. } => {}
        }
    }
    if changed {
        form.set(key, value);
    }
    if let Some(p) = preedit
        && p != form.preedit
    {
        form.preedit = p;
    }
}

fn show_fields(
    form: Res<Form>,
    mut texts: Query<(&FieldText, &mut Text)>,
    mut boxes: Query<(&TextField, &mut BorderColor)>,
    mut counts: Query<(&FieldCount, &mut Tr, &mut Node, &mut TextColor)>,
    added: Query<(), Added<FieldText>>,
) {
    if !form.is_changed() && added.is_empty() {
        return;
    }
    for (f, mut text) in &mut texts {
        let focused = form.focus == Some(f.0);
        let mut shown = form.get(f.0).to_string();
        if focused {
            shown.push_str(&form.preedit);
            shown.push('|');
        }
        if text.0 != shown {
            text.0 = shown;
        }
    }
    for (c, mut tr, mut node, mut colour) in &mut counts {
        let words = count_words(c.0, form.get(c.0.key).chars().count());
        let display = if words.is_some() { Display::Flex } else { Display::None };
        if node.display != display {
            node.display = display;
        }
        let full = words.as_ref().is_some_and(|w| w.key == "form.count_full");
        let wanted = if full { theme::ERROR } else { theme::MUTED };
        if colour.0 != wanted {
            colour.0 = wanted;
        }
        if let Some(words) = words
            && *tr != words
        {
            *tr = words;
        }
    }
    for (f, mut border) in &mut boxes {
        *border = BorderColor::all(if form.focus == Some(f.key) { theme::PRIMARY } else { theme::KEY_BORDER });
    }
}

/// The input method is on while a field has focus, its candidate box under that field.
fn follow_ime(
    form: Res<Form>,
    fields: Query<(&TextField, &ComputedNode, &UiGlobalTransform)>,
    mut window: Query<&mut Window, With<PrimaryWindow>>,
) {
    if !form.is_changed() {
        return;
    }
    let Ok(mut window) = window.single_mut() else { return };
    let enabled = form.focus.is_some();
    if window.ime_enabled != enabled {
        window.ime_enabled = enabled;
    }
    if let Some((_, node, at)) = fields.iter().find(|(f, _, _)| Some(f.key) == form.focus) {
        let scale = window.scale_factor();
        let p = Vec2::new(at.translation.x - node.size.x / 2.0, at.translation.y + node.size.y / 2.0) / scale;
        if window.ime_position != p {
            window.ime_position = p;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy::input::keyboard::KeyboardInput;

    /// Draws the screen again in `Update` while `Redraw` is on: every field despawned and the
    /// reason's spawned anew, as a screen's rebuild does.
    #[derive(Resource)]
    struct Redraw(bool);

    fn redraw(redraw: Res<Redraw>, fields: Query<Entity, With<TextField>>, mut commands: Commands) {
        if redraw.0 {
            fields.iter().for_each(|f| commands.entity(f).despawn());
            commands.spawn(TextField { key: "reason", max: 60 });
        }
    }

    #[test]
    fn the_fingerprint_follows_what_was_typed_and_chosen_and_nothing_else() {
        let mut form = Form::default();
        let empty = form.fingerprint();
        form.choose("service.passport", "first");
        let chosen = form.fingerprint();
        assert_ne!(chosen, empty);
        // Chosen again and cleared: as before it was chosen.
        form.choose("service.passport", "");
        assert_eq!(form.fingerprint(), empty);
        form.toggle("fact.hardship");
        assert_ne!(form.fingerprint(), empty);
        form.toggle("fact.hardship");
        form.focus = Some("details.phone");
        form.preedit = "ce".into();
        assert_eq!(form.fingerprint(), empty, "the focus and a composition are not what was typed");
        form.press("services.checked");
        assert_eq!((form.pressed("services.checked"), form.fingerprint()), (1, empty), "nor Next refused");
        form.set("details.phone", "010");
        assert_ne!(form.fingerprint(), empty);
    }

    #[test]
    fn a_long_field_counts_what_is_typed_and_says_its_limit() {
        let complaint = TextField { key: "feedback.text", max: 500 };
        let name = TextField { key: "name", max: 30 };
        let said = |f, n| count_words(f, n).map(|t| (t.key, t.args));
        let arg = |v: &str| crate::ui::i18n::Arg::Text(v.into());
        let cases = [
            (complaint, 0, None),
            (complaint, 1, Some(("form.count", vec![("n", arg("1")), ("max", arg("500"))]))),
            (complaint, 499, Some(("form.count", vec![("n", arg("499")), ("max", arg("500"))]))),
            (complaint, 500, Some(("form.count_full", vec![("n", arg("500")), ("max", arg("500"))]))),
            (
                TextField { key: "reason", max: COUNTED },
                2,
                Some(("form.count", vec![("n", arg("2")), ("max", arg("60"))])),
            ),
            (TextField { key: "note", max: COUNTED - 1 }, 2, None),
            (name, 30, None),
        ];
        for (field, typed, want) in cases {
            assert_eq!(said(field, typed), want, "{} with {typed} typed", field.key);
        }
    }

    #[test]
    fn the_count_under_a_field_follows_what_is_typed() {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins).add_message::<KeyboardInput>();
        plugin(&mut app);
        app.world_mut().spawn(text_field("feedback.text", Tr::new("feedback.text"), 5 * COUNTED));
        app.update();
        let count = |app: &mut App| {
            let mut q = app.world_mut().query_filtered::<(&Tr, &Node), With<FieldCount>>();
            let (tr, node) = q.single(app.world()).unwrap();
            (tr.key, node.display)
        };
        assert_eq!(count(&mut app), ("", Display::None), "nothing typed: no count");
        app.world_mut().resource_mut::<Form>().set("feedback.text", "投诉".repeat(COUNTED));
        app.update();
        assert_eq!(count(&mut app), ("form.count", Display::Flex));
        app.world_mut().resource_mut::<Form>().set("feedback.text", "诉".repeat(5 * COUNTED));
        app.update();
        assert_eq!(count(&mut app), ("form.count_full", Display::Flex));
    }

    #[test]
    fn a_field_no_longer_shown_loses_the_focus_and_one_drawn_again_keeps_it() {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins).add_message::<KeyboardInput>().insert_resource(Redraw(false));
        plugin(&mut app);
        app.add_systems(Update, redraw);
        let reason = app.world_mut().spawn(TextField { key: "reason", max: 60 }).id();
        app.world_mut().spawn(TextField { key: "phone", max: 20 });
        app.world_mut().resource_mut::<Form>().focus = Some("reason");
        app.update();
        assert_eq!(app.world().resource::<Form>().focus, Some("reason"), "shown: kept");

        app.world_mut().resource_mut::<Redraw>().0 = true;
        app.update();
        assert!(app.world().get_entity(reason).is_err(), "the field was drawn anew");
        assert_eq!(app.world().resource::<Form>().focus, Some("reason"), "drawn again in the frame: kept");

        app.world_mut().resource_mut::<Redraw>().0 = false;
        let drawn = app.world_mut().query_filtered::<Entity, With<TextField>>().iter(app.world()).collect::<Vec<_>>();
        let mut form = app.world_mut().resource_mut::<Form>();
        form.preedit = "ce".into();
        drawn.into_iter().for_each(|f| {
            app.world_mut().despawn(f);
        });
        app.update();
        let form = app.world().resource::<Form>();
        assert_eq!((form.focus, form.preedit.as_str()), (None, ""), "no longer shown: dropped");
    }
}
