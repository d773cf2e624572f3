//! What a folder holds, compared with what a run would write: every generated path, every listed
//! file and the leftovers of an interrupted run, reached without following a link.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use super::manifest::{Entry, Sha, read_list, sha256};
use super::plan::{KEPT, TEMPORARY};
use super::{JOURNAL, MANIFEST, blocked_problem, io_error};
use crate::confined::{self, Blocked, Folder, Kind};
use crate::error::Result;
use crate::render::RenderedFile;

/// A file larger than this was not written by oidc-gen, and is not read.
pub(super) const LARGEST_FILE: u64 = 64 << 20;

/// What a generated file's path holds now.
pub(super) enum Found {
    /// Nothing: it is created.
    Missing,
    /// The same contents.
    Same,
    /// Contents oidc-gen wrote: it is replaced, keeping its mode.
    Ours { mode: u32 },
    /// Something else: refused without `--force`, and why.
    Foreign { why: String, mode: u32 },
    /// It cannot be reached without following a link, or a folder or special file is in the way:
    /// refused even with `--force`.
    Blocked { path: PathBuf, problem: String },
}

/// What happens to a file the manifest lists and this run does not generate.
pub(super) enum Listed {
    /// Unchanged since written: kept and listed, or removed by `--prune`.
    Stale,
    /// Listed without a hash: kept and listed, never removed.
    Unhashed,
    /// Gone, edited, or unreachable: no longer listed.
    Dropped,
}

/// The folder compared with what would be written.
pub(super) struct Survey {
    pub(super) found: Vec<Found>,
    pub(super) listed: Vec<(Entry, Listed)>,
    pub(super) leftovers: Vec<(Vec<String>, String)>,
    pub(super) notes: Vec<String>,
    /// The manifest as it is, when it is a regular file oidc-gen can read.
    pub(super) manifest: Option<Vec<u8>>,
}

