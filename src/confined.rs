//! A folder, and what is below it, reached without following a symbolic link below it.
//!
//! Every step below the folder is made relative to an open folder (`openat`, `renameat`,
//! `unlinkat`) with links refused (`O_NOFOLLOW`), so a link planted anywhere below, or swapped in
//! while oidc-gen runs, is never followed out of the folder.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags};

/// What a name in a folder is, not following a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Nothing by that name.
    Missing,
    /// A regular file.
    File {
        /// Its size in bytes.
        size: u64,
        /// Its permission bits.
        mode: u32,
    },
    /// A folder.
    Folder,
    /// A symbolic link.
    Link,
    /// A FIFO, socket or device.
    Other,
}

/// An open folder and its path (for messages).
#[derive(Debug)]
pub struct Folder {
    fd: OwnedFd,
    path: PathBuf,
}

impl Folder {
    /// Opens `path`, following links in it: the user named it.
    pub fn open(path: &Path) -> std::io::Result<Folder> {
        let fd = rustix::fs::open(path, dir_flags() - OFlags::NOFOLLOW, Mode::empty())?;
        Ok(Folder {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// The folder's path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What `name` is, without following it.
    pub fn kind(&self, name: &str) -> std::io::Result<Kind> {
        let stat = match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => stat,
            Err(rustix::io::Errno::NOENT) => return Ok(Kind::Missing),
            Err(e) => return Err(e.into()),
        };
        Ok(match FileType::from_raw_mode(stat.st_mode) {
            FileType::RegularFile => Kind::File {
                size: stat.st_size as u64,
                mode: stat.st_mode & 0o7777,
            },
            FileType::Directory => Kind::Folder,
            FileType::Symlink => Kind::Link,
            _ => Kind::Other,
        })
    }

    /// The folder `name` inside this one; an error if it is a link or not a folder.
    pub fn child(&self, name: &str) -> std::io::Result<Folder> {
        let fd = rustix::fs::openat(&self.fd, name, dir_flags(), Mode::empty())?;
        Ok(Folder {
            fd,
            path: self.path.join(name),
        })
    }

    /// Makes the folder `name`; false if something by that name was there already.
    pub fn make_child(&self, name: &str) -> std::io::Result<bool> {
        match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o755)) {
            Ok(()) => Ok(true),
            Err(rustix::io::Errno::EXIST) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Opens the regular file `name` for reading; a link or a special file is an error.
    pub fn open_file(&self, name: &str) -> std::io::Result<std::fs::File> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let file = std::fs::File::from(rustix::fs::openat(&self.fd, name, flags, Mode::empty())?);
        if !file.metadata()?.is_file() {
            return Err(std::io::Error::other("it is not a regular file"));
        }
        Ok(file)
    }

    /// The contents of the regular file `name`, if it has at most `limit` bytes (`None` if
    /// larger).
    pub fn read(&self, name: &str, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
        let mut bytes = Vec::new();
        self.open_file(name)?
            .take(limit + 1)
            .read_to_end(&mut bytes)?;
        Ok((bytes.len() as u64 <= limit).then_some(bytes))
    }

    /// Writes `contents` to a new file named `name` with `mode`; an error if `name` exists. A
    /// partly written file is removed.
    pub fn create(&self, name: &str, contents: &[u8], mode: u32) -> std::io::Result<()> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(0o600))?;
        let mut file = std::fs::File::from(fd);
        let written = file.write_all(contents).and_then(|()| {
            rustix::fs::fchmod(&file, Mode::from_raw_mode(mode)).map_err(Into::into)
        });
        if written.is_err() {
            let _ = self.remove(name);
        }
        written
    }

    /// Opens (creating it if needed) the regular file `name` for reading and writing.
    pub fn open_rw(&self, name: &str) -> std::io::Result<std::fs::File> {
        let flags = OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(0o644))?;
        Ok(std::fs::File::from(fd))
    }

    /// Renames `from` to `to`, both in this folder, replacing `to` (a link there is replaced,
    /// not followed).
    pub fn rename(&self, from: &str, to: &str) -> std::io::Result<()> {
        Ok(rustix::fs::renameat(&self.fd, from, &self.fd, to)?)
    }

    /// Renames `from` to `to`; an error if `to` exists.
    pub fn rename_new(&self, from: &str, to: &str) -> std::io::Result<()> {
        match rustix::fs::renameat_with(&self.fd, from, &self.fd, to, RenameFlags::NOREPLACE) {
            // A file system without RENAME_NOREPLACE: a hard link refuses to replace too.
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {
                self.link(from, to)?;
                self.remove(from)
            }
            result => Ok(result?),
        }
    }

    /// Gives the file `from` the second name `to`.
    pub fn link(&self, from: &str, to: &str) -> std::io::Result<()> {
        Ok(rustix::fs::linkat(
            &self.fd,
            from,
            &self.fd,
            to,
            AtFlags::empty(),
        )?)
    }

    /// Removes the name `name` (a link itself, never its target).
    pub fn remove(&self, name: &str) -> std::io::Result<()> {
        Ok(rustix::fs::unlinkat(&self.fd, name, AtFlags::empty())?)
    }

    /// Removes the folder `name` if it is empty.
    pub fn remove_folder(&self, name: &str) -> std::io::Result<()> {
        Ok(rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR)?)
    }

    /// The names in this folder.
    pub fn names(&self) -> std::io::Result<Vec<String>> {
        let fd = rustix::fs::openat(&self.fd, ".", dir_flags(), Mode::empty())?;
        let mut names = Vec::new();
        for entry in rustix::fs::Dir::new(fd)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name != "." && name != ".." {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// Whether `file` is the file named `name` here (not one that replaced or removed it).
    pub fn is_named(&self, file: &std::fs::File, name: &str) -> bool {
        let (Ok(open), Ok(named)) = (
            rustix::fs::fstat(file),
            rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW),
        ) else {
            return false;
        };
        (open.st_dev, open.st_ino) == (named.st_dev, named.st_ino)
    }

    /// Takes `flock`'s lock on the open file, without waiting; false if another holds it.
    pub fn try_lock(file: &std::fs::File, shared: bool) -> std::io::Result<bool> {
        use rustix::fs::FlockOperation;
        let operation = if shared {
            FlockOperation::NonBlockingLockShared
        } else {
            FlockOperation::NonBlockingLockExclusive
        };
        match rustix::fs::flock(file.as_fd(), operation) {
            Ok(()) => Ok(true),
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// Walks from `root` down the folders of `relative` (a path of plain names), one name at a time,
/// following no link. `Ok(None)` when a folder is missing; an error naming the first link or
/// non-folder on the way.
pub fn walk(root: &Folder, folders: &[&str]) -> Result<Option<Folder>, Blocked> {
    let mut here: Option<Folder> = None;
    for name in folders {
        let current = here.as_ref().unwrap_or(root);
        match current
            .kind(name)
            .map_err(|e| Blocked::io(current, name, e))?
        {
            Kind::Missing => return Ok(None),
            Kind::Folder => {}
            kind => {
                return Err(Blocked::Kind {
                    path: current.path().join(name),
                    kind,
                });
            }
        }
        here = Some(
            current
                .child(name)
                .map_err(|e| Blocked::io(current, name, e))?,
        );
    }
    Ok(Some(here.unwrap_or(Folder {
        fd: rustix::io::dup(&root.fd).expect("an open folder can be duplicated"),
        path: root.path.clone(),
    })))
}

/// Why a path below the folder cannot be reached.
#[derive(Debug)]
pub enum Blocked {
    /// A link, file or special file stands where a folder should be.
    Kind {
        /// The path.
        path: PathBuf,
        /// What it is.
        kind: Kind,
    },
    /// The operating system refused.
    Io {
        /// The path.
        path: PathBuf,
        /// Its error.
        source: std::io::Error,
    },
}

impl Blocked {
    fn io(folder: &Folder, name: &str, source: std::io::Error) -> Self {
        Blocked::Io {
            path: folder.path().join(name),
            source,
        }
    }
}

/// The plain names of a relative path, or `None` when it is absolute, empty, or holds `.`, `..`
/// or anything else that is not a name.
pub fn names(relative: &str) -> Option<Vec<&str>> {
    let path = Path::new(relative);
    let names: Option<Vec<&str>> = path
        .components()
        .map(|c| match c {
            std::path::Component::Normal(name) => name.to_str(),
            _ => None,
        })
        .collect();
    // `a/./b` has no `.` component once parsed: compare with the text to refuse it too.
    names.filter(|n| !n.is_empty() && n.join("/") == relative)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_have_names() {
        assert_eq!(names("a/b.tf"), Some(vec!["a", "b.tf"]));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/./b",
            "a//b",
            "./a",
            "a/",
        ] {
            assert_eq!(names(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_link_below_the_folder_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("up")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("s")).unwrap();
        let root = Folder::open(dir.path()).unwrap();
        assert!(matches!(
            walk(&root, &["up"]),
            Err(Blocked::Kind {
                kind: Kind::Link,
                ..
            })
        ));
        assert_eq!(root.kind("s").unwrap(), Kind::Link);
        assert!(root.open_file("s").is_err());
        assert!(root.child("up").is_err());
        // The folder named by the user may itself be a link.
        let linked = dir.path().join("linked");
        std::os::unix::fs::symlink(outside.path(), &linked).unwrap();
        assert_eq!(
            Folder::open(&linked).unwrap().kind("secret").unwrap(),
            Kind::File {
                size: 1,
                mode: 0o644
            }
        );
    }
}
