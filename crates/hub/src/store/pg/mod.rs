//! The hub's store on PostgreSQL ([`PgStore`]), for a hub whose data must outlive its machine
//! or that runs as several processes: the same four traits as the default store, each write
//! one transaction, durable (and, when the database has a synchronous standby, on the
//! standby's disk too) before it returns.
//!
//! - `schema`: the versioned migrations, applied at open under an advisory lock, so that
//!   several hubs starting at once apply each once;
//! - `records`: envelopes, receipts, partial uploads, counters, device keys, manifests and
//!   verdicts ([`super::Records`], [`super::Store`]);
//! - `booked`: appointments and feedback ([`super::Appointments`], [`super::FeedbackBox`]).
//!
//! What several processes on one database rely on: a counter, a device key and an
//! application id are each claimed by `INSERT … ON CONFLICT`, so two hubs racing for one get
//! one winner; a verdict is an `UPDATE … WHERE state = 'approved'`, so it is taken once; an
//! appointment or a feedback is swapped under its row's lock (`SELECT … FOR UPDATE`) only if
//! it is still what the caller read.
//!
//! The connection is TLS (rustls, the server verified against `store_ca`) when `hub.toml`
//! names the CA that signed the database server's certificate, and plain TCP or a Unix socket
//! otherwise, for a database on the hub's machine or a private link.

mod booked;
mod records;
mod schema;

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

use super::StoreError;

pub use schema::{LATEST, Migrated};

const NO_STANDBY: &str = "hub.toml requires a synchronous standby (require_synchronous_standby), and PostgreSQL names none (synchronous_standby_names is empty): nothing is taken until it does";

/// Connections one hub process opens at most: requests beyond it wait for one (each request
/// runs on a blocking thread, and holds a connection only for its store calls).
const MAX_CONNECTIONS: usize = 16;

/// How long a request waits for a connection before the store says it is unavailable.
const WAIT_FOR_CONNECTION: Duration = Duration::from_secs(30);

/// The hub's store in a PostgreSQL database (`store = "postgres://…"` in `hub.toml`).
pub struct PgStore {
    pool: Pool,
    migrated: Migrated,
    synchronous: Synchronous,
    /// `require_synchronous_standby` in `hub.toml`: no commit (so no receipt) unless the
    /// database names a synchronous standby at that moment.
    require_standby: bool,
}

/// What the database said of synchronous replication when the store opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synchronous {
    /// The primary's `synchronous_standby_names` (empty: a commit waits for no standby).
    pub standby_names: String,
    /// `synchronous_commit` as the hub's sessions use it (the hub raises it to `on` when
    /// the database's default is lower).
    pub commit: String,
}

