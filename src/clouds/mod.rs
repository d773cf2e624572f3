//! The cloud a role's trust is written for: the second axis beside the issuer.
//!
//! What a role admits is stated once, as [`Clause`]s read from its trust statements: each clause
//! is the issuer, the subjects it admits (exact, or patterns where `*` matches any characters and
//! `?` one), the subjects it refuses, and the claims that must hold exactly. AWS renders a
//! statement per clause (the templates under `templates/terraform/` and the others, unchanged);
//! every other cloud is a module here that renders the same clauses in its own terms, or refuses
//! with the clause, the reason and what to do. Its files go under `<cloud>/<format>/`, from the
//! templates under `templates/clouds/<cloud>/`. Adding a cloud is a module and one line of
//! [`registry!`].

use serde::Serialize;

use crate::Selection;
use crate::error::Result;
use crate::issuer::Issuer;
use crate::issuers::Preset;
use crate::policy::{Statement, is_pattern};
use crate::render::{self, Format, RenderedFile, Renderer};
use crate::request::Inputs;

/// A value a clause compares a claim with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Match {
    /// The claim is this value exactly.
    Exact(String),
    /// The claim matches this pattern: `*` any characters (`/` and `:` included), `?` one.
    Pattern(String),
}

impl Match {
    fn of(value: &str, like: bool) -> Match {
        match like && is_pattern(value) {
            true => Match::Pattern(value.to_owned()),
            false => Match::Exact(value.to_owned()),
        }
    }

    /// The value or pattern as written.
    pub fn text(&self) -> &str {
        match self {
            Match::Exact(value) | Match::Pattern(value) => value,
        }
    }
}

/// One way into the role: every part must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clause {
    /// The statement it comes from, e.g. `GitHubAcmeApp`.
    pub name: String,
    /// The audiences the AWS statement admits (each cloud says what its tokens carry instead).
    pub audiences: Vec<String>,
    /// The subjects it admits: any of them.
    pub subjects: Vec<Match>,
    /// Subjects it refuses even when one of `subjects` matches.
    pub refused: Vec<Match>,
    /// Other claims, each of which must match one of its values.
    pub claims: Vec<(String, Vec<Match>)>,
}

impl Clause {
    /// The clauses of `statements`, whose condition keys start with `host_path:`.
    pub fn of_statements(statements: &[Statement], host_path: &str) -> Vec<Clause> {
        statements
            .iter()
            .map(|statement| {
                let mut clause = Clause {
                    name: statement.sid.clone(),
                    audiences: Vec::new(),
                    subjects: Vec::new(),
                    refused: Vec::new(),
                    claims: Vec::new(),
                };
                for group in &statement.conditions {
                    for key in &group.keys {
                        let claim = key
                            .variable
                            .strip_prefix(host_path)
                            .and_then(|rest| rest.strip_prefix(':'))
                            .unwrap_or(&key.variable);
                        let like = group.operator.contains("Like");
                        let values = key.values.iter().map(|v| Match::of(v, like));
                        match (claim, group.operator.contains("Not")) {
                            ("aud", _) => clause.audiences.extend(key.values.iter().cloned()),
                            ("sub", true) => clause.refused.extend(values),
                            ("sub", false) => clause.subjects.extend(values),
                            (_, _) => clause.claims.push((claim.to_owned(), values.collect())),
                        }
                    }
                }
                clause
            })
            .collect()
    }

    /// The clause in words, for a refusal: `sub repo:acme/app:* and repository_id 42`.
    pub fn describe(&self) -> String {
        let list = |values: &[Match]| {
            values
                .iter()
                .map(|m| crate::shown::quoted(m.text()))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        let mut parts = vec![format!("sub {}", list(&self.subjects))];
        if !self.refused.is_empty() {
            parts.push(format!("sub not {}", list(&self.refused)));
        }
        for (name, values) in &self.claims {
            parts.push(format!("{name} {}", list(values)));
        }
        format!("{} ({})", self.name, parts.join(" and "))
    }
}

/// What every cloud's renderer is given: the issuer, what is known of it, and the clauses.
#[derive(Debug, Clone)]
pub struct Intent<'a> {
    /// The issuer.
    pub issuer: &'a Issuer,
    /// Its preset, when it is a known issuer.
    pub preset: Option<&'static Preset>,
    /// The role's name.
    pub role_name: &'a str,
    /// The clauses, in the order of the AWS statements.
    pub clauses: Vec<Clause>,
}

