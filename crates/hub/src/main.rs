//! `doorstep-hub`: the bureau's receiving hub. See API.md and `doorstep-hub --help`.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use doorstep_hub::pki::{self, Hub, Validity};
use doorstep_hub::store::{AnyStore, BackOffice, Location, PgStore, SledStore};

#[derive(Parser)]
#[command(name = "doorstep-hub", about = "The bureau's receiving hub for doorstep tablets")]
struct Cli {
    /// The hub's folder (made by `init`).
    #[arg(long, global = true, env = "DOORSTEP_HUB", default_value = "hub")]
    hub: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a hub: a private CA, the hub's server certificate, its receipt key, and a bureau
    /// key pair for the demo (the private half is written beside the hub's folder, not in it).
    Init {
        dir: PathBuf,
        /// Names the hub's certificate is valid for (DNS names or IP addresses).
        #[arg(long = "host", default_values = ["localhost", "127.0.0.1"])]
        hosts: Vec<String>,
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: String,
        /// The address tablets use; by default https://FIRST-HOST:PORT-OF-LISTEN.
        #[arg(long)]
        url: Option<String>,
        /// A demo hub, for the demo unit on this machine (`scripts/demo-hub` makes one): it
        /// enrolls demo units (names starting `demo-`), whose captures may be simulated, and
        /// takes their envelopes. A hub made without it refuses both.
        #[arg(long)]
        demo: bool,
        /// With --demo: the demo bureau's private key file a demo vault made beside itself
        /// (VAULT.demo-bureau-secret.hex), so the demo unit can be provisioned here and `export`
        /// opens what it sealed.
        #[arg(long, requires = "demo")]
        bureau_secret: Option<PathBuf>,
        /// Keep the hub's data in a PostgreSQL database
        /// (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE) instead of the hub's folder:
        /// several hubs may then serve from it. The database must exist; its tables are made
        /// now, and migrated at each start.
        #[arg(long)]
        store: Option<String>,
        /// With --store: take no envelope, manifest or feedback (so send no receipt) unless the
        /// database names a synchronous standby, so that every receipted envelope is on two
        /// machines.
        #[arg(long, requires = "store")]
        require_synchronous_standby: bool,
        /// With --store: the CA (PEM) that signed the database server's certificate; the hub
        /// then speaks TLS 1.3 to PostgreSQL and verifies the server.
        #[arg(long, requires = "store")]
        store_ca: Option<PathBuf>,
    },
    /// Enroll a tablet: a client certificate from the CA and a provisioning bundle for
    /// `doorstep provision`.
    EnrollDevice {
        name: String,
        /// How long its certificate is valid.
        #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(i64).range(1..=3650))]
        days: i64,
    },
    /// Revoke a tablet (lost or retired): the hub refuses it from its next request.
    RevokeDevice { name: String },
    /// Replace the hub's server certificate (its key lost or copied) and revoke the old one:
    /// the CA's revocation list (crl.pem) lists it; bundles enrolled from now on carry the
    /// list and tablets enrolled before learn it at their next sync, so they refuse a hub that
    /// presents the old certificate. Restart `serve` to present the new one.
    ReplaceServerCert {
        /// Names the new certificate is valid for; the host of the hub's URL among them.
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
    },
    /// Trust a supervisor's key (64 hex characters) for batch manifests; bundles written from
    /// now on carry it.
    AddSupervisor { key: String },
    /// Enroll an officer's key (64 hex characters) for that officer, as `doorstep vault
    /// add-user` prints the line: envelopes and feedback signed by an officer key the hub has
    /// not enrolled, or naming another officer than the key's, are refused. A serving hub takes
    /// it from its next envelope.
    AddOfficer {
        key: String,
        /// The officer's id on the units (`doorstep vault add-user` names it).
        #[arg(long)]
        id: String,
    },
    /// Serve the API until stopped.
    Serve {
        /// Listen here instead of hub.toml's `listen`: for a second hub process on this
        /// machine, serving from the same PostgreSQL store.
        #[arg(long)]
        listen: Option<String>,
        /// Publish /metrics (Prometheus text) on this local address (e.g. 127.0.0.1:9464),
        /// instead of hub.toml's `metrics`; plain HTTP, unauthenticated.
        #[arg(long)]
        metrics: Option<String>,
    },
    /// The back office: open approved applications with the bureau's private key and write one
    /// folder each (photo, fingerprints, signature, the form as JSON). Works while `serve` runs:
    /// the hub hands over the sealed envelopes and never sees the key.
    Export {
        /// Only the supervisor-approved applications (the only export there is).
        #[arg(long, required = true)]
        approved: bool,
        /// The bureau's private key file (64 hex characters), as `init` wrote it.
        #[arg(long)]
        key: PathBuf,
        out: PathBuf,
    },
    /// The back office's verdict on an application, which its tablet hears on its next sync.
    Decide {
        id: String,
        #[arg(value_enum)]
        verdict: Verdict,
        /// Why it is rejected (required for a rejection): the officer reads it before the revisit.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Counts of received applications, by device.
    Status,
    /// The numbers for a range of days: applications received (days in UTC+08:00, both ends
    /// included) by service, officer, device, priority or day, with their states, the reasons
    /// for returns and rejections, urgent and green-channel cases, and the time from capture
    /// to receipt. Services, priority and urgent cases are in the sealed forms: they need
    /// --key, the bureau's private key, as `export` takes it.
    Report {
        /// The first day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// The last day, YYYY-MM-DD (included).
        #[arg(long)]
        to: String,
        /// What the table is broken down by (service and priority need --key).
        #[arg(long, value_enum, default_value_t = ReportBy::Device)]
        by: ReportBy,
        /// Everything as JSON.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// The table by key as CSV, with a last line of totals.
        #[arg(long)]
        csv: bool,
        /// Also draw the table as a bar chart, a PNG.
        #[arg(long, value_name = "FILE.png")]
        chart: Option<PathBuf>,
        /// The chart's size in pixels.
        #[arg(long, default_value = "1200x800", value_name = "WIDTHxHEIGHT")]
        size: String,
        /// The font for the chart's text (a CJK font: keys may be Chinese); by default the
        /// project's assets/fonts/NotoSansSC-doorstep.otf in the checkout the hub was built from.
        #[arg(long)]
        font: Option<PathBuf>,
        /// The bureau's private key file (64 hex characters), as `init` wrote it: opens the
        /// sealed forms here, never at the hub.
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Appointments made in advance (预约), each for one enrolled tablet: add, import from CSV,
    /// list, cancel. Works while `serve` runs.
    Appointment {
        #[command(subcommand)]
        command: doorstep_hub::appointments::cli::AppointmentCommand,
    },
    /// Praise, opinions, complaints and "could not get it done" (办不成事) sent sealed by the
    /// tablets: list (the text and contact only with --key), acknowledge, answer, close.
    /// Works while `serve` runs.
    Feedback {
        #[command(subcommand)]
        command: doorstep_hub::feedback::cli::FeedbackCommand,
    },
    /// Move the store's index aside (store/index.damaged-N) and rebuild it from the segments
    /// and the journal. The hub must be stopped. (A missing or damaged index is rebuilt at
    /// open without being asked.)
    RebuildIndex,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportBy {
    Service,
    Officer,
    Device,
    Priority,
    Day,
}

impl From<ReportBy> for doorstep_hub::report::By {
    fn from(by: ReportBy) -> Self {
        use doorstep_hub::report::By;
        match by {
            ReportBy::Service => By::Service,
            ReportBy::Officer => By::Officer,
            ReportBy::Device => By::Device,
            ReportBy::Priority => By::Priority,
            ReportBy::Day => By::Day,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Verdict {
    Accept,
    Reject,
}

/// The hub's records. The embedded store: through the admin socket when `serve` is running
/// on this folder (it holds the store), otherwise from the store itself. PostgreSQL: from the
/// database, which the serving hubs share.
fn records(hub: &Hub) -> anyhow::Result<Box<dyn BackOffice>> {
    let location = Location::parse(hub.config.store.as_deref())?;
    if location == Location::Embedded
        && let Some(admin) = doorstep_hub::admin::AdminClient::connect(&hub.dir)
    {
        return Ok(Box::new(admin));
    }
    // The back office reads and decides even when a synchronous standby is required and
    // missing (after a failover, say): that requirement is for what tablets are told.
    let mut config = hub.config.clone();
    config.require_synchronous_standby = false;
    let (store, report) = AnyStore::open(&hub.dir, &config)?;
    let said = match &store {
        AnyStore::Sled(_) => report,
        // Whether receipts wait for a standby is the serving hub's to log.
        AnyStore::Pg(db) => db.migrated().report(),
    };
    for line in said {
        eprintln!("doorstep-hub: {line}");
    }
    Ok(Box::new(store))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init {
            dir,
            hosts,
            listen,
            url,
            demo,
            bureau_secret,
            store,
            require_synchronous_standby,
            store_ca,
        } => {
            // The addresses first: nothing is made (no tables, no folder) for a hub that could
            // not listen, or whose tablets could not reach it.
            let port = listen.rsplit_once(':').map(|(_, p)| p).unwrap_or("8443");
            let url = url.unwrap_or_else(|| format!("https://{}:{port}", hosts.first().map_or("localhost", |h| h)));
            pki::check_addresses(&hosts, &listen, &url)?;
            // The store is read once: a database is checked (and its tables made) before the
            // hub's folder is; the CA is kept as an absolute path (hub.toml is read from
            // wherever the hub runs).
            let postgres = match Location::parse(store.as_deref())? {
                Location::Postgres(address) => Some(address),
                Location::Embedded => None,
            };
            let store_ca =
                store_ca.map(|p| std::path::absolute(&p).with_context(|| format!("{}", p.display()))).transpose()?;
            if let Some(address) = postgres {
                let ca_pem = match &store_ca {
                    Some(p) => {
                        Some(std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?)
                    }
                    None => None,
                };
                let db = PgStore::open_tls(address, require_synchronous_standby, ca_pem.as_deref())
                    .context("the hub's PostgreSQL store")?;
                for line in db.report() {
                    println!("{line}");
                }
            } else if store_ca.is_some() {
                anyhow::bail!("--store-ca is for a PostgreSQL store (--store postgres://…)");
            }

            let mut hub = pki::init(&dir, &hosts, &listen, &url)?;
            if demo {
                hub.make_demo()?;
            }
            if let Some(store) = &store {
                hub.use_store(store, require_synchronous_standby)?;
            }
            if let Some(ca) = &store_ca {
                hub.use_store_ca(ca)?;
            }
            if let Some(path) = &bureau_secret {
                let secret =
                    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                hub.use_demo_bureau(&secret)?;
            }
            let kind = if demo { "demo hub" } else { "hub" };
            println!("{kind} {} created in {}", hub.config.hub_id, dir.display());
            if store.is_some() {
                println!("  its data: in PostgreSQL (store in {}/hub.toml)", dir.display());
            }
            println!(
                "  private CA (signs the hub and each tablet): {}/ca.pem, key {}/ca-key.pem",
                dir.display(),
                dir.display()
            );
            println!("  the hub's certificate for {}: {}/server.pem", hosts.join(", "), dir.display());
            println!("  receipt signing key: {}/receipt-key", dir.display());
            println!("  bureau public key (tablets seal to it): {}/bureau.pub", dir.display());
            println!(
                "  bureau PRIVATE key, for the back office only, kept apart from the hub: {}/bureau.key",
                pki::bureau_dir(&dir).display()
            );
            println!("tablets will connect to {url}; next: doorstep-hub --hub {} enroll-device NAME", dir.display());
        }
        Command::EnrollDevice { name, days } => {
            let hub = Hub::open(&cli.hub)?;
            let path = hub.enroll(&name, Validity::days(days))?;
            println!("enrolled {name}; its bundle (it holds the tablet's private key): {}", path.display());
            println!("on the tablet: doorstep provision {}", path.display());
        }
        Command::ReplaceServerCert { hosts } => {
            let r = Hub::open(&cli.hub)?.replace_server_certificate(&hosts)?;
            println!(
                "new server certificate written; the old one (serial {}) is revoked ({} on the list in crl.pem)",
                r.revoked, r.listed
            );
            println!("restart `doorstep-hub serve` to present it; bundles enrolled from now on carry the list");
        }
        Command::RevokeDevice { name } => {
            Hub::open(&cli.hub)?.revoke(&name)?;
            println!("revoked {name}: the hub refuses it from its next request");
        }
        Command::Serve { listen, metrics } => {
            let mut hub = Hub::open(&cli.hub)?;
            if let Some(listen) = listen {
                hub.config.listen = listen;
            }
            if let Some(metrics) = metrics {
                hub.config.metrics = Some(metrics);
            }
            // SIGINT or SIGTERM (systemd's stop): stop taking requests, close the store (an
            // envelope being stored is finished; if its reply is lost, its tablet asks again)
            // and the admin socket, and exit. Caught from before the hub says it serves: a stop
            // that comes at once is a clean stop too, not death by the signal.
            let (stop, stopped) = std::sync::mpsc::channel();
            ctrlc::set_handler(move || {
                let _ = stop.send(());
            })
            .context("install the stop signal handler")?;
            // A daemon's output may go nowhere (a closed pipe): not a reason to stop serving.
            let say = |line: String| {
                use std::io::Write;
                let _ = writeln!(std::io::stdout(), "{line}");
            };
            let opened = doorstep_hub::server::open(&hub)?;
            // A stop that came while the store opened (an index rebuild may take minutes) is
            // acted on before the hub listens: no tablet connects only to be cut.
            if stopped.try_recv().is_ok() {
                drop(opened);
                say(format!("hub {} stopped before it served", hub.config.hub_id));
                return Ok(());
            }
            let running = opened.serve(&hub.config.listen)?;
            say(format!(
                "hub {} serving on https://{} (tablets use {})",
                hub.config.hub_id, running.addr, hub.config.url
            ));
            if let Some(m) = &running.metrics {
                say(format!("metrics on http://{}/metrics", m.addr));
            }
            let _ = stopped.recv();
            drop(running);
            say(format!("hub {} stopped", hub.config.hub_id));
        }
        Command::AddSupervisor { key } => {
            let mut hub = Hub::open(&cli.hub)?;
            hub.add_supervisor(&key)?;
            println!("the hub now takes manifests signed by {key}");
        }
        Command::AddOfficer { key, id } => {
            let mut hub = Hub::open(&cli.hub)?;
            hub.add_officer(&key, &id)?;
            println!("the hub now takes envelopes and feedback of officer {id} signed by key {key}");
        }
        Command::Export { approved: _, key, out } => {
            let hub = Hub::open(&cli.hub)?;
            let text = std::fs::read_to_string(&key).with_context(|| key.display().to_string())?;
            let secret = hex::decode(text.trim())
                .ok()
                .and_then(|b| doorstep_envelope::BureauSecretKey::from_bytes(&b).ok())
                .with_context(|| format!("{}: not a bureau private key", key.display()))?;
            let n = doorstep_hub::export::approved(records(&hub)?.as_ref(), &secret, &out)?;
            let n = doorstep_core::text::counted(n as u64, "approved application", "approved applications");
            println!("exported {n} to {}", out.display());
        }
        Command::Decide { id, verdict, reason } => {
            let hub = Hub::open(&cli.hub)?;
            let store = records(&hub)?;
            let id = doorstep_envelope::ApplicationId::parse(&id)
                .with_context(|| format!("{id:?} is not an application id"))?
                .to_string();
            // Said before the reason is asked for: there is no point in a reason for nothing.
            if let Some(why) = doorstep_hub::store::undecidable(&id, store.status(&id)?.as_ref()) {
                anyhow::bail!(why);
            }
            let status = match (verdict, reason) {
                (Verdict::Accept, _) => doorstep_hub::store::Status::Accepted,
                (Verdict::Reject, Some(r)) if !r.trim().is_empty() => {
                    doorstep_hub::store::Status::Rejected { reason: r }
                }
                (Verdict::Reject, _) => {
                    anyhow::bail!("a rejection needs --reason: the officer reads it before the revisit")
                }
            };
            store.decide(&id, &status)?;
            println!("{id}: {status:?}");
        }
        Command::Appointment { command } => {
            let hub = Hub::open(&cli.hub)?;
            // Days at the bureau are UTC+08:00 (as in `report`): an ID number's birth date is
            // checked against today there.
            let now = time::OffsetDateTime::now_utc();
            let today = now.to_offset(time::macros::offset!(+8)).date();
            let book = records(&hub)?;
            let mut out = std::io::stdout().lock();
            doorstep_hub::appointments::cli::run(&hub, book.as_ref(), command, today, now.unix_timestamp(), &mut out)?;
        }
        Command::Feedback { command } => {
            let hub = Hub::open(&cli.hub)?;
            let office = records(&hub)?;
            let mut out = std::io::stdout().lock();
            let trusted = hub.config.trusted()?;
            let now = time::OffsetDateTime::now_utc();
            doorstep_hub::feedback::cli::run(office.as_ref(), command, now, &trusted, &mut out)?;
        }
        Command::RebuildIndex => {
            if Location::parse(Hub::open(&cli.hub)?.config.store.as_deref())? != Location::Embedded {
                anyhow::bail!("this hub's data is in PostgreSQL, which keeps no index of the hub's to rebuild");
            }
            if doorstep_hub::admin::AdminClient::connect(&cli.hub).is_some() {
                anyhow::bail!("a hub is serving {}: stop it first", cli.hub.display());
            }
            let store = SledStore::rebuild_index(&cli.hub.join("store"))?;
            for line in store.recovery().report() {
                println!("{line}");
            }
        }
        Command::Report { from, to, by, json, csv, chart, size, font, key } => {
            use doorstep_hub::report;
            // Every argument is checked before the store is opened.
            let range = report::DateRange::parse(&from, &to)?;
            let size = report::chart::parse_size(&size)?;
            let key = key.as_deref().map(report::gather::read_key).transpose()?;
            let hub = Hub::open(&cli.hub)?;
            let office = records(&hub)?;
            let mut numbers = report::gather::report(office.as_ref(), &range, by.into(), key.as_ref())?;
            // The feedback from the hub's own records (box, category, state), never the words.
            numbers.feedback = Some(report::feedback::figures(&office.feedback_list(None)?, &range));
            if let Some(path) = &chart {
                let font = font.unwrap_or_else(report::chart::default_font);
                report::chart::write(&numbers, size, &font, path)?;
            }
            let out = if json {
                report::render::json(&numbers)
            } else if csv {
                report::render::csv(&numbers)
            } else {
                report::render::text(&numbers)
            };
            print!("{out}");
            if !out.ends_with('\n') {
                println!();
            }
            if let Some(path) = chart.filter(|_| !json && !csv) {
                println!("chart: {}", path.display());
            }
        }
        Command::Status => {
            let hub = Hub::open(&cli.hub)?;
            let store = records(&hub)?;
            let received = store.all_received()?;
            let mut by_device = std::collections::BTreeMap::<String, usize>::new();
            let mut by_state = std::collections::BTreeMap::<String, usize>::new();
            for (id, r) in &received {
                *by_device.entry(r.device.clone()).or_default() += 1;
                let state = match store.status(id)? {
                    Some(s) => serde_json::to_value(&s)?["state"].as_str().unwrap_or("received").to_string(),
                    None => "received".into(),
                };
                *by_state.entry(state).or_default() += 1;
            }
            println!("received: {}", received.len());
            for (s, n) in by_state {
                println!("  {s}: {n}");
            }
            println!("by device:");
            for (d, n) in by_device {
                println!("  {d}: {n}");
            }
            for d in hub.devices()?.devices {
                let state = if d.revoked_at_unix.is_some() { "revoked" } else { "enrolled" };
                println!("device {}: {state}", d.name);
            }
            let appointments = store.appointments(None)?;
            let mut by_status = std::collections::BTreeMap::<&str, usize>::new();
            for b in &appointments {
                *by_status.entry(doorstep_hub::appointments::status_name(&b.appointment.status)).or_default() += 1;
            }
            println!("appointments: {}", appointments.len());
            for (s, n) in by_status {
                println!("  {s}: {n}");
            }
            let feedback = store.feedback_list(None)?;
            let mut by_state = std::collections::BTreeMap::<&str, usize>::new();
            for f in &feedback {
                *by_state.entry(doorstep_hub::feedback::state_name(&f.state)).or_default() += 1;
            }
            println!("feedback: {}", feedback.len());
            for (s, n) in by_state {
                println!("  {s}: {n}");
            }
        }
    }
    Ok(())
}

/// Logs go to standard error, filtered by `RUST_LOG` (`info` when unset): one line per
/// request and per refusal, never personal data.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    init_logging();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("doorstep-hub: {e:#}");
            ExitCode::FAILURE
        }
    }
}
