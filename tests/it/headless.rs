//! The app's screens and their transitions on `MinimalPlugins`: no window, no GPU.

use std::time::Duration;

use bevy::input::ButtonState;
use bevy::input::InputPlugin;
use bevy::input::keyboard::{Key, KeyboardInput};
use bevy::prelude::*;
use bevy::state::app::StatesPlugin;
use bevy::time::TimeUpdateStrategy;
use doorstep::auth::{AuthError, Officer, OfficerAuth, Unlocked, User};
use doorstep::screens::home::LockButton;
use doorstep::screens::unlock::Checking;
use doorstep::screens::unlock::{PinKey, Title};
use doorstep::screens::{ContrastButton, IdleLock, LARGE_SCALE, LangButton, Screen, Session, TextSizeButton};
use doorstep::settings::Lang;
use doorstep_core::Policy;

/// An in-memory officer for the shell's headless tests (a test double, kept out of the
/// app): PIN 123456, five tries, then a 30-second wait. Nothing is stored.
#[derive(Debug, Default)]
pub(crate) struct DemoAuth {
    state: std::sync::Mutex<(u32, Option<Duration>)>,
}

impl DemoAuth {
    pub(crate) const PIN: &'static str = "123456";
    const MAX_FAILURES: u32 = 5;
    const LOCKOUT: Duration = Duration::from_secs(30);

    fn new() -> DemoAuth {
        DemoAuth::default()
    }
}

impl OfficerAuth for DemoAuth {
    fn users(&self) -> Vec<User> {
        vec![User { id: "demo-officer".into(), role: doorstep_vault::Role::Officer }]
    }

    fn verify(&self, _user: &str, pin: &str, elapsed: Duration) -> Result<Unlocked, AuthError> {
        // As slow as a fast Argon2id, so a test sees the check under way.
        std::thread::sleep(Duration::from_millis(150));
        let mut state = self.state.lock().unwrap();
        let (failures, locked_until) = &mut *state;
        if let Some(until) = *locked_until {
            if elapsed < until {
                return Err(AuthError::LockedOut(until - elapsed));
            }
            *locked_until = None;
            *failures = 0;
        }
        doorstep_vault::pin::check_pin(pin).map_err(AuthError::Pin)?;
        if pin != Self::PIN {
            *failures += 1;
            if *failures >= Self::MAX_FAILURES {
                *locked_until = Some(elapsed + Self::LOCKOUT);
                return Err(AuthError::LockedOut(Self::LOCKOUT));
            }
            return Err(AuthError::WrongPin { attempts_left: Self::MAX_FAILURES - *failures });
        }
        *failures = 0;
        let officer =
            Officer {
                id: "demo-officer".into(), display_name: "测试警员".into(), role: doorstep_vault::Role::Officer
            };
        Ok(Unlocked { officer, vault: None })
    }

    fn demo_pin(&self, _user: &str) -> Option<&str> {
        Some(Self::PIN)
    }

    fn is_demo(&self) -> bool {
        true
    }
}

#[test]
fn the_test_officer_counts_down_then_locks_out() {
    let a = DemoAuth::new();
    let t = Duration::from_secs(1);
    assert_eq!(a.verify("demo-officer", "12345", t).err(), Some(AuthError::Pin(doorstep_vault::PinError::Length)));
    for left in (1..DemoAuth::MAX_FAILURES).rev() {
        assert_eq!(a.verify("demo-officer", "000000", t).err(), Some(AuthError::WrongPin { attempts_left: left }));
    }
    assert_eq!(a.verify("demo-officer", "000000", t).err(), Some(AuthError::LockedOut(DemoAuth::LOCKOUT)));
    assert!(matches!(
        a.verify("demo-officer", DemoAuth::PIN, t + Duration::from_secs(10)),
        Err(AuthError::LockedOut(_))
    ));
    assert!(a.verify("demo-officer", DemoAuth::PIN, t + DemoAuth::LOCKOUT).is_ok());
}

pub(crate) fn app() -> App {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin, InputPlugin));
    app.insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(200)));
    doorstep::app::shell(&mut app, Policy::builtin().unwrap(), std::sync::Arc::new(DemoAuth::new()));
    app.update();
    app
}

pub(crate) fn screen(app: &App) -> Screen {
    *app.world().resource::<State<Screen>>().get()
}

