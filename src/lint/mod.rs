//! `oidc-gen lint`: reads trust policies people already have and says, for every statement that
//! trusts an OIDC provider, which issuer it trusts, what it admits in words, and what is wrong with
//! it: a finding with a stable rule id, a severity and a fix. The issuer's knowledge is the
//! [`issuers`] table generation uses.
//!
//! Inputs ([`read`]): Terraform configurations and plans, CloudFormation templates in JSON or
//! YAML, policy documents, and `aws iam get-role`, `list-roles` and
//! `get-account-authorization-details` output, as files or the folders holding them.

mod read;
mod report;
mod rules;
mod terraform;

use std::path::PathBuf;

pub use read::{Contents, EXTENSIONS, LINT_BYTES, MAX_FILES, Role, Unresolved, read, roles_in};
pub use report::{Description, Finding, Report, Suppressed, Unreadable};
pub use rules::{RULES, Rule, Severity, admits_every_owner, lint_role};

/// Reads every path (a folder: the files below it with one of [`EXTENSIONS`], never through a
/// symbolic link; `-`: standard input) and lints each role found.
pub fn lint_paths(paths: &[PathBuf]) -> Report {
    let mut report = Report::default();
    let mut files = Vec::new();
    let mut refused = Vec::new();
    for path in paths {
        read::collect(path, true, &mut files, &mut refused);
    }
    report.unreadable = refused
        .into_iter()
        .map(|(path, reason)| Unreadable { path, reason })
        .collect();
    for file in files {
        match read::read(&file) {
            Ok(contents) => {
                for role in contents.roles {
                    report.roles += 1;
                    lint_role(&role, &mut report);
                }
                report.unresolved.extend(contents.unresolved);
            }
            Err(reason) => report.unreadable.push(Unreadable { path: file, reason }),
        }
    }
    report
}
