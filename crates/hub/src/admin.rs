//! The admin socket: `status`, `decide`, `export` and `appointment` while `serve` runs. sled lets one process
//! open the store, so the serving hub answers them on a Unix socket in its folder,
//! `HUB/admin.sock`, made readable by the hub's user only. The bureau's private key never
//! goes to the hub: `export` fetches the sealed envelopes and opens them itself.
//!
//! One JSON object per line each way. Requests: `{"op": "received" | "all_received" |
//! "envelope" | "status" | "decide" | "add_appointments" | "appointment" | "appointments" |
//! "replace_appointment" | "held_feedback" | "feedback_list" | "sealed_feedback" |
//! "replace_feedback", "id": ..., "status": ..., "device": ..., "booked": [...], "old": ...,
//! "new": ..., "feedback_old": ..., "feedback_new": ...}`; replies `{"ok": VALUE}` or `{"error": MESSAGE}`. An envelope travels as hex.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::store::{
    Appointments, BackOffice, Booked, FeedbackBox, HeldFeedback, Received, Records, Status, StoreError,
};

/// The socket's path in a hub's folder.
pub fn socket_path(hub_dir: &Path) -> PathBuf {
    hub_dir.join("admin.sock")
}

#[derive(Serialize, Deserialize)]
struct AdminRequest {
    op: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    booked: Option<Vec<Booked>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    old: Option<Booked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    new: Option<Booked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    feedback_old: Option<HeldFeedback>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    feedback_new: Option<HeldFeedback>,
}

impl AdminRequest {
    fn op(op: &str) -> AdminRequest {
        AdminRequest {
            op: op.into(),
            id: None,
            status: None,
            device: None,
            booked: None,
            old: None,
            new: None,
            feedback_old: None,
            feedback_new: None,
        }
    }
}

/// The longest request line taken: an import of many appointments (a `decide` with a long
/// reason is well under it).
const MAX_REQUEST: u64 = 32 * 1024 * 1024;

/// An admin connection is closed after this long without a request.
const IDLE: std::time::Duration = std::time::Duration::from_secs(300);
/// How long a stopping hub tries to write a reply to a client that does not read it.
const WRITE: std::time::Duration = std::time::Duration::from_secs(2);
/// How long the command line waits for the hub's answer.
const ANSWER: std::time::Duration = std::time::Duration::from_secs(60);

type Connections = Arc<Mutex<Vec<(UnixStream, std::thread::JoinHandle<()>)>>>;

/// The socket served by a running hub; removed when dropped, its connections closed once the
/// requests sent on them are answered, and the store released (each connection's thread
/// holds it).
pub struct Admin {
    path: PathBuf,
    /// Wakes the accept loop, which waits on the listener and on this at once (not by
    /// connecting to the socket's path: its file may be gone).
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    connections: Connections,
}