pub(crate) fn type_pin(app: &mut App, pin: &str) {
    for c in pin.chars() {
        let d = c.to_digit(10).unwrap() as u8;
        app.world_mut().write_message(PinKey::Digit(d));
    }
    app.world_mut().write_message(PinKey::Submit);
    app.update();
    finish_unlock(app);
}

/// Runs frames until the unlock task has answered (Argon2id runs off the frame), and one more
/// to enter the screen it chose.
fn finish_unlock(app: &mut App) {
    let start = std::time::Instant::now();
    while app.world().resource::<Checking>().is_running() {
        assert!(start.elapsed() < Duration::from_secs(20), "the unlock task answers");
        std::thread::sleep(Duration::from_millis(5));
        app.update();
    }
    app.update();
}

fn title_text(app: &mut App) -> Option<String> {
    let mut q = app.world_mut().query_filtered::<&Text, With<Title>>();
    q.iter(app.world()).next().map(|t| t.0.clone())
}

fn all_texts(app: &mut App) -> Vec<String> {
    let mut q = app.world_mut().query::<&Text>();
    q.iter(app.world()).map(|t| t.0.clone()).collect()
}

fn press<M: Component>(app: &mut App) {
    let mut q = app.world_mut().query_filtered::<Entity, With<M>>();
    let button = q.iter(app.world()).next().expect("button on screen");
    *app.world_mut().get_mut::<Interaction>(button).unwrap() = Interaction::Pressed;
    app.update();
    *app.world_mut().get_mut::<Interaction>(button).unwrap() = Interaction::None;
    app.update();
}

#[test]
fn starts_on_the_unlock_screen_in_chinese() {
    let mut app = app();
    assert_eq!(screen(&app), Screen::Unlock);
    assert_eq!(title_text(&mut app).as_deref(), Some("出入境上门受理终端"));
    assert!(app.world().resource::<Session>().officer.is_none());
}

#[test]
fn the_right_pin_opens_home_and_clears_the_unlock_screen() {
    let mut app = app();
    type_pin(&mut app, DemoAuth::PIN);
    assert_eq!(screen(&app), Screen::Home);
    assert_eq!(app.world().resource::<Session>().officer.as_ref().unwrap().display_name, "测试警员");
    assert_eq!(title_text(&mut app), None, "the unlock screen's entities are gone");
    app.update();
    assert!(all_texts(&mut app).iter().any(|t| t == "测试警员，您好"));
}

#[test]
fn a_double_tap_on_unlock_checks_the_pin_once() {
    let mut app = app();
    for c in "000000".chars() {
        app.world_mut().write_message(PinKey::Digit(c.to_digit(10).unwrap() as u8));
    }
    app.world_mut().write_message(PinKey::Submit);
    app.world_mut().write_message(PinKey::Submit);
    app.world_mut().write_message(PinKey::Digit(1));
    app.update();
    assert!(all_texts(&mut app).iter().any(|t| t == "正在核验 PIN 码…"), "{:?}", all_texts(&mut app));
    finish_unlock(&mut app);
    let texts = all_texts(&mut app);
    assert!(texts.iter().any(|t| t == "PIN 码错误，还可尝试 4 次"), "one attempt counted: {texts:?}");
    assert!(texts.iter().any(|t| t == "○ ○ ○ ○ ○ ○"), "keys typed while checking are dropped: {texts:?}");
}

#[test]
fn a_wrong_pin_stays_locked_and_says_so() {
    let mut app = app();
    type_pin(&mut app, "000000");
    assert_eq!(screen(&app), Screen::Unlock);
    assert!(app.world().resource::<Session>().officer.is_none());
    app.update();
    let texts = all_texts(&mut app);
    assert!(texts.iter().any(|t| t == "PIN 码错误，还可尝试 4 次"), "{texts:?}");
    assert!(texts.iter().any(|t| t == "○ ○ ○ ○ ○ ○"), "the dots were cleared: {texts:?}");
}

