//! What `lint` found, and how it is printed: text for people, JSON, and SARIF 2.1.0 for code
//! scanning.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::rules::{RULES, Severity, rule};
use crate::shown;

/// What one statement that trusts an OIDC provider admits.
#[derive(Debug, Clone, Serialize)]
pub struct Description {
    /// The file.
    #[serde(serialize_with = "lossy_path")]
    pub path: PathBuf,
    /// The 1-based line of the role, where the format has lines.
    pub line: Option<usize>,
    /// The role.
    pub resource: String,
    /// The statement's Sid, or `#N`.
    pub statement: String,
    /// The issuer, without `https://`.
    pub issuer: String,
    /// What it admits, in words.
    pub admits: String,
}

/// Something wrong with a statement.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The file.
    #[serde(serialize_with = "lossy_path")]
    pub path: PathBuf,
    /// The 1-based line, where the format has one.
    pub line: Option<usize>,
    /// The role.
    pub resource: String,
    /// The statement's Sid, or `#N`.
    pub statement: String,
    /// The issuer, without `https://`, when known.
    pub issuer: Option<String>,
    /// The rule's id.
    pub rule: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// What is wrong, with the values.
    pub message: String,
    /// What to do.
    pub fix: String,
}

/// A file that could not be read, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Unreadable {
    /// The file.
    #[serde(serialize_with = "lossy_path")]
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// What `lint` found in every file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// What each statement admits.
    pub statements: Vec<Description>,
    /// The findings, file by file.
    pub findings: Vec<Finding>,
    /// Findings a comment or `Metadata` beside the role suppresses, with the reason it gives.
    pub suppressed: Vec<Suppressed>,
    /// Files that could not be read.
    pub unreadable: Vec<Unreadable>,
    /// How many roles were read.
    pub roles: usize,
    /// What was found past [`super::REPORTED_PER_FILE`] in a file, counted, not listed.
    pub omitted: Vec<Omitted>,
}

/// The statements and findings of one file past the most `lint` reports for a file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Omitted {
    /// The file.
    #[serde(serialize_with = "lossy_path")]
    pub path: PathBuf,
    /// Statements not described.
    pub statements: usize,
    /// Findings not listed, as errors, warnings and notes.
    pub errors: usize,
    /// Warnings not listed.
    pub warnings: usize,
    /// Notes not listed.
    pub notes: usize,
}

impl Omitted {
    fn of(&self, severity: Severity) -> usize {
        match severity {
            Severity::Error => self.errors,
            Severity::Warning => self.warnings,
            Severity::Note => self.notes,
        }
    }
}

/// A finding its role's owner suppressed, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// The reason the suppression gives.
    pub reason: String,
}

impl Report {
    /// The findings at or above `severity`, those not listed included.
    pub fn at_least(&self, severity: Severity) -> usize {
        [Severity::Note, Severity::Warning, Severity::Error]
            .into_iter()
            .filter(|s| *s >= severity)
            .map(|s| self.count(s))
            .sum()
    }

    /// The findings of exactly `severity`, those not listed included.
    pub fn count(&self, severity: Severity) -> usize {
        let listed = self
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count();
        listed + self.omitted.iter().map(|o| o.of(severity)).sum::<usize>()
    }

    /// Keeps at most `most` of the statements and of the findings that `file` added (those past
    /// the `findings` and `statements` already reported), counting the rest.
    pub fn cap(&mut self, file: &Path, findings: usize, statements: usize, most: usize) {
        let mut omitted = Omitted {
            path: file.to_path_buf(),
            ..Omitted::default()
        };
        if self.statements.len() - statements > most {
            omitted.statements = self.statements.len() - statements - most;
            self.statements.truncate(statements + most);
        }
        if self.findings.len() - findings > most {
            for finding in self.findings.drain(findings + most..) {
                match finding.severity {
                    Severity::Error => omitted.errors += 1,
                    Severity::Warning => omitted.warnings += 1,
                    Severity::Note => omitted.notes += 1,
                }
            }
        }
        if omitted.statements + omitted.errors + omitted.warnings + omitted.notes > 0 {
            self.omitted.push(omitted);
        }
    }

