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
pub use report::{Description, Finding, Omitted, Report, Suppressed, Unreadable};
pub use rules::{RULES, Rule, Severity, admits_every_owner, lint_role};

/// The most statements `lint` describes for one file, and the most findings it reports for one
/// file; past them one line says how many more there are, so that what a file makes `lint` write
/// stays in proportion (SARIF takes about a kilobyte a finding).
pub const REPORTED_PER_FILE: usize = 10_000;
/// The largest trust policy `lint` reads, in bytes of compact JSON. IAM takes at most 4,096
/// characters (2,048 unless the quota is raised), so a larger one is no role's.
pub const POLICY_BYTES: usize = 64 << 10;

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
        let (findings, statements) = (report.findings.len(), report.statements.len());
        match read::read(&file) {
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
                report.unresolved.extend(contents.unresolved);
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
