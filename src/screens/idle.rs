//! The idle lock (SECURITY.md R12, R27): any key, click or touch resets it; otherwise it runs
//! on real time, and on the boot clock across a sleep, and locks at its timeout.

use std::time::Duration;

use bevy::input::keyboard::KeyboardInput;
use bevy::input::mouse::MouseButtonInput;
use bevy::input::touch::TouchInput;
use bevy::prelude::*;

use super::{LockNow, Screen};

/// Locks the unit after a period without input (SECURITY.md R12: at most 5 minutes).
#[derive(Resource, Debug, Clone)]
pub struct IdleLock {
    pub timeout: Duration,
    /// The frames' real time since the last input.
    pub idle: Duration,
    /// The boot clock at the last input: it runs on while the tablet sleeps (the lid closed),
    /// which the frames' clock does not count.
    active_at: Option<Duration>,
}

impl Default for IdleLock {
    fn default() -> Self {
        IdleLock { timeout: Duration::from_secs(5 * 60), idle: Duration::ZERO, active_at: None }
    }
}

/// The time since boot, suspended time included (`CLOCK_BOOTTIME`).
fn boot_clock() -> Option<Duration> {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Boottime);
    Some(Duration::new(u64::try_from(t.tv_sec).ok()?, u32::try_from(t.tv_nsec).ok()?))
}

/// How long the unit has been idle: the frames' time, or the boot clock's since the last input
/// when it is longer (the tablet slept with the lid closed: the frames' clock stopped, and the
/// first frame after waking must lock if the sleep was longer than the timeout).
fn idle_for(frames: Duration, boot_now: Option<Duration>, active_at: Option<Duration>) -> Duration {
    match (boot_now, active_at) {
        (Some(now), Some(then)) => frames.max(now.saturating_sub(then)),
        _ => frames,
    }
}

/// Any key, click or touch resets the idle time; otherwise it grows with real time. (Not the
/// virtual clock: rendering is reactive, so `Update` may run only every few seconds, and the
/// virtual clock advances at most a quarter of a second per update.)
pub(super) fn track_idle(
    time: Res<Time<Real>>,
    mut idle: ResMut<IdleLock>,
    mut keys: MessageReader<KeyboardInput>,
    mut clicks: MessageReader<MouseButtonInput>,
    mut touches: MessageReader<TouchInput>,
    screen: Res<State<Screen>>,
    mut lock: MessageWriter<LockNow>,
) {
    let active = keys.read().count() + clicks.read().count() + touches.read().count() > 0;
    let boot = boot_clock();
    if active || *screen.get() == Screen::Unlock {
        idle.idle = Duration::ZERO;
        idle.active_at = boot;
        return;
    }
    idle.idle += time.delta();
    if idle_for(idle.idle, boot, idle.active_at) >= idle.timeout {
        lock.write(LockNow);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R12: the lid closed and the tablet asleep for ten minutes, its frames' clock stopped:
    /// the first frame after waking counts the sleep, and locks.
    #[test]
    fn a_sleep_longer_than_the_timeout_counts_as_idle() {
        let s = Duration::from_secs;
        let cases = [
            // (frames' idle time, boot clock now, boot clock at the last input, idle)
            (s(2), Some(s(1000 + 600)), Some(s(1000)), s(600)),
            (s(120), Some(s(1000 + 60)), Some(s(1000)), s(120)),
            (s(2), None, Some(s(1000)), s(2)),
            (s(2), Some(s(1000)), None, s(2)),
            // A boot clock that went back (never): the frames' time.
            (s(30), Some(s(10)), Some(s(1000)), s(30)),
        ];
        for (frames, now, then, want) in cases {
            assert_eq!(idle_for(frames, now, then), want, "{frames:?} {now:?} {then:?}");
        }
        let (a, b) = (boot_clock().unwrap(), boot_clock().unwrap());
        assert!(b >= a && a > Duration::ZERO, "the boot clock reads and runs forward");
    }
}
