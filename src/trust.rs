//! The trust anchors every TLS connection is verified against: the system's roots (which honour
//! `SSL_CERT_FILE` and `SSL_CERT_DIR`) plus those of `--ca-file`. Verification is never turned off.
//!
//! A chain is tried against the smallest set of anchors first, each set holding the one before,
//! so a later set never refuses what an earlier one accepts: the anchors of `--ca-file` alone (when
//! given), then with the system's CA bundle file, then, as in OpenSSL, with the certificate
//! directories (on common systems they hold the bundle's certificates one file each, and reading
//! them all would cost more than the rest of the look-up). Without `--ca-file` the bundle is read on
//! a thread while the connection is made; with it, only when the file's anchors do not verify.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::{Error, Result};

/// The certificates TLS connections to the issuer are verified against.
#[derive(Debug, Clone)]
pub struct TrustAnchors {
    /// The anchors of `--ca-file`.
    given: Arc<Vec<CertificateDer<'static>>>,
    /// The system's store, read on a thread of its own while the connection is being made.
    system: Arc<SystemStore>,
}

/// The anchors a chain is verified against, each holding the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Those of `--ca-file`.
    Given,
    /// Those and the system's CA bundle.
    Bundle,
    /// Those and the system's certificate directories.
    Directories,
}

/// The system's CA bundle and certificate directories.
#[derive(Debug)]
struct SystemStore {
    reading: Mutex<Option<JoinHandle<Bundle>>>,
    read: OnceLock<Bundle>,
    /// The directories' certificates, read only when a chain's issuer is not in the bundle.
    with_dirs: OnceLock<Vec<CertificateDer<'static>>>,
}

/// The bundle's certificates, and the directories not read yet.
type Bundle = (Vec<CertificateDer<'static>>, Vec<PathBuf>);

impl TrustAnchors {
    /// The system's roots, plus every certificate in the PEM file `ca_file`.
    pub fn load(ca_file: Option<&Path>) -> Result<Self> {
        let given = match ca_file {
            Some(path) => read_pem_certificates(path)?,
            None => Vec::new(),
        };
        let reading = given
            .is_empty()
            .then(|| std::thread::spawn(read_system_bundle));
        Ok(TrustAnchors {
            given: Arc::new(given),
            system: Arc::new(SystemStore {
                reading: Mutex::new(reading),
                read: OnceLock::new(),
                with_dirs: OnceLock::new(),
            }),
        })
    }

    /// The scopes a chain is tried against, smallest first; the directories only when there are
    /// some (known once the bundle is read, so only asked for when the earlier scopes refuse).
    pub fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        let given = (!self.given.is_empty()).then_some(Scope::Given);
        given
            .into_iter()
            .chain([Scope::Bundle])
            .chain(std::iter::once(Scope::Directories).filter(|_| !self.bundle().1.is_empty()))
    }

    fn bundle(&self) -> &Bundle {
        self.system.read.get_or_init(|| {
            let reading = self.system.reading.lock().expect("not poisoned").take();
            match reading {
                Some(thread) => thread.join().unwrap_or_default(),
                None => read_system_bundle(),
            }
        })
    }

    /// The anchors whose encoding holds one of `names` (raw issuer names of a chain), with those of
    /// the system's certificate directories when `directories` is set. An anchor can issue a
    /// certificate only if its subject is that certificate's issuer, byte for byte, so no other
    /// anchor can change a verdict, and these few are all that need parsing.
    pub fn issuers_of(&self, names: &[Vec<u8>], scope: Scope) -> RootCertStore {
        let (bundle, extra): (&[CertificateDer<'static>], &[CertificateDer<'static>]) = match scope
        {
            Scope::Given => (&[], &[]),
            Scope::Bundle => (&self.bundle().0, &[]),
            Scope::Directories => {
                let (bundle, dirs) = self.bundle();
                let extra = self.system.with_dirs.get_or_init(|| load_directories(dirs));
                (bundle, extra)
            }
        };
        let finders: Vec<memchr::memmem::Finder<'_>> = names
            .iter()
            .filter(|name| !name.is_empty())
            .map(memchr::memmem::Finder::new)
            .collect();
        let anchors = self.given.iter().chain(bundle).chain(extra);
        store(anchors.filter(|anchor| {
            finders
                .iter()
                .any(|finder| finder.find(anchor.as_ref()).is_some())
        }))
    }
}

fn store<'a>(certs: impl IntoIterator<Item = &'a CertificateDer<'static>>) -> RootCertStore {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(certs.into_iter().cloned());
    store
}

/// The system's CA bundle, and the certificate directories left to read; without a bundle, the
/// directories are the system's store and are read at once.
fn read_system_bundle() -> Bundle {
    let (file, dirs) = system_paths();
    let certs = file.as_deref().map(read_bundle).unwrap_or_default();
    match certs.is_empty() {
        true => (load_directories(&dirs), Vec::new()),
        false => (certs, dirs),
    }
}

/// The system's CA bundle file and certificate directories: `SSL_CERT_FILE` and `SSL_CERT_DIR`
/// when either is set, else where OpenSSL looks on this system.
fn system_paths() -> (Option<PathBuf>, Vec<PathBuf>) {
    let file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    let dirs: Vec<PathBuf> = std::env::var_os("SSL_CERT_DIR")
        .map(|dirs| {
            std::env::split_paths(&dirs)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if file.is_some() || !dirs.is_empty() {
        return (file, dirs);
    }
    let probed = openssl_probe::probe();
    (probed.cert_file, probed.cert_dir)
}

/// The certificates of a PEM bundle; an unreadable bundle has none. Public certificates need no
/// constant-time decoding (which rustls's PEM reader does, for keys): the base64 crate's decoder
/// reads the system bundle several times faster.
fn read_bundle(path: &Path) -> Vec<CertificateDer<'static>> {
    use base64::Engine;
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let mut certs = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines().map(str::trim) {
        match (line, &mut body) {
            ("-----BEGIN CERTIFICATE-----", _) => body = Some(String::new()),
            ("-----END CERTIFICATE-----", Some(base64)) => {
                if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(base64.as_bytes())
                {
                    certs.push(CertificateDer::from(der));
                }
                body = None;
            }
            (line, Some(base64)) => base64.push_str(line),
            _ => {}
        }
    }
    certs
}

fn load_directories(dirs: &[PathBuf]) -> Vec<CertificateDer<'static>> {
    dirs.iter()
        .flat_map(|dir| rustls_native_certs::load_certs_from_paths(None, Some(dir)).certs)
        .collect()
}

/// The one crypto provider of the process (ring, as ureq uses), passed explicitly everywhere.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let ca_error = |reason: String| Error::CaFile {
        path: path.to_path_buf(),
        reason,
    };
    let bytes =
        std::fs::read(path).map_err(|e| ca_error(format!("{e}; give a readable PEM file")))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ca_error(format!(
                "not valid PEM ({e}); give PEM certificates (-----BEGIN CERTIFICATE-----)"
            ))
        })?;
    if certs.is_empty() {
        return Err(ca_error(
            "it holds no PEM certificate; give a file with -----BEGIN CERTIFICATE----- blocks"
                .into(),
        ));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_given_anchors_are_tried_first_and_the_system_store_is_not_read_for_them() {
        let pem = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/root.pem");
        let anchors = TrustAnchors::load(Some(Path::new(pem))).unwrap();
        assert!(anchors.system.reading.lock().unwrap().is_none());
        assert_eq!(anchors.scopes().next(), Some(Scope::Given));
        let without = TrustAnchors::load(None).unwrap();
        assert_eq!(without.scopes().next(), Some(Scope::Bundle));
    }
}
