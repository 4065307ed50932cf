//! The hub's numbers for Prometheus: requests, refusals by reason, upload bytes, commit latency
//! and store errors, published as `GET /metrics` in the text exposition format (0.0.4) on a
//! local address of their own, in plain HTTP.
//!
//! [`Metrics`] is the pure part: the service counts into it (atomics, and a mutex around each
//! small map) and [`Metrics::render`] writes the text. [`serve`] is the IO around it, on the
//! caller's tokio runtime: each connection within a header deadline and an overall one, at most
//! [`MAX_CONNECTIONS`] at once.
//!
//! Architecture invariant: a label's values are a bounded set. Routes and reasons are the
//! hub's own names, yet a family holds at most [`MAX_SERIES`] of them (each at most
//! [`MAX_LABEL_LEN`] bytes); the rest are counted under `other`. Nothing a client sends becomes
//! a label, and the metrics carry no device, application or certificate.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};

/// Distinct label values (or route and status pairs) one family keeps before it counts the
/// rest under `other`.
pub const MAX_SERIES: usize = 256;

/// The longest label value kept, in bytes; a longer one is cut (at a character boundary).
pub const MAX_LABEL_LEN: usize = 64;

/// Upper bounds of the commit histogram's buckets, in seconds (`+Inf` follows): a commit is
/// flushed to disk, a millisecond on a fast disk, seconds on a struggling one.
pub const COMMIT_BUCKETS: [f64; 11] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// Scrapes served at once; a connection past them is closed as it is accepted.
pub const MAX_CONNECTIONS: usize = 16;

/// The media type of the text exposition format.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The longest a scraper may take to send a request's headers (and to send the next one on a
/// connection kept alive).
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest one connection is served, whatever it does.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// The hub's counters and its commit histogram, shared by the service's threads.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Labeled<(String, u16)>,
    refusals: Labeled<String>,
    upload_bytes: AtomicU64,
    store_errors: AtomicU64,
    commits: Mutex<Histogram>,
}

/// A counter family with labels: a count for each label value, at most [`MAX_SERIES`] of them
/// and then the `other` one.
#[derive(Debug)]
struct Labeled<K> {
    series: Mutex<BTreeMap<K, u64>>,
}

impl<K> Default for Labeled<K> {
    fn default() -> Labeled<K> {
        Labeled { series: Mutex::new(BTreeMap::new()) }
    }
}

impl<K: Ord + Clone> Labeled<K> {
    /// Counts one for `key`, or for `other(key)` when the family is full and `key` is new.
    fn add(&self, key: K, other: impl FnOnce(K) -> K) {
        let mut series = lock(&self.series);
        let key = if series.len() >= MAX_SERIES && !series.contains_key(&key) { other(key) } else { key };
        *series.entry(key).or_insert(0) += 1;
    }

