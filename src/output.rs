//! Writing rendered files under the output folder, and `--check`: only oidc-gen's own files, only
//! inside the folder, all or nothing, one run at a time.
//!
//! - **Confinement.** Everything below the folder is reached through [`confined`], which follows
//!   no symbolic link. A generated path through a link is refused; a link at a generated path is
//!   not oidc-gen's file.
//! - **Ownership.** The manifest, [`MANIFEST`], lists each file oidc-gen wrote with the SHA-256 of
//!   what it wrote. A file is replaced, or removed by `--prune`, only while it still has that
//!   hash; any other file at a generated path is refused unless `--force`.
//! - **Crash consistency.** Each file is written to a temporary file beside it and renamed over
//!   it, so a file is always either old or new. Before the first rename a journal,
//!   [`JOURNAL`], lists the hashes about to be written, so a run killed half-way still owns what
//!   it wrote; the manifest is renamed into place last. A file being replaced keeps a second
//!   name (a hard link) until the manifest is in place, so putting it back takes no space.
//!   Temporary files, links and journals left by a killed run are removed by the next run and
//!   reported by `--check`.
//! - **One run at a time.** A run holds an exclusive `flock` on [`LOCK`] in the folder, `--check`
//!   a shared one.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};
use similar::TextDiff;

use crate::confined::{self, Blocked, Folder, Kind};
use crate::error::{Error, Result};
use crate::render::RenderedFile;

/// At most this many diff lines are shown per differing file.
const MAX_DIFF_LINES: usize = 40;

/// The manifest of the files oidc-gen wrote, relative to the output folder.
pub const MANIFEST: &str = ".oidc-gen-files";
/// The hashes a run is about to write, present only while it writes them.
pub const JOURNAL: &str = ".oidc-gen-files.pending";
/// The file whose `flock` makes runs on one folder take turns.
pub const LOCK: &str = ".oidc-gen.lock";
/// Names of temporary files begin with this.
const TEMPORARY: &str = ".oidc-gen-tmp-";
/// Names of replaced files kept until the manifest is in place begin with this.
const KEPT: &str = ".oidc-gen-old-";
/// The largest manifest read; 10,000 roles make one of about 3 MiB.
const MANIFEST_BYTES: u64 = 16 << 20;
/// A file larger than this was not written by oidc-gen, and is not read.
const LARGEST_FILE: u64 = 64 << 20;

const MANIFEST_HEADER: &str = "\
# The files oidc-gen wrote in this folder, with the SHA-256 of what it wrote. oidc-gen replaces or
# removes (--prune) a file only while it still has that hash; files not listed are never touched.
";

type Sha = [u8; 32];

fn sha256(bytes: &[u8]) -> Sha {
    Sha256::digest(bytes).into()
}

fn hex(sha: &Sha) -> String {
    sha.iter().map(|b| format!("{b:02x}")).collect()
}

/// How a run may change the folder.
#[derive(Debug, Clone)]
pub struct Options {
    /// Remove stale files (listed, unchanged since written, no longer generated).
    pub prune: bool,
    /// Replace files at generated paths that oidc-gen did not write or that were edited since.
    pub force: bool,
    /// How long to wait for another run on the same folder to finish.
    pub wait: Duration,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// It did not exist and was created.
    Created(PathBuf),
    /// It existed with other contents and was replaced.
    Updated(PathBuf),
    /// It already held exactly these contents and was left alone.
    Unchanged(PathBuf),
}

/// What a run did under the output folder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Each file written, and the manifest.
    pub written: Vec<Written>,
    /// Files an earlier run wrote that this one does not, kept (and still listed).
    pub stale: Vec<PathBuf>,
    /// Such files removed by `--prune`.
    pub removed: Vec<PathBuf>,
    /// What was seen and left alone, in words: manifest entries ignored, files no longer listed,
    /// leftovers of an interrupted run removed.
    pub notes: Vec<String>,
}

/// How a file under the output folder differs from what would be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// It would be created.
    Missing,
    /// It holds other contents that oidc-gen wrote: a run replaces it.
    Differs,
    /// It is not as oidc-gen wrote it (edited, never written by it, or a link): a run refuses it
    /// without `--force`.
    Unowned,
    /// An earlier run wrote it, and this one would not.
    Stale,
    /// A temporary file or journal of an interrupted run: the next run removes it.
    Leftover,
}

impl Change {
    /// The word `--check` prints before the file's name.
    pub fn label(self) -> &'static str {
        match self {
            Change::Missing => "missing",
            Change::Differs => "differs",
            Change::Unowned => "unowned",
            Change::Stale => "stale",
            Change::Leftover => "leftover",
        }
    }
}

/// A file under the output folder that differs from what would be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// How.
    pub change: Change,
    /// The file.
    pub path: PathBuf,
    /// For a file that differs, a short unified diff from the file on disk to what would be
    /// written, or why there is none; empty otherwise.
    pub diff: String,
}

/// What `--check` found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checked {
    /// The files that differ.
    pub differences: Vec<Difference>,
    /// Manifest entries ignored, and why.
    pub notes: Vec<String>,
}

/// One line of a manifest or journal.
#[derive(Debug, Clone)]
struct Entry {
    path: String,
    sha: Option<Sha>,
}

