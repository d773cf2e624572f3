//! Servers the tests start on the loopback address: an OIDC issuer over TLS that behaves, or
//! misbehaves, as a test asks, and a CONNECT proxy that records where it was asked to go. Each
//! stops when dropped, and by itself after two minutes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::certs::TestChain;

/// A test server never lives longer than this, whatever the test does.
const SERVER_LIFETIME: Duration = Duration::from_secs(120);

/// How the test issuer answers one request.
pub enum Reply {
    /// A complete response.
    Respond {
        /// The HTTP status.
        status: u16,
        /// Extra headers, e.g. `Location`.
        headers: Vec<(&'static str, String)>,
        /// The body.
        body: String,
    },
    /// Read the request, then never answer.
    Hang,
    /// Send the head, then a body that never ends, a byte at a time.
    Drip,
}

impl Reply {
    /// A 200 response with a JSON body.
    pub fn json(body: impl ToString) -> Self {
        Reply::Respond {
            status: 200,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    /// A bodiless response with `status`.
    pub fn status(status: u16) -> Self {
        Reply::Respond {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// A redirect to `location`.
    pub fn redirect(location: String) -> Self {
        Reply::Respond {
            status: 302,
            headers: vec![("Location", location)],
            body: String::new(),
        }
    }
}

/// How the test issuer answers a request: a reply for a path.
pub type Responder = dyn Fn(&str) -> Reply + Send + Sync;

/// How a test server listens and speaks TLS.
#[derive(Clone, Copy, Default)]
pub struct ServerOptions {
    /// Listen on `[::1]` instead of 127.0.0.1.
    pub ipv6: bool,
    /// Accept connections but never start TLS (nor say anything).
    pub silent: bool,
    /// The TLS versions offered; `None` for both 1.2 and 1.3.
    pub versions: Option<&'static rustls::SupportedProtocolVersion>,
}

/// The discovery document of a well-behaved issuer at `base`, whose keys are at `jwks_base`.
pub fn discovery_document(base: &str, jwks_base: &str) -> serde_json::Value {
    serde_json::json!({
        "issuer": format!("{base}/oidc"),
        "jwks_uri": format!("{jwks_base}/oidc/.well-known/jwks"),
    })
}

/// An OIDC issuer on the loopback address over TLS. It stops when dropped, and by itself after
/// two minutes.
pub struct TestIssuer {
    /// The issuer URL, `https://127.0.0.1:PORT/oidc`.
    pub url: String,
    /// `https://127.0.0.1:PORT`.
    pub base: String,
    /// The port it listens on.
    pub port: u16,
    server: Server,
}

impl TestIssuer {
    /// How many connections it has accepted so far.
    pub fn accepted(&self) -> usize {
        self.server.accepted.load(Ordering::SeqCst)
    }

    /// A well-behaved issuer whose discovery document and JWKS are on its own host.
    pub fn start(chain: &TestChain) -> Self {
        Self::start_with(chain, ServerOptions::default(), |base| {
            let base = base.to_owned();
            Box::new(move |path: &str| well_behaved(&base, &base, path))
        })
    }

    /// An issuer that answers with `make(base_url)`, where `base_url` is `https://HOST:PORT`.
    pub fn start_with(
        chain: &TestChain,
        options: ServerOptions,
        make: impl FnOnce(&str) -> Box<Responder>,
    ) -> Self {
        let listener = TcpListener::bind(if options.ipv6 {
            "[::1]:0"
        } else {
            "127.0.0.1:0"
        })
        .unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = if options.ipv6 {
            format!("https://[::1]:{port}")
        } else {
            format!("https://127.0.0.1:{port}")
        };
        let responder: Arc<Responder> = Arc::from(make(&base));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider);
        let builder = match options.versions {
            Some(version) => builder.with_protocol_versions(&[version]),
            None => builder.with_safe_default_protocol_versions(),
        };
        let config = Arc::new(
            builder
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(chain.sent.clone(), chain.key.clone_key())
                .unwrap(),
        );
        let server = Server::spawn(listener, move |stream, stop| {
            if options.silent {
                linger(stop);
            } else {
                let _ = answer(stream, config.clone(), &*responder, stop);
            }
        });
        TestIssuer {
            url: format!("{base}/oidc"),
            base,
            port,
            server,
        }
    }
}

/// The replies of a well-behaved issuer at `base` whose JWKS is at `jwks_base`.
pub fn well_behaved(base: &str, jwks_base: &str, path: &str) -> Reply {
    match path {
        "/oidc/.well-known/openid-configuration" => {
            Reply::json(discovery_document(base, jwks_base))
        }
        "/oidc/.well-known/jwks" => Reply::json(r#"{"keys":[]}"#),
        _ => Reply::status(404),
    }
}

/// An accept loop on its own thread, each connection handled on a thread of its own. It stops
/// when dropped, and by itself after two minutes.
struct Server {
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn spawn(
        listener: TcpListener,
        handle: impl Fn(TcpStream, &AtomicBool) + Send + Sync + 'static,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let handle = Arc::new(handle);
        let thread = {
            let (stop, accepted) = (stop.clone(), accepted.clone());
            std::thread::spawn(move || {
                listener.set_nonblocking(true).unwrap();
                let deadline = Instant::now() + SERVER_LIFETIME;
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            accepted.fetch_add(1, Ordering::SeqCst);
                            let (handle, stop) = (handle.clone(), stop.clone());
                            let _ = stream.set_nonblocking(false);
                            // Small writes go out at once, as a real server's do.
                            let _ = stream.set_nodelay(true);
                            std::thread::spawn(move || handle(stream, &stop));
                        }
                        // A short wait, so that a new connection is not kept waiting.
                        Err(_) => std::thread::sleep(Duration::from_micros(200)),
                    }
                }
            })
        };
        Server {
            stop,
            accepted,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Waits until the server stops or its lifetime ends.
fn linger(stop: &AtomicBool) {
    let deadline = Instant::now() + SERVER_LIFETIME;
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Serves one HTTP/1.1 request over TLS, then closes.
fn answer(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    responder: &Responder,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut connection = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut socket = stream;
    let mut tls = rustls::Stream::new(&mut connection, &mut socket);
    let mut reader = BufReader::new(&mut tls);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    match responder(&path) {
        Reply::Respond {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            tls.write_all(head.as_bytes())?;
            tls.write_all(body.as_bytes())?;
            tls.flush()?;
        }
        Reply::Hang => linger(stop),
        Reply::Drip => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
            tls.write_all(head.as_bytes())?;
            tls.write_all(b"1\r\n{\r\n")?;
            while !stop.load(Ordering::SeqCst) {
                tls.write_all(b"1\r\n \r\n")?;
                tls.flush()?;
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    connection.send_close_notify();
    let _ = connection.complete_io(&mut socket);
    let _ = socket.read(&mut [0u8; 1]);
    Ok(())
}

/// A CONNECT proxy on 127.0.0.1 that records the targets it was asked for. It stops when
/// dropped, and by itself after two minutes.
pub struct TestProxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Every CONNECT target, in order.
    pub targets: Arc<Mutex<Vec<String>>>,
    _server: Server,
}

impl TestProxy {
    /// A proxy that tunnels every CONNECT, or answers `refuse` (e.g. 407) to each.
    pub fn start(refuse: Option<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let targets = Arc::new(Mutex::new(Vec::new()));
        let seen = targets.clone();
        let server = Server::spawn(listener, move |client, _| {
            let _ = tunnel(client, &seen, refuse);
        });
        TestProxy {
            url,
            targets,
            _server: server,
        }
    }

    /// The CONNECT targets seen so far.
    pub fn seen(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

fn tunnel(
    client: TcpStream,
    targets: &Mutex<Vec<String>>,
    refuse: Option<u16>,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    targets.lock().unwrap().push(format!("{method} {target}"));
    let mut client = client;
    if let Some(status) = refuse {
        return client.write_all(
            format!("HTTP/1.1 {status} Refused\r\nContent-Length: 0\r\n\r\n").as_bytes(),
        );
    }
    let upstream = TcpStream::connect(target)?;
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    let (mut client_read, mut upstream_write) = (client.try_clone()?, upstream.try_clone()?);
    let (mut upstream_read, mut client_write) = (upstream, client);
    let forward = std::thread::spawn(move || std::io::copy(&mut client_read, &mut upstream_write));
    let _ = std::io::copy(&mut upstream_read, &mut client_write);
    let _ = forward.join();
    Ok(())
}
