//! The one error type of the library, and the exit code each kind maps to.

use std::path::PathBuf;

use crate::shown;

/// Everything that can go wrong, with the context a user needs to act on it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value given breaks a rule of AWS, Pulumi or oidc-gen. The caller names the value's
    /// flag or spec field (see [`Error::told_with`]).
    #[error("invalid {what} {}: {hint}", shown::quoted(value))]
    Invalid {
        /// The field the value is for, e.g. `name` or `github.refs` (a role's field, see
        /// [`crate::role`]), or a flag of the command line alone, e.g. `--token`.
        what: &'static str,
        /// The value as given.
        value: String,
        /// The rule it breaks and what to do instead.
        hint: String,
    },

    /// A spec file (`--config`) that cannot be used, with where the problem is.
    #[error("{}", spec_location(file, *line, field, message))]
    Spec {
        /// The spec file as given.
        file: PathBuf,
        /// The 1-based line, when known.
        line: Option<usize>,
        /// The field, e.g. `roles[1].envs`; empty when the problem is the whole file.
        field: String,
        /// What is wrong and what to do.
        message: String,
    },

    /// Options that cannot be used together, or a combination that needs another option.
    #[error("{0}")]
    Usage(String),

    /// Valid values that together exceed a limit of AWS.
    #[error("{0}")]
    Limit(String),

    /// A `--ca-file` that cannot be read or holds no certificate.
    #[error("cannot use --ca-file {}: {reason}", shown::path(path))]
    CaFile {
        /// The file as given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The issuer's discovery document could not be fetched or is not usable.
    #[error("issuer {issuer}: {problem}; {hint}")]
    Discovery {
        /// The issuer URL.
        issuer: String,
        /// What went wrong, naming the URL that was requested.
        problem: String,
        /// What the user can try.
        hint: &'static str,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// The TLS handshake with an issuer host failed or was not trusted.
    #[error("TLS to {host}:{port} failed: {problem}; {hint}")]
    Tls {
        /// The host the handshake was made with.
        host: String,
        /// The port.
        port: u16,
        /// What went wrong, including the chain the server sent when it was refused.
        problem: String,
        /// What the user can try.
        hint: &'static str,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// A template failed to load or render.
    #[error("template {name}: {source:#}")]
    Template {
        /// The template name, e.g. `terraform/main.tf.j2`.
        name: String,
        /// What minijinja reported.
        #[source]
        source: minijinja::Error,
    },

    /// A rendered file is not valid in its own language (a broken template).
    #[error("template {name} rendered invalid {language}: {reason}")]
    InvalidOutput {
        /// The template name.
        name: String,
        /// The language the output should be in.
        language: &'static str,
        /// What the parser reported.
        reason: String,
    },

    /// Reading or writing a file failed.
    #[error("{action} {}: {source}", shown::path(path))]
    Io {
        /// What was being done, e.g. `cannot write`.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// Something below the output folder that oidc-gen will not write through or over.
    #[error("{}: {problem}; nothing was written", shown::path(path))]
    Unsafe {
        /// What is in the way.
        path: PathBuf,
        /// Why, and what to do.
        problem: String,
    },

    /// Files at generated paths that oidc-gen did not write, or that were edited since.
    #[error(
        "{} file(s) at generated paths are not as oidc-gen wrote them; nothing was written. Move them away, \
         or pass --force to replace them:\n  {}", .0.len(), .0.join("\n  ")
    )]
    NotOwned(Vec<String>),

    /// Another run holds the output folder.
    #[error(
        "another oidc-gen run ({}) holds {} and did not finish within {waited} s; wait for it, or \
         give --lock-wait a longer time",
        pid.map(|p| format!("pid {p}")).unwrap_or_else(|| "pid unknown".into()),
        shown::path(path)
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// The holder's process id, as it wrote it.
        pid: Option<u32>,
        /// How long this run waited, in seconds.
        waited: f64,
    },

    /// An input file that cannot be read within oidc-gen's bounds.
    #[error("cannot read {what} {}: {source}", shown::path(path))]
    Input {
        /// What the file is for, e.g. `--policy`.
        what: &'static str,
        /// The file as given.
        path: PathBuf,
        /// Why.
        #[source]
        source: crate::bounded::ReadError,
    },

    /// A policy file for `simulate` that holds no usable trust policy.
    #[error("cannot use --policy {}: {hint}", shown::path(path))]
    PolicyFile {
        /// The file as given.
        path: PathBuf,
        /// What is wrong, and what to give instead.
        hint: String,
    },

    /// A policy uses an element or operator that `simulate` does not implement.
    #[error("{0}")]
    Unsupported(String),

    /// `--check` found files that differ from what would be written.
    #[error(
        "{0} file(s) under the output folder are missing, differ, are unowned, stale or left over; run the same command without --check (with --prune for stale files, --force for unowned ones) to update them"
    )]
    CheckFailed(usize),
}

impl Error {
    /// The process exit code for this error, as documented in `--help` and the README.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::CheckFailed(_) => 1,
            Error::Invalid { .. }
            | Error::Spec { .. }
            | Error::Usage(_)
            | Error::Limit(_)
            | Error::CaFile { .. }
            | Error::Template { .. }
            | Error::InvalidOutput { .. }
            | Error::PolicyFile { .. }
            | Error::Input { .. }
            | Error::Unsupported(_) => 2,
            Error::Discovery { .. } | Error::Tls { .. } => 3,
            Error::Io { .. } | Error::Unsafe { .. } | Error::NotOwned(_) | Error::Locked { .. } => {
                4
            }
        }
    }

    /// The message, with an invalid value's field told by `name` (e.g. as its flag).
    pub fn told_with(&self, name: impl Fn(&str) -> String) -> String {
        match self {
            Error::Invalid { what, value, hint } => {
                format!("invalid {} {}: {hint}", name(what), shown::quoted(value))
            }
            other => other.to_string(),
        }
    }

    /// A value that breaks a rule; the value is cut to what a message can show.
    pub fn invalid(what: &'static str, value: &str, hint: impl Into<String>) -> Self {
        Error::Invalid {
            what,
            value: crate::bounded::cut(value),
            hint: hint.into(),
        }
    }
}

/// `FILE:LINE: FIELD: MESSAGE`, leaving out what is not known.
fn spec_location(
    file: &std::path::Path,
    line: Option<usize>,
    field: &str,
    message: &str,
) -> String {
    let mut text = shown::path(file);
    if let Some(line) = line {
        text.push_str(&format!(":{line}"));
    }
    if !field.is_empty() {
        text.push_str(&format!(": {field}"));
    }
    format!("{text}: {message}")
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