#[test]
fn the_keypad_buttons_type_digits() {
    let mut app = app();
    for digit in DemoAuth::PIN.chars().map(|c| c.to_digit(10).unwrap() as u8) {
        let mut q = app.world_mut().query::<(Entity, &PinKey)>();
        let button = q.iter(app.world()).find(|(_, k)| **k == PinKey::Digit(digit)).map(|(e, _)| e).unwrap();
        *app.world_mut().get_mut::<Interaction>(button).unwrap() = Interaction::Pressed;
        app.update();
        *app.world_mut().get_mut::<Interaction>(button).unwrap() = Interaction::None;
        app.update();
    }
    assert!(all_texts(&mut app).iter().any(|t| t == "● ● ● ● ● ●"));
    let mut q = app.world_mut().query::<(Entity, &PinKey)>();
    let submit = q.iter(app.world()).find(|(_, k)| **k == PinKey::Submit).map(|(e, _)| e).unwrap();
    *app.world_mut().get_mut::<Interaction>(submit).unwrap() = Interaction::Pressed;
    app.update();
    finish_unlock(&mut app);
    assert_eq!(screen(&app), Screen::Home);
}

fn key(app: &mut App, code: KeyCode, logical: Key, state: ButtonState) {
    app.world_mut().write_message(KeyboardInput {
        key_code: code,
        logical_key: logical,
        state,
        text: None,
        repeat: false,
        window: Entity::PLACEHOLDER,
    });
}

#[test]
fn the_keyboard_types_a_pin_too() {
    let mut app = app();
    let digits = [KeyCode::Digit1, KeyCode::Digit2, KeyCode::Digit3, KeyCode::Digit4, KeyCode::Digit5, KeyCode::Digit6];
    // A stray digit, deleted with Backspace, must not count.
    for code in [KeyCode::Digit9, KeyCode::Backspace].into_iter().chain(digits).chain([KeyCode::Enter]) {
        key(&mut app, code, Key::Unidentified(bevy::input::keyboard::NativeKey::Unidentified), ButtonState::Pressed);
        app.update();
        key(&mut app, code, Key::Unidentified(bevy::input::keyboard::NativeKey::Unidentified), ButtonState::Released);
        app.update();
    }
    finish_unlock(&mut app);
    assert_eq!(screen(&app), Screen::Home);
}

#[test]
fn the_language_switch_rewrites_the_screen() {
    let mut app = app();
    press::<LangButton>(&mut app);
    assert_eq!(*app.world().resource::<Lang>(), Lang::En);
    assert_eq!(title_text(&mut app).as_deref(), Some("Exit-Entry Home Service Unit"));
    press::<LangButton>(&mut app);
    assert_eq!(title_text(&mut app).as_deref(), Some("出入境上门受理终端"));
}

#[test]
fn the_text_size_button_scales_everything_and_says_what_it_will_do() {
    let mut app = app();
    assert!(all_texts(&mut app).contains(&"大字".to_string()));
    press::<TextSizeButton>(&mut app);
    assert_eq!(app.world().resource::<UiScale>().0, LARGE_SCALE);
    assert!(all_texts(&mut app).contains(&"标准字".to_string()), "{:?}", all_texts(&mut app));
    press::<TextSizeButton>(&mut app);
    assert_eq!(app.world().resource::<UiScale>().0, 1.0);
    assert!(all_texts(&mut app).contains(&"大字".to_string()));
}

/// Every node's colours, in entity order.
type Colours = Vec<(Entity, Option<BackgroundColor>, Option<TextColor>, Option<BorderColor>)>;

fn colours(app: &mut App) -> Colours {
    let mut q = app.world_mut().query::<(Entity, Option<&BackgroundColor>, Option<&TextColor>, Option<&BorderColor>)>();
    let mut all: Colours = q.iter(app.world()).map(|(e, b, t, r)| (e, b.copied(), t.copied(), r.copied())).collect();
    all.sort_by_key(|(e, ..)| *e);
    all
}

/// The lowest contrast of any text with what it stands on (its nearest ancestor with an opaque
/// background), and that text.
fn faintest_text(app: &mut App) -> (f32, String) {
    let world = app.world_mut();
    let mut texts = world.query::<(Entity, &Text, &TextColor)>();
    let mut grounds = world.query::<(Option<&ChildOf>, Option<&BackgroundColor>)>();
    let mut faintest = (21.0, String::new());
    for (e, text, colour) in texts.iter(world) {
        let mut at = e;
        let on = loop {
            let (parent, bg) = grounds.get(world, at).unwrap();
            if let Some(bg) = bg.filter(|bg| bg.0.alpha() > 0.99 && at != e) {
                break bg.0;
            }
            at = parent.expect("every text stands on a screen with a background").parent();
        };
        let ratio = doorstep::ui::theme::contrast_ratio(colour.0, on);
        if ratio < faintest.0 {
            faintest = (ratio, text.0.clone());
        }
    }
    faintest
}