impl Drop for Admin {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // Each connection is shut for reading only: a request already sent (being answered, or
        // waiting in the socket) is answered, its reply written, and only then does its thread
        // read the end; the client can send no more. A reply the client does not read is
        // given up after WRITE, so a stop never hangs on it.
        let open: Vec<_> = std::mem::take(&mut *self.connections.lock().unwrap_or_else(|e| e.into_inner()));
        for (stream, _) in &open {
            let _ = stream.set_write_timeout(Some(WRITE));
            let _ = stream.shutdown(std::net::Shutdown::Read);
        }
        for (_, thread) in open {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Serves `records` on `path`. A socket file left by a hub that died is replaced (the store's
/// lock, taken before this, already proved no other hub serves this folder).
pub fn serve(path: &Path, records: Arc<dyn BackOffice>) -> std::io::Result<Admin> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    // The folder is its owner's only (as `init` makes it; an older one is tightened here), and
    // the socket is bound under a passing name and renamed once only its owner may connect:
    // no moment when `admin.sock` is open to anyone else.
    if let Some(dir) = path.parent() {
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700))?;
            tracing::warn!("{} was open to other users; it is now its owner's only", dir.display());
        }
        // Passing names left by a hub killed while binding.
        for entry in std::fs::read_dir(dir)?.flatten() {
            if entry.file_name().to_str().is_some_and(|n| n.starts_with("admin.sock.")) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let passing = path.with_extension(format!("sock.{}", std::process::id()));
    let listener = UnixListener::bind(&passing)?;
    std::fs::set_permissions(&passing, std::fs::Permissions::from_mode(0o600))?;
    std::fs::rename(&passing, path)?;
    // The accept loop waits for a connection or the word to stop, whichever comes first, on a
    // small runtime of its own; each connection is answered on a thread of its own.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    listener.set_nonblocking(true)?;
    let listener = {
        let _inside = runtime.enter();
        tokio::net::UnixListener::from_std(listener)?
    };
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let connections: Connections = Arc::default();
    let open = connections.clone();
    let thread = std::thread::spawn(move || {
        runtime.block_on(async move {
            loop {
                let accepted = tokio::select! {
                    _ = &mut stopped => return,
                    accepted = listener.accept() => accepted,
                };
                let conn = match accepted.and_then(|(conn, _)| conn.into_std()) {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of descriptors, most likely: wait a little rather than spin.
                        tracing::warn!(error = %e, "admin socket: accept failed");
                        tokio::select! {
                            _ = &mut stopped => return,
                            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => continue,
                        }
                    }
                };
                if conn.set_nonblocking(false).is_err() || conn.set_read_timeout(Some(IDLE)).is_err() {
                    continue;
                }
                let Ok(handle) = conn.try_clone() else { continue };
                let records = records.clone();
                let thread = std::thread::spawn(move || answer(conn, records.as_ref()));
                let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
                open.retain(|(_, t)| !t.is_finished());
                open.push((handle, thread));
            }
        });
    });
    Ok(Admin { path: path.to_path_buf(), stop: Some(stop), thread: Some(thread), connections })
}

fn answer(conn: UnixStream, records: &dyn BackOffice) {
    let Ok(mut out) = conn.try_clone() else { return };
    let mut lines = BufReader::new(std::io::Read::take(conn, u64::MAX));
    loop {
        let mut line = String::new();
        lines.get_mut().set_limit(MAX_REQUEST);
        match lines.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut bytes = office_reply_line(records, line.as_bytes()).into_bytes();
        bytes.push(b'\n');
        if out.write_all(&bytes).is_err() {
            return;
        }
    }
}

