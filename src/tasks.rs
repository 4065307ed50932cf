//! Slow work off the frame loop (DESIGN rule 8): unlock (Argon2id), photo checks, sealing,
//! printing and sync each run on a thread of their own, and the frame that is due when one
//! finishes sees its result at once.
//!
//! Rendering is reactive (no frames while nothing happens), so a finished task must wake the
//! event loop itself: [`Waker`] holds winit's event-loop proxy (none in headless tests, where
//! the test drives the frames) and every task pokes it as it ends. Before this, the home
//! screen appeared only when the pointer next moved.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, TryRecvError, channel as channel_of};

use bevy::prelude::*;
use bevy::winit::{EventLoopProxyWrapper, WinitUserEvent};

/// Wakes the event loop from another thread.
#[derive(Resource, Clone, Default)]
pub struct Waker(Option<bevy::winit::EventLoopProxy<WinitUserEvent>>);

impl Waker {
    pub fn wake(&self) {
        if let Some(proxy) = &self.0 {
            // The loop has gone only when the app is closing: nothing to wake.
            let _ = proxy.send_event(WinitUserEvent::WakeUp);
        }
    }
}

/// Takes winit's proxy once the window system is up (not at all in headless tests).
pub fn plugin(app: &mut App) {
    app.init_resource::<Waker>();
    app.add_systems(PreStartup, |proxy: Option<Res<EventLoopProxyWrapper>>, mut waker: ResMut<Waker>| {
        if let Some(proxy) = proxy {
            waker.0 = Some((**proxy).clone());
        }
    });
}

/// A result still being worked out on another thread.
pub struct Pending<T> {
    // A mutex only to make it `Sync` for a resource: one system polls it at a time.
    rx: Mutex<Receiver<T>>,
}

/// What [`Pending::poll`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Poll<T> {
    Ready(T),
    Running,
    /// The task's thread panicked or could not start: its work is lost, never half-applied.
    Failed,
}

impl<T> Pending<T> {
    pub fn poll(&self) -> Poll<T> {
        let rx = self.rx.lock().unwrap_or_else(|p| p.into_inner());
        match rx.try_recv() {
            Ok(v) => Poll::Ready(v),
            Err(TryRecvError::Empty) => Poll::Running,
            Err(TryRecvError::Disconnected) => Poll::Failed,
        }
    }
}

impl<T> Pending<T> {
    /// The task's answer once it ended: its value, or `failed()` when its thread died; `None`
    /// while it runs.
    pub fn finished(&self, failed: impl FnOnce() -> T) -> Option<T> {
        match self.poll() {
            Poll::Running => None,
            Poll::Ready(v) => Some(v),
            Poll::Failed => Some(failed()),
        }
    }
}

/// A result that a thread of the caller's (one already running) will send: that thread
/// wakes the event loop once it has.
pub fn channel<T>() -> (std::sync::mpsc::Sender<T>, Pending<T>) {
    let (tx, rx) = channel_of();
    (tx, Pending { rx: Mutex::new(rx) })
}

/// Runs `work` on a thread named `name`, then wakes the event loop.
pub fn spawn<T: Send + 'static>(name: &str, waker: &Waker, work: impl FnOnce() -> T + Send + 'static) -> Pending<T> {
    let (tx, rx) = channel_of();
    let waker = waker.clone();
    let started = std::thread::Builder::new().name(name.to_string()).spawn(move || {
        // Woken after the send, or after a panic dropped the sender: either way the frame sees it.
        struct WakeOnDrop(Waker);
        impl Drop for WakeOnDrop {
            fn drop(&mut self) {
                self.0.wake();
            }
        }
        let _wake = WakeOnDrop(waker);
        yield_to_frames();
        let _ = tx.send(work());
    });
    if let Err(e) = started {
        error!("cannot start the {name} task: {e}");
    }
    Pending { rx: Mutex::new(rx) }
}

/// How much lower than the frame loop a task runs (Linux nice levels: 10 gives the frame
/// about ten times a task's share of a core they both want).
const TASK_NICE: i32 = 10;

/// Lowers the calling thread's priority, so that on a 2-core tablet a task (Argon2id on one
/// core, the photo checks) never takes the time the software renderer's threads need for the
/// next frame; the task still has every cycle the frames leave. On Linux a nice level is per
/// thread, so the frame loop keeps its own. A refusal costs only smoothness: logged, not fatal.
pub fn yield_to_frames() {
    let tid = Some(rustix::thread::gettid());
    // Relative to the level the thread was started with (its spawner's), never higher.
    let lowered = rustix::process::getpriority_process(tid)
        .and_then(|own| rustix::process::setpriority_process(tid, (own + TASK_NICE).min(19)));
    if let Err(e) = lowered {
        warn!("a task keeps the frame loop's priority: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait<T>(p: &Pending<T>) -> Poll<T> {
        let start = Instant::now();
        loop {
            match p.poll() {
                Poll::Running if start.elapsed() < Duration::from_secs(10) => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                other => return other,
            }
        }
    }

    #[test]
    fn a_task_gives_its_result_once_and_a_panicking_one_is_failed() {
        let ok = spawn("test", &Waker::default(), || 6 * 7);
        assert_eq!(wait(&ok), Poll::Ready(42));
        assert_eq!(ok.poll(), Poll::Failed, "taken once");
        let bad: Pending<u8> = spawn("test", &Waker::default(), || panic!("boom"));
        assert_eq!(wait(&bad), Poll::Failed);
    }

    #[test]
    fn a_task_runs_below_the_frame_loop_and_leaves_it_its_priority() {
        let own = rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        let task = spawn("test", &Waker::default(), || {
            rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
        });
        assert_eq!(wait(&task), Poll::Ready((own + TASK_NICE).min(19)));
        assert_eq!(rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap(), own);
    }
}
