//! Settings shared by the command line and the screens, and the unit's own arguments (the
//! command line hands them over; the app does not reach back into it).

use std::path::PathBuf;

use bevy::prelude::Resource;
use time::{OffsetDateTime, UtcOffset};

/// Language of the screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, clap::ValueEnum, Resource)]
pub enum Lang {
    /// 简体中文 (the default).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

impl From<Lang> for doorstep_core::Lang {
    fn from(lang: Lang) -> doorstep_core::Lang {
        match lang {
            Lang::Zh => doorstep_core::Lang::Zh,
            Lang::En => doorstep_core::Lang::En,
        }
    }
}

/// China Standard Time: UTC+8 all year.
pub const CHINA_STANDARD_TIME: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// The current time in China Standard Time. The only place the app reads the clock for
/// dates; the domain crates take the result as an argument.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc().to_offset(CHINA_STANDARD_TIME)
}

/// Options of the unit's screen (used when no subcommand is given).
#[derive(Debug, Clone, clap::Args)]
pub struct UiArgs {
    /// Language of the screens (and of `photo check`'s table).
    #[arg(long, value_enum, default_value_t = Lang::Zh)]
    pub lang: Lang,
    /// Create a demo vault (demo officer, demo bureau key) if there is none. Implied on a
    /// machine without a configuration file; a provisioned unit never gets one by accident.
    #[arg(long)]
    pub demo: bool,
    /// Window size in pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x800", value_parser = parse_size)]
    pub window: (u32, u32),
    /// Take a screenshot of the first screen to this PNG, then exit (for tests and docs).
    #[arg(long, value_name = "PNG", hide = true)]
    pub screenshot: Option<PathBuf>,
    /// With --screenshot: draw the title with characters the font lacks, to compare against.
    #[arg(long, hide = true, requires = "screenshot")]
    pub probe_missing_glyphs: bool,
    /// With --screenshot: type this PIN first, and take the screenshot of the home screen (or
    /// of the unlock screen, if it refused the PIN).
    #[arg(long, value_name = "PIN", hide = true, requires = "screenshot")]
    pub screenshot_pin: Option<String>,
    /// Run a scenario: a TOML file of steps (tap, type, wait, see, device, sign, screenshot);
    /// exit 0 when every step passed, 1 naming the step that failed. See README.md.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// With --scenario: where its screenshots go.
    #[arg(long, value_name = "DIR", requires = "scenario")]
    pub screenshots: Option<PathBuf>,
    /// Write the benchmark's figures (start-up, frame times by phase, peak memory) to this
    /// JSON file on exit (scripts/bench-unit).
    #[arg(long, value_name = "FILE", hide = true)]
    pub bench_log: Option<PathBuf>,
    /// Type this PIN at start and stay on the home screen (the idle benchmark).
    #[arg(long, value_name = "PIN", hide = true, conflicts_with = "screenshot")]
    pub bench_pin: Option<String>,
    /// Record the number of frames drawn so far to this file, every frame (for tests).
    #[arg(long, value_name = "FILE", hide = true)]
    pub frame_log: Option<PathBuf>,
}

pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.split_once('x').ok_or("expected WIDTHxHEIGHT, like 1280x800")?;
    let w: u32 = w.parse().map_err(|_| "width is not a number")?;
    let h: u32 = h.parse().map_err(|_| "height is not a number")?;
    if !(320..=7680).contains(&w) || !(240..=4320).contains(&h) {
        return Err("the window must be between 320x240 and 7680x4320".into());
    }
    Ok((w, h))
}