/// Why the admin socket refused a request; its text is the reply's `error`.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("not an admin request: {0}")]
    Request(String),
    #[error("{0} needs an id")]
    NeedsId(String),
    #[error("decide needs a status")]
    NeedsStatus,
    #[error("{0} needs {1}")]
    Needs(String, &'static str),
    #[error("no admin operation {0:?}")]
    UnknownOp(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One request line in, one reply line out (without its newline): the admin socket's protocol
/// as a pure function, whatever bytes arrive. Only the records' operations: the socket's
/// connections answer with [`office_reply_line`], which has the appointments' too.
pub fn reply_line(records: &dyn Records, line: &[u8]) -> String {
    reply(records, None, line)
}

/// [`reply_line`] with the appointments' and the feedback's operations: what the socket's
/// connections answer.
pub fn office_reply_line(office: &dyn BackOffice, line: &[u8]) -> String {
    reply(office, Some(office), line)
}

fn reply(records: &dyn Records, appointments: Option<&dyn BackOffice>, line: &[u8]) -> String {
    let reply = match serde_json::from_slice::<AdminRequest>(line) {
        Ok(req) => match handle(records, appointments, &req) {
            Ok(v) => serde_json::json!({ "ok": v }),
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        },
        Err(e) => serde_json::json!({ "error": AdminError::Request(e.to_string()).to_string() }),
    };
    reply.to_string()
}

fn handle(
    records: &dyn Records,
    appointments: Option<&dyn BackOffice>,
    req: &AdminRequest,
) -> Result<serde_json::Value, AdminError> {
    let id = || req.id.as_deref().ok_or_else(|| AdminError::NeedsId(req.op.clone()));
    let book = || appointments.ok_or_else(|| AdminError::UnknownOp(req.op.clone()));
    Ok(match req.op.as_str() {
        "received" => serde_json::json!(records.received(id()?)?),
        "all_received" => serde_json::json!(records.all_received()?),
        "envelope" => serde_json::json!(records.envelope(id()?)?.map(hex::encode)),
        "status" => serde_json::json!(records.status(id()?)?),
        "decide" => {
            let status = req.status.as_ref().ok_or(AdminError::NeedsStatus)?;
            records.decide(id()?, status)?;
            serde_json::Value::Null
        }
        "add_appointments" => {
            let booked = req.booked.as_deref().ok_or_else(|| AdminError::Needs(req.op.clone(), "booked"))?;
            serde_json::json!(book()?.add_appointments(booked)?)
        }
        "appointment" => serde_json::json!(book()?.appointment(id()?)?),
        "appointments" => serde_json::json!(book()?.appointments(req.device.as_deref())?),
        "replace_appointment" => {
            let (Some(old), Some(new)) = (&req.old, &req.new) else {
                return Err(AdminError::Needs(req.op.clone(), "old and new"));
            };
            serde_json::json!(book()?.replace_appointment(old, new)?)
        }
        // Feedback is received over the API only: the back office reads and answers it.
        "held_feedback" => serde_json::json!(book()?.held_feedback(id()?)?),
        "feedback_list" => serde_json::json!(book()?.feedback_list(req.device.as_deref())?),
        "sealed_feedback" => serde_json::json!(book()?.sealed_feedback(id()?)?.map(hex::encode)),
        "replace_feedback" => {
            let (Some(old), Some(new)) = (&req.feedback_old, &req.feedback_new) else {
                return Err(AdminError::Needs(req.op.clone(), "feedback_old and feedback_new"));
            };
            serde_json::json!(book()?.replace_feedback(old, new)?)
        }
        other => return Err(AdminError::UnknownOp(other.to_string())),
    })
}

/// A serving hub's records, through its admin socket.
pub struct AdminClient {
    conn: Mutex<(BufReader<UnixStream>, UnixStream)>,
}

impl AdminClient {
    /// `None` when no hub is serving this folder (no socket, or nobody answers on it).
    pub fn connect(hub_dir: &Path) -> Option<AdminClient> {
        let stream = UnixStream::connect(socket_path(hub_dir)).ok()?;
        stream.set_read_timeout(Some(ANSWER)).ok()?;
        let writer = stream.try_clone().ok()?;
        Some(AdminClient { conn: Mutex::new((BufReader::new(stream), writer)) })
    }

    fn call<T: for<'de> Deserialize<'de>>(&self, req: AdminRequest) -> Result<T, StoreError> {
        let broken = |e: std::io::Error| {
            StoreError::Io(std::io::Error::new(
                e.kind(),
                format!("the hub's admin socket: {e} (is the hub stuck? see its log)"),
            ))
        };
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut line = serde_json::to_string(&req).map_err(|e| StoreError::Damaged(e.to_string()))?;
        line.push('\n');
        conn.1.write_all(line.as_bytes()).map_err(broken)?;
        let mut reply = String::new();
        if conn.0.read_line(&mut reply).map_err(broken)? == 0 {
            return Err(StoreError::Io(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the hub stopped while answering (its admin socket closed): run the command again",
            )));
        }
        let mut v: serde_json::Value =
            serde_json::from_str(&reply).map_err(|e| StoreError::Damaged(format!("admin reply: {e}")))?;
        if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
            return Err(StoreError::Refused(e.to_string()));
        }
        serde_json::from_value(v["ok"].take()).map_err(|e| StoreError::Damaged(format!("admin reply: {e}")))
    }

    fn by_id(op: &str, id: &str) -> AdminRequest {
        AdminRequest { id: Some(id.into()), ..AdminRequest::op(op) }
    }
}