    fn snapshot(&self) -> Vec<(K, u64)> {
        lock(&self.series).iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

/// Commits by bucket (not cumulative; the last is past every bound), their sum and count.
#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; COMMIT_BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

/// A lock, even if a thread panicked holding it (counts stay usable).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A label value cut to [`MAX_LABEL_LEN`] bytes.
fn clip(value: &str) -> &str {
    &value[..value.floor_char_boundary(MAX_LABEL_LEN)]
}

impl Metrics {
    /// Metrics at zero.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Counts a request answered on `route` (one of the hub's route names) with `status`.
    pub fn request(&self, route: &str, status: u16) {
        self.requests.add((clip(route).to_string(), status), |(_, status)| ("other".to_string(), status));
    }

    /// Counts a refusal by its reason (the reply's error code).
    pub fn refusal(&self, reason: &str) {
        self.refusals.add(clip(reason).to_string(), |_| "other".to_string());
    }

    /// Counts `n` bytes of uploaded envelope received.
    pub fn upload_bytes(&self, n: u64) {
        self.upload_bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// Records a durable commit that took `seconds`; a negative or non-finite time (no clock
    /// gives one) is left out.
    pub fn commit(&self, seconds: f64) {
        if !(seconds.is_finite() && seconds >= 0.0) {
            return;
        }
        let bucket = COMMIT_BUCKETS.iter().position(|&le| seconds <= le).unwrap_or(COMMIT_BUCKETS.len());
        let mut h = lock(&self.commits);
        h.buckets[bucket] += 1;
        h.sum += seconds;
        h.count += 1;
    }

    /// Counts an error of the store.
    pub fn store_error(&self) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The metrics in the text exposition format (0.0.4): every family with its `# HELP` and
    /// `# TYPE` lines, even before anything was counted.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        family(&mut out, "doorstep_hub_requests_total", "counter", "Requests answered, by route and status.");
        for ((route, status), n) in self.requests.snapshot() {
            let _ =
                writeln!(out, "doorstep_hub_requests_total{{route=\"{}\",status=\"{status}\"}} {n}", escape(&route));
        }
        family(&mut out, "doorstep_hub_refusals_total", "counter", "Requests refused, by the reply's error code.");
        for (reason, n) in self.refusals.snapshot() {
            let _ = writeln!(out, "doorstep_hub_refusals_total{{reason=\"{}\"}} {n}", escape(&reason));
        }
        family(&mut out, "doorstep_hub_upload_bytes_total", "counter", "Bytes of uploaded envelopes received.");
        let _ = writeln!(out, "doorstep_hub_upload_bytes_total {}", self.upload_bytes.load(Ordering::Relaxed));
        let h = lock(&self.commits).clone();
        family(&mut out, "doorstep_hub_commit_seconds", "histogram", "Time to commit an envelope durably, in seconds.");
        let mut cumulative = 0;
        for (i, n) in h.buckets.iter().enumerate() {
            cumulative += n;
            let le = COMMIT_BUCKETS.get(i).map_or_else(|| "+Inf".to_string(), f64::to_string);
            let _ = writeln!(out, "doorstep_hub_commit_seconds_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let _ = writeln!(out, "doorstep_hub_commit_seconds_sum {}", h.sum);
        let _ = writeln!(out, "doorstep_hub_commit_seconds_count {}", h.count);
        family(&mut out, "doorstep_hub_store_errors_total", "counter", "Errors of the store.");
        let _ = writeln!(out, "doorstep_hub_store_errors_total {}", self.store_errors.load(Ordering::Relaxed));
        out
    }
}

/// A family's `# HELP` and `# TYPE` lines (the help texts are constants without `\` or
/// newlines).
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value escaped as the format requires: `\` as `\\`, `"` as `\"`, newline as `\n`.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Why the metrics cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The address could not be bound (or is not `HOST:PORT`).
    #[error("metrics: listen on {listen}: {source}")]
    Listen { listen: String, source: std::io::Error },
}

/// The metrics being served; serving stops when it is dropped (connections too).
#[derive(Debug)]
pub struct MetricsServer {
    /// The address bound (its port, when `listen` asked for port 0).
    pub addr: SocketAddr,
    task: tokio::task::AbortHandle,
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `listen` (`HOST:PORT`, e.g. `127.0.0.1:9464`) and serves `GET /metrics` there on
/// `runtime` until the returned handle is dropped. The metrics are not authenticated: an
/// address that is not loopback is bound as given, with a warning.
pub fn serve(
    listen: &str,
    metrics: Arc<Metrics>,
    runtime: &tokio::runtime::Handle,
) -> Result<MetricsServer, MetricsError> {
    let failed = |source| MetricsError::Listen { listen: listen.to_string(), source };
    // Bound with std and handed to tokio: this works whether or not the caller is inside a
    // runtime (no `block_on`).
    let bound = std::net::TcpListener::bind(listen).map_err(failed)?;
    bound.set_nonblocking(true).map_err(failed)?;
    let addr = bound.local_addr().map_err(failed)?;
    if !addr.ip().to_canonical().is_loopback() {
        tracing::warn!(
            %addr,
            "the metrics address is not loopback: the metrics are not authenticated, anyone who reaches it reads them"
        );
    }
    let listener = {
        let _entered = runtime.enter();
        tokio::net::TcpListener::from_std(bound).map_err(failed)?
    };
    let task = runtime.spawn(accept_loop(listener, metrics));
    tracing::info!(%addr, "metrics");
    Ok(MetricsServer { addr, task: task.abort_handle() })
}

/// Accepts until aborted; the connections are its own (a `JoinSet`), aborted with it.
async fn accept_loop(listener: tokio::net::TcpListener, metrics: Arc<Metrics>) {
    let places = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut connections = tokio::task::JoinSet::new();
    let mut pause = Duration::ZERO;
    loop {
        while connections.try_join_next().is_some() {}
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => {
                pause = Duration::ZERO;
                accepted
            }
            Err(e) => {
                // Out of descriptors or memory: wait, longer each time up to a second.
                pause = (pause * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
                tracing::warn!(error = %e, pause_ms = pause.as_millis() as u64, "metrics: accept failed; pausing");
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        let Ok(place) = places.clone().try_acquire_owned() else {
            tracing::debug!(peer = %peer.ip(), "metrics: every place taken; connection closed");
            continue;
        };
        connections.spawn(serve_connection(tcp, metrics.clone(), place));
    }
}

/// Serves one connection, within [`HEADER_TIMEOUT`] for each request's headers and
/// [`CONNECTION_TIMEOUT`] in all; its place is given back when it ends.
async fn serve_connection(
    tcp: tokio::net::TcpStream,
    metrics: Arc<Metrics>,
    _place: tokio::sync::OwnedSemaphorePermit,
) {
    let handler = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let response = answer(&metrics, req.method(), req.uri().path());
        async move { Ok::<_, Infallible>(response) }
    });
    let serving = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true)
        .serve_connection(TokioIo::new(tcp), handler);
    let _ = tokio::time::timeout(CONNECTION_TIMEOUT, serving).await;
}

/// The answer to `method path`: the metrics for `GET /metrics`, `405` for another method
/// there, `404` anywhere else.
fn answer(metrics: &Metrics, method: &Method, path: &str) -> Response<Full<Bytes>> {
    let (status, body) = match (path, method) {
        ("/metrics", &Method::GET) => (StatusCode::OK, metrics.render()),
        ("/metrics", _) => (StatusCode::METHOD_NOT_ALLOWED, "only GET\n".to_string()),
        _ => (StatusCode::NOT_FOUND, "the metrics are at /metrics\n".to_string()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let content_type = if status == StatusCode::OK { CONTENT_TYPE_TEXT } else { "text/plain; charset=utf-8" };
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn lines(m: &Metrics) -> Vec<String> {
        m.render().lines().map(str::to_string).collect()
    }

    fn has(m: &Metrics, line: &str) -> bool {
        lines(m).iter().any(|l| l == line)
    }

    #[test]
    fn every_family_is_there_before_anything_is_counted() {
        let expected = "\
# HELP doorstep_hub_requests_total Requests answered, by route and status.
# TYPE doorstep_hub_requests_total counter
# HELP doorstep_hub_refusals_total Requests refused, by the reply's error code.
# TYPE doorstep_hub_refusals_total counter
# HELP doorstep_hub_upload_bytes_total Bytes of uploaded envelopes received.
# TYPE doorstep_hub_upload_bytes_total counter
doorstep_hub_upload_bytes_total 0
# HELP doorstep_hub_commit_seconds Time to commit an envelope durably, in seconds.
# TYPE doorstep_hub_commit_seconds histogram
doorstep_hub_commit_seconds_bucket{le=\"0.001\"} 0
doorstep_hub_commit_seconds_bucket{le=\"0.0025\"} 0
doorstep_hub_commit_seconds_bucket{le=\"0.005\"} 0
doorstep_hub_commit_seconds_bucket{le=\"0.01\"} 0
doorstep_hub_commit_seconds_bucket{le=\"0.025\"} 0
doorstep_hub_commit_seconds_bucket{le=\"0.05\"} 0
doorstep_hub_commit_seconds_bucket{le=\"0.1\"} 0
doorstep_hub_commit_seconds_bucket{le=\"0.25\"} 0
doorstep_hub_commit_seconds_bucket{le=\"0.5\"} 0
doorstep_hub_commit_seconds_bucket{le=\"1\"} 0
doorstep_hub_commit_seconds_bucket{le=\"2.5\"} 0
doorstep_hub_commit_seconds_bucket{le=\"+Inf\"} 0
doorstep_hub_commit_seconds_sum 0
doorstep_hub_commit_seconds_count 0
# HELP doorstep_hub_store_errors_total Errors of the store.
# TYPE doorstep_hub_store_errors_total counter
doorstep_hub_store_errors_total 0
";
        assert_eq!(Metrics::new().render(), expected);
    }

    #[test]
    fn counters_count() {
        let m = Metrics::new();
        m.request("upload", 200);
        m.request("upload", 200);
        m.request("upload", 409);
        m.request("head", 200);
        m.refusal("conflict");
        m.refusal("replayed-counter");
        m.refusal("replayed-counter");
        m.upload_bytes(1000);
        m.upload_bytes(24);
        m.store_error();
        let text = m.render();
        for line in [
            r#"doorstep_hub_requests_total{route="head",status="200"} 1"#,
            r#"doorstep_hub_requests_total{route="upload",status="200"} 2"#,
            r#"doorstep_hub_requests_total{route="upload",status="409"} 1"#,
            r#"doorstep_hub_refusals_total{reason="conflict"} 1"#,
            r#"doorstep_hub_refusals_total{reason="replayed-counter"} 2"#,
            "doorstep_hub_upload_bytes_total 1024",
            "doorstep_hub_store_errors_total 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        // Series follow their family's TYPE line, in order.
        let at = |s: &str| text.find(s).unwrap();
        assert!(at("# TYPE doorstep_hub_requests_total") < at("doorstep_hub_requests_total{route=\"head\""));
        assert!(at("doorstep_hub_requests_total{") < at("# HELP doorstep_hub_refusals_total"));
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        m.request("a\"b\\c\nd", 200);
        m.refusal("x\ny");
        assert!(has(&m, r#"doorstep_hub_requests_total{route="a\"b\\c\nd",status="200"} 1"#), "{}", m.render());
        assert!(has(&m, r#"doorstep_hub_refusals_total{reason="x\ny"} 1"#), "{}", m.render());
        assert_eq!(m.render().lines().count(), Metrics::new().render().lines().count() + 2, "no raw newline");
    }

    #[test]
    fn the_histogram_is_cumulative_and_sums() {
        let m = Metrics::new();
        // Powers of two, so that the sum is exact; 0.25 sits on a bound (le is inclusive).
        for s in [0.0009765625, 0.00390625, 0.125, 0.25, 4.0] {
            m.commit(s);
        }
        for ignored in [f64::NAN, f64::INFINITY, -1.0] {
            m.commit(ignored);
        }
        let got: Vec<String> =
            lines(&m).into_iter().filter(|l| l.starts_with("doorstep_hub_commit_seconds_")).collect();
        let expected = [
            r#"doorstep_hub_commit_seconds_bucket{le="0.001"} 1"#,
            r#"doorstep_hub_commit_seconds_bucket{le="0.0025"} 1"#,
            r#"doorstep_hub_commit_seconds_bucket{le="0.005"} 2"#,
            r#"doorstep_hub_commit_seconds_bucket{le="0.01"} 2"#,
            r#"doorstep_hub_commit_seconds_bucket{le="0.025"} 2"#,
            r#"doorstep_hub_commit_seconds_bucket{le="0.05"} 2"#,
            r#"doorstep_hub_commit_seconds_bucket{le="0.1"} 2"#,
            r#"doorstep_hub_commit_seconds_bucket{le="0.25"} 4"#,
            r#"doorstep_hub_commit_seconds_bucket{le="0.5"} 4"#,
            r#"doorstep_hub_commit_seconds_bucket{le="1"} 4"#,
            r#"doorstep_hub_commit_seconds_bucket{le="2.5"} 4"#,
            r#"doorstep_hub_commit_seconds_bucket{le="+Inf"} 5"#,
            "doorstep_hub_commit_seconds_sum 4.3798828125",
            "doorstep_hub_commit_seconds_count 5",
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn label_values_are_capped() {
        let m = Metrics::new();
        for i in 0..MAX_SERIES + 44 {
            m.request(&format!("r{i}"), 200);
            m.refusal(&format!("c{i}"));
        }
        m.request("r0", 200); // A series kept before the cap goes on counting.
        m.request("late", 503); // Folded with its status kept.
        m.request(&"é".repeat(100), 200); // Cut, but folded all the same.
        let count = |prefix: &str| lines(&m).iter().filter(|l| l.starts_with(prefix)).count();
        assert_eq!(count("doorstep_hub_requests_total{"), MAX_SERIES + 2);
        assert_eq!(count("doorstep_hub_refusals_total{"), MAX_SERIES + 1);
        assert!(has(&m, r#"doorstep_hub_requests_total{route="r0",status="200"} 2"#));
        assert!(has(&m, r#"doorstep_hub_requests_total{route="other",status="200"} 45"#));
        assert!(has(&m, r#"doorstep_hub_requests_total{route="other",status="503"} 1"#));
        assert!(has(&m, r#"doorstep_hub_refusals_total{reason="other"} 44"#));
    }

    #[test]
    fn long_label_values_are_cut_at_a_character() {
        assert_eq!(clip(&"é".repeat(100)), "é".repeat(MAX_LABEL_LEN / 2));
        assert_eq!(clip(&format!("a{}", "é".repeat(100))).len(), MAX_LABEL_LEN - 1);
        assert_eq!(clip("upload"), "upload");
    }

    #[test]
    fn threads_count_together() {
        let m = Arc::new(Metrics::new());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        m.request("upload", 200);
                        m.upload_bytes(2);
                        m.commit(0.003);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert!(has(&m, r#"doorstep_hub_requests_total{route="upload",status="200"} 8000"#));
        assert!(has(&m, "doorstep_hub_upload_bytes_total 16000"));
        assert!(has(&m, r#"doorstep_hub_commit_seconds_bucket{le="+Inf"} 8000"#));
        assert!(has(&m, "doorstep_hub_commit_seconds_count 8000"));
    }

    #[test]
    fn metrics_are_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<Metrics>();
        shared::<MetricsServer>();
    }

    /// Sends `request` on a new connection and reads the response until the server closes.
    fn fetch(addr: SocketAddr, request: &str) -> String {
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        tcp.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        tcp.read_to_string(&mut response).unwrap();
        response
    }

    fn get(addr: SocketAddr, path: &str) -> String {
        fetch(addr, &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
    }

    #[test]
    fn serves_metrics_over_http() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let metrics = Arc::new(Metrics::new());
        metrics.upload_bytes(42);
        let server = serve("127.0.0.1:0", metrics.clone(), runtime.handle()).unwrap();
        assert!(server.addr.ip().is_loopback() && server.addr.port() != 0);

        let response = get(server.addr, "/metrics");
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        assert!(head.to_ascii_lowercase().contains("content-type: text/plain; version=0.0.4; charset=utf-8"), "{head}");
        assert!(body.lines().any(|l| l == "doorstep_hub_upload_bytes_total 42"), "{body}");
        assert!(body.lines().any(|l| l == "# TYPE doorstep_hub_commit_seconds histogram"), "{body}");

        metrics.store_error();
        let response = get(server.addr, "/metrics");
        assert!(response.lines().any(|l| l == "doorstep_hub_store_errors_total 1"), "{response}");

        assert!(get(server.addr, "/other").starts_with("HTTP/1.1 404 Not Found\r\n"));
        let post = fetch(
            server.addr,
            "POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        assert!(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"), "{post}");
        assert!(post.to_ascii_lowercase().contains("allow: get\r\n"), "{post}");

        assert!(serve("not an address", metrics.clone(), runtime.handle()).is_err());
        assert!(serve(&server.addr.to_string(), metrics, runtime.handle()).is_err(), "the port is taken");

        // Dropped, the server stops listening.
        let addr = server.addr;
        drop(server);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(addr).is_ok() {
            assert!(std::time::Instant::now() < deadline, "still listening after the drop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn connections_past_the_cap_are_closed() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let server = serve("127.0.0.1:0", Arc::new(Metrics::new()), runtime.handle()).unwrap();
        // Idle connections take every place (accepted in order, each before the next).
        let idle: Vec<_> = (0..MAX_CONNECTIONS).map(|_| std::net::TcpStream::connect(server.addr).unwrap()).collect();
        let mut extra = std::net::TcpStream::connect(server.addr).unwrap();
        extra.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 16];
        assert!(matches!(extra.read(&mut buf), Ok(0) | Err(_)), "closed without an answer");
        // Their places given back, a scrape is answered again.
        drop(idle);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let mut tcp = std::net::TcpStream::connect(server.addr).unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let _ = tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            let mut response = String::new();
            let _ = tcp.read_to_string(&mut response);
            if response.starts_with("HTTP/1.1 200 OK\r\n") {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no place given back");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
