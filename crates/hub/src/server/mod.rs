//! TLS and HTTP around the service: tokio accepts, rustls verifies the tablet's certificate
//! against the hub's CA (TLS 1.3 only, a certificate required), hyper speaks HTTP/1.1, and
//! each request runs on a blocking thread (the store flushes to disk before replying).

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;

use crate::pki::Hub;
use crate::service::{Reply, Request, Service};
use crate::store::SledStore;

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
/// handle is dropped.
pub fn start(hub: &Hub, listen: &str) -> Result<Running, ServerError> {
    let tls = Arc::new(tls_config(hub)?);
    let store = SledStore::open(&hub.dir.join("store"))?;
    let service = Arc::new(Service::new(store, hub)?);
    let admin = match crate::admin::serve(&crate::admin::socket_path(&hub.dir), service.store.clone()) {
        Ok(a) => Some(a),
        Err(e) => {
            // Serving tablets matters more than the back office's convenience.
            eprintln!(
                "doorstep-hub: no admin socket at {} ({e}); status, decide and export need the hub stopped",
                crate::admin::socket_path(&hub.dir).display()
            );
            None
        }
    };
    let io = |what: String| move |source| ServerError::Io { what, source };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(io("the runtime".into()))?;
    let listener =
        runtime.block_on(tokio::net::TcpListener::bind(listen)).map_err(io(format!("listen on {listen}")))?;
    let addr = listener.local_addr().map_err(io(format!("listen on {listen}")))?;
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let thread = std::thread::spawn(move || {
        runtime.block_on(accept_loop(listener, tls, service, stopped));
    });
    Ok(Running { addr, _admin: admin, stop: Some(stop), thread: Some(thread) })
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    tls: Arc<ServerConfig>,
    service: Arc<Service<SledStore>>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let (tcp, _) = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => continue,
            },
        };
        // Replies are small and follow requests: no Nagle delay.
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = service.clone();
        tokio::spawn(async move {
            // A failed handshake (no certificate, another CA, expired) ends here; rustls has
            // already sent the client the alert that says why.
            let Ok(stream) = acceptor.accept(tcp).await else { return };
            let peer = stream.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec());
            let Some(peer) = peer else { return };
            let peer = Arc::new(peer);
            let handler = hyper::service::service_fn(move |req| {
                let service = service.clone();
                let peer = peer.clone();
                async move { Ok::<_, std::convert::Infallible>(respond(service, peer, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), handler)
                .await;
        });
    }
}

async fn respond(
    service: Arc<Service<SledStore>>,
    peer: Arc<Vec<u8>>,
    req: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let limit = doorstep_sync::wire::MAX_CHUNK as usize + 1;
    let reply = match Limited::new(body, limit).collect().await {
        Err(_) => Reply {
            status: 413,
            headers: vec![("content-type", "application/json".into())],
            body: br#"{"error":"chunk-too-large","message":"a request body is at most 1 MiB"}"#.to_vec(),
        },
        Ok(collected) => {
            let body = collected.to_bytes();
            let task = tokio::task::spawn_blocking(move || {
                let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
                service.handle(&Request {
                    method: parts.method.as_str(),
                    path: parts.uri.path(),
                    header: &header,
                    body: &body,
                    peer: &peer,
                })
            });
            task.await.unwrap_or_else(|_| Reply {
                status: 500,
                headers: Vec::new(),
                body: br#"{"error":"internal","message":"the request failed inside the hub"}"#.to_vec(),
            })
        }
    };
    let mut response = hyper::Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() =
        hyper::StatusCode::from_u16(reply.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, v);
        }
    }
    response
}
