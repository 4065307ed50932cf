//! The PostgreSQL test harness (tests/pg) itself: replicas stream, a synchronous standby has
//! every commit, a promoted standby takes writes, a killed server recovers, and no server
//! outlives its test process.

mod pg;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pg::Cluster;
use postgres::error::SqlState;
use postgres::{Client, NoTls};

fn connect(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap_or_else(|e| panic!("cannot connect to {url}: {e} {:?}", e.as_db_error()))
}

/// The name of the database in a `Cluster::url`.
fn db_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

fn ids(client: &mut Client, sql: &str) -> Vec<i32> {
    client.query(sql, &[]).unwrap().iter().map(|r| r.get(0)).collect()
}

#[test]
fn the_shared_cluster_gives_each_test_its_own_database() {
    assert_eq!(pg::shared().port(), pg::shared().port(), "one cluster per test binary");
    let (a, b) = (pg::shared().new_database(), pg::shared().new_database());
    assert_ne!(a, b);
    connect(&a).batch_execute("CREATE TABLE mine (id int)").unwrap();
    let err = connect(&b).query("SELECT * FROM mine", &[]).unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNDEFINED_TABLE), "{err}");
    let row = connect(&a).query_one("SHOW max_connections", &[]).unwrap();
    assert_eq!(row.get::<_, String>(0), "300");
    let row = connect(&a).query_one("SHOW fsync", &[]).unwrap();
    assert_eq!(row.get::<_, String>(0), "on");
}

#[test]
fn a_table_written_on_the_primary_is_read_on_the_replica() {
    let primary = Cluster::start();
    let replica = primary.replica("reader");
    assert_ne!(primary.port(), replica.port());
    let url = primary.new_database();
    connect(&url)
        .batch_execute(
            "CREATE TABLE visits (id int PRIMARY KEY, name text NOT NULL);
             INSERT INTO visits VALUES (1, '测试'), (2, 'second');",
        )
        .unwrap();

    // Asynchronous: the rows come a moment later.
    let mut on_replica = None;
    let start = Instant::now();
    while on_replica.is_none() && start.elapsed() < Duration::from_secs(30) {
        // The database and the table may not be there yet either.
        if let Ok(mut client) = Client::connect(&replica.url(db_name(&url)), NoTls)
            && let Ok(rows) = client.query("SELECT id, name FROM visits ORDER BY id", &[])
            && rows.len() == 2
        {
            on_replica = Some(rows.iter().map(|r| (r.get(0), r.get(1))).collect::<Vec<(i32, String)>>());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let expected = vec![(1, "测试".to_string()), (2, "second".to_string())];
    assert_eq!(on_replica, Some(expected), "the replica's log:\n{}", replica.log_tail());

    // A standby: in recovery, and it refuses writes.
    let mut client = connect(&replica.url(db_name(&url)));
    assert!(client.query_one("SELECT pg_is_in_recovery()", &[]).unwrap().get::<_, bool>(0));
    let err = client.execute("INSERT INTO visits VALUES (3, 'third')", &[]).unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::READ_ONLY_SQL_TRANSACTION), "{err}");
}

#[test]
fn with_a_synchronous_standby_a_committed_row_is_on_the_replica() {
    let primary = Cluster::start();
    let replica = primary.replica("sync_one");
    primary.set_synchronous_standby("sync_one");
    let row = connect(&primary.url("postgres"))
        .query_one("SELECT sync_state FROM pg_stat_replication WHERE application_name = 'sync_one'", &[])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "sync");

    let url = primary.new_database();
    let mut writer = connect(&url);
    // remote_apply: the commit returns once the standby has replayed it, so it can be read there.
    writer.batch_execute("SET synchronous_commit = remote_apply; CREATE TABLE t (id int PRIMARY KEY)").unwrap();
    let mut reader = connect(&replica.url(db_name(&url)));
    for id in 0..200 {
        writer.execute("INSERT INTO t VALUES ($1)", &[&id]).unwrap();
        let n: i64 = reader.query_one("SELECT count(*) FROM t WHERE id = $1", &[&id]).unwrap().get(0);
        assert_eq!(n, 1, "row {id} was committed on the primary but is not on the replica");
    }

    // The commit really waits for the standby: with its replay paused, a commit that waits
    // for it to be applied does not return, and the row is not there...
    let mut standby = connect(&replica.url("postgres"));
    standby.batch_execute("SELECT pg_wal_replay_pause()").unwrap();
    let (done_tx, done) = std::sync::mpsc::channel();
    let waiting = std::thread::spawn(move || {
        writer.execute("INSERT INTO t VALUES (1000)", &[]).unwrap();
        done_tx.send(()).unwrap();
        writer
    });
    assert!(
        done.recv_timeout(Duration::from_millis(1500)).is_err(),
        "the commit returned before the standby applied it"
    );
    let n: i64 = reader.query_one("SELECT count(*) FROM t WHERE id = 1000", &[]).unwrap().get(0);
    assert_eq!(n, 0, "replay is paused, yet the row is on the standby");
    // ...until it is resumed.
    standby.batch_execute("SELECT pg_wal_replay_resume()").unwrap();
    done.recv_timeout(Duration::from_secs(30)).expect("the commit did not return once the standby replayed it");
    let mut writer = waiting.join().unwrap();
    let n: i64 = reader.query_one("SELECT count(*) FROM t WHERE id = 1000", &[]).unwrap().get(0);
    assert_eq!(n, 1);

    // With synchronous_commit = on a commit waits for the standby to flush it (not to apply
    // it): it survives the primary crashing right after, on the promoted standby.
    writer.batch_execute("SET synchronous_commit = on").unwrap();
    writer.execute("INSERT INTO t VALUES (2000)", &[]).unwrap();
    primary.kill();
    drop(reader);
    replica.promote();
    let mut promoted = connect(&replica.url(db_name(&url)));
    let n: i64 = promoted.query_one("SELECT count(*) FROM t WHERE id >= 1000", &[]).unwrap().get(0);
    assert_eq!(n, 2, "a synchronously committed row was lost on failover");
    // The promoted standby waits for no standby of its own.
    promoted.execute("INSERT INTO t VALUES (3000)", &[]).unwrap();
}