impl Records for AdminClient {
    fn received(&self, id: &str) -> Result<Option<Received>, StoreError> {
        self.call(Self::by_id("received", id))
    }

    fn all_received(&self) -> Result<Vec<(String, Received)>, StoreError> {
        self.call(AdminRequest::op("all_received"))
    }

    fn envelope(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let hex: Option<String> = self.call(Self::by_id("envelope", id))?;
        hex.map(|h| hex::decode(h).map_err(|_| StoreError::Damaged("admin reply: envelope hex".into()))).transpose()
    }

    fn status(&self, id: &str) -> Result<Option<Status>, StoreError> {
        self.call(Self::by_id("status", id))
    }

    fn decide(&self, id: &str, verdict: &Status) -> Result<(), StoreError> {
        let _: serde_json::Value =
            self.call(AdminRequest { status: Some(verdict.clone()), ..Self::by_id("decide", id) })?;
        Ok(())
    }
}

impl Appointments for AdminClient {
    fn add_appointments(&self, new: &[Booked]) -> Result<Vec<String>, StoreError> {
        self.call(AdminRequest { booked: Some(new.to_vec()), ..AdminRequest::op("add_appointments") })
    }

    fn appointment(&self, id: &str) -> Result<Option<Booked>, StoreError> {
        self.call(Self::by_id("appointment", id))
    }

    fn appointments(&self, device: Option<&str>) -> Result<Vec<Booked>, StoreError> {
        self.call(AdminRequest { device: device.map(str::to_string), ..AdminRequest::op("appointments") })
    }

    fn replace_appointment(&self, old: &Booked, new: &Booked) -> Result<bool, StoreError> {
        self.call(AdminRequest {
            old: Some(old.clone()),
            new: Some(new.clone()),
            ..AdminRequest::op("replace_appointment")
        })
    }
}

impl FeedbackBox for AdminClient {
    fn receive_feedback(&self, _: &HeldFeedback, _: &[u8]) -> Result<Option<HeldFeedback>, StoreError> {
        Err(StoreError::Refused("feedback is received from the units over the API only".into()))
    }

    fn held_feedback(&self, id: &str) -> Result<Option<HeldFeedback>, StoreError> {
        self.call(Self::by_id("held_feedback", id))
    }

    fn feedback_list(&self, device: Option<&str>) -> Result<Vec<HeldFeedback>, StoreError> {
        self.call(AdminRequest { device: device.map(str::to_string), ..AdminRequest::op("feedback_list") })
    }

    fn sealed_feedback(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let hex: Option<String> = self.call(Self::by_id("sealed_feedback", id))?;
        hex.map(|h| hex::decode(h).map_err(|_| StoreError::Damaged("admin reply: feedback hex".into()))).transpose()
    }

