//! `oidc-gen lint`: reads trust policies people already have and says, for every statement that
//! trusts an OIDC provider, which issuer it trusts, what it admits in words, and what is wrong with
//! it: a finding with a stable rule id, a severity and a fix. The issuer's knowledge is the
//! [`issuers`] table generation uses.
//!
//! Inputs ([`read`]): Terraform configurations and plans, CloudFormation templates in JSON or
//! YAML, policy documents, and `aws iam get-role`, `list-roles` and
//! `get-account-authorization-details` output, as files or the folders holding them.

mod cloudformation;
mod clouds;
mod read;
mod report;
mod rules;
mod terraform;
pub mod unknown;

use std::path::PathBuf;

pub use read::{
    Contents, EXTENSIONS, Federation, LINT_BYTES, MAX_FILES, Role, Unresolved, read, roles_in,
};
pub use report::{Description, Finding, Omitted, Report, Suppressed, Unreadable};
pub use rules::{RULES, Rule, Severity, admits_every_owner, lint_role, unknowns};
pub use terraform::Inputs;

/// The most statements `lint` describes for one file, and the most findings it reports for one
/// file; past them one line says how many more there are, so that what a file makes `lint` write
/// stays in proportion (SARIF takes about a kilobyte a finding).
pub const REPORTED_PER_FILE: usize = 10_000;
/// The largest trust policy `lint` reads, in bytes of compact JSON. IAM takes at most 4,096
/// characters (2,048 unless the quota is raised), so a larger one is no role's.
pub const POLICY_BYTES: usize = 64 << 10;

/// An OIDC provider's URL as IAM keeps it (and the AWS provider reads it back): no scheme, no
/// trailing `/`.
pub(crate) fn bare_url(url: &str) -> String {
    url.trim_start_matches("https://")
        .trim_end_matches('/')
        .to_owned()
}

/// What `lint` is told besides the paths: values for Terraform variables and CloudFormation
/// parameters, as `terraform plan` and `aws cloudformation deploy` take them.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--var-file` and `--var`.
    pub terraform: terraform::Inputs,
    /// `--parameter NAME=VALUE`.
    pub parameters: Vec<(String, String)>,
}

/// Reads every path (a folder: the files below it with one of [`EXTENSIONS`], never through a
/// symbolic link; `-`: standard input) and lints each role found.
pub fn lint_paths(paths: &[PathBuf]) -> Report {
    lint_with(paths, &Options::default())
}

/// What the paths hold, file by file (a Terraform module under the first of its files read):
/// the roles found, or why the file could not be read; and the paths that could not be read.
pub struct Found {
    /// Each file read, with what it holds or why it could not be read.
    pub files: Vec<(PathBuf, Result<Contents, String>)>,
    /// Paths (and a module's files) that could not be read.
    pub unreadable: Vec<Unreadable>,
}

/// Reads every path as [`lint_with`] does, without linting: the roles with their evaluated
/// policies. A `.tf` file is read with the other `.tf` files of its folder, as the one module
/// Terraform reads them as; a folder another one calls as a local module is read only through
/// its callers (where its variables have values).
pub fn find(paths: &[PathBuf], options: &Options) -> Found {
    let mut files = Vec::new();
    let mut refused = Vec::new();
    for path in paths {
        read::collect(path, true, &mut files, &mut refused);
    }
    let mut found = Found {
        files: Vec::new(),
        unreadable: refused
            .into_iter()
            .map(|(path, reason)| Unreadable { path, reason })
            .collect(),
    };
    let mut modules = std::collections::BTreeMap::new();
    for folder in files.iter().filter_map(|file| read::module_folder(file)) {
        if let std::collections::btree_map::Entry::Vacant(entry) = modules.entry(folder) {
            let read = terraform::read_module(entry.key(), &options.terraform);
            entry.insert(read);
        }
    }
    let called: std::collections::BTreeSet<PathBuf> = modules
        .values()
        .flat_map(|read| read.called.iter().cloned())
        .collect();
    for file in files {
        let read = match read::module_folder(&file) {
            Some(folder) => {
                let Some(read) = modules.remove(&folder) else {
                    continue;
                };
                found.unreadable.extend(
                    read.refused
                        .into_iter()
                        .map(|(path, reason)| Unreadable { path, reason }),
                );
                let canonical = std::fs::canonicalize(&folder).unwrap_or(folder);
                if called.contains(&canonical) {
                    continue;
                }
                Ok(read.contents)
            }
            None => read::read(&file, options),
        };
        found.files.push((file, read));
    }
    found
}

/// [`lint_paths`] with values for variables and parameters.
pub fn lint_with(paths: &[PathBuf], options: &Options) -> Report {
    let found = find(paths, options);
    let mut report = Report {
        unreadable: found.unreadable,
        ..Report::default()
    };
    for (file, read) in found.files {
        let (findings, statements) = (report.findings.len(), report.statements.len());
        match read {
            Ok(contents) => {
                for role in contents.roles {
                    report.roles += 1;
                    let size = serde_json::to_string(&role.policy).map_or(0, |text| text.len());
                    if size > POLICY_BYTES {
                        let line = role
                            .line
                            .map_or(String::new(), |line| format!("line {line}: "));
                        report.unreadable.push(Unreadable {
                            reason: format!(
                                "{line}{}: its trust policy is {size} bytes, more than the {POLICY_BYTES} lint \
                                 reads; IAM accepts at most 4,096 characters (2,048 by default), so no role can \
                                 have it",
                                crate::shown::value(&role.resource)
                            ),
                            path: role.path,
                        });
                        continue;
                    }
                    lint_role(&role, &mut report);
                }
                for role in contents.unresolved {
                    report.roles += 1;
                    rules::unproven_role(&role, &mut report);
                }
                for federation in contents.federations {
                    report.roles += 1;
                    clouds::lint(&federation, &mut report);
                }
            }
            Err(reason) => report.unreadable.push(Unreadable {
                path: file.clone(),
                reason,
            }),
        }
        report.cap(&file, findings, statements, REPORTED_PER_FILE);
    }
    report
}