impl Intent<'_> {
    /// The audiences the issuer's tokens carry for `cloud`: the preset's (Pulumi's
    /// `gcp:<org>`, CircleCI's organization id), the ones given for an unknown issuer, or none
    /// when the job chooses its audience (the cloud's own is then used).
    pub fn audiences(&self, cloud: &str) -> Vec<String> {
        let mut audiences: Vec<String> = self
            .clauses
            .iter()
            .flat_map(|clause| self.clause_audiences(clause, cloud))
            .collect();
        audiences.sort();
        audiences.dedup();
        audiences
    }

    /// The audience of one clause for `cloud`, when the issuer fixes it.
    pub fn clause_audiences(&self, clause: &Clause, cloud: &str) -> Vec<String> {
        clause
            .audiences
            .iter()
            .filter_map(|aud| match self.preset {
                Some(preset) => (preset.cloud_audience)(aud, cloud),
                None => Some(aud.clone()),
            })
            .collect()
    }

    /// The preset's id, or `oidc` for an issuer no preset knows.
    pub fn issuer_id(&self) -> &'static str {
        self.preset.map_or("oidc", |p| p.id)
    }
}

/// The refusal of a cloud that cannot express a clause: the clause, why, and what to do.
pub fn refuse(cloud: &str, clause: &Clause, why: &str, what_to_do: &str) -> crate::Error {
    crate::Error::Usage(format!(
        "--cloud {cloud} cannot admit exactly {}: {why}; {what_to_do}",
        clause.describe()
    ))
}

/// A cloud's answer for a token: admitted, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Admitted, by this (credential, member, ...).
    Admitted(String),
    /// Refused, with the reasons in the cloud's terms.
    Refused(Vec<String>),
}

/// A cloud's flags, checked into the model its templates read and its evaluator judges.
pub trait Cloud {
    /// The `--cloud` name, also the folder of its templates and of its files.
    fn name(&self) -> &'static str;
    /// Renders `intent`, or refuses with the clause and the reason.
    fn model(&self, intent: &Intent) -> Result<Box<dyn Written>>;
    /// The flags that give these values again.
    fn args(&self) -> Vec<String>;
}

/// A cloud's rendering of one role.
pub trait Written: std::fmt::Debug {
    /// What its templates read under the cloud's name.
    fn context(&self) -> serde_json::Value;
    /// Whether the cloud admits a token (`iss` without `https://` is refused), and why not.
    fn evaluate(&self, token: &Token) -> Verdict;
    /// A note on what the files need that a flag did not give, if any.
    fn needs(&self, format: &str) -> Option<String>;
    /// What the user should know of how the cloud takes the role's tokens.
    fn notes(&self) -> Vec<String>;
}

/// A token as a cloud sees it.
#[derive(Debug, Clone, Default)]
pub struct Token {
    /// The issuer URL.
    pub iss: String,
    /// The audience.
    pub aud: String,
    /// The subject.
    pub sub: String,
    /// Other claims.
    pub claims: Vec<(String, String)>,
}

/// One project (or subscription) of a spec's `clouds:`, as written.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TargetSpec<R> {
    /// Its name: the folder its files go to.
    pub name: String,
    /// The cloud's fields.
    #[serde(flatten)]
    pub request: R,
    /// Any other key, gathered to be refused.
    #[serde(flatten)]
    pub other: std::collections::BTreeMap<String, serde_yaml::Value>,
}

/// One project (or subscription) a spec's roles are written for.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where the spec says it, e.g. `clouds.gcp[0]`.
    pub at: String,
    /// Its name: the files go to `<cloud>/<name>/<role>/`.
    pub name: String,
    /// The cloud's name.
    pub cloud: &'static str,
    /// Its fields.
    pub request: CloudRequest,
}

impl Target {
    /// The cloud, with the target's fields.
    pub fn cloud(&self) -> &dyn Cloud {
        self.request.cloud(self.cloud).expect("a registered cloud")
    }
}

/// Declares the cloud modules beside AWS and their flags, one field each of [`CloudRequest`].
macro_rules! registry {
    ($($cloud:ident),*) => {
        $(pub mod $cloud;)*
        /// Every cloud besides AWS, by its `--cloud` name.
        pub const CLOUDS: &[&str] = &[$(stringify!($cloud)),*];

        /// Every cloud's flags (clap flattens them) and spec fields.
        #[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args, serde::Deserialize)]
        #[group(skip)]
        #[serde(deny_unknown_fields)]
        pub struct CloudRequest {
            $(
                #[command(flatten)]
                #[serde(default)]
                #[allow(missing_docs)]
                pub $cloud: $cloud::Request,
            )*
        }

        impl CloudRequest {
            /// The cloud called `name`, with its flags.
            pub fn cloud(&self, name: &str) -> Option<&dyn Cloud> {
                match name {
                    $(stringify!($cloud) => Some(&self.$cloud),)*
                    _ => None,
                }
            }
        }

        /// A spec's `clouds:`: under each cloud's name, its projects (or subscriptions), each
        /// with a name and the fields its flags have (`--gcp-project-number` -> `project_number`).
        #[derive(Debug, Clone, Default, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct CloudTargets {
            $(
                #[allow(missing_docs)]
                pub $cloud: Vec<TargetSpec<$cloud::Request>>,
            )*
        }

        impl CloudTargets {
            /// Every target, cloud by cloud: its place in the spec (`clouds.gcp[0]`), its name,
            /// and its fields, or the first key no cloud knows.
            pub fn targets(&self) -> std::result::Result<Vec<Target>, (String, String)> {
                let mut targets = Vec::new();
                $(
                    for (index, spec) in self.$cloud.iter().enumerate() {
                        let at = format!("clouds.{}[{index}]", stringify!($cloud));
                        if let Some(key) = spec.other.keys().next() {
                            return Err((at, format!("unknown field {}", crate::shown::quoted(key))));
                        }
                        targets.push(Target {
                            at,
                            name: spec.name.clone(),
                            cloud: stringify!($cloud),
                            request: CloudRequest { $cloud: spec.request.clone(), ..CloudRequest::default() },
                        });
                    }
                )*
                Ok(targets)
            }
        }
    };
}

