//! The command line: `doorstep` alone starts the unit; subcommands check numbers and fees.
//!
//! Exit codes: 0 valid / done, 1 invalid (or the command failed), 2 usage error.

/// Prints a line to standard output. A reader that went away (`doorstep photo check … | head
/// -1`) ends the command quietly, as it does any Unix tool, instead of a panic.
macro_rules! out {
    () => {
        $crate::cli::print_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::cli::print_line(format_args!($($arg)*))
    };
}

pub(crate) mod check;
pub mod devices;
mod fee;
pub mod photo;
mod requirements;
pub mod sync;
pub mod vault;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::settings::UiArgs;

/// An error and its causes, each said once: a cause whose words its outer error already
/// repeats ("storage error: No such file…" over "No such file…") is not said again.
pub(crate) fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let words = cause.to_string();
        // An outer error that ends with its cause's words after a colon ("cannot read X:
        // {cause}") has said it; a short cause that only appears inside the outer words, or at
        // their end without the colon, has not.
        if text == words || text.ends_with(&format!(": {words}")) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&words);
    }
    text
}

/// One line to standard output (`out!`): on a closed pipe the process ends with the status a
/// shell gives a command stopped by SIGPIPE (141), nothing more printed.
pub(crate) fn print_line(line: std::fmt::Arguments) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("doorstep: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

#[derive(Debug, Parser)]
#[command(name = "doorstep", version, about = "Portable exit-entry service unit (上门办证终端)")]
pub struct Cli {
    /// A folder with policy files (fees.toml, endorsements.toml, priority.toml, urgent.toml,
    /// rules.toml, calendar.toml for the holidays, feedback.toml) replacing the built-in ones;
    /// files not present keep the built-in version.
    #[arg(long, global = true, value_name = "DIR", env = "DOORSTEP_POLICY")]
    pub policy: Option<PathBuf>,

    /// The configuration file (default: $XDG_CONFIG_HOME/doorstep/config.toml, if present).
    #[arg(long, global = true, value_name = "FILE", env = "DOORSTEP_CONFIG")]
    pub config: Option<PathBuf>,

    /// The vault folder, overriding the configuration file.
    #[arg(long, global = true, value_name = "DIR", env = "DOORSTEP_VAULT")]
    pub vault: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub ui: UiArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an identity number, a document number, or an MRZ.
    #[command(subcommand)]
    Check(check::CheckCommand),
    /// Itemised fees for services, e.g. `doorstep fee passport hk-macao-endorsement:G:1x:3m`.
    Fee(fee::FeeArgs),
    /// What a visit must collect for an applicant: fingerprints, signature, photo, guardians,
    /// the fee and the expected issue date, e.g.
    /// `doorstep requirements --birth-date 2015-03-01 passport`.
    Requirements(requirements::RequirementsArgs),
    /// The encrypted store on this unit.
    #[command(subcommand)]
    Vault(vault::VaultCommand),
    /// Cameras, serial ports and the peripherals that answer on them.
    #[command(subcommand)]
    Devices(devices::DevicesCommand),
    /// ID photos: check against the exit-entry standard, crop to it.
    #[command(subcommand)]
    Photo(photo::PhotoCommand),
    /// Install the bundle from `doorstep-hub enroll-device`: this unit's certificate and its hub.
    Provision(sync::ProvisionArgs),
    /// Upload sealed applications to the hub now; each is erased only once the hub's signed
    /// receipt is stored.
    Sync(sync::SyncArgs),
    /// The supervisor releases the shift: uploads what is left, then signs and sends the batch
    /// manifest (each application approved, or returned with --return ID=REASON).
    Batch(sync::BatchArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match crate::config::Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("doorstep: {}", error_text(&e));
            return ExitCode::FAILURE;
        }
    };
    let policy = cli.policy.or_else(|| config.policy.clone());
    let Some(command) = cli.command else {
        // The unit: bevy sets up its own logging.
        return crate::app::run(cli.ui, policy, cli.vault, config);
    };
    init_logging();
    let name = command.name();
    let started = std::time::Instant::now();
    tracing::info!(command = name, "started");
    let result = match command {
        Command::Check(c) => check::run(c),
        Command::Fee(f) => fee::run(f, policy.as_deref()),
        Command::Requirements(r) => requirements::run(r, policy.as_deref()),
        Command::Vault(v) => vault::run(v, cli.vault, &config),
        Command::Devices(d) => devices::run(d),
        Command::Photo(p) => photo::run(p, cli.ui.lang.into()),
        Command::Provision(p) => sync::provision(p, cli.vault, &config),
        Command::Sync(s) => sync::sync(s, cli.vault, &config),
        Command::Batch(b) => sync::batch(b, cli.vault, &config),
    };
    let ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(code) => {
            tracing::info!(command = name, ms, "finished");
            code
        }
        Err(e) => {
            // The person reads the error below; the log says it only when asked (RUST_LOG=info).
            tracing::info!(command = name, ms, "failed");
            eprintln!("doorstep: {}", error_text(&e));
            ExitCode::FAILURE
        }
    }
}

/// Logs of the command line to standard error, filtered by `RUST_LOG` (default: warnings).
/// Logs name commands, application ids and devices, never personal data.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Check(_) => "check",
            Command::Fee(_) => "fee",
            Command::Requirements(_) => "requirements",
            Command::Vault(_) => "vault",
            Command::Devices(_) => "devices",
            Command::Photo(_) => "photo",
            Command::Provision(_) => "provision",
            Command::Sync(_) => "sync",
            Command::Batch(_) => "batch",
        }
    }
}

/// "Today" for checks: the date in China Standard Time (UTC+8, no daylight saving), unless
/// given with `--date`.
pub(crate) fn today(date: Option<time::Date>) -> time::Date {
    date.unwrap_or_else(|| crate::settings::now().date())
}

/// A date on the command line: YYYY-MM-DD, between 1900 and 2199 (anything else is a typing
/// error, and the working-day arithmetic stays well inside the calendar).
pub(crate) fn parse_date(s: &str) -> Result<time::Date, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(s, fmt).map_err(|_| format!("{s:?} is not a date like 2026-11-26"))?;
    if !(1900..=2199).contains(&date.year()) {
        return Err(format!("{s:?} is not between 1900 and 2199"));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::error_text;

    #[derive(Debug)]
    struct Cause(&'static str);
    impl std::fmt::Display for Cause {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Cause {}

    #[test]
    fn each_cause_is_said_once_and_none_is_dropped() {
        // The outer words end with the cause's: said once.
        let e =
            anyhow::Error::new(Cause("No such file or directory")).context("cannot read x: No such file or directory");
        assert_eq!(error_text(&e), "cannot read x: No such file or directory");
        // A short cause whose words appear inside the outer ones is still said.
        let e = anyhow::Error::new(Cause("5")).context("line 5 of the key file");
        assert_eq!(error_text(&e), "line 5 of the key file: 5");
        let e = anyhow::Error::new(Cause("5")).context("the key on line 5");
        assert_eq!(error_text(&e), "the key on line 5: 5");
        let e = anyhow::Error::new(Cause("not hex")).context("the bureau key");
        assert_eq!(error_text(&e), "the bureau key: not hex");
    }
}