/// Looks at every generated path, every listed file and every folder they name, reading no link.
/// `generated` holds every path the run writes (`files` may be some of them).
pub(super) fn survey(
    root: &Folder,
    files: &[RenderedFile],
    wanted: &[Sha],
    generated: &BTreeSet<&str>,
) -> Result<Survey> {
    let mut notes = Vec::new();
    let manifest = read_list(root, MANIFEST, &mut notes)?;
    let journal = read_list(root, JOURNAL, &mut notes)?.entries;
    let mut owned: HashMap<&str, Vec<Sha>> = HashMap::new();
    for entry in manifest.entries.iter().chain(&journal) {
        if let Some(sha) = entry.sha {
            owned.entry(entry.path.as_str()).or_default().push(sha);
        }
    }
    // The folder itself holds the journal.
    let mut folders: BTreeSet<Vec<String>> = BTreeSet::from([Vec::new()]);
    let mut found = Vec::new();
    for (file, sha) in files.iter().zip(wanted) {
        let (dirs, name) = split(&file.path);
        folders.insert(dirs.iter().map(|d| d.to_string()).collect());
        let folder = match confined::walk(root, &dirs) {
            Ok(Some(folder)) => folder,
            Ok(None) => {
                found.push(Found::Missing);
                continue;
            }
            Err(Blocked::Kind { path, kind }) => {
                let problem = blocked_problem(kind);
                found.push(Found::Blocked { path, problem });
                continue;
            }
            Err(Blocked::Io { path, source }) => {
                return Err(io_error("cannot open", &path, source));
            }
        };
        let path = folder.path().join(name);
        let current = match folder
            .kind(name)
            .map_err(|e| io_error("cannot read", &path, e))?
        {
            Kind::Missing => Found::Missing,
            Kind::File { size, mode } if size > LARGEST_FILE => Found::Foreign {
                why: format!("it is larger than {LARGEST_FILE} bytes"),
                mode,
            },
            Kind::File { mode, .. } => {
                let bytes = folder
                    .read(name, LARGEST_FILE)
                    .map_err(|e| io_error("cannot read", &path, e))?
                    .unwrap_or_default();
                let current = sha256(&bytes);
                if current == *sha {
                    Found::Same
                } else if owned
                    .get(file.path.as_str())
                    .is_some_and(|s| s.contains(&current))
                {
                    Found::Ours { mode }
                } else {
                    Found::Foreign {
                        why: "it is not as oidc-gen wrote it (edited since, or written by something else)"
                            .into(),
                        mode,
                    }
                }
            }
            Kind::Link => Found::Foreign {
                why: "it is a symbolic link, which oidc-gen does not follow".into(),
                mode: 0o644,
            },
            Kind::Folder | Kind::Other => Found::Blocked {
                path,
                problem: "a generated file's path holds a folder or a special file; move it away"
                    .into(),
            },
        };
        found.push(current);
    }

    let mut listed = Vec::new();
    let mut seen = BTreeSet::new();
    // Files a killed run was writing count as listed too: they are oidc-gen's.
    for entry in manifest.entries.iter().chain(&journal) {
        if generated.contains(entry.path.as_str()) || !seen.insert(entry.path.clone()) {
            continue;
        }
        let hashes = owned
            .get(entry.path.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let (dirs, name) = split(&entry.path);
        folders.insert(dirs.iter().map(|d| d.to_string()).collect());
        let shown = root.path().join(&entry.path);
        let mut sha = None;
        let state = match confined::walk(root, &dirs) {
            Err(_) => {
                notes.push(format!(
                    "ignored the manifest entry {}: its path passes through a symbolic link or a file",
                    entry.path
                ));
                Listed::Dropped
            }
            Ok(None) => Listed::Dropped,
            Ok(Some(folder)) => match folder.kind(name) {
                Ok(Kind::File { .. }) if hashes.is_empty() => {
                    notes.push(format!(
                        "{} is listed without a hash (an older oidc-gen wrote the manifest), so it is never \
                         removed; remove it by hand if it is no longer wanted",
                        shown.display()
                    ));
                    Listed::Unhashed
                }
                Ok(Kind::File { size, .. }) if size <= LARGEST_FILE => {
                    let current = folder
                        .read(name, LARGEST_FILE)
                        .ok()
                        .flatten()
                        .map(|b| sha256(&b));
                    match current {
                        Some(current) if hashes.contains(&current) => {
                            sha = Some(current);
                            Listed::Stale
                        }
                        _ => {
                            notes.push(format!(
                                "{} was edited since oidc-gen wrote it; it is no longer listed and is kept",
                                shown.display()
                            ));
                            Listed::Dropped
                        }
                    }
                }
                Ok(Kind::Missing) => Listed::Dropped,
                _ => {
                    notes.push(format!(
                        "{} is no longer a file oidc-gen wrote; it is no longer listed and is kept",
                        shown.display()
                    ));
                    Listed::Dropped
                }
            },
        };
        let entry = Entry {
            path: entry.path.clone(),
            sha,
        };
        listed.push((entry, state));
    }
    let mut leftovers = Vec::new();
    for dirs in folders {
        let names: Vec<&str> = dirs.iter().map(String::as_str).collect();
        let Ok(Some(folder)) = confined::walk(root, &names) else {
            continue;
        };
        for name in folder.names().unwrap_or_default() {
            let ours = name.starts_with(TEMPORARY) || name.starts_with(KEPT);
            if ours || (dirs.is_empty() && name == JOURNAL) {
                leftovers.push((dirs.clone(), name));
            }
        }
    }
    Ok(Survey {
        found,
        listed,
        leftovers,
        notes,
        manifest: manifest.bytes,
    })
}

/// The paths of `files`.
pub(super) fn generated(files: &[RenderedFile]) -> BTreeSet<&str> {
    files.iter().map(|f| f.path.as_str()).collect()
}

/// The folders and the file name of a generated path.
pub(super) fn split(relative: &str) -> (Vec<&str>, &str) {
    let mut names = confined::names(relative).expect("generated paths are plain and relative");
    let name = names.pop().expect("a path has a name");
    (names, name)
}

/// The manifest a run writes: the generated files, then the stale files it keeps.
pub(super) fn manifest_entries(
    files: &[RenderedFile],
    wanted: &[Sha],
    survey: &Survey,
    prune: bool,
) -> Vec<Entry> {
    let mut entries: Vec<Entry> = files
        .iter()
        .zip(wanted)
        .map(|(f, sha)| Entry {
            path: f.path.clone(),
            sha: Some(*sha),
        })
        .collect();
    for (entry, state) in &survey.listed {
        match state {
            Listed::Stale if prune => {}
            Listed::Stale | Listed::Unhashed => entries.push(entry.clone()),
            Listed::Dropped => {}
        }
    }
    entries
}
