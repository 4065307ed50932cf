//! Settings and diagnostics, for the supervisor: which peripherals answer, storage, the sync
//! log, the language and display settings in force, the vault's users and the audit log in
//! brief. Nothing personal is shown: counts, ids of devices and users, actions and times.
//! The vault is read on a task when the screen opens and on "refresh".

use bevy::prelude::*;

use super::{Screen, Session, header, root, today_text};
use crate::auth::Auth;
use crate::tasks::{Pending, Poll, Waker};
use crate::ui::form::action_button;
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::label;

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticsButton {
    Refresh,
    Back,
}

/// What the vault says of itself.
#[derive(Debug, Clone, Default)]
pub struct VaultFacts {
    pub status: doorstep_vault::Status,
    pub audit: doorstep_vault::AuditSummary,
    pub users: Vec<(String, doorstep_vault::Role)>,
}

type Read = Result<VaultFacts, doorstep_vault::VaultError>;

#[derive(Resource, Default)]
pub struct Diagnostics {
    reading: Option<Pending<Read>>,
    pub facts: Option<Read>,
}

#[derive(Component, Debug)]
struct Body;

pub fn plugin(app: &mut App) {
    app.init_resource::<Diagnostics>();
    app.add_systems(OnEnter(Screen::Diagnostics), (spawn, read));
    app.add_systems(
        Update,
        (press.after(super::follow_changes), take, show).chain().run_if(in_state(Screen::Diagnostics)),
    );
}

fn read(
    session: Res<Session>,
    dir: Option<Res<crate::unit_sync::VaultDir>>,
    waker: Res<Waker>,
    mut d: ResMut<Diagnostics>,
) {
    d.reading = start(&session, dir.as_deref(), &waker);
}

/// Reads the vault's facts on a task (none without a vault).
fn start(session: &Session, dir: Option<&crate::unit_sync::VaultDir>, waker: &Waker) -> Option<Pending<Read>> {
    let vault = session.vault.clone()?;
    let dir = dir.map(|d| d.0.clone());
    Some(crate::tasks::spawn("diagnostics", waker, move || {
        let v = crate::session::lock(&vault);
        let users = match &dir {
            Some(dir) => doorstep_vault::users(dir)?,
            None => Vec::new(),
        };
        Ok(VaultFacts { status: v.status()?, audit: v.audit_summary()?, users })
    }))
}

fn take(mut d: ResMut<Diagnostics>) {
    let Some(t) = &d.reading else { return };
    let r = match t.poll() {
        Poll::Running => return,
        Poll::Ready(r) => r,
        Poll::Failed => Err(doorstep_vault::VaultError::Corrupt("the diagnostics task stopped".into())),
    };
    if let Err(e) = &r {
        error!("diagnostics: the vault cannot be read: {e}");
    }
    d.reading = None;
    d.facts = Some(r);
}

#[allow(clippy::too_many_arguments)]
fn press(
    buttons: Query<(&Interaction, &DiagnosticsButton), Changed<Interaction>>,
    guard: Res<super::TapGuard>,
    time: Res<Time<Real>>,
    session: Res<Session>,
    dir: Option<Res<crate::unit_sync::VaultDir>>,
    waker: Res<Waker>,
    mut d: ResMut<Diagnostics>,
    mut next: ResMut<NextState<Screen>>,
) {
    for (i, b) in &buttons {
        if *i != Interaction::Pressed || !guard.accepting(time.elapsed()) {
            continue;
        }
        match b {
            DiagnosticsButton::Refresh if d.reading.is_none() => d.reading = start(&session, dir.as_deref(), &waker),
            DiagnosticsButton::Refresh => {}
            DiagnosticsButton::Back => next.set(Screen::Shift),
        }
    }
}

fn spawn(mut commands: Commands, auth: Res<Auth>) {
    commands.spawn(root(Screen::Diagnostics)).with_children(|root| {
        root.spawn(header(today_text(), auth.0.is_demo()));
        root.spawn((Body, super::scrolling_body(10.0)));
        root.spawn(super::foot()).with_children(|bar| {
            bar.spawn(action_button(DiagnosticsButton::Back, Tr::new("diag.back"), false));
            bar.spawn(action_button(DiagnosticsButton::Refresh, Tr::new("diag.refresh"), false));
        });
    });
}

/// In MiB, as the configuration's `reserve_mb` and `doorstep vault status` count them.
fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / doorstep_core::shift::MIB as f64)
}