#[test]
fn after_the_primary_stops_the_promoted_replica_takes_writes() {
    let primary = Cluster::start();
    let replica = primary.replica("standby");
    let url = primary.new_database();
    connect(&url).batch_execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)").unwrap();
    // A fast shutdown sends all the WAL to the standby before the server ends.
    primary.stop();
    assert!(Client::connect(&url, NoTls).is_err(), "the stopped primary still takes connections");

    let replica_url = replica.url(db_name(&url));
    let err = connect(&replica_url).execute("INSERT INTO t VALUES (2)", &[]).unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::READ_ONLY_SQL_TRANSACTION), "{err}");
    replica.promote();
    let mut client = connect(&replica_url);
    assert!(!client.query_one("SELECT pg_is_in_recovery()", &[]).unwrap().get::<_, bool>(0));
    client.execute("INSERT INTO t VALUES (2)", &[]).unwrap();
    assert_eq!(ids(&mut client, "SELECT id FROM t ORDER BY id"), [1, 2]);
    // And the new primary makes databases.
    let other = replica.new_database();
    connect(&other).batch_execute("CREATE TABLE u (id int)").unwrap();
}

#[test]
fn a_killed_server_restarts_with_what_was_committed() {
    let cluster = Cluster::start();
    let url = cluster.new_database();
    let mut client = connect(&url);
    client.batch_execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1)").unwrap();
    let mut open = connect(&url);
    open.batch_execute("BEGIN; INSERT INTO t VALUES (2)").unwrap();
    cluster.kill();
    assert!(client.execute("INSERT INTO t VALUES (3)", &[]).is_err(), "the killed server still answers");
    assert!(Client::connect(&url, NoTls).is_err(), "the killed server still takes connections");
    cluster.restart();
    assert_eq!(ids(&mut connect(&url), "SELECT id FROM t ORDER BY id"), [1], "committed: 1; not committed: 2");
    assert!(cluster.log_tail().contains("database system was interrupted"), "{}", cluster.log_tail());
}

/// Set in the test binary run by `no_server_outlives_its_test_process`: how that child ends.
const CHILD: &str = "DOORSTEP_PG_CLUSTER_CHILD";

/// The child: starts a cluster, says where, then ends without running any destructor.
fn child(how: &str) -> ! {
    let (port, data) = match how {
        // The shared cluster is a static: never dropped.
        "exit" => (pg::shared().port(), pg::shared().data_dir().to_owned()),
        _ => {
            let cluster = Box::leak(Box::new(Cluster::start()));
            (cluster.port(), cluster.data_dir().to_owned())
        }
    };
    println!("cluster port={port} data={}", data.display());
    match how {
        // Once the parent has seen the server answer, it closes our stdin.
        "exit" => {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            std::process::exit(0)
        }
        // The parent kills us (SIGKILL).
        _ => loop {
            std::thread::sleep(Duration::from_secs(60));
        },
    }
}

fn accepts(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).is_ok()
}

#[test]
fn no_server_outlives_its_test_process() {
    if let Ok(how) = std::env::var(CHILD) {
        child(&how);
    }
    for how in ["exit", "kill"] {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "no_server_outlives_its_test_process", "--nocapture", "--test-threads=1"])
            .env(CHILD, how)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut said = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (port, data) = loop {
            let mut line = String::new();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "the child ({how}) ended without a cluster:\n{said}");
            said.push_str(&line);
            // libtest has written "test NAME ... " before it, on the same line.
            if let Some((_, rest)) = line.trim().split_once("cluster port=") {
                let (port, data) = rest.split_once(" data=").unwrap();
                break (port.parse::<u16>().unwrap(), std::path::PathBuf::from(data));
            }
        };
        let mut server = connect(&format!("postgres://postgres@127.0.0.1:{port}/postgres"));
        server.batch_execute("SELECT 1").unwrap();
        assert!(data.join("PG_VERSION").is_file(), "{}", data.display());

        match how {
            "exit" => {
                child.stdin.as_mut().unwrap().write_all(b"\n").unwrap();
                assert!(child.wait().unwrap().success());
            }
            _ => {
                child.kill().unwrap();
                child.wait().unwrap();
            }
        }
        let start = Instant::now();
        while (accepts(port) || data.exists()) && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!accepts(port), "the server on {port} outlived its test process ({how})");
        assert!(server.batch_execute("SELECT 1").is_err(), "a session outlived its test process ({how})");
        assert!(!data.exists(), "{} outlived its test process ({how})", data.display());
        assert!(!data.parent().unwrap().exists(), "the cluster's folder outlived its test process ({how})");
    }
}
