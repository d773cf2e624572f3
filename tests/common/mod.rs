//! The shared test harness: a local OIDC issuer over TLS with generated certificate chains, a
//! runner for the built binary, and the insta settings every snapshot uses.
#![allow(dead_code)] // Each test crate uses its own part of the harness.

pub mod artifacts;
pub mod aws;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A test server never lives longer than this, whatever the test does.
const SERVER_LIFETIME: Duration = Duration::from_secs(120);

/// insta settings shared by every snapshot: files in the top-level `snapshots/`, and filters for
/// values that legitimately vary between runs.
pub fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(&regex_escape(env!("CARGO_PKG_VERSION")), "[VERSION]");
    settings.add_filter(r"https://127\.0\.0\.1:\d+", "https://127.0.0.1:[PORT]");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}

/// A thumbprint for fixtures that use no network.
pub const THUMBPRINT: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";

/// Offline inputs that the snapshot and real-tool tests share: a name and the arguments.
pub fn fixtures() -> Vec<(&'static str, Vec<String>)> {
    let second_thumbprint = THUMBPRINT.to_uppercase().replace('9', "1");
    let fixtures: [(&str, Vec<&str>); 4] = [
        (
            "scoped",
            vec![
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--env",
                "platform/prod",
                "--env",
                "legacy-env",
                "--policy-arn",
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "--policy-arn",
                "arn:aws:iam::123456789012:policy/esc/Deploy",
                "--role-name",
                "esc-deployer",
                "--duration",
                "2h",
                "--thumbprint",
                THUMBPRINT,
            ],
        ),
        (
            "patterns",
            vec![
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--env",
                "platform/*",
                "--env",
                "shared/prod",
                "--thumbprint",
                THUMBPRINT,
                "--thumbprint",
                &second_thumbprint,
            ],
        ),
        (
            "no_thumbprint",
            vec![
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--no-thumbprint",
            ],
        ),
        (
            "existing_provider",
            vec![
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--env",
                "platform/prod",
                "--policy-arn",
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "--existing-provider",
            ],
        ),
    ];
    fixtures
        .into_iter()
        .map(|(name, args)| (name, args.into_iter().map(String::from).collect()))
        .collect()
}

/// Runs the built `oidc-gen` with `args`, in `dir`, isolated from the caller's environment.
pub fn oidc_gen(dir: &Path, args: &[&str]) -> Output {
    oidc_gen_command(dir, args)
        .output()
        .expect("the oidc-gen binary runs")
}

/// The command `oidc_gen` runs, for tests that add to its environment.
pub fn oidc_gen_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oidc-gen"));
    command.args(args).current_dir(dir);
    for var in [
        "OIDC_GEN_ISSUER",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(var);
    }
    command
}

/// Standard output and error as text.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every file below `dir`, relative, sorted: to prove what a run wrote or left alone.
pub fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.push((path.strip_prefix(dir).unwrap().to_path_buf(), Vec::new()));
                pending.push(path);
            } else {
                files.push((
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
    }
    files.sort();
    files
}

/// What a test server sends during the TLS handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainShape {
    /// Leaf and intermediate, as most servers send.
    RootNotSent,
    /// Leaf, intermediate and root.
    RootSent,
    /// A leaf signed directly by the root, sent alone.
    LeafOnly,
}

/// How the leaf certificate departs from a good one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafFlaw {
    /// A valid certificate for 127.0.0.1, ::1 and localhost.
    None,
    /// Its validity ended in 2020.
    Expired,
    /// Valid, but only for `elsewhere.example`.
    WrongName,
}

/// A generated certificate chain for the loopback addresses and its trust anchor.
pub struct TestChain {
    /// The certificates the server sends, in order, leaf first.
    pub sent: Vec<CertificateDer<'static>>,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
    /// The root, as PEM, for `--ca-file`.
    pub root_pem: String,
}

impl TestChain {
    /// A fresh root, intermediate and leaf, arranged as `shape`.
    pub fn new(shape: ChainShape) -> Self {
        Self::with_flaw(shape, LeafFlaw::None)
    }

