//! `doorstep vault init|status|verify|add-user`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;
use doorstep_core::text::counted;
use doorstep_envelope::BureauPublicKey;
use doorstep_vault::{InitOptions, KdfParams, Role, Vault, VaultConfig};
use zeroize::Zeroizing;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Create the vault: a data key, the device key, and the first user's key slot.
    Init(InitArgs),
    /// Counts by state, sizes and free space.
    Status(OpenArgs),
    /// Check that every record decrypts or verifies, the audit chain is intact and the index
    /// matches the files. Exits 1 and says what is wrong otherwise.
    Verify(OpenArgs),
    /// Enrol another user (a supervisor enrols; the first user may enrol the second). Prints
    /// the new user's public key for the hub (`doorstep-hub add-officer` or `add-supervisor`).
    AddUser(AddUserArgs),
    /// Hand the files kept aside as damaged (`status` lists them) over to a folder outside the
    /// vault, for the bureau: each is copied there, recorded in the audit log and removed, and a
    /// sealed application among them is written off this unit. A supervisor's PIN opens it.
    HandOver(HandOverArgs),
}

#[derive(Debug, clap::Args)]
pub struct HandOverArgs {
    /// An existing folder outside the vault: they go into a new folder DEVICE-UNIXTIME in it.
    to: PathBuf,
    /// Only say what would be handed over and written off; change nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    open: OpenArgs,
}

#[derive(Debug, clap::Args)]
pub struct AddUserArgs {
    /// The new user's id.
    new_user: String,
    #[arg(long, value_enum, default_value_t = RoleArg::Officer)]
    role: RoleArg,
    /// Who enrols them (their PIN opens the vault; default: the configured officer).
    #[arg(long = "as")]
    as_user: Option<String>,
    /// Read the PINs from standard input: yours on the first line, the new user's on the second.
    #[arg(long)]
    pin_stdin: bool,
    /// Tests only (debug builds): a fast, insecure PIN derivation instead of calibrating
    /// Argon2id. A release build has no such flag and refuses such parameters.
    #[cfg(debug_assertions)]
    #[arg(long, hide = true)]
    insecure_fast_kdf: bool,
}

#[derive(Debug, clap::Args)]
pub struct OpenArgs {
    /// The user whose PIN opens the vault (default: the configured officer).
    #[arg(long)]
    pub user: Option<String>,
    /// Read the PIN from the first line of standard input instead of prompting.
    #[arg(long)]
    pub pin_stdin: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// This tablet's name, as enrolled at the hub.
    #[arg(long)]
    device_id: Option<String>,
    /// The first user (default: the configured officer).
    #[arg(long)]
    user: Option<String>,
    #[arg(long, value_enum, default_value_t = RoleArg::Officer)]
    role: RoleArg,
    /// The bureau's public key: 64 hex characters, or a file holding them.
    #[arg(long, conflicts_with = "demo_bureau", required_unless_present = "demo_bureau")]
    bureau_key: Option<String>,
    /// Demo only: make a bureau key pair and write its private key beside (not inside) the
    /// vault, so the back office of a demo can open what this unit seals.
    #[arg(long)]
    demo_bureau: bool,
    /// Read the PIN from the first line of standard input instead of prompting (twice).
    #[arg(long)]
    pin_stdin: bool,
    /// Wrong PINs before the key slots are destroyed (3 to 100: fewer would let a slip of the
    /// finger or two erase the unit).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(3..=100))]
    max_failures: u32,
    /// Tests only (debug builds): a fast, insecure PIN derivation instead of calibrating
    /// Argon2id. A release build has no such flag and refuses such parameters.
    #[cfg(debug_assertions)]
    #[arg(long, hide = true)]
    insecure_fast_kdf: bool,
}

/// Whether the tests' fast derivation was asked for (never in a release build).
macro_rules! fast_kdf {
    ($args:expr) => {{
        #[cfg(debug_assertions)]
        let fast = $args.insecure_fast_kdf;
        #[cfg(not(debug_assertions))]
        let fast = false;
        fast
    }};
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Officer,
    Supervisor,
}

pub fn run(command: VaultCommand, vault: Option<PathBuf>, config: &Config) -> anyhow::Result<ExitCode> {
    let dir = vault.unwrap_or_else(|| config.vault_dir());
    match command {
        VaultCommand::Init(args) => init(&dir, args, config),
        VaultCommand::Status(args) => status(&dir, args, config),
        VaultCommand::Verify(args) => verify(&dir, args, config),
        VaultCommand::AddUser(args) => add_user(&dir, args, config),
        VaultCommand::HandOver(args) => hand_over(&dir, args, config),
    }
}

