//! The outreach point (外展服务点): tickets taken at the desk (printed, with the number, the
//! service and how many wait before it), the queue ordered by the published priority rules
//! (the green channel, then 60 and over, infants, pregnant women, disabled people…, then
//! first come; core's `queue`), the next ticket called at the counter and on the call board
//! (a second window, for the screen the waiting room sees), and served or no-show recorded.
//! The day's queue is kept beside the vault after every change (`crate::outreach`).

mod board;
mod counter;
mod printing;
pub use printing::News;

use std::collections::BTreeSet;

use bevy::prelude::*;
use doorstep_core::queue::{Queue, Ticket, TicketState};
use doorstep_core::text::Localize;
use time::Date;

use super::{PolicyInUse, Screen, header, root, today_text};
use crate::auth::Auth;
use crate::tasks::{Pending, Poll, Waker};
use crate::ui::form::action_button;
use crate::ui::i18n::{Arg, Tr};
use crate::ui::theme;
use crate::ui::widgets::label;

pub use board::CallBoard;

/// What a button of the outreach screen asks for.
#[derive(Component, Debug, Clone, PartialEq, Eq)]
pub enum QueueButton {
    Group(char),
    /// Toggles a priority category for the next ticket (seen by the officer at the desk).
    Category(String),
    /// Toggles the green channel: an urgent case whose evidence was seen.
    Urgent,
    Issue,
    CallNext,
    Recall,
    Served,
    NoShow,
    /// Puts back in the queue a ticket marked absent whose holder came back.
    Returned(String),
    /// Prints again a ticket that did not print (the paper put in since).
    Reprint(String),
    /// Takes the application of the person at the counter (an outreach visit).
    TakeApplication,
    /// Opens or closes the call board's window.
    Board,
    Back,
}

/// The outreach point's name, recorded with each application taken there (configured; the
/// demo's test point on a demo unit; empty: no application can be taken as at an outreach
/// point, and the screens say where to set it).
#[derive(Resource, Debug, Clone, Default)]
pub struct OutreachPoint(pub String);

impl OutreachPoint {
    /// The visit an application taken here starts; none where the point has no name.
    pub fn visit(&self) -> Option<crate::visit_flow::VisitCmd> {
        let point = self.0.trim();
        (!point.is_empty()).then(|| {
            crate::visit_flow::VisitCmd::Start(doorstep_core::visit::VisitMode::Outreach { point: point.into() })
        })
    }
}

/// The counter this unit calls to (configured; "1" by default).
#[derive(Resource, Debug, Clone)]
pub struct Counter(pub String);

impl Default for Counter {
    fn default() -> Self {
        Counter("1".into())
    }
}

/// The desk: the day's queue, and what the next ticket will be.
#[derive(Resource, Debug, Default)]
pub struct QueueDesk {
    pub day: Option<Date>,
    pub queue: Queue,
    pub group: Option<char>,
    pub categories: BTreeSet<String>,
    pub urgent: bool,
    /// The last ticket issued and how many waited before it.
    pub issued: Option<(String, usize)>,
    /// What came of printing its ticket (none while it waits or prints): printed, and whether
    /// the paper is near its end; or why not.
    pub printed: Option<Result<bool, Arg>>,
    /// Earlier tickets that did not print, and why: the officer tells those numbers by voice.
    pub not_printed: Vec<(String, Arg)>,
    /// The ticket at the counter now.
    pub called: Option<String>,
    /// A refusal or a notice (a damaged day moved aside, a write that failed).
    pub notice: Option<Tr>,
    /// News from the last tap or print (a ticket put back in the queue, one printed again, the
    /// paper near its end), said apart from refusals.
    pub news: Option<News>,
    seq: u64,
}

impl QueueDesk {
    /// The ticket at the counter, if it is still called.
    pub fn at_counter(&self) -> Option<&Ticket> {
        let t = self.queue.ticket(self.called.as_deref()?)?;
        matches!(t.state, TicketState::Called { .. }).then_some(t)
    }
}

type Loaded = std::io::Result<crate::outreach::Loaded>;

