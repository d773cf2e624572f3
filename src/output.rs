//! Writing rendered files under the output folder, all or nothing, and `--check`.
//!
//! A file that replaces another is first written in full to a temporary file beside it; only when
//! all of those are ready are they renamed into place, and the new files written. A failure before
//! that leaves the folder as it was; a failure after puts back what was replaced and removes what
//! was created, folders included.
//!
//! oidc-gen knows which files it wrote from a manifest it writes beside them, [`MANIFEST`]. A file
//! listed there that this run does not write is *stale*: `--check` reports it, `--prune` removes
//! it, and a plain run keeps it (and keeps it listed). A file oidc-gen did not write is never
//! touched.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use similar::TextDiff;
use tempfile::NamedTempFile;

use crate::error::{Error, Result};
use crate::render::RenderedFile;

/// At most this many diff lines are shown per differing file.
const MAX_DIFF_LINES: usize = 40;

/// The manifest of the files oidc-gen wrote, relative to the output folder.
pub const MANIFEST: &str = ".oidc-gen-files";

const MANIFEST_HEADER: &str = "\
# The files oidc-gen wrote in this folder. oidc-gen --check reports one it would no longer write
# (stale) and --prune removes it; files not listed here are never touched.
";

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
}

/// Writes `files` under `out` with the manifest, atomically per file and all-or-nothing across
/// files; with `prune`, then removes the stale files.
pub fn write_all(out: &Path, files: &[RenderedFile], prune: bool) -> Result<Outcome> {
    let stale = stale(out, files)?;
    let mut listed: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    if !prune {
        listed.extend(stale.iter().map(String::as_str));
    }
    let manifest = manifest_contents(&listed);
    let mut contents: Vec<(PathBuf, &[u8])> = files
        .iter()
        .map(|f| (out.join(&f.path), f.contents.as_bytes()))
        .collect();
    contents.push((out.join(MANIFEST), manifest.as_bytes()));

    let mut created_dirs = Vec::new();
    let staged = match stage(&contents, &mut created_dirs) {
        Ok(staged) => staged,
        Err(e) => {
            remove_empty_dirs(&created_dirs);
            return Err(e);
        }
    };
    let mut done: Vec<(PathBuf, Option<Vec<u8>>)> = Vec::new();
    let mut outcome = Outcome::default();
    for file in staged {
        let written = match file.pending {
            Pending::Unchanged => {
                outcome.written.push(Written::Unchanged(file.path));
                continue;
            }
            Pending::Replace(temp) => temp.persist(&file.path).map(drop).map_err(|e| e.error),
            Pending::Create(contents) => create(&file.path, contents),
        };
        if let Err(e) = written {
            roll_back(&done);
            remove_empty_dirs(&created_dirs);
            return Err(io_error("cannot write", &file.path, e));
        }
        outcome.written.push(match &file.previous {
            Some(_) => Written::Updated(file.path.clone()),
            None => Written::Created(file.path.clone()),
        });
        done.push((file.path, file.previous));
    }
    for relative in stale {
        let path = out.join(&relative);
        if !prune {
            outcome.stale.push(path);
            continue;
        }
        fs::remove_file(&path).map_err(|e| io_error("cannot remove", &path, e))?;
        // Its folder goes too when nothing else is left in it.
        for dir in path.ancestors().skip(1).take_while(|d| *d != out) {
            if fs::remove_dir(dir).is_err() {
                break;
            }
        }
        outcome.removed.push(path);
    }
    Ok(outcome)
}

/// The manifest listing `paths`.
fn manifest_contents(paths: &[&str]) -> String {
    let mut text = MANIFEST_HEADER.to_owned();
    for path in paths {
        text.push_str(path);
        text.push('\n');
    }
    text
}

/// The files the manifest under `out` lists, relative; only plain paths inside the folder.
fn listed(out: &Path) -> Result<Vec<String>> {
    let Some(bytes) = read_if_exists(&out.join(MANIFEST))? else {
        return Ok(Vec::new());
    };
    Ok(String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter(|line| {
            Path::new(line)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)))
        })
        .map(str::to_owned)
        .collect())
}

/// Files the manifest lists that `files` does not hold and that are still there.
fn stale(out: &Path, files: &[RenderedFile]) -> Result<Vec<String>> {
    let generated: std::collections::HashSet<&str> =
        files.iter().map(|f| f.path.as_str()).collect();
    Ok(listed(out)?
        .into_iter()
        .filter(|path| path != MANIFEST && !generated.contains(path.as_str()))
        .filter(|path| out.join(path).is_file())
        .collect())
}

struct Staged<'a> {
    path: PathBuf,
    previous: Option<Vec<u8>>,
    pending: Pending<'a>,
}

