//! Real PostgreSQL clusters for the hub's tests: a primary on a free port of 127.0.0.1, each
//! test's own database in it, and streaming replicas (asynchronous or synchronous) to fail over to.
//!
//! The server binaries are PostgreSQL's (`DOORSTEP_PG_BIN`, else the newest
//! `/usr/lib/postgresql/N/bin`, else `PATH`). The server refuses to run as root, so when the tests
//! run as root every server binary runs as the `postgres` user (as `runuser -u postgres` would)
//! and each cluster's folder (under /tmp, which that user can reach) is given to it.
//!
//! No cluster outlives its test process: each has a keeper, a small shell run as the server's
//! user whose standard input is a pipe only the test process holds. When the pipe closes (the
//! cluster is dropped, or the process ends in any way: a panic, `std::process::exit`, a
//! signal, statics never dropped), the keeper stops the server (`pg_ctl stop -m immediate`)
//! and removes the cluster's folder.
//!
//! Include it with `mod pg;` in an integration test, or in the crate's own tests with
//! `#[path = "../../tests/pg/mod.rs"] mod pg;`. Errors panic with what failed and the end of
//! the server's log.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

/// How long a server may take to start, stop, catch up or be promoted.
const DEADLINE: Duration = Duration::from_secs(60);
/// Free ports are found by binding port 0; another process may take one before the server
/// binds it, so a start that could not bind is tried again on another port.
const PORT_TRIES: usize = 5;
/// Lines of the server's log shown when something fails.
const LOG_LINES: usize = 40;

/// A PostgreSQL cluster of its own: data, unix socket and log in a temporary folder, the server
/// on 127.0.0.1:`port()`, user `postgres`, every connection trusted. Dropping it stops the server
/// at once (an immediate shutdown, waited for); its keeper then removes the folder.
#[allow(dead_code)]
pub struct Cluster {
    port: u16,
    data: PathBuf,
    log: PathBuf,
    keeper: Keeper,
}

/// One cluster for the whole test binary, started on first use and stopped when the process
/// ends. Give each test its own database in it with [`Cluster::new_database`].
#[allow(dead_code)]
pub fn shared() -> &'static Cluster {
    static SHARED: OnceLock<Cluster> = OnceLock::new();
    SHARED.get_or_init(Cluster::start)
}