impl Synchronous {
    /// What to tell the hub's operator.
    pub fn report(&self) -> String {
        if self.standby_names.trim().is_empty() {
            format!(
                "PostgreSQL has no synchronous standby (synchronous_standby_names is empty): a receipt means the envelope is on the database server's disk, not yet on a second machine's (synchronous_commit = {})",
                self.commit
            )
        } else {
            format!(
                "PostgreSQL waits for the synchronous standby {:?} at each commit (synchronous_commit = {}): a receipt means the envelope is on two machines' disks",
                self.standby_names, self.commit
            )
        }
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`,
    /// several `HOST:PORT`s with `?target_session_attrs=read-write` to follow a failover, or a
    /// key=value string), applies the migrations it lacks, and reads its replication settings.
    /// With `require_standby`, a database that names no synchronous standby is refused.
    pub fn open(url: &str, require_standby: bool) -> Result<PgStore, StoreError> {
        PgStore::open_tls(url, require_standby, None)
    }

    /// [`PgStore::open`], speaking TLS 1.3 (rustls with ring) to the database when
    /// `ca_pem` is given: the server's certificate must chain to that CA and name the host of
    /// the address, and a server that offers no TLS is refused (never a plain fallback).
    /// Without it the connection is plain, and an address asking `sslmode=require` is refused.
    pub fn open_tls(url: &str, require_standby: bool, ca_pem: Option<&str>) -> Result<PgStore, StoreError> {
        let mut config: postgres::Config =
            url.parse().map_err(|e| StoreError::Refused(format!("not a PostgreSQL address: {e}")))?;
        let tls = match ca_pem {
            Some(pem) => {
                config.ssl_mode(postgres::config::SslMode::Require);
                Some(tls_connector(pem)?)
            }
            None if config.get_ssl_mode() == postgres::config::SslMode::Require => {
                return Err(StoreError::Refused(
                    "the PostgreSQL address asks for TLS (sslmode=require): give the CA that signed the server's certificate (store_ca in hub.toml, init --store-ca)".into(),
                ));
            }
            None => {
                // Plain, and never an attempt at TLS the hub could not verify.
                config.ssl_mode(postgres::config::SslMode::Disable);
                None
            }
        };
        config.application_name("doorstep-hub");
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        // A database that vanishes from the network (no reset, no answer) is given up on in
        // seconds, not when TCP would: the connection is dropped and the next call connects
        // again (to the next host of the address, after a failover).
        config.keepalives(true).keepalives_idle(Duration::from_secs(10)).keepalives_interval(Duration::from_secs(5));
        config.tcp_user_timeout(Duration::from_secs(30));
        let pool = Pool::new(config, tls, MAX_CONNECTIONS);
        let migrated = pool.with(schema::migrate)?;
        let synchronous = pool.with(|c| {
            let names: String = c.query_one("SHOW synchronous_standby_names", &[])?.get(0);
            let commit: String = c.query_one("SHOW synchronous_commit", &[])?.get(0);
            Ok(Synchronous { standby_names: names, commit })
        })?;
        if require_standby && synchronous.standby_names.trim().is_empty() {
            return Err(StoreError::Refused(NO_STANDBY.into()));
        }
        Ok(PgStore { pool, migrated, synchronous, require_standby })
    }

    /// Refuses a commit when a synchronous standby is required and the database names none
    /// now (its setting was emptied since the hub started).
    pub(super) fn standby_required(&self, tx: &mut postgres::Transaction<'_>) -> Result<(), StoreError> {
        if !self.require_standby {
            return Ok(());
        }
        let names: String = tx.query_one("SHOW synchronous_standby_names", &[])?.get(0);
        if names.trim().is_empty() {
            return Err(StoreError::Unavailable(NO_STANDBY.into()));
        }
        Ok(())
    }

    /// The migrations opening applied (none when the schema was current).
    pub fn migrated(&self) -> &Migrated {
        &self.migrated
    }

    /// The database's synchronous replication, as it stood at open.
    pub fn synchronous(&self) -> &Synchronous {
        &self.synchronous
    }

    /// What opening found and did, one line each, for the hub's log.
    pub fn report(&self) -> Vec<String> {
        let mut lines = self.migrated.report();
        lines.push(self.synchronous.report());
        lines
    }

    /// Runs `f` in one transaction, committed when it returns `Ok((value, true))`, rolled
    /// back when it returns `Ok((value, false))` or an error.
    pub(super) fn transaction<T>(
        &self,
        f: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<(T, bool), StoreError>,
    ) -> Result<T, StoreError> {
        self.pool.with(|client| {
            let mut tx = client.transaction()?;
            let (value, commit) = f(&mut tx)?;
            if commit {
                tx.commit()?;
            } else {
                tx.rollback()?;
            }
            Ok(value)
        })
    }

    pub(super) fn with<T>(&self, f: impl FnOnce(&mut Client) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.pool.with(f)
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> StoreError {
        StoreError::Postgres(describe(&e))
    }
}

/// What the database said, for the operator: the server's own message (a `postgres::Error`
/// says only "db error" of it), never the statement's values.
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
        None => {
            // The cause too (a TLS handshake's says which certificate check failed).
            let mut said = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                said = format!("{said}: {c}");
                cause = c.source();
            }
            said
        }
    }
}

/// A TLS connector that trusts only `ca_pem`'s certificates.
fn tls_connector(ca_pem: &str) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    let refused = |e: &dyn std::fmt::Display| StoreError::Refused(format!("the PostgreSQL server's CA: {e}"));
    let roots = doorstep_sync::tls::roots(ca_pem).map_err(|e| refused(&e))?;
    let config = rustls::ClientConfig::builder_with_provider(doorstep_sync::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| refused(&e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// A few connections, opened when first needed and kept; a broken one is dropped and a new
/// one opened at the next call (a database restarted or failed over is reached again).
struct Pool {
    config: postgres::Config,
    /// TLS to the database (`store_ca`), or plain.
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    max: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<Client>,
    /// Connections open, idle or lent.
    open: usize,
}

impl Pool {
    fn new(config: postgres::Config, tls: Option<tokio_postgres_rustls::MakeRustlsConnect>, max: usize) -> Pool {
        Pool { config, tls, max, state: Mutex::new(PoolState { idle: Vec::new(), open: 0 }), freed: Condvar::new() }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Client) -> Result<T, StoreError>) -> Result<T, StoreError> {
        // Given back however `f` ends, a panic included: a lost place would never come back.
        let mut lent = Lent { pool: self, client: Some(self.take()?) };
        match lent.client.as_mut() {
            Some(client) => f(client),
            None => Err(StoreError::Unavailable("no connection".into())),
        }
    }

    fn take(&self) -> Result<Client, StoreError> {
        let deadline = Instant::now() + WAIT_FOR_CONNECTION;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(client) = state.idle.pop() {
                if client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(client);
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return self.connect().inspect_err(|_| {
                    let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                    state.open -= 1;
                    self.freed.notify_one();
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StoreError::Unavailable(format!(
                    "all {} connections to PostgreSQL stayed busy for {}s",
                    self.max,
                    WAIT_FOR_CONNECTION.as_secs()
                )));
            }
            state = self.freed.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    fn connect(&self) -> Result<Client, StoreError> {
        let mut client = match &self.tls {
            Some(tls) => self.config.connect(tls.clone())?,
            None => self.config.connect(NoTls)?,
        };
        // A receipt waits for the commit to be flushed, and for the synchronous standby when
        // there is one: never lower than `on` for the hub's sessions, whatever the database's
        // default (`remote_apply`, stronger, is kept).
        // Set for the session whatever it is now: a session's own setting outlives a reload of
        // the server's configuration, which could lower the default to `off` meanwhile.
        let commit: String = client.query_one("SHOW synchronous_commit", &[])?.get(0);
        let commit = if commit == "remote_apply" { "remote_apply" } else { "on" };
        client.batch_execute(&format!("SET synchronous_commit = {commit}"))?;
        // The store's statements read, after an `INSERT … ON CONFLICT DO NOTHING`, the row
        // another session committed: read committed, whatever the database's default.
        client.batch_execute("SET default_transaction_isolation = 'read committed'")?;
        Ok(client)
    }

    fn give_back(&self, client: Client) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if client.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(client);
        }
        self.freed.notify_one();
    }
}

/// A connection lent by the pool, given back when dropped.
struct Lent<'a> {
    pool: &'a Pool,
    client: Option<Client>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            self.pool.give_back(client);
        }
    }
}

impl Drop for Pool {
    /// Closes the connections on a thread of their own: closing one blocks on its runtime,
    /// which may not be done from inside another (the last holder of the store may be an
    /// async task, such as the admin socket's accept loop).
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.state.get_mut().unwrap_or_else(|e| e.into_inner()).idle);
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operator_hears_whether_receipts_wait_for_a_standby() {
        let none = Synchronous { standby_names: String::new(), commit: "on".into() };
        assert!(none.report().contains("no synchronous standby"), "{}", none.report());
        let one = Synchronous { standby_names: "replica1".into(), commit: "on".into() };
        assert!(one.report().contains("\"replica1\"") && one.report().contains("two machines"), "{}", one.report());
    }

    #[test]
    fn a_bad_address_is_refused_before_any_connection() {
        match PgStore::open("postgres://[not-a-host", false) {
            Err(StoreError::Refused(m)) => assert!(m.contains("not a PostgreSQL address"), "{m}"),
            Err(e) => panic!("expected a refusal, got {e}"),
            Ok(_) => panic!("opened a store at a bad address"),
        }
    }
}