#[derive(Resource, Default)]
struct DeskTasks {
    load: Option<Pending<Loaded>>,
    /// The ticket printing now; the printer takes one at a time, the rest wait in order.
    print: Option<Printing>,
    to_print: std::collections::VecDeque<PrintJob>,
    writer: crate::outreach::Writer,
}

/// A ticket being printed: its number, whether it is printed again, and the task.
type Printing = (String, bool, Pending<Result<bool, Arg>>);

/// A ticket to print, once the queue that holds it is on disk (a ticket in someone's hand is
/// never one a restart would issue again).
struct PrintJob {
    number: String,
    /// A ticket that did not print, printed again.
    again: bool,
    bytes: Vec<u8>,
    keep: Option<(std::path::PathBuf, Date, Queue, u64)>,
}

impl PrintJob {
    /// `ticket` to print (`again`: printed again), in Chinese, kept first with the day's queue
    /// as it now stands (the desk's next keep) in `folder`.
    fn of(
        desk: &mut QueueDesk,
        folder: Option<std::path::PathBuf>,
        ticket: &doorstep_core::queue::Ticket,
        again: bool,
        priority: &doorstep_core::policy::PriorityPolicy,
        point: &str,
        strings: &crate::ui::i18n::Strings,
    ) -> PrintJob {
        let ahead = desk.queue.ahead_of(&ticket.number);
        let bytes = crate::outreach::ticket_in_chinese(ticket, ahead, priority, point, strings);
        desk.seq += 1;
        let keep = folder.zip(desk.day).map(|(f, d)| (f, d, desk.queue.clone(), desk.seq));
        PrintJob { number: ticket.number.clone(), again, bytes, keep }
    }
}

#[derive(Component, Debug)]
struct DeskBox;

#[derive(Component, Debug)]
struct CounterBox;

pub fn plugin(app: &mut App) {
    app.init_resource::<QueueDesk>();
    app.init_resource::<DeskTasks>();
    app.init_resource::<Counter>();
    app.init_resource::<OutreachPoint>();
    app.add_message::<board::Toggle>();
    app.add_systems(OnEnter(Screen::Queue), (spawn, start_load));
    app.add_systems(
        Update,
        (press.after(super::follow_changes), take_tasks, show, board::show).chain().run_if(in_state(Screen::Queue)),
    );
    // The board stays up through the lock: so does handing focus back from it.
    // A board closed with its screen, or by hand, is cleared before `show` would redraw it.
    app.add_systems(Update, (board::give_focus_back, board::close_when_gone.before(board::show)));
}

fn vault_dir(dir: &Option<Res<crate::unit_sync::VaultDir>>) -> Option<std::path::PathBuf> {
    dir.as_ref().map(|d| crate::outreach::folder(&d.0))
}

fn start_load(
    dir: Option<Res<crate::unit_sync::VaultDir>>,
    waker: Res<Waker>,
    mut tasks: ResMut<DeskTasks>,
    mut desk: ResMut<QueueDesk>,
) {
    let today = crate::settings::now().date();
    if desk.day == Some(today) {
        return;
    }
    *desk = QueueDesk { day: Some(today), ..QueueDesk::default() };
    if let Some(folder) = vault_dir(&dir) {
        tasks.load = Some(crate::tasks::spawn("queue-load", &waker, move || crate::outreach::load(&folder, today)));
    }
}

