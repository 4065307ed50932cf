//! Settings shared by the command line and the screens.

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
