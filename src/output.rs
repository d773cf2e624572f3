//! Writing rendered files under the output folder, all or nothing, and `--check`.
//!
//! Every file is first written in full to a temporary file beside its destination; only when all
//! of them are ready are they renamed into place. A failure before that leaves the folder as it
//! was; a failing rename puts back what the earlier renames replaced.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use similar::TextDiff;
use tempfile::NamedTempFile;

use crate::error::{Error, Result};
use crate::render::RenderedFile;

/// At most this many diff lines are shown per differing file.
const MAX_DIFF_LINES: usize = 40;

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

/// Writes `files` under `out`, atomically per file and all-or-nothing across files.
pub fn write_all(out: &Path, files: &[RenderedFile]) -> Result<Vec<Written>> {
    let mut created_dirs = Vec::new();
    let staged = stage(out, files, &mut created_dirs);
    let staged = match staged {
        Ok(staged) => staged,
        Err(e) => {
            remove_empty_dirs(&created_dirs);
            return Err(e);
        }
    };

    let mut done: Vec<(PathBuf, Option<Vec<u8>>)> = Vec::new();
    let mut report = Vec::new();
    for file in staged {
        let Some(temp) = file.temp else {
            report.push(Written::Unchanged(file.path));
            continue;
        };
        if let Err(e) = temp.persist(&file.path) {
            roll_back(&done);
            remove_empty_dirs(&created_dirs);
            return Err(io_error("cannot write", &file.path, e.error));
        }
        report.push(match &file.previous {
            Some(_) => Written::Updated(file.path.clone()),
            None => Written::Created(file.path.clone()),
        });
        done.push((file.path, file.previous));
    }
    Ok(report)
}

struct Staged {
    path: PathBuf,
    previous: Option<Vec<u8>>,
    /// `None` when the file already holds the new contents.
    temp: Option<NamedTempFile>,
}

fn stage(
    out: &Path,
    files: &[RenderedFile],
    created_dirs: &mut Vec<PathBuf>,
) -> Result<Vec<Staged>> {
    let mut staged = Vec::new();
    for file in files {
        let path = out.join(file.path);
        let dir = path.parent().expect("a rendered file is inside a folder");
        create_dirs(dir, created_dirs)?;
        let previous = read_if_exists(&path)?;
        if previous.as_deref() == Some(file.contents.as_bytes()) {
            staged.push(Staged {
                path,
                previous,
                temp: None,
            });
            continue;
        }
        let mut temp =
            NamedTempFile::new_in(dir).map_err(|e| io_error("cannot create a file in", dir, e))?;
        temp.write_all(file.contents.as_bytes())
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| io_error("cannot write", temp.path(), e))?;
        set_permissions(temp.as_file(), &path)
            .map_err(|e| io_error("cannot set permissions of", &path, e))?;
        staged.push(Staged {
            path,
            previous,
            temp: Some(temp),
        });
    }
    Ok(staged)
}

/// Temporary files are private (0600); the result gets the old file's mode, or the usual 0644.
#[cfg(unix)]
fn set_permissions(file: &fs::File, destination: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let permissions = match fs::metadata(destination) {
        Ok(meta) => meta.permissions(),
        Err(_) => fs::Permissions::from_mode(0o644),
    };
    file.set_permissions(permissions)
}

#[cfg(not(unix))]
fn set_permissions(_file: &fs::File, _destination: &Path) -> std::io::Result<()> {
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

/// A file under the output folder that differs from what would be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The file.
    pub path: PathBuf,
    /// A short unified diff from the file on disk to what would be written, or why it is missing.
    pub diff: String,
}

/// Compares `files` with what is under `out`, writing nothing.
pub fn check(out: &Path, files: &[RenderedFile]) -> Result<Vec<Difference>> {
    let mut differences = Vec::new();
    for file in files {
        let path = out.join(file.path);
        let diff = match read_if_exists(&path)? {
            None => "missing: it would be created\n".to_owned(),
            Some(bytes) if bytes == file.contents.as_bytes() => continue,
            Some(bytes) => short_diff(&String::from_utf8_lossy(&bytes), &file.contents, &path),
        };
        differences.push(Difference { path, diff });
    }
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
            path: format.path(),
            contents: contents.into(),
        }
    }

    #[test]
    fn writes_then_reports_unchanged_then_updated() {
        let dir = tempfile::tempdir().unwrap();
        let files = [file(Format::Terraform, "a\n"), file(Format::Esc, "b\n")];
        let first = write_all(dir.path(), &files).unwrap();
        assert!(matches!(first[0], Written::Created(_)));
        assert_eq!(
            fs::read_to_string(dir.path().join("esc/environment.yaml")).unwrap(),
            "b\n"
        );
        let second = write_all(dir.path(), &files).unwrap();
        assert!(second.iter().all(|w| matches!(w, Written::Unchanged(_))));
        let third = write_all(dir.path(), &[file(Format::Terraform, "c\n")]).unwrap();
        assert!(matches!(third[0], Written::Updated(_)));
        assert!(
            check(dir.path(), &[file(Format::Terraform, "c\n")])
                .unwrap()
                .is_empty()
        );
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        write_all(dir.path(), &[file(Format::Pulumi, "x\n")]).unwrap();
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
        let error = write_all(dir.path(), &files).unwrap_err();
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
        write_all(dir.path(), &[file(Format::Terraform, "one\ntwo\n")]).unwrap();
        let differences = check(
            dir.path(),
            &[
                file(Format::Terraform, "one\nthree\n"),
                file(Format::Esc, "x\n"),
            ],
        )
        .unwrap();
        assert_eq!(differences.len(), 2);
        assert!(differences[0].diff.contains("-two") && differences[0].diff.contains("+three"));
        assert!(differences[1].diff.starts_with("missing"));
    }
}