fn take_tasks(
    mut tasks: ResMut<DeskTasks>,
    mut desk: ResMut<QueueDesk>,
    peripherals: Option<Res<crate::peripherals::Peripherals>>,
    waker: Res<Waker>,
    mut write_failed: Local<bool>,
) {
    if let Some(t) = &tasks.load {
        let loaded = match t.poll() {
            Poll::Running => None,
            Poll::Ready(r) => Some(r),
            Poll::Failed => Some(Err(std::io::Error::other("the load task stopped"))),
        };
        if let Some(loaded) = loaded {
            tasks.load = None;
            match loaded {
                Ok(crate::outreach::Loaded::Kept(q)) => desk.queue = q,
                Ok(crate::outreach::Loaded::Damaged(q, aside)) => {
                    warn!("the day's queue did not parse; moved to {}", aside.display());
                    desk.queue = q;
                    desk.notice = Some(Tr::new("queue.damaged"));
                }
                Err(e) => {
                    error!("the day's queue cannot be read: {e}");
                    desk.notice = Some(Tr::new("queue.unreadable"));
                }
            }
            // The ticket called last before a restart is still at the counter.
            desk.called = desk
                .queue
                .tickets()
                .iter()
                .filter_map(|t| match t.state {
                    TicketState::Called { at, .. } => Some((at, t.number.clone())),
                    _ => None,
                })
                .max()
                .map(|(_, n)| n);
        }
    }
    if let Some((number, again, t)) = &tasks.print {
        let r = match t.poll() {
            Poll::Running => return,
            Poll::Ready(r) => r,
            Poll::Failed => Err(Arg::Key("visit.receipt.no_bridge")),
        };
        let (number, again) = (number.clone(), *again);
        tasks.print = None;
        printing::done(&mut desk, number, again, r);
    }
    if let Some(job) = tasks.to_print.pop_front() {
        let host = peripherals.as_ref().and_then(|p| p.host()).map(|(h, _)| h);
        let writer = tasks.writer.clone();
        let task = crate::tasks::spawn("ticket", &waker, move || {
            if let Some((folder, day, queue, seq)) = &job.keep
                && let Err(e) = writer.write(folder, *day, queue, *seq)
            {
                error!("the day's queue could not be kept: {e}");
                return Err(Arg::Key("queue.not_kept"));
            }
            crate::outreach::print(host, &job.bytes)
        });
        tasks.print = Some((job.number, job.again, task));
    }
    // A write that failed is said once, until one succeeds again.
    let failed = tasks.writer.failed.load(std::sync::atomic::Ordering::SeqCst);
    if failed != *write_failed {
        *write_failed = failed;
        if failed {
            desk.notice = Some(Tr::new("queue.keep_failed"));
        }
    }
}

/// Keeps the day's queue after a change, on a task (in the order of the changes).
fn keep(desk: &mut QueueDesk, tasks: &DeskTasks, folder: Option<std::path::PathBuf>, waker: &Waker) {
    let (Some(folder), Some(day)) = (folder, desk.day) else { return };
    desk.seq += 1;
    let (queue, seq, writer) = (desk.queue.clone(), desk.seq, tasks.writer.clone());
    // Fire and forget: a failed write is logged; the next change writes the whole day again.
    let _ = crate::tasks::spawn("queue-keep", waker, move || {
        if let Err(e) = writer.write(&folder, day, &queue, seq) {
            error!("the day's queue could not be kept: {e}");
        }
    });
}

