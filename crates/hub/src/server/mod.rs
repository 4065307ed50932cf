//! TLS and HTTP around the service: tokio accepts, rustls verifies the tablet's certificate
//! against the hub's CA (TLS 1.3 only, a certificate required), hyper speaks HTTP/1.1, and
//! each request runs on a blocking thread (the store flushes to disk before replying).
//! [`conn`] keeps the hub up under abuse (SECURITY R25).

mod conn;
mod gate;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;

use crate::pki::{Hub, Limits};
use crate::service::Service;
use crate::store::AnyStore;

/// Why the hub cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Hub(#[from] crate::pki::PkiError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Tls(#[from] doorstep_sync::tls::TlsError),
    #[error("the hub's TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("the hub's client certificate verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
}

/// The hub's TLS configuration: its own certificate, and client certificates required and
/// verified against the CA (no unauthenticated clients).
pub fn tls_config(hub: &Hub) -> Result<ServerConfig, ServerError> {
    let read = |name: &str| {
        let path = hub.dir.join(name);
        std::fs::read_to_string(&path).map_err(|source| ServerError::Io { what: path.display().to_string(), source })
    };
    let provider = doorstep_sync::tls::provider();
    let roots = doorstep_sync::tls::roots(&read("ca.pem")?)?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build()?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            doorstep_sync::tls::certificates(&read("server.pem")?, "server certificate")?,
            doorstep_sync::tls::private_key(&read("server-key.pem")?, "server key")?,
        )?;
    Ok(config)
}

