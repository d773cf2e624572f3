//! Certificate chains the tests generate: a root, an intermediate and a leaf for the loopback
//! addresses, arranged and flawed as a test needs.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

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

    /// Writes the chain the server sends and its key to `dir/server.pem` and `dir/server.key`,
    /// as a TLS server in another program loads them, and returns their paths.
    pub fn write_server(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let pem = |label: &str, der: &[u8]| {
            use base64::Engine;
            let text = base64::engine::general_purpose::STANDARD.encode(der);
            let lines: Vec<&str> = text
                .as_bytes()
                .chunks(64)
                .map(|line| std::str::from_utf8(line).unwrap())
                .collect();
            format!(
                "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
                lines.join("\n")
            )
        };
        let chain: String = self
            .sent
            .iter()
            .map(|cert| pem("CERTIFICATE", cert))
            .collect();
        let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
        std::fs::write(&cert, chain).unwrap();
        std::fs::write(&key, pem("PRIVATE KEY", self.key.secret_der())).unwrap();
        (cert, key)
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
