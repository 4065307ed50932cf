//! The store's tables, as numbered migrations applied in order at open. Each migration runs
//! in one transaction with the record that it ran, under an advisory lock: several hubs
//! starting at once apply it once, and a hub that stops halfway leaves the schema as it was.
//! A database migrated by a newer hub is refused, not used half-understood.

use postgres::Client;

use crate::store::StoreError;

/// The advisory lock the migrations are applied under ("doorstep" in ASCII).
const LOCK: i64 = 0x646f_6f72_7374_6570;

/// The migrations, in order: a number, a name, and the SQL. Never edit one that has shipped;
/// add the next.
const MIGRATIONS: &[(i32, &str, &str)] = &[(1, "the store's tables", V1)];

/// The schema version this hub knows.
pub const LATEST: i32 = 1;

/// Envelopes and manifests are in the database (each ≤ 8 MiB, so within a `bytea`); an
/// envelope is sealed, so it is stored without compression (`STORAGE EXTERNAL`): PostgreSQL
/// would try and fail to compress it at every write.
const V1: &str = "
CREATE TABLE envelopes (
    id text PRIMARY KEY,
    digest text NOT NULL,
    device text NOT NULL,
    device_id text NOT NULL,
    size bigint NOT NULL,
    device_counter bigint NOT NULL,
    received_at_unix bigint NOT NULL,
    envelope bytea NOT NULL,
    receipt bytea NOT NULL
);
ALTER TABLE envelopes ALTER COLUMN envelope SET STORAGE EXTERNAL;
CREATE TABLE uploads (
    id text PRIMARY KEY,
    digest text NOT NULL,
    length bigint NOT NULL,
    device text NOT NULL,
    started_at_unix bigint NOT NULL,
    touched_at_unix bigint NOT NULL,
    held bigint NOT NULL
);
CREATE TABLE upload_chunks (
    id text NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    at bigint NOT NULL,
    bytes bytea NOT NULL,
    PRIMARY KEY (id, at)
);
ALTER TABLE upload_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;
CREATE TABLE counters (
    device_id text NOT NULL,
    counter bigint NOT NULL,
    id text NOT NULL,
    PRIMARY KEY (device_id, counter)
);
CREATE TABLE device_keys (
    device text PRIMARY KEY,
    key bytea NOT NULL CHECK (length(key) = 32)
);
CREATE TABLE manifests (
    device text NOT NULL,
    batch text NOT NULL,
    bytes bytea NOT NULL,
    PRIMARY KEY (device, batch)
);
CREATE TABLE statuses (
    id text PRIMARY KEY,
    state text NOT NULL,
    status text NOT NULL
);
CREATE TABLE appointments (
    id text PRIMARY KEY,
    device text NOT NULL,
    booked text NOT NULL
);
CREATE INDEX appointments_by_device ON appointments (device);
CREATE TABLE feedback (
    id text PRIMARY KEY,
    device text NOT NULL,
    created_at_unix bigint NOT NULL,
    held text NOT NULL,
    sealed bytea NOT NULL
);
CREATE INDEX feedback_by_device ON feedback (device, created_at_unix, id);
";

/// The migrations one open applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migrated {
    /// The schema version found (0: a database the hub had never used).
    pub from: i32,
    /// The version now.
    pub to: i32,
}

impl Migrated {
    pub fn report(&self) -> Vec<String> {
        if self.from == self.to {
            return Vec::new();
        }
        vec![format!("the PostgreSQL store's schema was migrated from version {} to {}", self.from, self.to)]
    }
}

/// How long a hub waits for another to finish migrating the schema.
const WAIT_FOR_MIGRATION: std::time::Duration = std::time::Duration::from_secs(120);

/// The schema's version as recorded (0: none).
fn version(client: &mut Client) -> Result<i32, StoreError> {
    let recorded: bool = client.query_one("SELECT to_regclass('doorstep_schema') IS NOT NULL", &[])?.get(0);
    if !recorded {
        return Ok(0);
    }
    Ok(client.query_one("SELECT coalesce(max(version), 0) FROM doorstep_schema", &[])?.get(0))
}

/// Applies the migrations the database lacks, one transaction each, under the advisory lock;
/// a current schema is only read (no lock, no DDL, no rights beyond reading it).
pub(super) fn migrate(client: &mut Client) -> Result<Migrated, StoreError> {
    let found = version(client)?;
    if found == LATEST {
        return Ok(Migrated { from: found, to: found });
    }
    let deadline = std::time::Instant::now() + WAIT_FOR_MIGRATION;
    while !client.query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK])?.get::<_, bool>(0) {
        if std::time::Instant::now() > deadline {
            return Err(StoreError::Unavailable(format!(
                "another process has held the schema's migration lock for {}s",
                WAIT_FOR_MIGRATION.as_secs()
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let result = apply(client);
    // The lock is the session's: released whatever happened (a connection that broke has
    // lost it anyway).
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK]);
    result
}

fn apply(client: &mut Client) -> Result<Migrated, StoreError> {
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS doorstep_schema (
             version integer PRIMARY KEY,
             name text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )?;
    let from: i32 = client.query_one("SELECT coalesce(max(version), 0) FROM doorstep_schema", &[])?.get(0);
    if from > LATEST {
        return Err(StoreError::Refused(format!(
            "the database's schema is version {from}, made by a newer hub than this one (which knows version {LATEST}): upgrade this hub"
        )));
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|(v, ..)| *v > from) {
        let mut tx = client.transaction()?;
        tx.batch_execute(sql)?;
        tx.execute("INSERT INTO doorstep_schema (version, name) VALUES ($1, $2)", &[version, name])?;
        tx.commit()?;
    }
    Ok(Migrated { from, to: LATEST })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_up_to_the_latest() {
        let numbers: Vec<i32> = MIGRATIONS.iter().map(|(v, ..)| *v).collect();
        assert_eq!(numbers, (1..=LATEST).collect::<Vec<_>>());
    }

    #[test]
    fn the_operator_hears_of_a_migration_only_when_one_ran() {
        assert!(Migrated { from: 1, to: 1 }.report().is_empty());
        assert_eq!(
            Migrated { from: 0, to: 1 }.report(),
            vec!["the PostgreSQL store's schema was migrated from version 0 to 1".to_string()]
        );
    }
}
