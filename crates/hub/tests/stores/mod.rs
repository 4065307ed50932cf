//! The hub's tests run against both stores: the embedded one by default, and PostgreSQL when
//! `DOORSTEP_HUB_TEST_STORE=postgres` (as `scripts/test` runs them a second time), each test
//! in its own new database of a cluster the test binary starts (`pg`). A test makes its hub
//! and opens its store through here, never naming a store.

use std::path::Path;

use doorstep_hub::pki::{self, Hub};
use doorstep_hub::store::AnyStore;

/// Whether this run's hubs keep their data in PostgreSQL.
#[allow(dead_code)]
pub fn postgres() -> bool {
    match std::env::var("DOORSTEP_HUB_TEST_STORE").as_deref() {
        Ok("postgres") => true,
        Ok("embedded") | Err(_) => false,
        Ok(other) => panic!("DOORSTEP_HUB_TEST_STORE is \"postgres\" or \"embedded\", not {other:?}"),
    }
}

/// `pki::init`, with the hub's data in a new PostgreSQL database when this run is on
/// PostgreSQL.
#[allow(dead_code)]
pub fn init(dir: &Path, hosts: &[String], listen: &str, url: &str) -> Hub {
    let mut hub = pki::init(dir, hosts, listen, url).unwrap();
    if postgres() {
        // As `init --store` does: the tables made before the hub is used.
        let db = crate::pg::shared().new_database();
        doorstep_hub::store::PgStore::open(&db, false).unwrap();
        hub.use_store(&db, false).unwrap();
    }
    hub
}

/// [`init`] for a hub that will serve on a free port of 127.0.0.1 as `https://localhost:PORT`.
#[allow(dead_code)]
pub fn hub_on_free_port(dir: &Path) -> (Hub, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("https://localhost:{port}");
    (init(&dir.join("hub"), &["localhost".into()], &format!("127.0.0.1:{port}"), &url), url)
}

/// The hub's store, as `serve` opens it.
#[allow(dead_code)]
pub fn open(hub: &Hub) -> AnyStore {
    AnyStore::open(&hub.dir, &hub.config).unwrap().0
}
