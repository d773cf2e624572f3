//! Module calls: where a called module's code is, so that its roles are read with the call's
//! arguments as its variables.
//!
//! In order: the folder `terraform init` installed it to (`.terraform/modules/modules.json`, as
//! tflint reads it), a local `source` (`./`, `../`), or a model of a widely used OIDC role module
//! kept in `models/` (what its trust policy is, from its inputs). A module none of these gives is
//! unknown: a call whose arguments look like trust makes an unproven role.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use serde_json::Value;

use super::{Source, parse};
use crate::bounded;

/// How deep module calls are followed.
pub const MAX_DEPTH: usize = 8;
/// The most module instances (calls, with each element of their `count` or `for_each`) a root
/// module's tree may evaluate: a module that calls one that calls one ... a hundred times each
/// would otherwise ask for billions.
pub const MAX_INSTANCES: usize = 2_000;

/// Models of registry modules: (the module's address after the registry host, its model).
const MODELS: [(&str, &str); 3] = [
    (
        "terraform-aws-modules/iam/aws//modules/iam-github-oidc-role",
        include_str!("models/iam-github-oidc-role.tf"),
    ),
    (
        "terraform-aws-modules/iam/aws//modules/iam-role",
        include_str!("models/iam-role.tf"),
    ),
    (
        "unfunco/oidc-github/aws",
        include_str!("models/oidc-github.tf"),
    ),
];

/// Words in a module's argument names that say its inputs build a trust policy.
const TRUST_WORDS: [&str; 7] = [
    "subject",
    "oidc",
    "trust",
    "assume_role",
    "federated",
    "repositories",
    "audience",
];

/// Where a called module's code came from.
pub enum Found {
    /// Files of the repository: a local source, or a module `terraform init` installed (whose
    /// roles are placed at the call: its files are not the repository's own).
    Folder(PathBuf, Rc<Vec<Source>>, bool),
    /// A model of a registry module: roles are placed at the call.
    Model(Rc<Vec<Source>>),
    /// Not found, and why.
    Unknown(String),
}

/// Finds and parses modules once each, and keeps what could not be read.
#[derive(Default)]
pub struct Loader {
    /// The root module's folder (none for standard input).
    pub root: Option<PathBuf>,
    /// `modules.json`: each call's key (`a`, `a.b`) and folder, when `terraform init` has run.
    installed: Option<HashMap<String, PathBuf>>,
    cache: RefCell<HashMap<PathBuf, Rc<Vec<Source>>>>,
    models: RefCell<HashMap<&'static str, Rc<Vec<Source>>>>,
    /// Files that could not be read: (path, reason).
    pub refused: RefCell<Vec<(PathBuf, String)>>,
    /// The folders of the local modules called, as [`std::fs::canonicalize`] names them.
    pub called: RefCell<std::collections::BTreeSet<PathBuf>>,
    /// The folder local modules must be inside (canonical): the repository the root module is
    /// in (the nearest folder above it with `.git`), else the working folder if the root module is
    /// in it, else the root module's folder.
    confine: Option<PathBuf>,
    /// What evaluation may still build, in bytes, over the whole tree of modules.
    pub budget: std::cell::Cell<usize>,
    /// Module instances evaluated so far.
    pub instances: std::cell::Cell<usize>,
    /// Whether a call past [`MAX_DEPTH`] was met (and said).
    pub too_deep: std::cell::Cell<bool>,
}

impl Loader {
    pub fn new(root: Option<PathBuf>) -> Loader {
        let installed = root.as_ref().and_then(|root| {
            let manifest = root.join(".terraform/modules/modules.json");
            let text = bounded::read_text_unlinked(&manifest, 4 << 20).ok()?;
            let document = bounded::parse_json(&text).ok()?;
            let modules = document.get("Modules")?.as_array()?;
            Some(
                modules
                    .iter()
                    .filter_map(|m| {
                        let key = m.get("Key")?.as_str()?;
                        let dir = m.get("Dir")?.as_str()?;
                        Some((key.to_owned(), PathBuf::from(dir)))
                    })
                    .collect(),
            )
        });
        let confine = root
            .as_ref()
            .and_then(|root| std::fs::canonicalize(root).ok())
            .and_then(|root| {
                root.ancestors()
                    .find(|folder| std::fs::symlink_metadata(folder.join(".git")).is_ok())
                    .map(Path::to_path_buf)
            })
            .or_else(|| {
                // No repository: the working folder when the module is in it, else the module's
                // own folder.
                let root = root.as_ref().and_then(|r| std::fs::canonicalize(r).ok())?;
                let cwd = std::env::current_dir()
                    .ok()
                    .and_then(|d| std::fs::canonicalize(d).ok());
                Some(cwd.filter(|cwd| root.starts_with(cwd)).unwrap_or(root))
            });
        Loader {
            root,
            installed,
            confine,
            budget: std::cell::Cell::new(super::EVALUATION_BYTES),
            ..Loader::default()
        }
    }

