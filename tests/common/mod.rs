//! The shared test harness: a local OIDC issuer over TLS with generated certificate chains, a
//! runner for the built binary, and the insta settings every snapshot uses.
#![allow(dead_code)] // Each test crate uses its own part of the harness.

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

/// A generated certificate chain for 127.0.0.1 and its trust anchor.
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
        let root = ca("oidc-gen test root", None);
        let intermediate = ca("oidc-gen test intermediate", Some(&root));
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf_params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "oidc-gen test issuer");
        let sent = match shape {
            ChainShape::RootNotSent | ChainShape::RootSent => {
                let leaf = leaf_params.signed_by(&leaf_key, &intermediate).unwrap();
                let mut sent = vec![leaf.der().clone(), intermediate.der().clone()];
                if shape == ChainShape::RootSent {
                    sent.push(root.der().clone());
                }
                sent
            }
            ChainShape::LeafOnly => vec![
                leaf_params
                    .signed_by(&leaf_key, &root)
                    .unwrap()
                    .der()
                    .clone(),
            ],
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

/// How the test issuer answers a request: status and body for a path.
pub type Responder = dyn Fn(&str) -> (u16, String) + Send + Sync;

/// An OIDC issuer on 127.0.0.1 over TLS. It stops when dropped, and by itself after two minutes.
pub struct TestIssuer {
    /// The issuer URL, `https://127.0.0.1:PORT/oidc`.
    pub url: String,
    /// The port it listens on.
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestIssuer {
    /// A well-behaved issuer whose discovery document and JWKS are on its own host.
    pub fn start(chain: &TestChain) -> Self {
        Self::start_with(chain, |base| {
            let base = base.to_owned();
            Box::new(move |path: &str| match path {
                "/oidc/.well-known/openid-configuration" => (
                    200,
                    serde_json::json!({
                        "issuer": format!("{base}/oidc"),
                        "jwks_uri": format!("{base}/oidc/.well-known/jwks"),
                    })
                    .to_string(),
                ),
                "/oidc/.well-known/jwks" => (200, r#"{"keys":[]}"#.to_owned()),
                _ => (404, "{}".to_owned()),
            })
        })
    }

    /// An issuer that answers with `make(base_url)`, where `base_url` is `https://127.0.0.1:PORT`.
    pub fn start_with(chain: &TestChain, make: impl FnOnce(&str) -> Box<Responder>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("https://127.0.0.1:{port}");
        let responder: Arc<Responder> = Arc::from(make(&base));
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain.sent.clone(), chain.key.clone_key())
            .unwrap(),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || serve(listener, config, responder, stop))
        };
        TestIssuer {
            url: format!("{base}/oidc"),
            port,
            stop,
            thread: Some(thread),
        }
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
    stop: Arc<AtomicBool>,
) {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + SERVER_LIFETIME;
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                let (config, responder) = (config.clone(), responder.clone());
                std::thread::spawn(move || {
                    let _ = answer(stream, config, &*responder);
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(_) => return,
        }
    }
}

/// Serves one HTTP/1.1 request over TLS, then closes.
fn answer(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    responder: &Responder,
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
    let (status, body) = responder(&path);
    let response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(response.as_bytes())?;
    tls.flush()?;
    connection.send_close_notify();
    let _ = connection.complete_io(&mut socket);
    let _ = socket.read(&mut [0u8; 1]);
    Ok(())
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