#[allow(dead_code)]
impl Cluster {
    /// A new cluster (initdb), started and accepting connections.
    pub fn start() -> Cluster {
        let (keeper, dir, sock) = cluster_dir();
        let data = dir.join("data");
        let log = dir.join("server.log");
        run(
            server_cmd("initdb")
                .arg("-D")
                .arg(&data)
                .args(["--auth=trust", "-U", "postgres", "--encoding=UTF8", "--locale=C"])
                // initdb's own final sync guards only against the machine crashing; the server
                // keeps fsync on.
                .arg("--no-sync"),
            "initdb",
            None,
        );
        let hba = "local all all trust\nlocal replication all trust\n\
                   host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n";
        std::fs::write(data.join("pg_hba.conf"), hba).expect("pg: cannot write pg_hba.conf");
        append(
            &data.join("postgresql.conf"),
            &format!(
                "\n# doorstep's tests\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
                 max_connections = 300\nshared_buffers = 128MB\nwal_level = replica\n\
                 max_wal_senders = 10\nfsync = on\n",
                sock.display()
            ),
        );
        let port = launch_on_free_port(&data, &log);
        let cluster = Cluster { port, data, log, keeper };
        cluster.connect("postgres");
        cluster
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@127.0.0.1:PORT/DB`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// The cluster's data folder (PGDATA).
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }

    /// A connection to `db` as `postgres`, retried for a while if the server does not answer.
    pub fn connect(&self, db: &str) -> Client {
        let url = format!("{}?connect_timeout=10", self.url(db));
        let start = Instant::now();
        loop {
            match Client::connect(&url, NoTls) {
                Ok(client) => return client,
                Err(e) if start.elapsed() > DEADLINE => self.fail(&format!("cannot connect to {url}: {}", why(&e))),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Creates a database of a new name (the process id and a counter) and returns its URL.
    pub fn new_database(&self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!("test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        if let Err(e) = self.connect("postgres").batch_execute(&format!("CREATE DATABASE {name}")) {
            self.fail(&format!("CREATE DATABASE {name} failed: {}", why(&e)));
        }
        self.url(&name)
    }

    /// A streaming standby of this cluster (`pg_basebackup -R`), connecting with
    /// `application_name=NAME` (`[a-z0-9_]+`), started, in recovery and streaming.
    /// Its `synchronous_standby_names` is emptied, so that once promoted it does not wait for a
    /// standby of its own.
    pub fn replica(&self, name: &str) -> Cluster {
        check_standby_name(name);
        let (keeper, dir, sock) = cluster_dir();
        let data = dir.join("data");
        let log = dir.join("server.log");
        let conninfo = format!("host=127.0.0.1 port={} user=postgres application_name={name}", self.port);
        run(
            server_cmd("pg_basebackup").arg("-D").arg(&data).args([
                "-d",
                &conninfo,
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ]),
            "pg_basebackup",
            Some(&self.log),
        );
        // The primary's settings came along: this one has its own socket and port (set when it
        // starts), and says who it is to the primary.
        append(&data.join("postgresql.conf"), &format!("\nunix_socket_directories = '{}'\n", sock.display()));
        append(
            &data.join("postgresql.auto.conf"),
            &format!("primary_conninfo = '{conninfo}'\nsynchronous_standby_names = ''\n"),
        );
        let port = launch_on_free_port(&data, &log);
        let replica = Cluster { port, data, log, keeper };
        replica.wait_for(&format!("replica {name} to be in recovery"), |c| {
            let rows = c.connect("postgres").query_one("SELECT pg_is_in_recovery()", &[]);
            rows.map(|r| r.get::<_, bool>(0)).map_err(|e| why(&e))
        });
        self.wait_for_standby(name, "streaming", &replica);
        replica
    }

    /// Makes the standby `name` (a [`Cluster::replica`] of this one) the synchronous one, and
    /// waits until the primary says so. A commit then returns once the standby has flushed it
    /// (`synchronous_commit = on`), or applied it (`remote_apply`, to read it there at once).
    pub fn set_synchronous_standby(&self, name: &str) {
        check_standby_name(name);
        // Two statements: ALTER SYSTEM cannot run in the implicit transaction of a batch.
        let mut client = self.connect("postgres");
        let set = format!("ALTER SYSTEM SET synchronous_standby_names = '{name}'");
        if let Err(e) = client.batch_execute(&set).and_then(|()| client.batch_execute("SELECT pg_reload_conf()")) {
            self.fail(&format!("cannot set synchronous_standby_names to {name}: {}", why(&e)));
        }
        self.wait_for(&format!("standby {name} to be synchronous"), |c| Ok(c.standby_state(name)?.1 == "sync"));
    }

    /// Stops the server (fast shutdown: sessions are ended, WAL goes to the standbys, a
    /// checkpoint is written) and waits until it has.
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"], "pg_ctl stop -m fast");
    }

    /// Stops the server as a crash would (immediate shutdown: no checkpoint; the next start
    /// recovers from the WAL), and waits until it has.
    pub fn kill(&self) {
        self.pg_ctl(&["stop", "-m", "immediate", "-w", "-t", "60"], "pg_ctl stop -m immediate");
    }

    /// Starts the server again on its port, after [`Cluster::stop`] or [`Cluster::kill`].
    pub fn restart(&self) {
        if let Err(e) = launch(&self.data, &self.log) {
            panic!("pg: cannot start the server in {} again: {e}", self.data.display());
        }
        self.connect("postgres");
    }

    /// Turns TLS on with this certificate chain and key (PEM), by a restart (a reload can
    /// leave a moment when TLS is said on and not yet offered); plain connections are still
    /// taken, so that a test can show the hub refuses them.
    pub fn enable_tls(&self, cert_pem: &str, key_pem: &str) {
        for (name, text) in [("server.crt", cert_pem), ("server.key", key_pem)] {
            let path = self.data.join(name);
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("pg: cannot write {}: {e}", path.display()));
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
            if let Some((uid, gid)) = env().server_user {
                std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
            }
        }
        append(
            &self.data.join("postgresql.conf"),
            "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n",
        );
        self.stop();
        self.restart();
        self.wait_for("TLS to be on", |c| {
            let row = c.connect("postgres").query_one("SHOW ssl", &[]);
            row.map(|r| r.get::<_, String>(0) == "on").map_err(|e| why(&e))
        });
    }

    /// Promotes a standby to a primary, and waits until it has left recovery.
    pub fn promote(&self) {
        self.pg_ctl(&["promote", "-w", "-t", "60"], "pg_ctl promote");
        self.wait_for("the promoted server to leave recovery", |c| {
            let row = c.connect("postgres").query_one("SELECT pg_is_in_recovery()", &[]);
            row.map(|r| !r.get::<_, bool>(0)).map_err(|e| why(&e))
        });
    }

    fn pg_ctl(&self, args: &[&str], what: &str) {
        run(server_cmd("pg_ctl").args(args).arg("-D").arg(&self.data), what, Some(&self.log));
    }

    /// `(state, sync_state)` of the standby `name` in this primary's `pg_stat_replication`.
    fn standby_state(&self, name: &str) -> Result<(String, String), String> {
        let sql = "SELECT state, sync_state FROM pg_stat_replication WHERE application_name = $1";
        match self.connect("postgres").query_opt(sql, &[&name]) {
            Ok(Some(row)) => Ok((row.get(0), row.get(1))),
            Ok(None) => Err(format!("{name} is not in pg_stat_replication")),
            Err(e) => Err(why(&e)),
        }
    }

    fn wait_for_standby(&self, name: &str, state: &str, replica: &Cluster) {
        let start = Instant::now();
        loop {
            let now = self.standby_state(name);
            match &now {
                Ok((s, _)) if s == state => return,
                _ if start.elapsed() > DEADLINE => panic!(
                    "pg: standby {name} is not {state} after {DEADLINE:?} (last: {now:?})\n\
                     --- primary's log ---\n{}\n--- standby's log ---\n{}",
                    self.log_tail(),
                    replica.log_tail()
                ),
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Polls `check` until it says true, or panics after [`DEADLINE`] with its last answer.
    fn wait_for(&self, what: &str, mut check: impl FnMut(&Cluster) -> Result<bool, String>) {
        let start = Instant::now();
        loop {
            let now = check(self);
            if now == Ok(true) {
                return;
            }
            if start.elapsed() > DEADLINE {
                self.fail(&format!("waited {DEADLINE:?} for {what} (last: {now:?})"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn fail(&self, what: &str) -> ! {
        panic!("pg: {what}\n--- server log ({}) ---\n{}", self.log.display(), self.log_tail())
    }
}

/// Holds the write end of the keeper's standard input; dropping it (or the process ending)
/// closes the pipe, and the keeper stops the server and removes the cluster's folder.
struct Keeper {
    child: Option<Child>,
    data: PathBuf,
}

impl Keeper {
    fn spawn(data: &Path, dir: &Path) -> Keeper {
        // Signals from the terminal (^C) go to the whole process group: the keeper ignores
        // them and waits for the pipe to close, which happens when the test process is gone.
        const SCRIPT: &str = "trap '' INT TERM HUP QUIT\n\
            while read -r _; do :; done\n\
            \"$1\" stop -D \"$2\" -m immediate -w -t 30 >/dev/null 2>&1\n\
            rm -rf \"$3\"\n";
        let mut cmd = as_server_user("sh");
        cmd.args(["-c", SCRIPT, "doorstep-pg-keeper"])
            .arg(env().bin.join("pg_ctl"))
            .arg(data)
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // std's pipes are close-on-exec: no other child (a server among them) holds the write
        // end, so it closes exactly when this process lets go of it.
        let child = cmd.spawn().unwrap_or_else(|e| panic!("pg: cannot start the keeper shell: {e}"));
        Keeper { child: Some(child), data: data.to_owned() }
    }
}

impl Drop for Keeper {
    /// Stops the server now (immediate shutdown, waited for), then lets the keeper go: it removes
    /// the folder meanwhile (slow when the disk is busy), reaped on a thread of its own.
    fn drop(&mut self) {
        if self.data.join("postmaster.pid").exists() {
            let mut stop = server_cmd("pg_ctl");
            stop.args(["stop", "-m", "immediate", "-w", "-t", "30", "-D"]).arg(&self.data);
            let _ = stop.stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        if let Some(mut child) = self.child.take() {
            drop(child.stdin.take());
            std::thread::spawn(move || child.wait());
        }
    }
}

struct Env {
    /// The folder holding initdb, pg_ctl, postgres, pg_basebackup.
    bin: PathBuf,
    /// The `postgres` user's uid and gid when running as root: the server runs as it.
    server_user: Option<(u32, u32)>,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let server_user = (effective_uid() == 0).then(|| {
            postgres_user().unwrap_or_else(|| {
                panic!(
                    "pg: running as root, but there is no `postgres` user to run the server as \
                     (scripts/setup installs postgresql, which adds it)"
                )
            })
        });
        Env { bin: bin_dir(), server_user }
    })
}

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DOORSTEP_PG_BIN") {
        return dir.into();
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .max();
    if let Some((_, bin)) = newest {
        return bin;
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        .unwrap_or_else(|| {
            panic!(
                "pg: PostgreSQL's server binaries (initdb, pg_ctl) were not found: install postgresql \
                 (scripts/setup), or set DOORSTEP_PG_BIN to their folder"
            )
        })
}

fn effective_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let from_proc =
        status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|ids| ids.split_whitespace().nth(1)?.parse().ok());
    from_proc.unwrap_or_else(|| {
        let out = Command::new("id").arg("-u").output().expect("pg: cannot run `id -u`");
        String::from_utf8_lossy(&out.stdout).trim().parse().expect("pg: `id -u` said no number")
    })
}

/// The `postgres` user's uid and gid, from /etc/passwd.
fn postgres_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.starts_with("postgres:"))?;
    let mut fields = line.split(':').skip(2);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

/// `program` run as the server's user: as `postgres` when root (std sets the uid and gid, and
/// drops root's groups, in the child before exec: like `runuser -u postgres`, without a parent
/// process of runuser's that would kill its child on ^C), else as we are.
fn as_server_user(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    if let Some((uid, gid)) = env().server_user {
        use std::os::unix::process::CommandExt;
        cmd.uid(uid).gid(gid).env_remove("HOME");
    }
    // The postgres user may not reach the test's working folder; nor should the test's
    // environment point the tools elsewhere.
    cmd.current_dir("/").stdin(Stdio::null());
    for var in ["PGDATA", "PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGOPTIONS", "PGSERVICE"] {
        cmd.env_remove(var);
    }
    cmd
}

/// One of PostgreSQL's binaries, run as the server's user.
fn server_cmd(name: &str) -> Command {
    as_server_user(env().bin.join(name))
}

/// A new temporary folder for a cluster, with `sock/` for its unix socket, both the server
/// user's, and the keeper that will remove it. As root it is under /tmp: TMPDIR may be a folder
/// the postgres user cannot reach. Returns the keeper, the folder and `sock/`.
fn cluster_dir() -> (Keeper, PathBuf, PathBuf) {
    let mut builder = tempfile::Builder::new();
    builder.prefix("doorstep-pg-");
    let dir = if env().server_user.is_some() { builder.tempdir_in("/tmp") } else { builder.tempdir() };
    let dir = dir.unwrap_or_else(|e| panic!("pg: cannot make a temporary folder: {e}"));
    let sock = dir.path().join("sock");
    std::fs::create_dir(&sock).unwrap_or_else(|e| panic!("pg: cannot make {}: {e}", sock.display()));
    if let Some((uid, gid)) = env().server_user {
        for path in [dir.path(), &sock] {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("pg: cannot give {} to the postgres user: {e}", path.display()));
        }
    }
    let keeper = Keeper::spawn(&dir.path().join("data"), dir.path());
    // From here on the keeper removes the folder.
    (keeper, dir.keep(), sock)
}

fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("pg: cannot open {}: {e}", path.display()));
    file.write_all(text.as_bytes()).unwrap_or_else(|e| panic!("pg: cannot write {}: {e}", path.display()));
}

/// Starts the server on a free port, trying others if the one found is taken meanwhile.
fn launch_on_free_port(data: &Path, log: &Path) -> u16 {
    let mut last = String::new();
    for _ in 0..PORT_TRIES {
        let port = free_port();
        append(&data.join("postgresql.conf"), &format!("port = {port}\n"));
        match launch(data, log) {
            Ok(()) => return port,
            Err(e) if e.contains("could not bind") || e.contains("could not create any TCP/IP sockets") => last = e,
            Err(e) => panic!("pg: cannot start the server in {}: {e}", data.display()),
        }
    }
    panic!("pg: cannot start the server in {} on a free port ({PORT_TRIES} tries): {last}", data.display())
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("pg: cannot bind 127.0.0.1:0");
    listener.local_addr().expect("pg: no local address").port()
}

/// `pg_ctl start`, waiting until the server accepts connections. The error tells what pg_ctl
/// said and the end of the server's log.
fn launch(data: &Path, log: &Path) -> Result<(), String> {
    let mut cmd = server_cmd("pg_ctl");
    cmd.arg("start").arg("-D").arg(data).arg("-l").arg(log).args(["-w", "-t", "60"]);
    let out = cmd.output().map_err(|e| format!("cannot run pg_ctl: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "pg_ctl start failed ({})\n{}{}\n--- server log ({}) ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        log.display(),
        tail(log)
    ))
}

/// Runs `cmd`, panicking with its output (and the end of `log`) if it fails.
fn run(cmd: &mut Command, what: &str, log: Option<&Path>) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("pg: cannot run {what} ({cmd:?}): {e}"));
    if !out.status.success() {
        let log = log.map(|l| format!("\n--- server log ({}) ---\n{}", l.display(), tail(l))).unwrap_or_default();
        panic!(
            "pg: {what} failed ({})\n$ {cmd:?}\n{}{}{log}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tail(log: &Path) -> String {
    match std::fs::read(log) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(LOG_LINES)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", log.display()),
    }
}

/// A client error with the server's message, which `Display` leaves out ("db error").
fn why(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {} ({})", db.severity(), db.message(), db.code().code()),
        None => e.to_string(),
    }
}

fn check_standby_name(name: &str) {
    let ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    assert!(ok, "pg: a standby's name is [a-z0-9_]+ (it goes unquoted into settings), not {name:?}");
}