#[allow(clippy::too_many_arguments)]
fn show(
    mut commands: Commands,
    d: Res<Diagnostics>,
    body: Query<Entity, With<Body>>,
    added: Query<(), Added<Body>>,
    (peripherals, sync): (Option<Res<crate::peripherals::Peripherals>>, Option<Res<crate::unit_sync::UnitSync>>),
    (lang, large, contrast): (
        Res<crate::settings::Lang>,
        Res<super::LargeText>,
        Res<crate::ui::contrast::HighContrast>,
    ),
    time: Res<Time<Real>>,
    mut last: Local<f32>,
) {
    // The peripherals and sync change by themselves: redrawn every two seconds as well.
    let tick = time.elapsed_secs() - *last >= 2.0;
    if !d.is_changed()
        && added.is_empty()
        && !lang.is_changed()
        && !large.is_changed()
        && !contrast.is_changed()
        && !tick
    {
        return;
    }
    *last = time.elapsed_secs();
    let Ok(body) = body.single() else { return };
    commands.entity(body).despawn_children();
    commands.entity(body).with_children(|b| {
        let heading = |b: &mut ChildSpawnerCommands, key: &'static str| {
            b.spawn(label(Tr::new(key), theme::HEADING_SIZE, theme::TEXT));
        };
        let line = |b: &mut ChildSpawnerCommands, tr: Tr| {
            b.spawn(label(tr, theme::BODY_SIZE, theme::TEXT));
        };
        b.spawn(label(Tr::new("diag.title"), theme::TITLE_SIZE, theme::TEXT));
        // First: what the shift lacks, before anything else is read.
        if let Some(Ok(f)) = &d.facts
            && !f.status.set_aside.is_empty()
        {
            heading(b, "diag.set_aside");
            for a in &f.status.set_aside {
                let kind = match a.kind {
                    doorstep_vault::SetAsideKind::Application => "diag.set_aside.application",
                    doorstep_vault::SetAsideKind::Draft => "diag.set_aside.draft",
                    doorstep_vault::SetAsideKind::Feedback => "diag.set_aside.feedback",
                    doorstep_vault::SetAsideKind::Index => "diag.set_aside.index",
                    doorstep_vault::SetAsideKind::AuditLog => "diag.set_aside.audit_log",
                };
                b.spawn(label(
                    Tr::new("diag.set_aside_file").with_key("kind", kind).with("name", &a.name),
                    theme::BODY_SIZE,
                    theme::ERROR,
                ));
            }
            line(b, Tr::new("diag.set_aside_what"));
        }
        heading(b, "diag.devices");
        match peripherals.as_ref().map(|p| p.snapshot()) {
            Some(s) => {
                line(b, super::home::peripheral_text(&s, *lang));
                if let Some(problem) = &s.problem {
                    line(b, Tr::new("diag.device_problem").with("why", problem));
                }
            }
            None => line(b, Tr::new("home.no_bridge")),
        }
        heading(b, "diag.settings");
        line(
            b,
            Tr::new("diag.settings_line")
                .with_key("lang", if *lang == crate::settings::Lang::Zh { "diag.lang.zh" } else { "diag.lang.en" })
                .with_key("size", if large.0 { "diag.on" } else { "diag.off" })
                .with_key("contrast", if contrast.0 { "diag.on" } else { "diag.off" }),
        );
        heading(b, "diag.sync");
        if let Some(view) = sync.as_ref().map(|s| s.view()) {
            line(b, super::home::sync_text(&view));
            for (at, outcome) in view.log.iter().rev() {
                line(
                    b,
                    Tr::new("diag.sync_run").with("at", crate::shift::local_time(*at)).with_key("how", outcome.key()),
                );
            }
        }
        match &d.facts {
            None => line(b, Tr::new("diag.reading")),
            Some(Err(_)) => {
                b.spawn(label(Tr::new("diag.unreadable"), theme::BODY_SIZE, theme::ERROR));
            }
            Some(Ok(f)) => {
                heading(b, "diag.storage");
                let st = &f.status;
                line(
                    b,
                    Tr::new("diag.space")
                        .with("free", mib(st.free_bytes))
                        .with("reserve", mib(st.reserve_bytes))
                        .with("envelopes", mib(st.envelope_bytes))
                        .with("index", mib(st.index_bytes)),
                );
                for (state, n) in &st.by_state {
                    let key = match state.as_str() {
                        "sealed" => "diag.state.sealed",
                        "uploading" => "diag.state.uploading",
                        "acknowledged" => "diag.state.acknowledged",
                        _ => "diag.state.erased",
                    };
                    line(b, Tr::new("diag.state").with_key("state", key).with("n", n));
                }
                line(b, Tr::new("diag.drafts").with("n", st.drafts));
                heading(b, "diag.unit");
                line(b, Tr::new("diag.device").with("id", &st.device_id).with("store", &st.key_store));
                for (user, role) in &f.users {
                    let role = match role {
                        doorstep_vault::Role::Officer => "unlock.user.officer",
                        doorstep_vault::Role::Supervisor => "unlock.user.supervisor",
                    };
                    line(b, Tr::new("unlock.user").with_key("role", role).with("id", user));
                }
                heading(b, "diag.audit");
                let a = &f.audit;
                let last = a.last_at_unix.map_or_else(|| "—".to_string(), crate::shift::local_time);
                let words = if a.chain_ok { "diag.audit_ok" } else { "diag.audit_broken" };
                b.spawn(label(
                    Tr::new(words).with("n", a.by_action.values().sum::<usize>()).with("last", last),
                    theme::BODY_SIZE,
                    if a.chain_ok { theme::TEXT } else { theme::ERROR },
                ));
                // Each action in the screen's words, with its count (one this version does not
                // know, from a newer one, as it is recorded).
                let row =
                    Node { flex_wrap: FlexWrap::Wrap, column_gap: Val::Px(16.0), row_gap: Val::Px(4.0), ..default() };
                b.spawn(row).with_children(|r| {
                    for (action, n) in &a.by_action {
                        let tr = match audit_action_key(action) {
                            Some(key) => Tr::new("diag.audit_action").with_key("action", key),
                            None => Tr::new("diag.audit_action").with("action", action),
                        };
                        r.spawn(label(tr.with("n", n), theme::BODY_SIZE, theme::TEXT));
                    }
                });
            }
        }
    });
}