registry!(gcp, azure);

impl<'a> Intent<'a> {
    /// The statement of intent of a checked role.
    pub fn of_role(role: &'a Inputs) -> Intent<'a> {
        let trust = &role.trust;
        let preset = match (trust.pulumi(), role.ci()) {
            (Some(_), _) => Some(&crate::issuers::pulumi::PRESET),
            (None, Some(ci)) => Some(ci.preset()),
            (None, None) => crate::issuers::find(&trust.issuer),
        };
        Intent {
            issuer: &trust.issuer,
            preset,
            role_name: role.role_name(),
            clauses: Clause::of_statements(&trust.claims.statements, trust.issuer.host_path()),
        }
    }
}

/// The action that logs a GitHub job in to Google Cloud.
const GOOGLE_AUTH: &str = "google-github-actions/auth";

/// The files of `cloud` for the command line's role: a file per format the cloud has templates
/// for (`templates/clouds/<cloud>/<format>/`) that `selection` asks for and the role can use,
/// and the notes on those left out.
pub fn files(
    cloud: &dyn Cloud,
    role: &Inputs,
    selection: &Selection,
    alone: bool,
    renderer: &Renderer,
    command: Option<&str>,
) -> Result<(Vec<RenderedFile>, Vec<String>)> {
    let intent = Intent::of_role(role);
    let written = cloud.model(&intent)?;
    let name = cloud.name();
    let model = role.model(&[]);
    let mut generator = model.generator.clone();
    generator.command = match command {
        Some(command) => command.to_owned(),
        None => format!("{} {}", generator.command, shell_words::join(cloud.args())),
    };
    let mut context = serde_json::json!({
        "generator": generator,
        "cloud": written.context(),
        "role": { "name": model.role.name, "description": model.role.description },
        "org": model.org,
        "esc": model.esc,
        "issuer": intent.issuer_id(),
        "action": crate::pins::pin(GOOGLE_AUTH).uses_and_tag(),
    });
    // The CI system's values, as its AWS file has them; the templates read what is not AWS's
    // (the role's name stands where the AWS file has its ARN).
    if let Some(ci) = role.ci() {
        context[ci.preset().id] = ci.consumer(&model.role.name);
    }
    let templates = render::cloud_templates(name);
    let mut files = Vec::new();
    let mut notes = written.notes();
    if let (Selection::Only(formats), true) = (selection, alone) {
        for format in formats {
            if !templates.iter().any(|(f, _, _)| f == format) {
                let has: Vec<&str> = templates.iter().map(|(f, _, _)| f.name()).collect();
                return Err(crate::Error::Usage(format!(
                    "--format {} is not written for --cloud {name}; it writes {}",
                    format.name(),
                    has.join(", ")
                )));
            }
        }
    }
    for (format, template, path) in templates {
        let asked = match selection {
            Selection::All => true,
            Selection::Only(formats) => formats.contains(&format),
        };
        if !asked {
            continue;
        }
        let applies = match format {
            Format::Esc => role.admits_esc(),
            Format::Ci(id) => role.ci().is_some_and(|ci| ci.preset().id == id),
            _ => true,
        };
        let needs = written.needs(format.name());
        match (applies, needs, selection) {
            (true, None, _) => files.push(renderer.render_as(template, format, path, &context)?),
            (false, _, Selection::All) => {}
            (false, _, Selection::Only(_)) => {
                return Err(crate::Error::Usage(format!(
                    "--format {} cannot be written for --cloud {name}: the role admits no tokens it uses",
                    format.name()
                )));
            }
            (true, Some(need), Selection::All) => {
                notes.push(format!("{path} was not written: {need}"))
            }
            (true, Some(need), Selection::Only(_)) => {
                return Err(crate::Error::Usage(format!(
                    "--format {} for --cloud {name}: {need}",
                    format.name()
                )));
            }
        }
    }
    Ok((files, notes))
}