#[test]
fn high_contrast_swaps_every_colour_and_puts_them_back() {
    let mut app = app();
    let normal = colours(&mut app);
    let (ratio, text) = faintest_text(&mut app);
    assert!(ratio >= 4.5, "{text:?} at {ratio:.1}:1");
    press::<ContrastButton>(&mut app);
    assert!(all_texts(&mut app).contains(&"标准配色".to_string()), "the button says what it will do");
    let (ratio, text) = faintest_text(&mut app);
    assert!(ratio >= 7.0, "high contrast: {text:?} at {ratio:.1}:1");
    assert_ne!(colours(&mut app), normal);
    // Colours written while it is on (a button pressed and let go) are put back as written.
    press::<LangButton>(&mut app);
    press::<LangButton>(&mut app);
    press::<ContrastButton>(&mut app);
    assert_eq!(colours(&mut app), normal, "every colour put back");
    // On again: a screen that appears afterwards is in high contrast from its first frame.
    press::<ContrastButton>(&mut app);
    type_pin(&mut app, DemoAuth::PIN);
    assert_eq!(screen(&app), Screen::Home);
    let (ratio, text) = faintest_text(&mut app);
    assert!(ratio >= 7.0, "home in high contrast: {text:?} at {ratio:.1}:1");
}

#[test]
fn the_interface_fits_the_window_and_never_grows_past_it() {
    use doorstep::screens::ui_scale;
    let cases = [
        (None, false, 1.0),
        (Some(Vec2::new(1280.0, 800.0)), false, 1.0),
        (Some(Vec2::new(1920.0, 1200.0)), false, 1.0),
        (Some(Vec2::new(800.0, 480.0)), false, 0.6),
        (Some(Vec2::new(800.0, 480.0)), true, 0.75),
        (Some(Vec2::new(1280.0, 600.0)), false, 0.75),
        (Some(Vec2::new(320.0, 200.0)), false, 0.5),
        (Some(Vec2::ZERO), false, 0.5),
        (Some(Vec2::new(1280.0, 800.0)), true, LARGE_SCALE),
    ];
    for (size, large, want) in cases {
        assert!((ui_scale(size, large) - want).abs() < 1e-4, "{size:?} large {large}: {}", ui_scale(size, large));
    }
}

#[test]
fn the_lock_button_and_idleness_lock_the_unit() {
    let mut app = app();
    type_pin(&mut app, DemoAuth::PIN);
    assert_eq!(screen(&app), Screen::Home);
    press::<LockButton>(&mut app);
    app.update();
    assert_eq!(screen(&app), Screen::Unlock);
    assert!(app.world().resource::<Session>().officer.is_none());

    app.world_mut().resource_mut::<IdleLock>().timeout = Duration::from_secs(2);
    type_pin(&mut app, DemoAuth::PIN);
    assert_eq!(screen(&app), Screen::Home);
    // Input keeps it open…
    for _ in 0..20 {
        key(&mut app, KeyCode::ShiftLeft, Key::Shift, ButtonState::Pressed);
        app.update();
    }
    assert_eq!(screen(&app), Screen::Home);
    // …and 2 s without input (200 ms a frame) locks it.
    for _ in 0..12 {
        app.update();
    }
    assert_eq!(screen(&app), Screen::Unlock);
    assert!(app.world().resource::<Session>().officer.is_none());
}

/// R27: the idle lock runs on real time. Reactive rendering may run `Update` only every few
/// seconds, and the virtual clock then advances a quarter of a second per update: 5-second
/// updates must still lock after 5 minutes (60 of them), not after 20.
#[test]
fn the_idle_lock_runs_on_real_time_with_5_second_updates() {
    let mut app = app();
    app.insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs(5)));
    type_pin(&mut app, DemoAuth::PIN);
    assert_eq!(screen(&app), Screen::Home);
    let timeout = app.world().resource::<IdleLock>().timeout;
    assert_eq!(timeout, Duration::from_secs(5 * 60));
    let mut updates = 0;
    while screen(&app) == Screen::Home && updates < 400 {
        app.update();
        updates += 1;
    }
    assert_eq!(screen(&app), Screen::Unlock);
    // 60 updates of 5 s, and a frame to enter the unlock screen.
    assert!((60..=63).contains(&updates), "locked after {updates} updates of 5 s");
}

