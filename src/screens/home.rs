//! The officer's home screen after unlocking: who is on duty, the policy in force, and
//! the lock button. The visit and supervisor flows arrive with their issues.

use bevy::prelude::*;

use super::{LockNow, PolicyInUse, Screen, Session, header, root, today_text};
use crate::auth::Auth;
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::{label, primary_button};

#[derive(Component, Debug)]
pub struct LockButton;

pub fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Screen::Home), spawn);
    app.add_systems(Update, press_lock.run_if(in_state(Screen::Home)));
}

fn spawn(mut commands: Commands, session: Res<Session>, policy: Res<PolicyInUse>, auth: Res<Auth>) {
    let name = session.officer.as_ref().map(|o| o.display_name.clone()).unwrap_or_default();
    let today = crate::settings::now().date();
    let schedule = policy.0.fees.in_effect(today);
    let (id, from) = schedule
        .map(|s| (s.id.clone(), doorstep_core::format_date(s.effective_from)))
        .unwrap_or_else(|| ("—".into(), "—".into()));
    commands.spawn(root(Screen::Home)).with_children(|root| {
        root.spawn(header(today_text(), auth.0.demo_pin().is_some()));
        root.spawn(Node {
            flex_grow: 1.0,
            flex_direction: FlexDirection::Column,
            padding: UiRect::all(Val::Px(48.0)),
            row_gap: Val::Px(24.0),
            ..default()
        })
        .with_children(|body| {
            body.spawn(label(Tr::new("home.greeting").with("name", name), theme::TITLE_SIZE, theme::TEXT));
            body.spawn(label(
                Tr::new("home.schedule").with("id", id).with("date", from),
                theme::BODY_SIZE,
                theme::MUTED,
            ));
            body.spawn(Node { width: Val::Px(360.0), ..default() })
                .with_child(primary_button(LockButton, Tr::new("home.lock")));
        });
    });
}

fn press_lock(
    buttons: Query<&Interaction, (Changed<Interaction>, With<LockButton>)>,
    mut lock: MessageWriter<LockNow>,
) {
    if buttons.iter().any(|i| *i == Interaction::Pressed) {
        lock.write(LockNow);
    }
}
