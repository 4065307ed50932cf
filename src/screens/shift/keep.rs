//! The supervisor's decisions kept in the vault as they are taken, so that a lock or a restart
//! in the middle of the review loses none (put back at the first reading of the list).

use bevy::prelude::*;

use super::{ShiftTasks, ShiftView};
use crate::screens::Session;
use crate::shift::Decisions;
use crate::tasks::{Pending, Poll, Waker};

/// Keeps the decisions in the vault as they are taken, on tasks; the last taken wins (a task
/// slower than a later one writes nothing).
#[derive(Default)]
pub(super) struct Keeper {
    /// The decisions last given to a task.
    pub(super) last: Option<Decisions>,
    /// The number of the last keeping asked for, and of the last written (under the vault's lock).
    pub(super) asked: u64,
    pub(super) written: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The last keeping asked for: whether it was written.
    pending: Option<Pending<bool>>,
}

/// Keeps the decisions in the vault whenever they change (once those kept before are back).
pub(super) fn keep_decisions(
    mut view: ResMut<ShiftView>,
    mut tasks: ResMut<ShiftTasks>,
    session: Res<Session>,
    waker: Res<Waker>,
) {
    let releasing = tasks.releasing();
    let keeper = &mut tasks.keeper;
    if let Some(p) = &keeper.pending {
        match p.poll() {
            Poll::Running => {}
            Poll::Ready(kept) => {
                keeper.pending = None;
                if view.not_kept == kept {
                    view.not_kept = !kept;
                }
            }
            Poll::Failed => {
                keeper.pending = None;
                view.not_kept = true;
            }
        }
    }
    // Not while a release runs (it clears what was kept; its outcome has them kept again).
    if !view.restored || releasing || keeper.last.as_ref() == Some(&view.decisions) {
        return;
    }
    let Some(vault) = session.vault.clone() else { return };
    let decisions = view.decisions.clone();
    keeper.last = Some(decisions.clone());
    keeper.asked += 1;
    let (number, written) = (keeper.asked, keeper.written.clone());
    keeper.pending = Some(crate::tasks::spawn("shift-decisions", &waker, move || {
        use std::sync::atomic::Ordering;
        let v = crate::session::lock(&vault);
        // A later keeping, or the release, came first.
        if written.load(Ordering::SeqCst) >= number {
            return true;
        }
        written.store(number, Ordering::SeqCst);
        crate::shift::keep_decisions(&v, &decisions)
            .inspect_err(|e| error!("the shift's decisions could not be kept: {e}"))
            .is_ok()
    }));
}