/// What is left to do for a file once every replacement is ready.
enum Pending<'a> {
    /// It already holds the new contents.
    Unchanged,
    /// Rename the temporary file over it.
    Replace(NamedTempFile),
    /// It does not exist: write it.
    Create(&'a [u8]),
}

fn stage<'a>(
    files: &[(PathBuf, &'a [u8])],
    created_dirs: &mut Vec<PathBuf>,
) -> Result<Vec<Staged<'a>>> {
    let mut staged = Vec::new();
    let mut ready: Option<&Path> = None;
    for (path, contents) in files {
        let dir = path.parent().expect("a rendered file is inside a folder");
        // Files of one folder come one after another: make the folder once.
        if ready != Some(dir) {
            create_dirs(dir, created_dirs)?;
            ready = Some(dir);
        }
        let path = path.clone();
        // A folder this run created holds nothing yet (its files come one after another).
        let fresh = created_dirs.iter().rev().any(|d| d == dir);
        let previous = if fresh { None } else { read_if_exists(&path)? };
        let pending = match &previous {
            Some(bytes) if bytes == contents => Pending::Unchanged,
            Some(_) => Pending::Replace(
                temporary(&path, contents)
                    .map_err(|e| io_error("cannot write beside", &path, e))?,
            ),
            None => Pending::Create(contents),
        };
        staged.push(Staged {
            path,
            previous,
            pending,
        });
    }
    Ok(staged)
}

/// `contents` in a temporary file beside `path`, with the mode `path` has (0644 if none).
fn temporary(path: &Path, contents: &[u8]) -> std::io::Result<NamedTempFile> {
    let dir = path.parent().expect("a rendered file is inside a folder");
    let mut temp = NamedTempFile::new_in(dir)?;
    temp.write_all(contents)?;
    set_permissions(temp.as_file(), Some(path))?;
    Ok(temp)
}

/// Writes a file that did not exist; a partly written one is removed. When another process has
/// made it in the meantime, it is replaced whole, through a temporary file, like any other.
fn create(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let opened = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path);
    let mut file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let temp = temporary(path, contents)?;
            return temp.persist(path).map(drop).map_err(|e| e.error);
        }
        Err(e) => return Err(e),
    };
    let written = file
        .write_all(contents)
        .and_then(|()| set_permissions(&file, None));
    if written.is_err() {
        let _ = fs::remove_file(path);
    }
    written
}

/// Temporary files are private (0600); a replacement gets the old file's mode, a new file the
/// usual 0644 (`None`).
#[cfg(unix)]
fn set_permissions(file: &fs::File, replaced: Option<&Path>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let permissions = match replaced.map(fs::metadata) {
        Some(Ok(meta)) => meta.permissions(),
        _ => fs::Permissions::from_mode(0o644),
    };
    file.set_permissions(permissions)
}

#[cfg(not(unix))]
fn set_permissions(_file: &fs::File, _replaced: Option<&Path>) -> std::io::Result<()> {
    Ok(())
}

fn create_dirs(dir: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .collect();
    for d in missing.into_iter().rev() {
        match fs::create_dir(d) {
            Ok(()) => created.push(d.to_path_buf()),
            // Another run made it in the meantime: it is not ours to remove.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => return Err(io_error("cannot create the folder", d, e)),
        }
    }
    if !dir.is_dir() {
        return Err(io_error(
            "cannot write into",
            dir,
            std::io::Error::new(std::io::ErrorKind::NotADirectory, "it is not a folder"),
        ));
    }
    Ok(())
}

fn remove_empty_dirs(created: &[PathBuf]) {
    for dir in created.iter().rev() {
        let _ = fs::remove_dir(dir);
    }
}

fn roll_back(done: &[(PathBuf, Option<Vec<u8>>)]) {
    for (path, previous) in done.iter().rev() {
        let _ = match previous {
            Some(bytes) => fs::write(path, bytes),
            None => fs::remove_file(path),
        };
    }
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("cannot read", path, e)),
    }
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// How a file under the output folder differs from what would be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// It would be created.
    Missing,
    /// It holds other contents.
    Differs,
    /// An earlier run wrote it, and this one would not.
    Stale,
}