/// The entries of a manifest (or journal) with plain relative paths; the others, described.
fn read_list(root: &Folder, name: &str, notes: &mut Vec<String>) -> Result<Vec<Entry>> {
    let shown = root.path().join(name);
    let bytes = match root
        .kind(name)
        .map_err(|e| io_error("cannot read", &shown, e))?
    {
        Kind::Missing => return Ok(Vec::new()),
        Kind::File(_) => root
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
        return Ok(Vec::new());
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
    Ok(entries)
}

fn parse_hex(text: &str) -> Option<Sha> {
    let mut sha = [0u8; 32];
    for (i, byte) in sha.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(sha)
}

fn list_text(header: &str, entries: &[Entry]) -> String {
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

/// What a generated file's path holds now.
enum Found {
    /// Nothing: it is created.
    Missing,
    /// The same contents.
    Same,
    /// Contents oidc-gen wrote: it is replaced, keeping its mode.
    Ours { mode: u32 },
    /// Something else: refused without `--force`, and why.
    Foreign {
        why: String,
        mode: u32,
        bytes: Option<Vec<u8>>,
    },
}

/// What happens to a file the manifest lists and this run does not generate.
enum Listed {
    /// Unchanged since written: kept and listed, or removed by `--prune`.
    Stale,
    /// Listed without a hash: kept and listed, never removed.
    Unhashed,
    /// Gone, edited, or unreachable: no longer listed.
    Dropped,
}

/// The folder compared with what would be written.
struct Survey {
    found: Vec<Found>,
    listed: Vec<(Entry, Listed)>,
    leftovers: Vec<(Vec<String>, String)>,
    notes: Vec<String>,
}

/// Looks at every generated path, every listed file and every folder they name, reading no link.
/// `generated` holds every path the run writes (`files` may be some of them).
fn survey(
    root: &Folder,
    files: &[RenderedFile],
    wanted: &[Sha],
    generated: &BTreeSet<&str>,
) -> Result<Survey> {
    let mut notes = Vec::new();
    let manifest = read_list(root, MANIFEST, &mut notes)?;
    let journal = read_list(root, JOURNAL, &mut notes)?;
    let mut owned: HashMap<&str, Vec<Sha>> = HashMap::new();
    for entry in manifest.iter().chain(&journal) {
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
        let folder = confined::walk(root, &dirs).map_err(blocked)?;
        let Some(folder) = folder else {
            found.push(Found::Missing);
            continue;
        };
        let path = folder.path().join(name);
        let current = match folder
            .kind(name)
            .map_err(|e| io_error("cannot read", &path, e))?
        {
            Kind::Missing => Found::Missing,
            Kind::File(size) if size > LARGEST_FILE => Found::Foreign {
                why: format!("it is larger than {LARGEST_FILE} bytes"),
                mode: 0o644,
                bytes: None,
            },
            Kind::File(_) => {
                let file = folder
                    .open_file(name)
                    .map_err(|e| io_error("cannot read", &path, e))?;
                let mode = mode_of(&file);
                let bytes = folder
                    .read(name, LARGEST_FILE)
                    .map_err(|e| io_error("cannot read", &path, e))?
                    .unwrap_or_default();
                let current = sha256(&bytes);
                if current == *sha {
                    Found::Same
                } else if owned
                    .get(file_path(&dirs, name).as_str())
                    .is_some_and(|s| s.contains(&current))
                {
                    Found::Ours { mode }
                } else {
                    Found::Foreign {
                        why: "it is not as oidc-gen wrote it (edited since, or written by something else)"
                            .into(),
                        mode,
                        bytes: Some(bytes),
                    }
                }
            }
            Kind::Link => Found::Foreign {
                why: "it is a symbolic link, which oidc-gen does not follow".into(),
                mode: 0o644,
                bytes: None,
            },
            Kind::Folder | Kind::Other => {
                return Err(Error::Unsafe {
                    path,
                    problem:
                        "a generated file's path holds a folder or a special file; move it away"
                            .into(),
                });
            }
        };
        found.push(current);
    }

    let mut listed = Vec::new();
    let mut seen = BTreeSet::new();
    // Files a killed run was writing count as listed too: they are oidc-gen's.
    for entry in manifest.iter().chain(&journal) {
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
                Ok(Kind::File(_)) if hashes.is_empty() => {
                    notes.push(format!(
                        "{} is listed without a hash (an older oidc-gen wrote the manifest), so it is never \
                         removed; remove it by hand if it is no longer wanted",
                        shown.display()
                    ));
                    Listed::Unhashed
                }
                Ok(Kind::File(size)) if size <= LARGEST_FILE => {
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
    for entry in &journal {
        let (dirs, _) = split(&entry.path);
        folders.insert(dirs.iter().map(|d| d.to_string()).collect());
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
    })
}

fn generated(files: &[RenderedFile]) -> BTreeSet<&str> {
    files.iter().map(|f| f.path.as_str()).collect()
}

/// The folders and the file name of a generated path.
fn split(relative: &str) -> (Vec<&str>, &str) {
    let mut names = confined::names(relative).expect("generated paths are plain and relative");
    let name = names.pop().expect("a path has a name");
    (names, name)
}

fn file_path(dirs: &[&str], name: &str) -> String {
    let mut path = dirs.join("/");
    if !path.is_empty() {
        path.push('/');
    }
    path.push_str(name);
    path
}

fn mode_of(file: &std::fs::File) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    file.metadata()
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o644)
}

fn blocked(blocked: Blocked) -> Error {
    match blocked {
        Blocked::Kind { path, kind } => Error::Unsafe {
            path,
            problem: match kind {
                Kind::Link => {
                    "a generated path passes through this symbolic link, which oidc-gen does not \
                               follow below --out; remove it, or give --out the folder it points to"
                        .into()
                }
                _ => "a generated path passes through this, which is not a folder; move it away"
                    .into(),
            },
        },
        Blocked::Io { path, source } => io_error("cannot open", &path, source),
    }
}

/// The manifest a run writes: the generated files, then the stale files it keeps.
fn manifest_entries(
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

/// Writes `files` under `out` with the manifest, atomically per file and all-or-nothing across
/// files; with `prune`, removes the stale files. `waiting` is told the pid of a run holding the
/// folder, once, before waiting for it.
pub fn write_all(
    out: &Path,
    files: &[RenderedFile],
    options: &Options,
    waiting: &mut dyn FnMut(Option<u32>),
) -> Result<Outcome> {
    let created = make_root(out)?;
    let result = write_in(out, files, options, waiting);
    if result.is_err() {
        for dir in created.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
    result
}

/// Makes `out` and its missing parents; the folders made, outermost first.
fn make_root(out: &Path) -> Result<Vec<PathBuf>> {
    let missing: Vec<&Path> = out
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && std::fs::symlink_metadata(d).is_err())
        .collect();
    let mut created = Vec::new();
    for dir in missing.into_iter().rev() {
        match std::fs::create_dir(dir) {
            Ok(()) => created.push(dir.to_path_buf()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                for made in created.iter().rev() {
                    let _ = std::fs::remove_dir(made);
                }
                return Err(io_error("cannot create the folder", dir, e));
            }
        }
    }
    Ok(created)
}

fn write_in(
    out: &Path,
    files: &[RenderedFile],
    options: &Options,
    waiting: &mut dyn FnMut(Option<u32>),
) -> Result<Outcome> {
    let root = Folder::open(out).map_err(|e| io_error("cannot open the folder", out, e))?;
    let _lock = lock(&root, false, options.wait, waiting)?;
    let wanted: Vec<Sha> = files
        .iter()
        .map(|f| sha256(f.contents.as_bytes()))
        .collect();
    let survey = survey(&root, files, &wanted, &generated(files))?;
    let foreign: Vec<String> = files
        .iter()
        .zip(&survey.found)
        .filter_map(|(file, found)| match found {
            Found::Foreign { why, .. } => {
                Some(format!("{}: {why}", out.join(&file.path).display()))
            }
            _ => None,
        })
        .collect();
    if !foreign.is_empty() && !options.force {
        return Err(Error::NotOwned(foreign));
    }

    let mut outcome = Outcome {
        notes: survey.notes.clone(),
        ..Outcome::default()
    };
    let mut cleared = 0;
    for (dirs, name) in &survey.leftovers {
        let names: Vec<&str> = dirs.iter().map(String::as_str).collect();
        if let Ok(Some(folder)) = confined::walk(&root, &names) {
            if folder.remove(name).is_ok() {
                cleared += 1;
            }
        }
    }
    if cleared > 0 {
        outcome.notes.push(format!(
            "removed {cleared} temporary file(s) an interrupted run left under {}",
            out.display()
        ));
    }

    let entries = manifest_entries(files, &wanted, &survey, options.prune);
    let manifest = list_text(MANIFEST_HEADER, &entries);
    let mut plan = Plan::new(&root);
    for (file, found) in files.iter().zip(&survey.found) {
        let path = out.join(&file.path);
        let step = match found {
            Found::Same => {
                outcome.written.push(Written::Unchanged(path));
                continue;
            }
            Found::Missing => Step::Create,
            Found::Ours { mode } | Found::Foreign { mode, .. } => Step::Replace { mode: *mode },
        };
        plan.steps
            .push((file.path.clone(), file.contents.as_bytes(), step));
        outcome.written.push(match step {
            Step::Create => Written::Created(path),
            _ => Written::Updated(path),
        });
    }
    for (entry, state) in &survey.listed {
        if let Listed::Stale = state {
            let path = out.join(&entry.path);
            if options.prune {
                plan.steps.push((entry.path.clone(), &[], Step::Remove));
                outcome.removed.push(path);
            } else {
                outcome.stale.push(path);
            }
        }
    }
    let old_manifest = match root.kind(MANIFEST) {
        Ok(Kind::File(_)) => root.read(MANIFEST, MANIFEST_BYTES).ok().flatten(),
        _ => None,
    };
    let manifest_path = out.join(MANIFEST);
    if old_manifest.as_deref() == Some(manifest.as_bytes()) {
        outcome.written.push(Written::Unchanged(manifest_path));
    } else {
        outcome.written.push(match old_manifest {
            Some(_) => Written::Updated(manifest_path),
            None => Written::Created(manifest_path),
        });
    }
    if plan.steps.is_empty() && old_manifest.as_deref() == Some(manifest.as_bytes()) {
        return Ok(outcome);
    }
    plan.run(&manifest, &entries)?;
    Ok(outcome)
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Create,
    Replace { mode: u32 },
    Remove,
}

/// The changes of one run, made so that each can be undone by a rename.
struct Plan<'a> {
    root: &'a Folder,
    steps: Vec<(String, &'a [u8], Step)>,
    /// Folders this run made, relative, in the order made.
    made: Vec<Vec<String>>,
    /// Each step's temporary or kept name, once it has one.
    spare: Vec<Option<String>>,
    /// How many steps were carried out.
    done: usize,
    counter: u64,
}

impl<'a> Plan<'a> {
    fn new(root: &'a Folder) -> Self {
        Plan {
            root,
            steps: Vec::new(),
            made: Vec::new(),
            spare: Vec::new(),
            done: 0,
            counter: 0,
        }
    }

    /// Journal, temporary files, renames, manifest; on a failure, everything undone.
    fn run(mut self, manifest: &str, entries: &[Entry]) -> Result<()> {
        let journal = list_text(
            "# The files an oidc-gen run is writing; removed when it is done.\n",
            entries,
        );
        let result = self
            .replace(&[], JOURNAL, journal.as_bytes(), 0o644)
            .and_then(|()| self.stage())
            .and_then(|()| self.commit())
            .and_then(|()| self.replace(&[], MANIFEST, manifest.as_bytes(), 0o644));
        match result {
            Ok(()) => {
                self.finish();
                Ok(())
            }
            Err(e) => {
                self.undo();
                Err(e)
            }
        }
    }

    fn next_name(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}-{}", std::process::id(), self.counter)
    }

    fn folder(&self, dirs: &[&str]) -> Result<Folder> {
        match confined::walk(self.root, dirs).map_err(blocked)? {
            Some(folder) => Ok(folder),
            None => Err(io_error(
                "cannot open",
                &self.root.path().join(dirs.join("/")),
                std::io::ErrorKind::NotFound.into(),
            )),
        }
    }

    /// Makes the folders of `dirs` that are missing.
    fn make_folders(&mut self, dirs: &[&str]) -> Result<Folder> {
        let mut here = self.folder(&[])?;
        for (depth, name) in dirs.iter().enumerate() {
            let path = here.path().join(name);
            if here
                .make_child(name)
                .map_err(|e| io_error("cannot create the folder", &path, e))?
            {
                self.made
                    .push(dirs[..=depth].iter().map(|d| d.to_string()).collect());
            }
            here = self.folder(&dirs[..=depth])?;
        }
        Ok(here)
    }

    /// Writes `contents` to a new temporary file in `folder`; its name.
    fn temporary(&mut self, folder: &Folder, contents: &[u8], mode: u32) -> Result<String> {
        loop {
            let name = self.next_name(TEMPORARY);
            match folder.create(&name, contents, mode) {
                Ok(()) => return Ok(name),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_error("cannot write in", folder.path(), e)),
            }
        }
    }

    /// Replaces (or creates) the bookkeeping file `name` through a temporary file.
    fn replace(&mut self, dirs: &[&str], name: &str, contents: &[u8], mode: u32) -> Result<()> {
        let folder = self.folder(dirs)?;
        let temp = self.temporary(&folder, contents, mode)?;
        folder.rename(&temp, name).map_err(|e| {
            let _ = folder.remove(&temp);
            io_error("cannot write", &folder.path().join(name), e)
        })
    }

    /// Every new file's contents in a temporary file beside it.
    fn stage(&mut self) -> Result<()> {
        let steps = std::mem::take(&mut self.steps);
        let mut current: Option<(Vec<&str>, Folder)> = None;
        let mut result = Ok(());
        for (path, contents, step) in &steps {
            let (dirs, _) = split(path);
            let mode = match step {
                Step::Remove => {
                    self.spare.push(None);
                    continue;
                }
                Step::Create => 0o644,
                Step::Replace { mode } => *mode,
            };
            if current.as_ref().is_none_or(|(d, _)| *d != dirs) {
                match self.make_folders(&dirs) {
                    Ok(folder) => current = Some((dirs.clone(), folder)),
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            let folder = &current.as_ref().expect("set above").1;
            match self.temporary(folder, contents, mode) {
                Ok(name) => self.spare.push(Some(name)),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.steps = steps;
        result
    }

    /// Renames each temporary file over its file; a replaced or removed file keeps a second name.
    fn commit(&mut self) -> Result<()> {
        let mut current: Option<(Vec<String>, Folder)> = None;
        for index in 0..self.steps.len() {
            let (path, step) = (self.steps[index].0.clone(), self.steps[index].2);
            let (dirs, name) = split(&path);
            let owned: Vec<String> = dirs.iter().map(|d| d.to_string()).collect();
            if current.as_ref().is_none_or(|(d, _)| *d != owned) {
                current = Some((owned, self.folder(&dirs)?));
            }
            let folder = &current.as_ref().expect("set above").1;
            let shown = folder.path().join(name);
            let fail = |e| io_error("cannot write", &shown, e);
            match step {
                Step::Create => {
                    let temp = self.spare[index].as_deref().expect("staged");
                    folder.rename_new(temp, name).map_err(fail)?;
                }
                Step::Replace { .. } => {
                    let kept = self.next_name(KEPT);
                    folder.link(name, &kept).map_err(fail)?;
                    let temp = self.spare[index].replace(kept.clone()).expect("staged");
                    if let Err(e) = folder.rename(&temp, name) {
                        let _ = folder.remove(&temp);
                        return Err(fail(e));
                    }
                }
                Step::Remove => {
                    let kept = self.next_name(KEPT);
                    folder
                        .rename(name, &kept)
                        .map_err(|e| io_error("cannot remove", &shown, e))?;
                    self.spare[index] = Some(kept);
                }
            }
            self.done = index + 1;
        }
        Ok(())
    }

    /// Puts back what was changed, removes what was made.
    fn undo(&mut self) {
        for index in (0..self.steps.len()).rev() {
            let (path, _, step) = &self.steps[index];
            let (dirs, name) = split(path);
            let Ok(folder) = self.folder(&dirs) else {
                continue;
            };
            let spare = self.spare.get(index).cloned().flatten();
            let _ = match (step, index < self.done, spare) {
                (Step::Create, true, _) => folder.remove(name),
                (_, true, Some(kept)) => folder.rename(&kept, name),
                (Step::Remove, false, _) => Ok(()),
                (_, false, Some(temp)) => folder.remove(&temp),
                (_, _, None) => Ok(()),
            };
        }
        for dirs in self.made.iter().rev() {
            let names: Vec<&str> = dirs.iter().map(String::as_str).collect();
            let (parent, name) = names.split_at(names.len() - 1);
            if let Ok(folder) = self.folder(parent) {
                let _ = folder.remove_folder(name[0]);
            }
        }
        let _ = self.root.remove(JOURNAL);
    }

    /// Drops the second names, the journal, and folders left empty by `--prune`.
    fn finish(&mut self) {
        let _ = self.root.remove(JOURNAL);
        for index in 0..self.steps.len() {
            let (path, _, step) = &self.steps[index];
            let (dirs, _) = split(path);
            let Some(kept) = self.spare[index].as_deref() else {
                continue;
            };
            if matches!(step, Step::Create) {
                continue;
            }
            let Ok(folder) = self.folder(&dirs) else {
                continue;
            };
            let _ = folder.remove(kept);
            if matches!(step, Step::Remove) {
                for depth in (0..dirs.len()).rev() {
                    let Ok(parent) = self.folder(&dirs[..depth]) else {
                        break;
                    };
                    if parent.remove_folder(dirs[depth]).is_err() {
                        break;
                    }
                }
            }
        }
    }
}

/// Holds the folder's lock until dropped; a run's lock file is removed then, so a folder at
/// rest holds none.
struct Lock<'a> {
    file: std::fs::File,
    root: &'a Folder,
    exclusive: bool,
}

impl Drop for Lock<'_> {
    fn drop(&mut self) {
        // Removed while still held: a run waiting on this file finds it gone and opens anew.
        if self.exclusive && self.root.is_named(&self.file, LOCK) {
            let _ = self.root.remove(LOCK);
        }
    }
}

/// Takes the folder's lock, exclusive for a run, shared for `--check`, waiting at most `wait`.
/// `--check` on a folder no run holds takes none (it would have to create the file).
fn lock<'a>(
    root: &'a Folder,
    shared: bool,
    wait: Duration,
    waiting: &mut dyn FnMut(Option<u32>),
) -> Result<Option<Lock<'a>>> {
    let path = root.path().join(LOCK);
    let started = Instant::now();
    let mut told = false;
    loop {
        let file = match (shared, root.kind(LOCK)) {
            (_, Ok(Kind::Link | Kind::Folder | Kind::Other)) => {
                return Err(Error::Unsafe {
                    path,
                    problem: "oidc-gen's lock file is not a regular file; remove it".into(),
                });
            }
            (true, Ok(Kind::Missing)) => return Ok(None),
            (true, _) => root.open_file(LOCK),
            (false, _) => root.open_rw(LOCK),
        };
        let file = match file {
            Ok(file) => file,
            Err(e) if shared && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("cannot open the lock", &path, e)),
        };
        if Folder::try_lock(&file, shared).map_err(|e| io_error("cannot lock", &path, e))? {
            // The holder before may have removed the file as this run opened it.
            if !root.is_named(&file, LOCK) {
                continue;
            }
            if !shared {
                use std::os::unix::fs::FileExt;
                let pid = format!("{}\n", std::process::id());
                file.set_len(0)
                    .and_then(|()| file.write_all_at(pid.as_bytes(), 0))
                    .map_err(|e| io_error("cannot write", &path, e))?;
            }
            return Ok(Some(Lock {
                file,
                root,
                exclusive: !shared,
            }));
        }
        let holder = holder(&file);
        if started.elapsed() >= wait {
            return Err(Error::Locked {
                path,
                pid: holder,
                waited: wait.as_secs_f64(),
            });
        }
        if !told {
            waiting(holder);
            told = true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pid the lock's holder wrote into it.
fn holder(file: &std::fs::File) -> Option<u32> {
    use std::os::unix::fs::FileExt;
    let mut buffer = [0u8; 16];
    let read = file.read_at(&mut buffer, 0).ok()?;
    std::str::from_utf8(&buffer[..read])
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Compares `files` and their manifest with what is under `out`, writing nothing. Waits, like a
/// run, for a run on the same folder to finish.
pub fn check(
    out: &Path,
    files: &[RenderedFile],
    wait: Duration,
    waiting: &mut dyn FnMut(Option<u32>),
) -> Result<Checked> {
    let root = match Folder::open(out) {
        Ok(root) => root,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let differences = files
                .iter()
                .map(|f| f.path.as_str())
                .chain([MANIFEST])
                .map(|relative| Difference {
                    change: Change::Missing,
                    path: out.join(relative),
                    diff: String::new(),
                })
                .collect();
            return Ok(Checked {
                differences,
                notes: Vec::new(),
            });
        }
        Err(e) => return Err(io_error("cannot open the folder", out, e)),
    };
    let _lock = lock(&root, true, wait, waiting)?;
    let wanted: Vec<Sha> = files
        .iter()
        .map(|f| sha256(f.contents.as_bytes()))
        .collect();
    let survey = survey(&root, files, &wanted, &generated(files)).or_else(|e| match e {
        // A generated path through a link: reported below, file by file.
        Error::Unsafe { .. } => survey_blocked(&root, files, &wanted),
        e => Err(e),
    })?;
    let mut differences = Vec::new();
    for (file, found) in files.iter().zip(&survey.found) {
        let path = out.join(&file.path);
        let (change, diff) = match found {
            Found::Same => continue,
            Found::Missing => (Change::Missing, String::new()),
            Found::Ours { .. } => {
                let (dirs, name) = split(&file.path);
                let on_disk = confined::walk(&root, &dirs)
                    .ok()
                    .flatten()
                    .and_then(|f| f.read(name, LARGEST_FILE).ok().flatten())
                    .unwrap_or_default();
                (
                    Change::Differs,
                    short_diff(&String::from_utf8_lossy(&on_disk), &file.contents, &path),
                )
            }
            Found::Foreign { why, bytes, .. } => {
                let mut diff = format!("  {why}; a run refuses to replace it without --force\n");
                if let Some(bytes) = bytes {
                    diff.push_str(&short_diff(
                        &String::from_utf8_lossy(bytes),
                        &file.contents,
                        &path,
                    ));
                }
                (Change::Unowned, diff)
            }
        };
        differences.push(Difference { change, path, diff });
    }
    let entries = manifest_entries(files, &wanted, &survey, false);
    let manifest = list_text(MANIFEST_HEADER, &entries);
    let manifest_path = out.join(MANIFEST);
    match root.kind(MANIFEST) {
        Ok(Kind::File(_)) => {
            let bytes = root
                .read(MANIFEST, MANIFEST_BYTES)
                .ok()
                .flatten()
                .unwrap_or_default();
            if bytes != manifest.as_bytes() {
                differences.push(Difference {
                    change: Change::Differs,
                    diff: short_diff(&String::from_utf8_lossy(&bytes), &manifest, &manifest_path),
                    path: manifest_path,
                });
            }
        }
        Ok(Kind::Missing) => differences.push(Difference {
            change: Change::Missing,
            path: manifest_path,
            diff: String::new(),
        }),
        _ => differences.push(Difference {
            change: Change::Unowned,
            path: manifest_path,
            diff: "  it is not a regular file; it was not read\n".into(),
        }),
    }
    for (entry, state) in &survey.listed {
        if let Listed::Stale | Listed::Unhashed = state {
            differences.push(Difference {
                change: Change::Stale,
                path: out.join(&entry.path),
                diff: String::new(),
            });
        }
    }
    for (dirs, name) in &survey.leftovers {
        let mut path = out.to_path_buf();
        path.extend(dirs);
        differences.push(Difference {
            change: Change::Leftover,
            path: path.join(name),
            diff: String::new(),
        });
    }
    Ok(Checked {
        differences,
        notes: survey.notes,
    })
}

/// The survey of a folder where some generated path passes through a link: those files are
/// reported as unowned, the others compared as usual.
fn survey_blocked(root: &Folder, files: &[RenderedFile], wanted: &[Sha]) -> Result<Survey> {
    let reachable: Vec<bool> = files
        .iter()
        .map(|f| {
            let (dirs, name) = split(&f.path);
            match confined::walk(root, &dirs) {
                Ok(Some(folder)) => !matches!(folder.kind(name), Ok(Kind::Folder | Kind::Other)),
                Ok(None) => true,
                Err(_) => false,
            }
        })
        .collect();
    let (kept, kept_sha): (Vec<RenderedFile>, Vec<Sha>) = files
        .iter()
        .zip(wanted)
        .zip(&reachable)
        .filter(|(_, ok)| **ok)
        .map(|((f, s), _)| (f.clone(), *s))
        .unzip();
    // Listed files at the unreachable paths are still this run's files, not stale ones.
    let mut partial = survey(root, &kept, &kept_sha, &generated(files))?;
    let mut found = partial.found.drain(..);
    let all = reachable
        .iter()
        .map(|ok| match ok {
            true => found.next().expect("one per reachable file"),
            false => Found::Foreign {
                why: "its path passes through a symbolic link or a file, which oidc-gen does not follow".into(),
                mode: 0o644,
                bytes: None,
            },
        })
        .collect();
    drop(found);
    partial.found = all;
    Ok(partial)
}

fn short_diff(old: &str, new: &str, path: &Path) -> String {
    let shown = path.display().to_string();
    let diff = TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(
            &format!("{shown} (on disk)"),
            &format!("{shown} (would be written)"),
        )
        .to_string();
    let lines: Vec<&str> = diff.lines().collect();
    if lines.len() <= MAX_DIFF_LINES {
        return diff;
    }
    let mut short = lines[..MAX_DIFF_LINES].join("\n");
    short.push_str(&format!(
        "\n... {} more diff lines\n",
        lines.len() - MAX_DIFF_LINES
    ));
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Format;
    use std::fs;

    fn file(format: Format, contents: &str) -> RenderedFile {
        RenderedFile {
            format,
            path: format.path().into(),
            contents: contents.into(),
        }
    }

    fn options(prune: bool, force: bool) -> Options {
        Options {
            prune,
            force,
            wait: Duration::from_secs(1),
        }
    }

    fn write(dir: &Path, files: &[RenderedFile], prune: bool) -> Result<Outcome> {
        write_all(dir, files, &options(prune, false), &mut |_| {})
    }

    fn changes(dir: &Path, files: &[RenderedFile]) -> Vec<Change> {
        check(dir, files, Duration::from_secs(1), &mut |_| {})
            .unwrap()
            .differences
            .iter()
            .map(|d| d.change)
            .collect()
    }

    /// Every name under `dir`, recursively, with its contents (links as their target).
    fn tree(dir: &Path) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(here) = stack.pop() {
            for entry in fs::read_dir(&here).unwrap() {
                let path = entry.unwrap().path();
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                let meta = fs::symlink_metadata(&path).unwrap();
                if meta.is_symlink() {
                    found.push((
                        name,
                        format!("-> {}", fs::read_link(&path).unwrap().display()),
                    ));
                } else if meta.is_dir() {
                    found.push((name, "/".into()));
                    stack.push(path);
                } else {
                    found.push((name, fs::read_to_string(&path).unwrap_or_default()));
                }
            }
        }
        found.sort();
        found
    }

    #[test]
    fn writes_then_reports_unchanged_then_updated() {
        let dir = tempfile::tempdir().unwrap();
        let files = [file(Format::Terraform, "a\n"), file(Format::Esc, "b\n")];
        let first = write(dir.path(), &files, false).unwrap().written;
        assert!(matches!(first[0], Written::Created(_)));
        assert_eq!(
            fs::read_to_string(dir.path().join("esc/environment.yaml")).unwrap(),
            "b\n"
        );
        let second = write(dir.path(), &files, false).unwrap().written;
        assert!(second.iter().all(|w| matches!(w, Written::Unchanged(_))));
        let third = write(dir.path(), &[file(Format::Terraform, "c\n")], false).unwrap();
        assert!(matches!(third.written[0], Written::Updated(_)));
        // The ESC file is stale now: kept, listed, reported by --check.
        assert_eq!(third.stale, [dir.path().join("esc/environment.yaml")]);
        assert_eq!(
            changes(dir.path(), &[file(Format::Terraform, "c\n")]),
            [Change::Stale]
        );
        // --prune removes it and its folder, and the check is clean.
        let pruned = write(dir.path(), &[file(Format::Terraform, "c\n")], true).unwrap();
        assert_eq!(pruned.removed, [dir.path().join("esc/environment.yaml")]);
        assert!(!dir.path().join("esc").exists());
        assert!(changes(dir.path(), &[file(Format::Terraform, "c\n")]).is_empty());
        // Nothing of oidc-gen's bookkeeping is left but the manifest.
        let names: Vec<String> = tree(dir.path()).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, [MANIFEST, "terraform", "terraform/main.tf"]);
    }

    #[test]
    fn files_oidc_gen_did_not_write_are_never_touched() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("esc")).unwrap();
        fs::write(dir.path().join("esc/mine.yaml"), "mine\n").unwrap();
        write(dir.path(), &[file(Format::Terraform, "a\n")], true).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("esc/mine.yaml")).unwrap(),
            "mine\n"
        );
        assert!(changes(dir.path(), &[file(Format::Terraform, "a\n")]).is_empty());
        // A manifest naming files outside the folder, or the user's own, cannot reach them.
        fs::write(
            dir.path().join(MANIFEST),
            format!(
                "../outside\n/etc/passwd\nesc/../x\nesc/mine.yaml\n{}  esc/mine.yaml\n",
                "0".repeat(64)
            ),
        )
        .unwrap();
        let outcome = write(dir.path(), &[file(Format::Terraform, "a\n")], true).unwrap();
        assert!(outcome.removed.is_empty(), "{outcome:?}");
        assert_eq!(outcome.notes.len(), 4, "{:#?}", outcome.notes);
        // A hash that is not the file's does not authorise a deletion.
        assert!(
            outcome.notes[3].contains("edited since"),
            "{:#?}",
            outcome.notes
        );
        // Nor does a line without a hash.
        fs::write(dir.path().join(MANIFEST), "esc/mine.yaml\n").unwrap();
        let outcome = write(dir.path(), &[file(Format::Terraform, "a\n")], true).unwrap();
        assert!(outcome.removed.is_empty(), "{outcome:?}");
        assert!(
            outcome.notes[0].contains("without a hash"),
            "{:#?}",
            outcome.notes
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("esc/mine.yaml")).unwrap(),
            "mine\n"
        );
    }

    #[test]
    fn a_file_at_a_generated_path_is_replaced_only_if_oidc_gen_wrote_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("terraform")).unwrap();
        fs::write(dir.path().join("terraform/main.tf"), "hand-written\n").unwrap();
        let files = [file(Format::Terraform, "a\n"), file(Format::Esc, "b\n")];
        let before = tree(dir.path());
        let error = write(dir.path(), &files, false).unwrap_err();
        assert_eq!(error.exit_code(), 4);
        assert!(error.to_string().contains("terraform/main.tf"), "{error}");
        assert_eq!(tree(dir.path()), before);
        assert_eq!(changes(dir.path(), &files)[0], Change::Unowned);
        // --force replaces it.
        write_all(dir.path(), &files, &options(false, true), &mut |_| {}).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("terraform/main.tf")).unwrap(),
            "a\n"
        );
        // Edited after oidc-gen wrote it: refused again.
        fs::write(dir.path().join("terraform/main.tf"), "a\nedited\n").unwrap();
        let files = [file(Format::Terraform, "c\n")];
        assert_eq!(write(dir.path(), &files, false).unwrap_err().exit_code(), 4);
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_readable_by_others_and_replacements_keep_their_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[file(Format::Pulumi, "x\n")], false).unwrap();
        let path = dir.path().join("pulumi/Pulumi.yaml");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o644);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write(dir.path(), &[file(Format::Pulumi, "y\n")], false).unwrap();
        assert_eq!(mode(&path), 0o640);
    }

    #[test]
    fn a_failure_leaves_the_folder_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[file(Format::Terraform, "old\n")], false).unwrap();
        // A file where the esc folder should be makes the last file impossible to write.
        fs::write(dir.path().join("esc"), "in the way\n").unwrap();
        let before = tree(dir.path());
        let files = [
            file(Format::Terraform, "new\n"),
            file(Format::CloudFormation, "{}\n"),
            file(Format::Esc, "b\n"),
        ];
        let error = write(dir.path(), &files, false).unwrap_err();
        assert_eq!(error.exit_code(), 4);
        assert_eq!(tree(dir.path()), before);
    }

    #[test]
    fn leftovers_of_an_interrupted_run_are_reported_then_removed() {
        let dir = tempfile::tempdir().unwrap();
        let files = [file(Format::Terraform, "a\n")];
        write(dir.path(), &files, false).unwrap();
        fs::write(dir.path().join("terraform/.oidc-gen-tmp-1-1"), "half").unwrap();
        fs::write(dir.path().join(JOURNAL), "# x\n").unwrap();
        assert_eq!(
            changes(dir.path(), &files),
            [Change::Leftover, Change::Leftover]
        );
        let outcome = write(dir.path(), &files, false).unwrap();
        assert!(outcome.notes[0].contains("removed 2"), "{outcome:?}");
        assert!(changes(dir.path(), &files).is_empty());
    }

    #[test]
    fn a_journal_makes_a_killed_runs_files_its_own() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[file(Format::Terraform, "a\n")], false).unwrap();
        // As if a run writing "b" was killed after its rename, before its manifest.
        fs::write(dir.path().join("terraform/main.tf"), "b\n").unwrap();
        let journal = list_text(
            "",
            &[Entry {
                path: "terraform/main.tf".into(),
                sha: Some(sha256(b"b\n")),
            }],
        );
        fs::write(dir.path().join(JOURNAL), journal).unwrap();
        write(dir.path(), &[file(Format::Terraform, "c\n")], false).unwrap();
        assert!(!dir.path().join(JOURNAL).exists());
    }

    #[test]
    fn check_names_missing_and_different_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[file(Format::Terraform, "one\ntwo\n")], false).unwrap();
        let differences = check(
            dir.path(),
            &[
                file(Format::Terraform, "one\nthree\n"),
                file(Format::Esc, "x\n"),
            ],
            Duration::from_secs(1),
            &mut |_| {},
        )
        .unwrap()
        .differences;
        let changes: Vec<Change> = differences.iter().map(|d| d.change).collect();
        // The manifest differs too: it would list the ESC file.
        assert_eq!(changes, [Change::Differs, Change::Missing, Change::Differs]);
        assert!(differences[0].diff.contains("-two") && differences[0].diff.contains("+three"));
    }

    #[test]
    fn a_second_run_waits_then_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let root = Folder::open(dir.path()).unwrap();
        let held = lock(&root, false, Duration::ZERO, &mut |_| {}).unwrap();
        let mut told = Vec::new();
        let started = Instant::now();
        let error = lock(&root, false, Duration::from_millis(200), &mut |pid| {
            told.push(pid)
        })
        .err()
        .unwrap();
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert_eq!(told, [Some(std::process::id())]);
        assert!(
            error
                .to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{error}"
        );
        assert_eq!(error.exit_code(), 4);
        // --check waits for it too.
        assert!(lock(&root, true, Duration::ZERO, &mut |_| {}).is_err());
        drop(held);
        assert!(!dir.path().join(LOCK).exists());
        assert!(
            lock(&root, true, Duration::ZERO, &mut |_| {})
                .unwrap()
                .is_none()
        );
    }
}