/// The actions the vault's audit log records, and the words of each.
const AUDIT_ACTIONS: [(&str, &str); 32] = [
    ("init", "audit.init"),
    ("unlock", "audit.unlock"),
    ("failed-pin", "audit.failed-pin"),
    ("pin-confirmed", "audit.pin-confirmed"),
    ("audit-cut", "audit.audit-cut"),
    ("audit-restarted", "audit.audit-restarted"),
    ("set-aside", "audit.set-aside"),
    ("hub-bound", "audit.hub-bound"),
    ("hub-crl-kept", "audit.hub-crl-kept"),
    ("store-secret", "audit.store-secret"),
    ("user-added", "audit.user-added"),
    ("user-removed", "audit.user-removed"),
    ("pin-changed", "audit.pin-changed"),
    ("seal", "audit.seal"),
    ("seal-recovered", "audit.seal-recovered"),
    (doorstep_vault::ABANDON, "audit.abandon"),
    (doorstep_vault::CAPTURE, "audit.capture"),
    ("upload", "audit.upload"),
    ("receipt", "audit.receipt"),
    ("summary-lost", "audit.summary-lost"),
    ("erase", "audit.erase"),
    ("erased-recovered", "audit.erased-recovered"),
    ("batch-receipt", "audit.batch-receipt"),
    ("batch-decided", "audit.batch-decided"),
    ("handed-over", "audit.handed-over"),
    ("written-off", "audit.written-off"),
    ("appointments", "audit.appointments"),
    ("appointment-served", "audit.appointment-served"),
    ("appointment-served-sent", "audit.appointment-served-sent"),
    ("feedback-seal", "audit.feedback-seal"),
    ("feedback-sent", "audit.feedback-sent"),
    ("feedback-heard", "audit.feedback-heard"),
];

/// The locale key of an audit action's words; none for one this version does not know.
fn audit_action_key(action: &str) -> Option<&'static str> {
    AUDIT_ACTIONS.iter().find(|(a, _)| *a == action).map(|(_, key)| *key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_core::text::{Catalogue, Lang};

    #[test]
    fn every_audit_action_has_its_words_in_both_languages() {
        let c = Catalogue::embedded();
        for (action, key) in AUDIT_ACTIONS {
            assert_eq!(audit_action_key(action), Some(key));
            for lang in [Lang::Zh, Lang::En] {
                assert!(c.contains(lang, key), "{key} missing in {lang:?}");
            }
        }
        assert_eq!(audit_action_key("from-a-newer-version"), None);
    }
}