    /// The report as people read it: each statement's issuer and what it admits, then its
    /// findings, file by file.
    pub fn text(&self) -> String {
        let mut text = String::new();
        let place = |path: &Path, line: Option<usize>| match line {
            Some(line) => format!("{}:{line}", shown::path(path)),
            None => shown::path(path),
        };
        let key = |path: &Path, resource: &str, statement: &str| {
            (
                path.to_path_buf(),
                resource.to_owned(),
                statement.to_owned(),
            )
        };
        let mut by_statement: std::collections::HashMap<_, Vec<&Finding>> =
            std::collections::HashMap::new();
        for finding in &self.findings {
            by_statement
                .entry(key(&finding.path, &finding.resource, &finding.statement))
                .or_default()
                .push(finding);
        }
        let write = |text: &mut String, finding: &Finding| {
            let rule = rule(finding.rule);
            text.push_str(&format!(
                "  {} {} {}: {}\n    fix: {}\n",
                finding.severity.as_str(),
                rule.id,
                rule.name,
                finding.message,
                finding.fix
            ));
        };
        for description in &self.statements {
            text.push_str(&format!(
                "{}: {} {}: {}\n",
                place(&description.path, description.line),
                shown::value(&description.resource),
                shown::value(&description.statement),
                description.admits
            ));
            let found = by_statement.remove(&key(
                &description.path,
                &description.resource,
                &description.statement,
            ));
            for finding in found.into_iter().flatten() {
                write(&mut text, finding);
            }
        }
        // Findings on a role or statement with nothing to describe (a policy IAM refuses, a role
        // whose trust is not known), in the order they were found.
        for finding in &self.findings {
            let Some(found) =
                by_statement.remove(&key(&finding.path, &finding.resource, &finding.statement))
            else {
                continue;
            };
            text.push_str(&format!(
                "{}: {} {}:\n",
                place(&finding.path, finding.line),
                shown::value(&finding.resource),
                shown::value(&finding.statement),
            ));
            for finding in found {
                write(&mut text, finding);
            }
        }
        for suppressed in &self.suppressed {
            let finding = &suppressed.finding;
            text.push_str(&format!(
                "{}: {} {}: suppressed {} {}: {}\n    reason: {}\n",
                place(&finding.path, finding.line),
                shown::value(&finding.resource),
                shown::value(&finding.statement),
                finding.rule,
                rule(finding.rule).name,
                finding.message,
                shown::value(&suppressed.reason)
            ));
        }
        for omitted in &self.omitted {
            text.push_str(&format!(
                "{}: {} more statement(s) and {} more finding(s) ({} error(s), {} warning(s), {} note(s)) not \
                 shown: lint reports at most {} of each for a file\n",
                shown::path(&omitted.path),
                omitted.statements,
                omitted.errors + omitted.warnings + omitted.notes,
                omitted.errors,
                omitted.warnings,
                omitted.notes,
                super::REPORTED_PER_FILE
            ));
        }
        for unreadable in &self.unreadable {
            text.push_str(&format!(
                "{}: unreadable: {}\n",
                shown::path(&unreadable.path),
                unreadable.reason
            ));
        }
        text.push_str(&format!(
            "{} role(s), {} OIDC statement(s): {} error(s), {} warning(s), {} note(s), {} suppressed, {} unreadable \
             file(s)\n",
            self.roles,
            self.statements.len(),
            self.count(Severity::Error),
            self.count(Severity::Warning),
            self.count(Severity::Note),
            self.suppressed.len(),
            self.unreadable.len()
        ));
        text
    }

