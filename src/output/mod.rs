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

use std::path::{Path, PathBuf};
use std::time::Duration;

use similar::TextDiff;

use crate::confined::{self, Blocked, Folder, Kind};
use crate::error::{Error, Result};
use crate::render::RenderedFile;

mod lock;
mod manifest;
mod plan;
mod survey;

use lock::lock;
use manifest::{MANIFEST_HEADER, Sha, list_text, sha256};
use plan::{Plan, Step};
use survey::{Found, LARGEST_FILE, Listed, generated, manifest_entries, split, survey};

/// At most this many diff lines are shown per differing file.
const MAX_DIFF_LINES: usize = 40;

/// The manifest of the files oidc-gen wrote, relative to the output folder.
pub const MANIFEST: &str = ".oidc-gen-files";
/// The hashes a run is about to write, present only while it writes them.
pub const JOURNAL: &str = ".oidc-gen-files.pending";
/// The file whose `flock` makes runs on one folder take turns.
pub const LOCK: &str = ".oidc-gen.lock";

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

/// The error for a generated path that cannot be reached without following a link.
pub(super) fn blocked(blocked: Blocked) -> Error {
    match blocked {
        Blocked::Kind { path, kind } => Error::Unsafe {
            path,
            problem: blocked_problem(kind),
        },
        Blocked::Io { path, source } => io_error("cannot open", &path, source),
    }
}

/// Why a generated path cannot pass through something of `kind` where a folder should be.
pub(super) fn blocked_problem(kind: Kind) -> String {
    match kind {
        Kind::Link => {
            "a generated path passes through this symbolic link, which oidc-gen does not \
                       follow below --out; remove it, or give --out the folder it points to"
                .into()
        }
        _ => "a generated path passes through this, which is not a folder; move it away".into(),
    }
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

/// [`write_all`] once the folder exists.
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
    if let Some(Found::Blocked { path, problem }) = survey
        .found
        .iter()
        .find(|found| matches!(found, Found::Blocked { .. }))
    {
        return Err(Error::Unsafe {
            path: path.clone(),
            problem: problem.clone(),
        });
    }
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
            Found::Blocked { .. } => unreachable!("refused above"),
        };
        plan.add(&file.path, file.contents.as_bytes(), step);
        outcome.written.push(match step {
            Step::Create => Written::Created(path),
            _ => Written::Updated(path),
        });
    }
    for (entry, state) in &survey.listed {
        if let Listed::Stale = state {
            let path = out.join(&entry.path);
            if options.prune {
                plan.add(&entry.path, &[], Step::Remove);
                outcome.removed.push(path);
            } else {
                outcome.stale.push(path);
            }
        }
    }
    let old_manifest = survey.manifest.as_deref();
    let manifest_path = out.join(MANIFEST);
    if old_manifest == Some(manifest.as_bytes()) {
        outcome.written.push(Written::Unchanged(manifest_path));
    } else {
        outcome.written.push(match old_manifest {
            Some(_) => Written::Updated(manifest_path),
            None => Written::Created(manifest_path),
        });
    }
    if plan.is_empty() && old_manifest == Some(manifest.as_bytes()) {
        return Ok(outcome);
    }
    plan.run(&manifest, &entries)?;
    Ok(outcome)
}

/// An I/O error with what was being done, to which path.
pub(super) fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> Error {
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
    let survey = survey(&root, files, &wanted, &generated(files))?;
    let mut differences = Vec::new();
    for (file, found) in files.iter().zip(&survey.found) {
        let path = out.join(&file.path);
        // The file as it is, for the diff; a link or anything over the size cap is not read.
        let on_disk = || {
            let (dirs, name) = split(&file.path);
            confined::walk(&root, &dirs)
                .ok()
                .flatten()
                .and_then(|f| f.read(name, LARGEST_FILE).ok().flatten())
                .map(|bytes| short_diff(&String::from_utf8_lossy(&bytes), &file.contents, &path))
                .unwrap_or_default()
        };
        let (change, diff) = match found {
            Found::Same => continue,
            Found::Missing => (Change::Missing, String::new()),
            Found::Ours { .. } => (Change::Differs, on_disk()),
            Found::Foreign { why, .. } => (
                Change::Unowned,
                format!(
                    "  {why}; a run refuses to replace it without --force\n{}",
                    on_disk()
                ),
            ),
            Found::Blocked { problem, .. } => (
                Change::Unowned,
                format!("  {problem}; a run refuses to write it\n"),
            ),
        };
        differences.push(Difference { change, path, diff });
    }
    let entries = manifest_entries(files, &wanted, &survey, false);
    let manifest = list_text(MANIFEST_HEADER, &entries);
    let manifest_path = out.join(MANIFEST);
    match (&survey.manifest, root.kind(MANIFEST)) {
        (Some(bytes), _) => {
            if bytes != manifest.as_bytes() {
                differences.push(Difference {
                    change: Change::Differs,
                    diff: short_diff(&String::from_utf8_lossy(bytes), &manifest, &manifest_path),
                    path: manifest_path,
                });
            }
        }
        (None, Ok(Kind::Missing)) => differences.push(Difference {
            change: Change::Missing,
            path: manifest_path,
            diff: String::new(),
        }),
        (None, _) => differences.push(Difference {
            change: Change::Unowned,
            path: manifest_path,
            diff: "  it is not a regular file oidc-gen can read; it was not read\n".into(),
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

/// A unified diff from `old` to `new`, cut to [`MAX_DIFF_LINES`] lines.
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
            &[manifest::Entry {
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
}