/// One PIN rule: the screen takes the 6 to 12 digits the vault takes.
#[test]
fn the_unlock_screen_takes_pins_of_up_to_twelve_digits() {
    let mut app = app();
    for _ in 0..14 {
        app.world_mut().write_message(PinKey::Digit(1));
    }
    app.update();
    app.update();
    assert!(all_texts(&mut app).iter().any(|t| t == &["●"; 12].join(" ")), "{:?}", all_texts(&mut app));
    app.world_mut().write_message(PinKey::Clear);
    type_pin(&mut app, "12345");
    app.update();
    assert!(all_texts(&mut app).iter().any(|t| t == "PIN 码为 6 至 12 位数字"), "{:?}", all_texts(&mut app));
}

#[test]
fn the_unlock_screen_opens_the_real_vault() {
    use doorstep::auth::VaultAuth;
    use doorstep_vault::{InitOptions, KdfParams, Role, Vault, VaultConfig};
    use rand::SeedableRng;

    let dir = std::env::temp_dir().join(format!("doorstep-headless-vault-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let bureau = doorstep_envelope::BureauKeyPair::generate(&mut rand::rngs::StdRng::seed_from_u64(3));
    Vault::init(
        &dir,
        &InitOptions {
            device_id: "tablet-test",
            bureau: &bureau.public,
            user: "officer-test",
            role: Role::Officer,
            pin: "135790",
            kdf: KdfParams::INSECURE_TEST,
            max_failures: 3,
            now_unix: 1_790_000_000,
        },
    )
    .unwrap();
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin, InputPlugin));
    let auth = VaultAuth::new(dir.clone(), "officer-test".into(), VaultConfig { reserve_bytes: 0 }, Vec::new());
    doorstep::app::shell(&mut app, Policy::builtin().unwrap(), std::sync::Arc::new(auth));
    app.update();

    type_pin(&mut app, "000000");
    assert_eq!(screen(&app), Screen::Unlock);
    app.update();
    assert!(all_texts(&mut app).iter().any(|t| t == "PIN 码错误，还可尝试 2 次"), "{:?}", all_texts(&mut app));

    type_pin(&mut app, "135790");
    assert_eq!(screen(&app), Screen::Home);
    assert_eq!(app.world().resource::<Session>().officer.as_ref().unwrap().id, "officer-test");
    press::<LockButton>(&mut app);
    app.update();
    assert_eq!(screen(&app), Screen::Unlock);
    drop(app);
    // The unlock and the failed attempt are in the vault's audit chain.
    let v = Vault::unlock(&dir, "officer-test", "135790", 1_790_000_100, VaultConfig { reserve_bytes: 0 }).unwrap();
    assert!(v.verify().unwrap().problems.is_empty());
    assert!(v.audit_head().1 >= 4, "init, failed-pin, unlock, unlock");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_peripheral_line_says_what_answers() {
    use doorstep::peripherals::Snapshot;
    use doorstep::screens::home::peripheral_text;
    let strings = doorstep::ui::i18n::Strings::embedded();
    let down = Snapshot::default();
    assert_eq!(peripheral_text(&down, Lang::Zh).render(&strings, Lang::Zh), "外设未连接：请检查箱内的 USB 连接线");
    let up = Snapshot {
        connected: true,
        simulated: true,
        battery_percent: Some(87),
        answering: vec!["fingerprint", "gnss"],
        problem: None,
    };
    assert_eq!(
        peripheral_text(&up, Lang::Zh).render(&strings, Lang::Zh),
        "外设（模拟）：电量 87% · 在线：指纹仪、定位"
    );
    assert_eq!(
        peripheral_text(&up, Lang::En).render(&strings, Lang::En),
        "Peripherals (simulated): battery 87 % · answering: fingerprint, GNSS"
    );
}

#[test]
fn hidden_while_the_pin_is_checked_stays_locked() {
    let mut app = app();
    for c in DemoAuth::PIN.chars() {
        app.world_mut().write_message(PinKey::Digit(c.to_digit(10).unwrap() as u8));
    }
    app.world_mut().write_message(PinKey::Submit);
    app.update();
    app.world_mut().write_message(bevy::window::WindowOccluded { window: Entity::PLACEHOLDER, occluded: true });
    app.update();
    finish_unlock(&mut app);
    std::thread::sleep(Duration::from_millis(50));
    app.update();
    app.update();
    assert_eq!(screen(&app), Screen::Unlock, "the lid closed during the check: the unit stays locked");
    assert!(app.world().resource::<Session>().officer.is_none());
}