    /// The code of the module called `key` (`a.b` for a call inside `a`) with `source`, from the
    /// module in `folder`.
    pub fn find(&self, key: &str, source: &str, folder: Option<&Path>) -> Found {
        if let (Some(root), Some(dir)) =
            (&self.root, self.installed.as_ref().and_then(|m| m.get(key)))
        {
            // `Dir` is relative to the root module; never outside it.
            if let Some(dir) = inside(root, dir) {
                let local = source.starts_with("./") || source.starts_with("../");
                return match self.folder(dir) {
                    Found::Folder(folder, sources, _) => Found::Folder(folder, sources, !local),
                    other => other,
                };
            }
        }
        if source.starts_with("./") || source.starts_with("../") {
            return match folder {
                Some(folder) => self.folder(normalized(&folder.join(source))),
                None => Found::Unknown(format!(
                    "the module's source {} is a folder, which standard input has none of",
                    crate::shown::value(source)
                )),
            };
        }
        let address = registry_address(source);
        if let Some((name, text)) = MODELS.iter().find(|(name, _)| address == *name) {
            let model = self
                .models
                .borrow_mut()
                .entry(name)
                .or_insert_with(|| {
                    Rc::new(vec![parse(Path::new(name), text).expect("a model parses")])
                })
                .clone();
            return Found::Model(model);
        }
        Found::Unknown(format!(
            "the module {} is not installed (terraform init) and lint knows no model of it",
            crate::shown::value(source)
        ))
    }

    /// The `.tf` files of a module folder, parsed once.
    fn folder(&self, folder: PathBuf) -> Found {
        if let Some(sources) = self.cache.borrow().get(&folder) {
            return Found::Folder(folder.clone(), sources.clone(), false);
        }
        let canonical = std::fs::canonicalize(&folder).ok();
        let inside = match (&canonical, &self.confine) {
            (Some(folder), Some(confine)) => folder.starts_with(confine),
            _ => false,
        };
        if !inside {
            return Found::Unknown(format!(
                "the module's folder {} is outside the repository lint reads (or cannot be found), and lint \
                 reads no further",
                crate::shown::path(&folder)
            ));
        }
        match std::fs::symlink_metadata(&folder) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Found::Unknown(format!(
                    "the module's folder {} is a symbolic link or not a folder, which lint does not follow",
                    crate::shown::path(&folder)
                ));
            }
            Err(e) => {
                return Found::Unknown(format!(
                    "the module's folder {} cannot be read: {e}",
                    crate::shown::path(&folder)
                ));
            }
        }
        if let Some(canonical) = canonical {
            self.called.borrow_mut().insert(canonical);
        }
        let (sources, refused) = super::sources(&folder);
        self.refused.borrow_mut().extend(refused);
        let sources = Rc::new(sources);
        self.cache
            .borrow_mut()
            .insert(folder.clone(), sources.clone());
        Found::Folder(folder, sources, false)
    }
}

/// Whether a call looks like it builds a trust policy: an argument named like trust, a policy in
/// its arguments, or a source named for an OIDC role. A module that makes a provider makes no role.
pub fn looks_like_trust(source: &str, names: &[&str], values: &[Value]) -> bool {
    let source = source.to_ascii_lowercase();
    let last = source
        .split('?')
        .next()
        .unwrap_or_default()
        .rsplit('/')
        .find(|part| !part.is_empty())
        .unwrap_or_default();
    if last.contains("provider") && !last.contains("role") {
        return false;
    }
    (source.contains("oidc") && !last.contains("provider"))
        || names
            .iter()
            .any(|name| TRUST_WORDS.iter().any(|word| name.contains(word)))
        || values
            .iter()
            .any(|v| v.to_string().contains("AssumeRoleWithWebIdentity"))
}

/// A registry source without its host and version: `terraform-aws-modules/iam/aws//modules/x`;
/// the same module from GitHub (`git::https://github.com/terraform-aws-modules/terraform-aws-iam.git//modules/x?ref=...`)
/// is given the registry's address.
fn registry_address(source: &str) -> String {
    let source = source.split('?').next().unwrap_or(source);
    let source = source
        .trim_start_matches("registry.terraform.io/")
        .trim_start_matches("git::")
        .trim_start_matches("https://")
        .trim_start_matches("github.com/");
    match source.split_once("//") {
        Some((repository, path)) => {
            let repository = repository.trim_end_matches(".git");
            let repository = match repository.strip_prefix("terraform-aws-modules/terraform-aws-") {
                Some(name) => format!("terraform-aws-modules/{name}/aws"),
                None => repository.to_owned(),
            };
            format!("{repository}//{}", path.trim_end_matches('/'))
        }
        None => source.to_owned(),
    }
}

/// `root/dir` when `dir` is relative and stays inside `root`.
fn inside(root: &Path, dir: &Path) -> Option<PathBuf> {
    let plain = dir
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    plain.then(|| root.join(dir))
}

/// A path with `.` and `..` resolved by name (as Terraform resolves a local source).
fn normalized(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_sources_are_known_however_written() {
        for source in [
            "terraform-aws-modules/iam/aws//modules/iam-github-oidc-role",
            "registry.terraform.io/terraform-aws-modules/iam/aws//modules/iam-github-oidc-role",
            "git::https://github.com/terraform-aws-modules/terraform-aws-iam.git//modules/iam-github-oidc-role?ref=v5.1.0",
        ] {
            assert_eq!(
                registry_address(source),
                "terraform-aws-modules/iam/aws//modules/iam-github-oidc-role",
                "{source}"
            );
        }
        assert_eq!(
            normalized(Path::new("a/b/../c/./d")),
            PathBuf::from("a/c/d")
        );
        assert!(inside(Path::new("r"), Path::new("../x")).is_none());
        for (name, text) in MODELS {
            assert!(parse(Path::new(name), text).is_ok(), "{name}");
        }
    }
}
