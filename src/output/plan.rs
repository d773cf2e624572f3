//! The changes of one run, made so that each can be undone by a rename: a journal, temporary
//! files beside their files, renames, the manifest last.

use super::manifest::{Entry, list_text};
use super::survey::split;
use super::{JOURNAL, MANIFEST, blocked, io_error};
use crate::confined::{self, Folder};
use crate::error::Result;

/// Names of temporary files begin with this.
pub(super) const TEMPORARY: &str = ".oidc-gen-tmp-";
/// Names of replaced files kept until the manifest is in place begin with this.
pub(super) const KEPT: &str = ".oidc-gen-old-";

/// What a run does to one file.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    /// Create it.
    Create,
    /// Replace it, giving the new file this mode.
    Replace { mode: u32 },
    /// Remove it (`--prune`).
    Remove,
}

/// The changes of one run, made so that each can be undone by a rename.
pub(super) struct Plan<'a> {
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
    /// Adds the change of one file, `path` relative to the folder.
    pub(super) fn add(&mut self, path: &str, contents: &'a [u8], step: Step) {
        self.steps.push((path.to_owned(), contents, step));
    }

    /// Whether no file changes.
    pub(super) fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub(super) fn new(root: &'a Folder) -> Self {
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
    pub(super) fn run(mut self, manifest: &str, entries: &[Entry]) -> Result<()> {
        let journal = list_text(
            "# The files an oidc-gen run is writing; removed when it is done.\n",
            entries,
        );
        let result = self
            .replace(JOURNAL, journal.as_bytes())
            .and_then(|()| self.stage())
            .and_then(|()| self.commit())
            .and_then(|()| self.replace(MANIFEST, manifest.as_bytes()));
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
            // Opened without following a link, like every step below the folder.
            here = here
                .child(name)
                .map_err(|e| io_error("cannot open", &path, e))?;
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

    /// Replaces (or creates) the bookkeeping file `name` of the folder through a temporary file.
    fn replace(&mut self, name: &str, contents: &[u8]) -> Result<()> {
        let root = self.root;
        let temp = self.temporary(root, contents, 0o644)?;
        root.rename(&temp, name).map_err(|e| {
            let _ = root.remove(&temp);
            io_error("cannot write", &root.path().join(name), e)
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
                    // Without hard links (some file systems), the old file is kept by renaming
                    // it: then, for a moment, the name is free.
                    let linked = folder.link(name, &kept).is_ok();
                    if !linked {
                        folder.rename(name, &kept).map_err(fail)?;
                    }
                    let temp = self.spare[index].replace(kept.clone()).expect("staged");
                    if let Err(e) = folder.rename(&temp, name) {
                        let _ = folder.remove(&temp);
                        let _ = match linked {
                            true => folder.remove(&kept),
                            false => folder.rename(&kept, name),
                        };
                        // This step is undone; the ones before are undone by `undo`.
                        self.spare[index] = None;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name in `dir` (one level) with its contents.
    fn names(dir: &std::path::Path) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let contents = std::fs::read_to_string(e.path()).unwrap_or_default();
                (e.file_name().to_string_lossy().into_owned(), contents)
            })
            .collect();
        found.sort();
        found
    }

    #[test]
    fn a_failure_while_renaming_puts_everything_back_by_renaming() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "old a\n").unwrap();
        std::fs::write(dir.path().join("stale"), "stale\n").unwrap();
        std::fs::write(dir.path().join(MANIFEST), "old manifest\n").unwrap();
        let root = Folder::open(dir.path()).unwrap();
        let mut plan = Plan::new(&root);
        plan.add("a", b"new a\n", Step::Replace { mode: 0o644 });
        plan.add("stale", &[], Step::Remove);
        plan.add("b", b"new b\n", Step::Create);
        plan.add("c", b"new c\n", Step::Create);
        plan.stage().unwrap();
        // Another program makes `c` after oidc-gen looked: creating it must not replace it, and
        // the failure undoes the replacement, the removal and the creation before it.
        std::fs::write(dir.path().join("c"), "someone else's\n").unwrap();
        let mut before = names(dir.path());
        before.retain(|(name, _)| !name.starts_with(TEMPORARY));
        let error = plan.commit().unwrap_err();
        assert!(error.to_string().contains("c: File exists"), "{error}");
        plan.undo();
        assert_eq!(names(dir.path()), before);
        assert_eq!(before.len(), 4, "{before:?}");
    }
}