impl Change {
    /// The word `--check` prints before the file's name.
    pub fn label(self) -> &'static str {
        match self {
            Change::Missing => "missing",
            Change::Differs => "differs",
            Change::Stale => "stale",
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
    /// written; empty otherwise.
    pub diff: String,
}

/// Compares `files` and their manifest with what is under `out`, writing nothing.
pub fn check(out: &Path, files: &[RenderedFile]) -> Result<Vec<Difference>> {
    let stale = stale(out, files)?;
    let listed: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let manifest = manifest_contents(&listed);
    let expected = files
        .iter()
        .map(|f| (f.path.as_str(), f.contents.as_str()))
        .chain([(MANIFEST, manifest.as_str())]);
    let mut differences = Vec::new();
    for (relative, contents) in expected {
        let path = out.join(relative);
        let (change, diff) = match read_if_exists(&path)? {
            None => (Change::Missing, String::new()),
            Some(bytes) if bytes == contents.as_bytes() => continue,
            Some(bytes) => (
                Change::Differs,
                short_diff(&String::from_utf8_lossy(&bytes), contents, &path),
            ),
        };
        differences.push(Difference { change, path, diff });
    }
    differences.extend(stale.into_iter().map(|relative| Difference {
        change: Change::Stale,
        path: out.join(relative),
        diff: String::new(),
    }));
    Ok(differences)
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

    fn file(format: Format, contents: &str) -> RenderedFile {
        RenderedFile {
            format,
            path: format.path().into(),
            contents: contents.into(),
        }
    }

    #[test]
    fn writes_then_reports_unchanged_then_updated() {
        let dir = tempfile::tempdir().unwrap();
        let files = [file(Format::Terraform, "a\n"), file(Format::Esc, "b\n")];
        let first = write_all(dir.path(), &files, false).unwrap().written;
        assert!(matches!(first[0], Written::Created(_)));
        assert_eq!(
            fs::read_to_string(dir.path().join("esc/environment.yaml")).unwrap(),
            "b\n"
        );
        let second = write_all(dir.path(), &files, false).unwrap().written;
        assert!(second.iter().all(|w| matches!(w, Written::Unchanged(_))));
        let third = write_all(dir.path(), &[file(Format::Terraform, "c\n")], false).unwrap();
        assert!(matches!(third.written[0], Written::Updated(_)));
        // The ESC file is stale now: kept, listed, reported by --check.
        assert_eq!(third.stale, [dir.path().join("esc/environment.yaml")]);
        let differences = check(dir.path(), &[file(Format::Terraform, "c\n")]).unwrap();
        let changes: Vec<Change> = differences.iter().map(|d| d.change).collect();
        assert_eq!(changes, [Change::Differs, Change::Stale], "{differences:?}");
        // --prune removes it and its folder, and the check is clean.
        let pruned = write_all(dir.path(), &[file(Format::Terraform, "c\n")], true).unwrap();
        assert_eq!(pruned.removed, [dir.path().join("esc/environment.yaml")]);
        assert!(!dir.path().join("esc").exists());
        assert!(
            check(dir.path(), &[file(Format::Terraform, "c\n")])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn files_oidc_gen_did_not_write_are_never_touched() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("esc")).unwrap();
        fs::write(dir.path().join("esc/mine.yaml"), "mine\n").unwrap();
        write_all(dir.path(), &[file(Format::Terraform, "a\n")], true).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("esc/mine.yaml")).unwrap(),
            "mine\n"
        );
        assert!(
            check(dir.path(), &[file(Format::Terraform, "a\n")])
                .unwrap()
                .is_empty()
        );
        // A manifest naming files outside the folder cannot reach them.
        fs::write(
            dir.path().join(MANIFEST),
            "../outside\n/etc/passwd\nesc/../x\n",
        )
        .unwrap();
        assert!(listed(dir.path()).unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        write_all(dir.path(), &[file(Format::Pulumi, "x\n")], false).unwrap();
        let mode = fs::metadata(dir.path().join("pulumi/Pulumi.yaml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    #[test]
    fn a_failure_leaves_the_folder_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("terraform")).unwrap();
        fs::write(dir.path().join("terraform/main.tf"), "old\n").unwrap();
        // A file where the esc folder should be makes the second file impossible to stage.
        fs::write(dir.path().join("esc"), "in the way\n").unwrap();
        let files = [
            file(Format::Terraform, "new\n"),
            file(Format::CloudFormation, "{}\n"),
            file(Format::Esc, "b\n"),
        ];
        let error = write_all(dir.path(), &files, false).unwrap_err();
        assert_eq!(error.exit_code(), 4);
        assert_eq!(
            fs::read_to_string(dir.path().join("terraform/main.tf")).unwrap(),
            "old\n"
        );
        assert!(!dir.path().join("cloudformation").exists());
        let names: Vec<_> = fs::read_dir(dir.path().join("terraform"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["main.tf"]);
    }

    #[test]
    fn check_names_missing_and_different_files() {
        let dir = tempfile::tempdir().unwrap();
        write_all(dir.path(), &[file(Format::Terraform, "one\ntwo\n")], false).unwrap();
        let differences = check(
            dir.path(),
            &[
                file(Format::Terraform, "one\nthree\n"),
                file(Format::Esc, "x\n"),
            ],
        )
        .unwrap();
        let changes: Vec<Change> = differences.iter().map(|d| d.change).collect();
        // The manifest differs too: it would list the ESC file.
        assert_eq!(changes, [Change::Differs, Change::Missing, Change::Differs]);
        assert!(differences[0].diff.contains("-two") && differences[0].diff.contains("+three"));
    }
}
