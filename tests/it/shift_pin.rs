//! The supervisor's PIN pad before the release (SECURITY.md R12), as the unit locks under it:
//! the pad goes with the shift screen, and nothing typed on it reaches the unlock screen.

use bevy::prelude::*;
use doorstep::screens::Screen;
use doorstep::screens::pin_again::PinPad;
use doorstep_core::Policy;

use crate::shift::supervisor_unlocks;
use crate::sync::{add_supervisor, seal_one, served_unit, tempfile_dir};
use crate::visit::{DEVICE, drive, tap, unit, wait};

#[test]
fn a_lock_under_the_pin_pad_takes_the_pad_away() {
    let tmp = tempfile_dir("pin-pad-lock");
    let (running, _hub, vault) = served_unit(&tmp, DEVICE);
    add_supervisor(vault.to_str().unwrap());
    seal_one(&vault, 81);
    let mut app = unit(&vault, &tmp.join("receipts"), Policy::builtin().unwrap());
    let mut steps = supervisor_unlocks();
    steps.extend([
        wait("待放行 1 件"),
        tap("批准"),
        tap("签署并放行本班次（批准 1 件，退回 0 件）"),
        wait("请再次输入您的 PIN 码"),
        tap("1"),
        tap("2"),
        wait("● ● ○ ○ ○ ○"),
    ]);
    let outcome = drive(&mut app, steps);
    assert!(outcome.is_ok(), "{outcome:?}");
    let overlays = |app: &mut App| app.world_mut().query_filtered::<(), With<PinPad>>().iter(app.world()).count();
    assert_eq!(overlays(&mut app), 1);
    // The idle lock, or the lid: the unit locks with the pad open.
    app.world_mut().write_message(doorstep::screens::LockNow);
    for _ in 0..5 {
        app.update();
    }
    assert_eq!(*app.world().resource::<State<Screen>>().get(), Screen::Unlock);
    assert_eq!(overlays(&mut app), 0, "no pad left over the unlock screen");
    // The unlock screen's PIN starts empty: the pad's two digits are not in it.
    let outcome = drive(&mut app, vec![wait("○ ○ ○ ○ ○ ○")]);
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(app);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}