    /// The report as SARIF 2.1.0, as GitHub code scanning reads it: every rule, and a result per
    /// finding located at its file (and the role as a logical location); an unreadable file is a
    /// tool execution notification.
    pub fn sarif(&self) -> Value {
        let rules: Vec<Value> = RULES
            .iter()
            .map(|rule| {
                serde_json::json!({
                    "id": rule.id,
                    "name": rule.name,
                    "shortDescription": { "text": rule.summary },
                    "fullDescription": { "text": rule.summary },
                    "defaultConfiguration": { "level": rule.severity.as_str() },
                    "help": { "text": format!("{} See oidc-gen lint in the README.", rule.summary) },
                })
            })
            .collect();
        let result = |finding: &Finding, reason: Option<&str>| {
            let mut result = serde_json::json!({
                "ruleId": finding.rule,
                "ruleIndex": RULES.iter().position(|r| r.id == finding.rule),
                "level": finding.severity.as_str(),
                "message": {
                    "text": format!(
                        "{} {}: {}. Fix: {}",
                        finding.resource, finding.statement, finding.message, finding.fix
                    ),
                },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&finding.path) },
                        "region": { "startLine": finding.line.unwrap_or(1) },
                    },
                    "logicalLocations": [{
                        "name": finding.resource,
                        "fullyQualifiedName": format!("{}/{}", finding.resource, finding.statement),
                        "kind": "resource",
                    }],
                }],
            });
            if let Some(reason) = reason {
                result["suppressions"] =
                    serde_json::json!([{ "kind": "inSource", "justification": reason }]);
            }
            result
        };
        let results: Vec<Value> = self
            .findings
            .iter()
            .map(|finding| result(finding, None))
            .chain(
                self.suppressed
                    .iter()
                    .map(|s| result(&s.finding, Some(&s.reason))),
            )
            .collect();
        let notifications: Vec<Value> = self
            .unreadable
            .iter()
            .map(|file| {
                serde_json::json!({
                    "level": "error",
                    "message": { "text": format!("{}: {}", file.path.to_string_lossy(), file.reason) },
                    "locations": [{
                        "physicalLocation": { "artifactLocation": { "uri": uri(&file.path) } },
                    }],
                })
            })
            .chain(self.omitted.iter().map(|omitted| {
                let findings = omitted.errors + omitted.warnings + omitted.notes;
                serde_json::json!({
                    "level": "warning",
                    "message": { "text": format!(
                        "{} more statement(s) and {findings} more finding(s) ({} error(s)) not reported: lint \
                         reports at most {} of each for a file",
                        omitted.statements, omitted.errors, super::REPORTED_PER_FILE
                    ) },
                    "locations": [{
                        "physicalLocation": { "artifactLocation": { "uri": uri(&omitted.path) } },
                    }],
                })
            }))
            .collect();
        serde_json::json!({
            "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": env!("CARGO_PKG_NAME"),
                        "version": env!("CARGO_PKG_VERSION"),
                        "rules": rules,
                    },
                },
                "invocations": [{
                    "executionSuccessful": self.unreadable.is_empty(),
                    "toolExecutionNotifications": notifications,
                }],
                "results": results,
            }],
        })
    }

    /// The report as JSON: `{"findings": [...], "statements": [...], "unreadable": [...],
    /// "summary": {...}}`, serialized from the report itself (no copy of it is built).
    pub fn json(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Summary {
            roles: usize,
            statements: usize,
            errors: usize,
            warnings: usize,
            notes: usize,
            suppressed: usize,
            unreadable: usize,
        }
        #[derive(Serialize)]
        struct Json<'r> {
            findings: &'r [Finding],
            suppressed: &'r [Suppressed],
            statements: &'r [Description],
            unreadable: &'r [Unreadable],
            omitted: &'r [Omitted],
            summary: Summary,
        }
        Json {
            findings: &self.findings,
            suppressed: &self.suppressed,
            statements: &self.statements,
            unreadable: &self.unreadable,
            omitted: &self.omitted,
            summary: Summary {
                roles: self.roles,
                statements: self.statements.len(),
                errors: self.count(Severity::Error),
                warnings: self.count(Severity::Warning),
                notes: self.count(Severity::Note),
                suppressed: self.suppressed.len(),
                unreadable: self.unreadable.len(),
            },
        }
    }
}

/// A path as JSON: a string, with bytes that are not UTF-8 as U+FFFD.
pub(super) fn lossy_path<S: serde::Serializer>(
    path: &Path,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

/// A file's SARIF URI: `file:///...` for an absolute path, else the relative path with `/` and
/// every byte outside RFC 3986's unreserved characters percent-encoded.
fn uri(path: &Path) -> String {
    if path.is_absolute() {
        if let Ok(url) = url::Url::from_file_path(path) {
            return url.to_string();
        }
    }
    let mut text = String::new();
    for (index, part) in path.iter().enumerate() {
        if index > 0 {
            text.push('/');
        }
        for byte in part.as_encoded_bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    text.push(*byte as char)
                }
                _ => text.push_str(&format!("%{byte:02X}")),
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(
            uri(Path::new("infra/my roles/a#b.json")),
            "infra/my%20roles/a%23b.json"
        );
        assert_eq!(uri(Path::new("/tmp/x y.json")), "file:///tmp/x%20y.json");
    }
}