/// A new user's PIN (asked twice on a terminal) and the Argon2id parameters to wrap it with,
/// calibrated on this machine.
fn new_pin(pin_stdin: bool, insecure_fast_kdf: bool) -> anyhow::Result<(Zeroizing<String>, KdfParams)> {
    let digits = doorstep_vault::PIN_DIGITS;
    let pin = read_pin(&format!("New PIN ({}–{} digits): ", digits.start(), digits.end()), pin_stdin)?;
    if pin.is_empty() {
        bail!("no new PIN given: type it, or give it on one line of standard input with --pin-stdin");
    }
    // Refused now, before the slow calibration and before anything is written; named as the
    // new PIN (add-user reads the signer's PIN first, then this one).
    doorstep_vault::pin::check_pin(&pin).map_err(|e| anyhow::anyhow!("the new PIN: {e}"))?;
    if !pin_stdin && std::io::stdin().is_terminal() {
        let again = read_pin("The same PIN again: ", false)?;
        if *again != *pin {
            bail!("the two PINs differ; nothing was changed");
        }
    }
    let kdf = if insecure_fast_kdf {
        KdfParams::INSECURE_TEST
    } else {
        let (params, took) = KdfParams::calibrate(Duration::from_millis(500)).context("calibrating Argon2id")?;
        eprintln!(
            "Argon2id calibrated: {} MiB, {}, {}: {} ms per unlock on this machine",
            params.m_kib / 1024,
            counted(params.t, "pass", "passes"),
            counted(params.p, "lane", "lanes"),
            took.as_millis()
        );
        params
    };
    Ok((pin, kdf))
}

pub(crate) fn now_unix() -> i64 {
    crate::settings::now().unix_timestamp()
}

/// Reads a PIN: from standard input when asked (or when it is not a terminal), else from a
/// prompt on the terminal with echo off.
fn read_pin(prompt: &str, from_stdin: bool) -> anyhow::Result<Zeroizing<String>> {
    let stdin = std::io::stdin();
    if from_stdin || !stdin.is_terminal() {
        let mut line = Zeroizing::new(String::new());
        stdin.lock().read_line(&mut line).context("cannot read the PIN from standard input")?;
        return Ok(Zeroizing::new(line.trim().to_string()));
    }
    eprint!("{prompt}");
    std::io::stderr().flush().ok();
    let fd = std::io::stdin();
    let saved = rustix::termios::tcgetattr(&fd).ok();
    if let Some(saved) = &saved {
        let mut quiet = saved.clone();
        quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
        rustix::termios::tcsetattr(&fd, rustix::termios::OptionalActions::Now, &quiet).ok();
    }
    let mut line = Zeroizing::new(String::new());
    let read = stdin.lock().read_line(&mut line);
    if let Some(saved) = &saved {
        rustix::termios::tcsetattr(&fd, rustix::termios::OptionalActions::Now, saved).ok();
    }
    eprintln!();
    read.context("cannot read the PIN")?;
    Ok(Zeroizing::new(line.trim().to_string()))
}

/// The bureau's public key: a file holding it in hex, or the hex itself.
fn bureau_key(arg: &str) -> anyhow::Result<BureauPublicKey> {
    let path = Path::new(arg);
    let text = if path.is_file() {
        std::fs::read_to_string(arg).with_context(|| format!("cannot read {arg}"))?
    } else if path.is_dir() {
        bail!("--bureau-key {arg:?} is a folder: give the key file in it (the bureau's public key in hex)");
    } else if hex::decode(arg.trim()).is_err() {
        bail!("--bureau-key {arg:?}: no such file, and not a key in hex (64 hex digits)");
    } else {
        arg.to_string()
    };
    let bytes = hex::decode(text.trim()).with_context(|| format!("the bureau key in {arg} is not hex"))?;
    BureauPublicKey::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("the bureau key: {e}"))
}

