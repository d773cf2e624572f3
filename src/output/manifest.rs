//! The manifest, `.oidc-gen-files`, and the journal: which files oidc-gen wrote, with the SHA-256
//! of what it wrote.

use sha2::{Digest as _, Sha256};

use super::{JOURNAL, LOCK, MANIFEST, io_error};
use crate::confined::{self, Folder, Kind};
use crate::error::Result;

/// The largest manifest read; 10,000 roles make one of about 3 MiB.
const MANIFEST_BYTES: u64 = 16 << 20;

/// The comment a manifest opens with.
pub(super) const MANIFEST_HEADER: &str = "\
# The files oidc-gen wrote in this folder, with the SHA-256 of what it wrote. oidc-gen replaces or
# removes (--prune) a file only while it still has that hash; files not listed are never touched.
";

/// A SHA-256.
pub(super) type Sha = [u8; 32];

/// The SHA-256 of `bytes`.
pub(super) fn sha256(bytes: &[u8]) -> Sha {
    Sha256::digest(bytes).into()
}

/// `sha` in lowercase hex, as `sha256sum` prints it.
fn hex(sha: &Sha) -> String {
    sha.iter().map(|b| format!("{b:02x}")).collect()
}

/// One line of a manifest or journal: a path, and the hash of what was written there (none in a
/// manifest of oidc-gen 0.1).
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) path: String,
    pub(super) sha: Option<Sha>,
}

/// A manifest (or journal) as read: its entries with plain relative paths (the others are
/// described in the notes), and its bytes, when it is a regular file of at most
/// [`MANIFEST_BYTES`].
pub(super) struct Listing {
    pub(super) entries: Vec<Entry>,
    pub(super) bytes: Option<Vec<u8>>,
}

/// Reads the manifest or journal `name`.
pub(super) fn read_list(root: &Folder, name: &str, notes: &mut Vec<String>) -> Result<Listing> {
    let shown = root.path().join(name);
    let bytes = match root
        .kind(name)
        .map_err(|e| io_error("cannot read", &shown, e))?
    {
        Kind::Missing => {
            return Ok(Listing {
                entries: Vec::new(),
                bytes: None,
            });
        }
        Kind::File { .. } => root
            .read(name, MANIFEST_BYTES)
            .map_err(|e| io_error("cannot read", &shown, e))?,
        _ => None,
    };
    let Some(bytes) = bytes else {
        notes.push(format!(
            "{} is not a regular file of at most {MANIFEST_BYTES} bytes; it was ignored, so no file \
             counts as written by oidc-gen",
            shown.display()
        ));
        return Ok(Listing {
            entries: Vec::new(),
            bytes: None,
        });
    };
    let mut entries = Vec::new();
    for line in String::from_utf8_lossy(&bytes).lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (sha, path) = match line.split_once("  ") {
            Some((digest, path)) if digest.len() == 64 => match parse_hex(digest) {
                Some(sha) => (Some(sha), path),
                None => (None, line),
            },
            _ => (None, line),
        };
        if confined::names(path).is_none() || path == MANIFEST || path == JOURNAL || path == LOCK {
            notes.push(format!(
                "ignored the entry {} of {}: oidc-gen writes only plain relative paths below the folder",
                crate::bounded::quoted(path),
                shown.display()
            ));
            continue;
        }
        entries.push(Entry {
            path: path.to_owned(),
            sha,
        });
    }
    Ok(Listing {
        entries,
        bytes: Some(bytes),
    })
}

/// The SHA-256 written in hex as `text`.
fn parse_hex(text: &str) -> Option<Sha> {
    let mut sha = [0u8; 32];
    for (i, byte) in sha.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(sha)
}

/// A manifest or journal of `entries` under `header`, one `HASH  PATH` a line.
pub(super) fn list_text(header: &str, entries: &[Entry]) -> String {
    let mut text = header.to_owned();
    for entry in entries {
        if let Some(sha) = &entry.sha {
            text.push_str(&hex(sha));
            text.push_str("  ");
        }
        text.push_str(&entry.path);
        text.push('\n');
    }
    text
}