#[allow(clippy::too_many_arguments)]
fn press(
    buttons: Query<(&Interaction, &QueueButton), Changed<Interaction>>,
    guard: Res<super::TapGuard>,
    time: Res<Time<Real>>,
    mut desk: ResMut<QueueDesk>,
    mut tasks: ResMut<DeskTasks>,
    (policy, counter, dir, waker): (
        Res<PolicyInUse>,
        Res<Counter>,
        Option<Res<crate::unit_sync::VaultDir>>,
        Res<Waker>,
    ),
    strings: Res<crate::ui::i18n::Strings>,
    (mut next, mut board): (ResMut<NextState<Screen>>, MessageWriter<board::Toggle>),
    (point, sync, mut visits): (
        Res<OutreachPoint>,
        Option<Res<crate::unit_sync::UnitSync>>,
        MessageWriter<crate::visit_flow::VisitCmd>,
    ),
) {
    let priority = &policy.0.priority;
    for (i, b) in &buttons {
        if *i != Interaction::Pressed || !guard.accepting(time.elapsed()) || tasks.load.is_some() {
            continue;
        }
        let now = crate::settings::now();
        let mut changed = false;
        desk.notice = None;
        desk.news = None;
        match b {
            QueueButton::Group(g) => desk.group = Some(*g),
            QueueButton::Category(id) => {
                if !desk.categories.remove(id) {
                    desk.categories.insert(id.clone());
                }
            }
            QueueButton::Urgent => desk.urgent = !desk.urgent,
            QueueButton::Issue => {
                let Some(group) = desk.group.or_else(|| priority.queue.groups.first().map(|g| g.letter)) else {
                    continue;
                };
                let (categories, urgent) = (desk.categories.iter().cloned().collect(), desk.urgent);
                match desk.queue.issue(group, categories, urgent, priority, now).cloned() {
                    Ok(ticket) => {
                        // The ticket before, if it did not print, stays said until it is called
                        // (the officer tells its number by voice).
                        if let (Some((before, _)), Some(Err(why))) = (desk.issued.clone(), desk.printed.clone()) {
                            desk.not_printed.push((before, why));
                        }
                        let ahead = desk.queue.ahead_of(&ticket.number);
                        desk.issued = Some((ticket.number.clone(), ahead));
                        // Each person chooses afresh: the service too (a B ticket's choice left
                        // standing gave the next person, who wanted A, a B ticket).
                        desk.group = None;
                        desk.categories.clear();
                        desk.urgent = false;
                        // Kept by the print job, before its ticket prints.
                        let job =
                            PrintJob::of(&mut desk, vault_dir(&dir), &ticket, false, priority, &point.0, &strings);
                        desk.printed = None;
                        tasks.to_print.push_back(job);
                    }
                    Err(e) => desk.notice = Some(Tr::message(e.message())),
                }
            }
            QueueButton::CallNext => {
                // The one at the counter is served or marked absent first: no ticket is left
                // called with nobody able to reach it.
                if let Some(t) = desk.at_counter() {
                    desk.notice = Some(Tr::new("queue.finish_first").with("number", &t.number));
                    continue;
                }
                match desk.queue.call_next(&counter.0, priority, now) {
                    Some(t) => {
                        desk.called = Some(t.number);
                        changed = true;
                    }
                    None => desk.notice = Some(Tr::new("queue.nobody")),
                }
            }
            QueueButton::Recall | QueueButton::Served | QueueButton::NoShow => {
                let Some(number) = desk.called.clone() else { continue };
                let r = match b {
                    QueueButton::Recall => desk.queue.recall(&number, priority, now).map(|_| ()),
                    QueueButton::Served => desk.queue.served(&number, now).map(|_| ()),
                    _ => desk.queue.no_show(&number, now).map(|_| ()),
                };
                match r {
                    Ok(()) => changed = true,
                    Err(e) => desk.notice = Some(Tr::message(e.message())),
                }
                // Called once too often: the policy makes it a no-show, and the desk says so.
                if *b == QueueButton::Recall
                    && desk.queue.ticket(&number).is_some_and(|t| matches!(t.state, TicketState::NoShow { .. }))
                {
                    let calls = priority.queue.calls_before_no_show;
                    desk.notice = Some(Tr::new("queue.recalled_out").with("number", &number).with("n", calls));
                }
            }
            QueueButton::Returned(number) => match desk.queue.returned(number, now) {
                Ok(_) => {
                    let ahead = desk.queue.ahead_of(number);
                    desk.news = Some(News::good(Tr::new("queue.returned").with("number", number).with("n", ahead)));
                    changed = true;
                }
                Err(e) => desk.notice = Some(Tr::message(e.message())),
            },
            QueueButton::Reprint(number) => {
                // Once: not while it is being printed, or waits to be.
                let queued = tasks.print.as_ref().is_some_and(|(n, _, _)| n == number)
                    || tasks.to_print.iter().any(|j| j.number == *number);
                let Some(ticket) = desk.queue.ticket(number).cloned().filter(|_| !queued) else { continue };
                desk.not_printed.retain(|(n, _)| n != number);
                if desk.issued.as_ref().is_some_and(|(n, _)| n == number) {
                    desk.printed = None;
                }
                // The day's queue kept again first, as at its issue (that keep may be what failed:
                // a ticket on paper whose number a restart would give again).
                let job = PrintJob::of(&mut desk, vault_dir(&dir), &ticket, true, priority, &point.0, &strings);
                tasks.to_print.push_back(job);
            }
            QueueButton::TakeApplication => {
                if desk.at_counter().is_none() {
                    continue;
                }
                // The freeze rules stop new visits here too, and say why on this screen.
                if let Some(freeze) = crate::screens::home::freezes(sync.as_deref(), &policy.0).first() {
                    desk.notice = Some(Tr::message(freeze.message()));
                    continue;
                }
                match point.visit() {
                    // The visit screen follows; its end comes back to this desk.
                    Some(start) => {
                        visits.write(start);
                    }
                    None => desk.notice = Some(Tr::new("queue.point_unnamed")),
                }
            }
            QueueButton::Board => {
                board.write(board::Toggle);
            }
            QueueButton::Back => next.set(Screen::Home),
        }
        if changed {
            keep(&mut desk, &tasks, vault_dir(&dir), &waker);
        }
    }
}