fn init(dir: &Path, args: InitArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let user = args.user.unwrap_or_else(|| config.officer());
    let device_id = args.device_id.or_else(|| config.device_id.clone()).unwrap_or_else(|| "demo-tablet".into());
    if !doorstep_envelope::DeviceId::is_valid(&device_id) {
        bail!(
            "device id {device_id:?}: 1 to 64 ASCII letters, digits, '-' and '_' (the name the hub enrols it under); \
             nothing was written"
        );
    }
    // Checked before anything is written, the demo bureau's key beside the folder included.
    Vault::check_new(dir).with_context(|| format!("vault {}", dir.display()))?;
    // The key given and the PIN are checked before anything is written (the demo bureau's
    // key beside the folder).
    let given = args.bureau_key.as_deref().map(bureau_key).transpose()?;
    let (pin, kdf) = new_pin(args.pin_stdin, fast_kdf!(args))?;
    let bureau = match (given, args.demo_bureau) {
        (Some(k), _) => k,
        (None, true) => {
            let public = crate::demo::make_bureau(dir)?;
            eprintln!(
                "demo bureau key: the private key is in {} (outside the vault; a real unit never holds it)",
                crate::demo::secret_path(dir).display()
            );
            public
        }
        (None, false) => bail!("give --bureau-key (or --demo-bureau for a demo)"),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let role = match args.role {
        RoleArg::Officer => Role::Officer,
        RoleArg::Supervisor => Role::Supervisor,
    };
    let key = Vault::init(
        dir,
        &InitOptions {
            device_id: &device_id,
            bureau: &bureau,
            user: &user,
            role,
            pin: &pin,
            kdf,
            max_failures: args.max_failures,
            now_unix: now_unix(),
        },
    )?;
    out!("vault created in {} for {user} on device {device_id}", dir.display());
    hub_line(role, &user, &hex::encode(key.to_bytes()));
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn open(dir: &Path, args: &OpenArgs, config: &Config) -> anyhow::Result<Vault> {
    let user = args.user.clone().unwrap_or_else(|| config.officer());
    let pin = read_pin(&format!("PIN for {user}: "), args.pin_stdin)?;
    let vault = match Vault::unlock(dir, &user, &pin, now_unix(), VaultConfig { reserve_bytes: config.reserve_bytes() })
    {
        // Nothing given is not a PIN of the wrong length (the vault's own errors first).
        Err(doorstep_vault::VaultError::Pin(_)) if pin.is_empty() => {
            bail!(
                "vault {}: no PIN given: type it, or give it on one line of standard input with --pin-stdin",
                dir.display()
            )
        }
        other => other.with_context(|| format!("vault {}", dir.display()))?,
    };
    let r = vault.recovery();
    if let Some(q) = &r.quarantined {
        eprintln!("note: the index was damaged; it was kept as {} and rebuilt from the envelope files", q.display());
    }
    if r.reindexed > 0 {
        let n = counted(r.reindexed as u64, "sealed application was", "sealed applications were");
        eprintln!("note: {n} indexed again from their files");
    }
    if r.drafts_reindexed > 0 {
        let n = counted(r.drafts_reindexed as u64, "draft part was", "draft parts were");
        eprintln!("note: {n} indexed again from their files");
    }
    if r.counter_recovered {
        eprintln!("note: the device counter was recovered from the envelopes and the audit log");
    }
    if r.uploads_reset > 0 {
        eprintln!(
            "note: {} again",
            counted(r.uploads_reset as u64, "interrupted upload starts", "interrupted uploads start")
        );
    }
    if let Some(tail) = &r.audit_tail_kept {
        eprintln!(
            "warning: bytes after the audit log's last whole record were cut off and kept aside as {} \
             (what a power cut leaves, or damage to its last records)",
            tail.display()
        );
    }
    if r.erases_finished > 0 {
        eprintln!(
            "note: {} by the last stop finished (the hub had them)",
            counted(r.erases_finished as u64, "erase cut short", "erases cut short")
        );
    }
    if r.interrupted_seals > 0 {
        eprintln!(
            "note: {} cut short by the last stop; the visits are still drafts and can be sealed again",
            counted(r.interrupted_seals as u64, "seal was", "seals were")
        );
    }
    for f in &r.damaged_files {
        eprintln!("warning: a damaged file was kept aside as {}", f.display());
    }
    for f in &r.unreadable_files {
        eprintln!("warning: {} could not be read (an I/O error): left as it is", f.display());
    }
    Ok(vault)
}

fn add_user(dir: &Path, args: AddUserArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let open_args = OpenArgs { user: args.as_user.clone(), pin_stdin: args.pin_stdin, json: false };
    let mut vault = open(dir, &open_args, config)?;
    let (pin, kdf) = new_pin(args.pin_stdin, fast_kdf!(args))?;
    let role = match args.role {
        RoleArg::Officer => Role::Officer,
        RoleArg::Supervisor => Role::Supervisor,
    };
    vault.add_user(&args.new_user, role, &pin, kdf, now_unix())?;
    drop(vault);
    let added =
        Vault::unlock(dir, &args.new_user, &pin, now_unix(), VaultConfig { reserve_bytes: config.reserve_bytes() })?;
    out!("{} enrolled as {:?}", args.new_user, role);
    let key = hex::encode(added.user_public_key().to_bytes());
    hub_line(role, &args.new_user, &key);
    Ok(ExitCode::SUCCESS)
}

/// The user's public key and the line that enrols it at the hub, which takes nothing the
/// user seals or signs until then (SECURITY R24); an officer's key is enrolled as theirs.
fn hub_line(role: Role, user: &str, key: &str) {
    out!("public key: {key}");
    match role {
        Role::Supervisor => out!("at the hub: doorstep-hub add-supervisor {key}"),
        Role::Officer => out!("at the hub: doorstep-hub add-officer {key} --id {user}"),
    }
}

/// Sizes in MiB, as `reserve_mb` in the configuration counts them (256 is 256 MiB).
fn megabytes(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / doorstep_core::shift::MIB as f64)
}

fn status(dir: &Path, args: OpenArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let vault = open(dir, &args, config)?;
    let s = vault.status()?;
    // The unlocking user's public key, for the hub (`add-officer`, `add-supervisor`): a key, not
    // personal data.
    let key = hex::encode(vault.user_public_key().to_bytes());
    if args.json {
        let mut v = serde_json::to_value(&s)?;
        v["vault"] = serde_json::json!(dir.display().to_string());
        v["user_key"] = serde_json::json!(key);
        out!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    out!("vault {} (device {})", dir.display(), s.device_id);
    out!("  drafts (visits in progress): {}", s.drafts);
    let states = ["sealed", "uploading", "acknowledged", "erased"];
    let counts: Vec<String> =
        states.iter().map(|k| format!("{k} {}", s.by_state.get(*k).copied().unwrap_or(0))).collect();
    out!("  applications: {}", counts.join(", "));
    out!("  envelopes on disk: {}, index: {}", megabytes(s.envelope_bytes), megabytes(s.index_bytes));
    let low = if s.free_bytes < s.reserve_bytes { "  LOW: capture is refused" } else { "" };
    out!("  free: {} (reserve {}){low}", megabytes(s.free_bytes), megabytes(s.reserve_bytes));
    out!("  audit entries: {}", s.audit_entries);
    out!("  users: {}", s.users.join(", "));
    out!("  key for the hub: {key}");
    out!("  key store: {}", s.key_store);
    for a in &s.set_aside {
        out!("  kept aside as damaged ({}): {}", kind_words(a.kind), a.name);
    }
    Ok(ExitCode::SUCCESS)
}

fn hand_over(dir: &Path, args: HandOverArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let mut vault = open(dir, &args.open, config)?;
    let (folder, handed) = if args.dry_run {
        (None, vault.hand_over_plan(&args.to)?)
    } else {
        vault.hand_over_set_aside(&args.to, now_unix())?
    };
    if args.open.json {
        let v = serde_json::json!({ "dry_run": args.dry_run, "folder": folder, "files": handed });
        out!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    if handed.is_empty() {
        out!("no file is kept aside as damaged: nothing to hand over");
        return Ok(ExitCode::SUCCESS);
    }
    let (verb, place) = match &folder {
        Some(folder) => ("handed over", folder.clone()),
        None => ("would hand over", args.to.join(format!("{}-UNIXTIME", vault.device_id()))),
    };
    for h in &handed {
        let written_off = match &h.written_off {
            Some(id) if h.sent_before => format!(
                " (sealed application {id}: written off this unit; it was sent before and may be at the hub, \
                 undecided: the bureau can find it there by its id)"
            ),
            Some(id) => format!(" (sealed application {id}, never sent: written off this unit)"),
            None if h.file.kind == doorstep_vault::SetAsideKind::Application => {
                " (the hub has this application: it stays on the shift until decided)".to_string()
            }
            None => String::new(),
        };
        out!("{verb} ({}): {}{written_off}", kind_words(h.file.kind), place.join(&h.file.name).display());
    }
    if args.dry_run {
        out!("nothing was changed: run again without --dry-run to hand them over");
    } else {
        out!(
            "the copies are as the unit kept them (sealed under its data key; an application's envelope sealed to \
             the bureau): give {} to the bureau",
            place.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(dir: &Path, args: OpenArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let vault = open(dir, &args, config)?;
    let report = vault.verify()?;
    let ok = report.problems.is_empty();
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        v["ok"] = serde_json::json!(ok);
        out!("{v}");
    } else if ok {
        out!(
            "ok: {}, {} and {} verified",
            counted(report.drafts_checked as u64, "draft value", "draft values"),
            counted(report.envelopes_checked as u64, "envelope", "envelopes"),
            counted(report.audit_entries as u64, "audit entry", "audit entries")
        );
    } else {
        out!("PROBLEMS in {}:", dir.display());
        for p in &report.problems {
            out!("  - {p}");
        }
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// What a file kept aside held, as the command line says it.
fn kind_words(kind: doorstep_vault::SetAsideKind) -> &'static str {
    use doorstep_vault::SetAsideKind as K;
    match kind {
        K::Application => "a sealed application",
        K::Draft => "part of a visit not sealed",
        K::Feedback => "a feedback",
        K::Index => "the index",
        K::AuditLog => "the audit log",
    }
}
