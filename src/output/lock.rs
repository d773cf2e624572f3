//! One run at a time per folder: an exclusive `flock` for a run, a shared one for `--check`.

use std::time::{Duration, Instant};

use super::{LOCK, io_error};
use crate::confined::{Folder, Kind};
use crate::error::{Error, Result};

/// Holds the folder's lock until dropped; a run's lock file is removed then, so a folder at
/// rest holds none.
pub(super) struct Lock<'a> {
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
pub(super) fn lock<'a>(
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

#[cfg(test)]
mod tests {
    use super::*;

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