    /// A fresh chain whose leaf has `flaw`.
    pub fn with_flaw(shape: ChainShape, flaw: LeafFlaw) -> Self {
        let root = ca("oidc-gen test root", None);
        let intermediate = ca("oidc-gen test intermediate", Some(&root));
        let leaf_key = KeyPair::generate().unwrap();
        let names = match flaw {
            LeafFlaw::WrongName => vec!["elsewhere.example".to_owned()],
            _ => vec![
                "127.0.0.1".to_owned(),
                "::1".to_owned(),
                "localhost".to_owned(),
            ],
        };
        let mut leaf_params = CertificateParams::new(names).unwrap();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "oidc-gen test issuer");
        if flaw == LeafFlaw::Expired {
            leaf_params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            leaf_params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        }
        let sent = match shape {
            ChainShape::RootNotSent | ChainShape::RootSent => {
                let leaf = leaf_params.signed_by(&leaf_key, &intermediate).unwrap();
                let mut sent = vec![leaf.der().clone(), intermediate.der().clone()];
                if shape == ChainShape::RootSent {
                    sent.push(root.der().clone());
                }
                sent
            }
            ChainShape::LeafOnly => {
                vec![
                    leaf_params
                        .signed_by(&leaf_key, &root)
                        .unwrap()
                        .der()
                        .clone(),
                ]
            }
        };
        TestChain {
            sent,
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            root_pem: root.pem(),
        }
    }

    /// Writes the root to `dir/root.pem` and returns its path.
    pub fn write_root(&self, dir: &Path) -> PathBuf {
        let path = dir.join("root.pem");
        std::fs::write(&path, &self.root_pem).unwrap();
        path
    }
}

fn ca(
    name: &str,
    parent: Option<&CertifiedIssuer<'static, KeyPair>>,
) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    match parent {
        None => CertifiedIssuer::self_signed(params, key).unwrap(),
        Some(parent) => CertifiedIssuer::signed_by(params, key, parent).unwrap(),
    }
}

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
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestIssuer {
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
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || serve(listener, config, responder, options.silent, stop))
        };
        TestIssuer {
            url: format!("{base}/oidc"),
            base,
            port,
            stop,
            thread: Some(thread),
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

impl Drop for TestIssuer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    responder: Arc<Responder>,
    silent: bool,
    stop: Arc<AtomicBool>,
) {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + SERVER_LIFETIME;
    let mut held = Vec::new();
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) if silent => held.push(stream),
            Ok((stream, _)) => {
                let (config, responder, stop) = (config.clone(), responder.clone(), stop.clone());
                std::thread::spawn(move || {
                    let _ = answer(stream, config, &*responder, &stop);
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(_) => return,
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
    stream.set_nonblocking(false)?;
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
    pub targets: Arc<std::sync::Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestProxy {
    /// A proxy that tunnels every CONNECT, or answers `refuse` (e.g. 407) to each.
    pub fn start(refuse: Option<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let targets = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (targets, stop) = (targets.clone(), stop.clone());
            std::thread::spawn(move || {
                listener.set_nonblocking(true).unwrap();
                let deadline = Instant::now() + SERVER_LIFETIME;
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let targets = targets.clone();
                            std::thread::spawn(move || {
                                let _ = tunnel(client, &targets, refuse);
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        TestProxy {
            url,
            targets,
            stop,
            thread: Some(thread),
        }
    }

    /// The CONNECT targets seen so far.
    pub fn seen(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn tunnel(
    client: TcpStream,
    targets: &std::sync::Mutex<Vec<String>>,
    refuse: Option<u16>,
) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
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

/// Runs `command`, killing it if it has not ended after `limit`; returns its output and how
/// long it took.
pub fn run_bounded(mut command: Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}, killed:\n{}",
                text(&output).1
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

/// Whether `.ci/run` said that every external tool the tests use must be present.
pub fn tools_required() -> bool {
    std::env::var("IAC_TOOLS_REQUIRED").is_ok_and(|v| v == "1")
}

/// Whether `program` can be run; when it cannot, a test skips with a printed reason, or fails
/// when the tools are required.
pub fn have_tool(program: &str, version_arg: &str) -> bool {
    let found = Command::new(program)
        .arg(version_arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !tools_required(),
            "{program} is required (IAC_TOOLS_REQUIRED=1) but cannot be run"
        );
        eprintln!("skipped: {program} is not installed");
    }
    found
}