/// A hub serving on its own runtime; stops when dropped.
pub struct Running {
    pub addr: SocketAddr,
    /// The admin socket (`None` when it could not be made; `status`, `decide` and `export`
    /// then need the hub stopped).
    _admin: Option<crate::admin::Admin>,
    /// `/metrics`, when `hub.toml` (or `serve --metrics`) names an address.
    pub metrics: Option<crate::metrics::MetricsServer>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Opens the hub's store and serves on `listen` (e.g. `127.0.0.1:0`) until the returned
/// handle is dropped: [`open`], then [`Opened::serve`].
pub fn start(hub: &Hub, listen: &str) -> Result<Running, ServerError> {
    open(hub)?.serve(listen)
}

/// A hub whose store is open (which may have taken a rebuild of its index) and that does not
/// listen yet: `serve` starts it, dropping it closes the store.
pub struct Opened {
    tls: Arc<ServerConfig>,
    service: Arc<Service<AnyStore>>,
    dir: std::path::PathBuf,
    limits: Limits,
    metrics: Option<String>,
}

/// Opens the hub's store (rebuilding its index if it must) and readies its TLS and service.
pub fn open(hub: &Hub) -> Result<Opened, ServerError> {
    let tls = Arc::new(tls_config(hub)?);
    let (store, report) = AnyStore::open(&hub.dir, &hub.config)?;
    for line in report {
        tracing::warn!("{line}");
    }
    let service = Arc::new(Service::new(store, hub)?);
    Ok(Opened {
        tls,
        service,
        dir: hub.dir.clone(),
        limits: hub.config.limits.clone(),
        metrics: hub.config.metrics.clone(),
    })
}

impl Opened {
    /// Makes the admin socket and serves on `listen` until the returned handle is dropped.
    pub fn serve(self, listen: &str) -> Result<Running, ServerError> {
        let Opened { tls, service, dir, limits, metrics } = self;
        serve(tls, service, &dir, &limits, listen, metrics.as_deref())
    }
}

fn serve(
    tls: Arc<ServerConfig>,
    service: Arc<Service<AnyStore>>,
    dir: &std::path::Path,
    limits: &Limits,
    listen: &str,
    metrics: Option<&str>,
) -> Result<Running, ServerError> {
    let admin = match crate::admin::serve(&crate::admin::socket_path(dir), service.store.clone()) {
        Ok(a) => Some(a),
        Err(e) => {
            // Serving tablets matters more than the back office's convenience.
            tracing::warn!(
                "no admin socket at {} ({e}); status, decide and export need the hub stopped",
                crate::admin::socket_path(dir).display()
            );
            None
        }
    };
    let io = |what: String| move |source| ServerError::Io { what, source };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(io("the runtime".into()))?;
    let listener = runtime.block_on(async { bind(listen) }).map_err(io(format!("listen on {listen}")))?;
    let addr = listener.local_addr().map_err(io(format!("listen on {listen}")))?;
    let metrics = metrics.map(|at| crate::metrics::serve(at, service.metrics.clone(), runtime.handle())).transpose()?;
    let caps = caps(limits, open_file_limit());
    tracing::info!(
        max_connections = caps.total,
        per_ip = caps.per_ip,
        protected_per_device = caps.protected_per_device,
        handshake_s = caps.handshake.as_secs_f64(),
        header_s = caps.header.as_secs_f64(),
        body_s = caps.body.as_secs_f64(),
        "limits"
    );
    // Partial uploads that stopped growing are dropped now and then (and when a device
    // reaches its limit).
    let sweep = Duration::from_secs((service.uploads.expiry_secs as u64 / 4).clamp(60, 3600));
    let expiring = service.clone();
    runtime.spawn(async move {
        loop {
            let service = expiring.clone();
            let _ = tokio::task::spawn_blocking(move || {
                if let Err(e) = service.expire_uploads(None) {
                    tracing::error!(error = %e, "expiring partial uploads");
                }
            })
            .await;
            tokio::time::sleep(sweep).await;
        }
    });
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let thread = std::thread::spawn(move || {
        runtime.block_on(conn::accept_loop(listener, tls, service, caps, stopped));
    });
    Ok(Running { addr, _admin: admin, metrics, stop: Some(stop), thread: Some(thread) })
}

/// Connections the kernel queues for the hub to accept (capped by `net.core.somaxconn`): a
/// burst of connections waits there instead of being dropped half-open.
const BACKLOG: u32 = 4096;

/// Listens on `listen` (`HOST:PORT`) with a long queue; the first address that binds.
fn bind(listen: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, "no address");
    for addr in std::net::ToSocketAddrs::to_socket_addrs(listen)? {
        let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
        socket.set_reuseaddr(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Descriptors kept back from connections for the store, the admin socket and the runtime.
const RESERVED_FILES: usize = 64;

/// The connection caps from `[limits]`: never so many connections that the store could not
/// open a file (the process's open-file limit, less a reserve).
fn caps(limits: &Limits, open_files: Option<usize>) -> conn::Caps {
    let mut total = limits.max_connections.max(1);
    if let Some(files) = open_files {
        let room = files.saturating_sub(RESERVED_FILES).max(1);
        if room < total {
            tracing::warn!(
                max_connections = total,
                open_file_limit = files,
                "the open-file limit allows only {room} connections; raise it (LimitNOFILE) to allow more"
            );
            total = room;
        }
    }
    conn::Caps {
        handshake: Limits::duration(limits.handshake_timeout_secs),
        header: Limits::duration(limits.header_timeout_secs),
        body: Limits::duration(limits.body_timeout_secs),
        total,
        per_ip: limits.max_connections_per_ip.max(1),
        protected_per_device: limits.protected_connections_per_device,
    }
}

/// The process's soft limit on open files, from `/proc/self/limits` (`None` elsewhere).
fn open_file_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_capped_below_the_open_file_limit() {
        let limits = Limits { max_connections: 1000, max_connections_per_ip: 10, ..Limits::default() };
        assert_eq!(caps(&limits, None).total, 1000);
        assert_eq!(caps(&limits, Some(20_000)).total, 1000);
        assert_eq!(caps(&limits, Some(256)).total, 256 - RESERVED_FILES);
        assert_eq!(caps(&limits, Some(10)).total, 1, "never none");
        assert!(open_file_limit().is_some_and(|n| n > 0), "read from /proc/self/limits");
    }
}