fn spawn(mut commands: Commands, auth: Res<Auth>) {
    commands.spawn(root(Screen::Queue)).with_children(|root| {
        root.spawn(header(today_text(), auth.0.is_demo()));
        root.spawn(Node {
            flex_grow: 1.0,
            // May be shorter than its content: the halves scroll, the foot stays in view.
            min_height: Val::Px(0.0),
            padding: UiRect::axes(Val::Px(32.0), Val::Px(16.0)),
            column_gap: Val::Px(32.0),
            overflow: Overflow::clip(),
            ..default()
        })
        .with_children(|body| {
            body.spawn((
                DeskBox,
                crate::ui::widgets::Scrolls,
                Node {
                    width: Val::Percent(50.0),
                    flex_direction: FlexDirection::Column,
                    row_gap: Val::Px(12.0),
                    overflow: Overflow::scroll_y(),
                    ..default()
                },
            ));
            let half = Node {
                width: Val::Percent(50.0),
                flex_direction: FlexDirection::Column,
                row_gap: Val::Px(12.0),
                overflow: Overflow::scroll_y(),
                ..default()
            };
            body.spawn((CounterBox, crate::ui::widgets::Scrolls, half));
        });
        // The lock, as on the home screen: the desk's officer steps away.
        root.spawn(super::foot()).with_children(|bar| {
            bar.spawn(action_button(QueueButton::Back, Tr::new("queue.back"), false));
            bar.spawn(action_button(QueueButton::Board, Tr::new("queue.board"), false));
            bar.spawn(action_button(super::home::LockButton, Tr::new("home.lock"), false));
        });
    });
}

/// Rebuilds both halves when the desk changes.
#[allow(clippy::too_many_arguments)]
fn show(
    mut commands: Commands,
    desk: Res<QueueDesk>,
    policy: Res<PolicyInUse>,
    counter: Res<Counter>,
    mut desk_box: Query<(Entity, &mut ScrollPosition), With<DeskBox>>,
    counter_box: Query<Entity, With<CounterBox>>,
    added: Query<(), Added<DeskBox>>,
    mut told: Local<Told>,
    mut calling: Local<Option<(String, u32)>>,
) {
    if !desk.is_changed() && added.is_empty() {
        return;
    }
    let now = crate::settings::now();
    // What the desk says of its tickets is under the button that issues them, below the fold
    // of a small screen: when it says something new (a number, whether it printed, a notice),
    // the half scrolls to its end, where the officer reads it (layout keeps it in range).
    let telling = Told::of(&desk);
    let scroll_down = telling != *told && (desk.issued.is_some() || desk.notice.is_some() || desk.news.is_some());
    *told = telling;
    for (e, mut at) in &mut desk_box {
        commands.entity(e).despawn_children();
        commands.entity(e).with_children(|b| issue_panel(b, &desk, &policy.0));
        if scroll_down {
            at.y = f32::MAX;
        }
    }
    // A call (or a call again) brings what the officer does with it into view: on a small
    // screen in large text its buttons were below the fold of the counter's half.
    let called = desk.at_counter().map(|t| match t.state {
        TicketState::Called { calls, .. } => (t.number.clone(), calls),
        _ => (t.number.clone(), 0),
    });
    let new_call = called.is_some() && called != *calling;
    *calling = called;
    for e in &counter_box {
        commands.entity(e).despawn_children();
        commands.entity(e).with_children(|b| counter::panel(b, &desk, &policy.0, &counter.0, now, new_call));
    }
}

/// What the desk last said under its button: the ticket issued, whether it printed, how many
/// did not, and its notice.
#[derive(Default, PartialEq)]
struct Told(Option<String>, Option<bool>, usize, Option<Tr>);