    fn replace_feedback(&self, old: &HeldFeedback, new: &HeldFeedback) -> Result<bool, StoreError> {
        self.call(AdminRequest {
            feedback_old: Some(old.clone()),
            feedback_new: Some(new.clone()),
            ..AdminRequest::op("replace_feedback")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Records whose `decide` waits to be let go, and that keep what was decided.
    struct Slow {
        entered: Mutex<mpsc::Sender<()>>,
        go: Mutex<mpsc::Receiver<()>>,
        decided: Mutex<Vec<String>>,
    }

    impl Records for Slow {
        fn received(&self, _: &str) -> Result<Option<Received>, StoreError> {
            Ok(None)
        }
        fn all_received(&self) -> Result<Vec<(String, Received)>, StoreError> {
            Ok(Vec::new())
        }
        fn envelope(&self, _: &str) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(None)
        }
        fn status(&self, _: &str) -> Result<Option<Status>, StoreError> {
            Ok(None)
        }
        fn decide(&self, id: &str, _: &Status) -> Result<(), StoreError> {
            let _ = self.entered.lock().unwrap().send(());
            let _ = self.go.lock().unwrap().recv();
            self.decided.lock().unwrap().push(id.to_string());
            Ok(())
        }
    }

    impl Appointments for Slow {
        fn add_appointments(&self, _: &[Booked]) -> Result<Vec<String>, StoreError> {
            Ok(Vec::new())
        }
        fn appointment(&self, _: &str) -> Result<Option<Booked>, StoreError> {
            Ok(None)
        }
        fn appointments(&self, _: Option<&str>) -> Result<Vec<Booked>, StoreError> {
            Ok(Vec::new())
        }
        fn replace_appointment(&self, _: &Booked, _: &Booked) -> Result<bool, StoreError> {
            Ok(false)
        }
    }

    impl FeedbackBox for Slow {
        fn receive_feedback(&self, _: &HeldFeedback, _: &[u8]) -> Result<Option<HeldFeedback>, StoreError> {
            Ok(None)
        }
        fn held_feedback(&self, _: &str) -> Result<Option<HeldFeedback>, StoreError> {
            Ok(None)
        }
        fn feedback_list(&self, _: Option<&str>) -> Result<Vec<HeldFeedback>, StoreError> {
            Ok(Vec::new())
        }
        fn sealed_feedback(&self, _: &str) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(None)
        }
        fn replace_feedback(&self, _: &HeldFeedback, _: &HeldFeedback) -> Result<bool, StoreError> {
            Ok(false)
        }
    }

    /// Requests the hub has been sent when it stops (review 2, N7) are answered: the one being
    /// stored and the one waiting behind it each get their reply, so the command line never
    /// reports a failure for a verdict that was stored.
    #[test]
    fn requests_sent_before_the_hub_stops_get_their_replies() {
        let d = tempfile::tempdir().unwrap();
        let (entered, entering) = mpsc::channel();
        let (go, going) = mpsc::channel();
        let slow = Arc::new(Slow { entered: Mutex::new(entered), go: Mutex::new(going), decided: Mutex::default() });
        let path = socket_path(d.path());
        let admin = serve(&path, slow.clone()).unwrap();
        let mut client = UnixStream::connect(&path).unwrap();
        client.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let decide = |id: &str| {
            let req = AdminRequest { status: Some(Status::Accepted), ..AdminClient::by_id("decide", id) };
            serde_json::to_string(&req).unwrap() + "\n"
        };
        // Another client, connected and idle: the stop does not wait out its idle deadline.
        let mut idle = BufReader::new(UnixStream::connect(&path).unwrap());
        idle.get_mut().write_all(b"{\"op\": \"status\", \"id\": \"app-0\"}\n").unwrap();
        let mut line = String::new();
        idle.read_line(&mut line).unwrap();
        assert_eq!(line, "{\"ok\":null}\n");
        client.write_all((decide("app-1") + &decide("app-2")).as_bytes()).unwrap();
        entering.recv().unwrap();
        // The hub stops while the first is being stored: its accept loop ends first (the
        // socket refuses newcomers), then its connections are shut.
        let stopping = std::thread::spawn(move || {
            let t = std::time::Instant::now();
            drop(admin);
            t.elapsed()
        });
        while UnixStream::connect(&path).is_ok() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        go.send(()).unwrap();
        go.send(()).unwrap();
        let took = stopping.join().unwrap();
        assert!(took < std::time::Duration::from_secs(2), "the stop took {took:?}");
        assert_eq!(idle.read_line(&mut line).unwrap(), 0, "the idle client's connection is closed");
        let mut replies = String::new();
        let _ = std::io::Read::read_to_string(&mut client, &mut replies);
        let decided = slow.decided.lock().unwrap().clone();
        assert_eq!(replies.lines().collect::<Vec<_>>(), vec![r#"{"ok":null}"#; decided.len()], "{decided:?}");
        assert_eq!(decided, ["app-1", "app-2"], "both were stored");
    }
}