impl Told {
    fn of(desk: &QueueDesk) -> Told {
        Told(
            desk.issued.as_ref().map(|(n, _)| n.clone()),
            desk.printed.as_ref().map(|p| p.is_ok()),
            desk.not_printed.len(),
            desk.notice.clone().or_else(|| desk.news.as_ref().map(|n| n.words.clone())),
        )
    }
}

fn issue_panel(b: &mut ChildSpawnerCommands, desk: &QueueDesk, policy: &doorstep_core::Policy) {
    b.spawn(label(Tr::new("queue.issue_title"), theme::HEADING_SIZE, theme::TEXT));
    let groups = &policy.priority.queue.groups;
    let chosen = desk.group.or_else(|| groups.first().map(|g| g.letter));
    b.spawn(Node { column_gap: Val::Px(12.0), row_gap: Val::Px(8.0), flex_wrap: FlexWrap::Wrap, ..default() })
        .with_children(|row| {
            for g in groups {
                let tr = Tr::new("queue.group").with("letter", g.letter).with_texts("name", &g.zh, &g.en);
                row.spawn(action_button(QueueButton::Group(g.letter), tr, chosen == Some(g.letter)));
            }
        });
    b.spawn(label(Tr::new("queue.priority_title"), theme::BODY_SIZE, theme::MUTED));
    b.spawn(Node { column_gap: Val::Px(12.0), row_gap: Val::Px(8.0), flex_wrap: FlexWrap::Wrap, ..default() })
        .with_children(|row| {
            for c in policy.priority.categories() {
                let tr = Tr::new("queue.category").with_texts("name", &c.label_zh, &c.label_en);
                row.spawn(action_button(QueueButton::Category(c.id.clone()), tr, desk.categories.contains(&c.id)));
            }
            row.spawn(action_button(QueueButton::Urgent, Tr::new("queue.urgent"), desk.urgent));
        });
    b.spawn(Node { width: Val::Px(360.0), ..default() })
        .with_child(crate::ui::widgets::primary_button(QueueButton::Issue, Tr::new("queue.issue")));
    let waiting = |n: &str| desk.queue.ticket(n).is_some_and(|t| matches!(t.state, TicketState::Waiting));
    // A ticket not printed, with its number to tell, and to print again while it waits.
    let not_printed = |b: &mut ChildSpawnerCommands, number: &String, why: &Arg| {
        b.spawn(Node { column_gap: Val::Px(12.0), align_items: AlignItems::Center, ..default() }).with_children(
            |row| {
                let said = Tr::new("queue.not_printed").with_arg("why", why.clone()).with("number", number);
                row.spawn(Node { flex_grow: 1.0, flex_basis: Val::Px(0.0), min_width: Val::Px(0.0), ..default() })
                    .with_child(label(said, theme::BODY_SIZE, theme::ERROR));
                if waiting(number) {
                    let again = Tr::new("queue.reprint").with("number", number);
                    row.spawn(action_button(QueueButton::Reprint(number.clone()), again, false));
                }
            },
        );
    };
    if let Some((number, ahead)) = &desk.issued {
        b.spawn(label(Tr::new("queue.issued").with("number", number).with("n", ahead), theme::HEADING_SIZE, theme::OK));
        match &desk.printed {
            Some(Err(why)) => not_printed(b, number, why),
            printed => {
                let (key, colour) = match printed {
                    Some(Ok(true)) => ("queue.printed_paper_low", theme::WARN),
                    Some(_) => ("queue.printed", theme::MUTED),
                    None => ("queue.printing", theme::MUTED),
                };
                b.spawn(label(Tr::new(key), theme::BODY_SIZE, colour));
            }
        }
    }
    // Those not printed, until they are called.
    for (number, why) in desk.not_printed.iter().filter(|(n, _)| waiting(n)) {
        not_printed(b, number, why);
    }
    if let Some(n) = &desk.news {
        b.spawn(label(n.words.clone(), theme::BODY_SIZE, if n.warns { theme::WARN } else { theme::OK }));
    }
    if let Some(n) = &desk.notice {
        b.spawn(label(n.clone(), theme::BODY_SIZE, theme::ERROR));
    }
}
