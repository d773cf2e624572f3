//! Who may assume the role: the shapes of the tokens each workload sends, and the trust
//! statements that admit exactly those tokens.
//!
//! This is the one file that knows Pulumi Cloud's claim formats. Each token shape gets its own
//! `Allow` statement with its own `aud` and `sub` conditions, because IAM ORs statements, ANDs the
//! conditions inside one, and lets a list match on any value: an audience list shared by two shapes
//! would let either audience go with either subject, and `StringLike`'s `*` matches `/` and `:`.
//! Templates render the statements as data.

use crate::issuer::Issuer;
use crate::issuers::Ci;
use crate::policy::{ConditionKey, Statement, dedup, group, is_pattern, string_like};

/// A Pulumi Deployments operation, as the token's `sub` names it (and `--deploy-operation` and a
/// spec's `deploy_operations`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// pulumi preview.
    Preview,
    /// pulumi up.
    Update,
    /// pulumi refresh.
    Refresh,
    /// pulumi destroy.
    Destroy,
}

impl Operation {
    /// Every operation, in the order they are written.
    pub const ALL: [Operation; 4] = [
        Operation::Preview,
        Operation::Update,
        Operation::Refresh,
        Operation::Destroy,
    ];

    /// The name in a token's `sub`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Preview => "preview",
            Operation::Update => "update",
            Operation::Refresh => "refresh",
            Operation::Destroy => "destroy",
        }
    }
}

/// An attribute ESC's `subjectAttributes` adds to the `sub` of its tokens.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, serde::Deserialize,
)]
pub enum Attribute {
    /// The environment opened first (it may import the one that logs in); values from --root-env.
    #[value(name = "rootEnvironment.name")]
    #[serde(rename = "rootEnvironment.name")]
    RootEnvironment,
    /// The environment that logs in; values from --env.
    #[value(name = "currentEnvironment.name")]
    #[serde(rename = "currentEnvironment.name")]
    CurrentEnvironment,
    /// The Pulumi user who opened the environment; values from --user.
    #[value(name = "pulumi.user.login")]
    #[serde(rename = "pulumi.user.login")]
    UserLogin,
    /// The Pulumi organization (--org).
    #[value(name = "pulumi.organization.login")]
    #[serde(rename = "pulumi.organization.login")]
    OrganizationLogin,
}

impl Attribute {
    /// Every attribute.
    pub const ALL: [Attribute; 4] = [
        Attribute::RootEnvironment,
        Attribute::CurrentEnvironment,
        Attribute::UserLogin,
        Attribute::OrganizationLogin,
    ];

    /// The name ESC's `subjectAttributes` and the token's `sub` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Attribute::RootEnvironment => "rootEnvironment.name",
            Attribute::CurrentEnvironment => "currentEnvironment.name",
            Attribute::UserLogin => "pulumi.user.login",
            Attribute::OrganizationLogin => "pulumi.organization.login",
        }
    }

    /// The flag whose values this attribute takes.
    pub fn flag(self) -> Option<&'static str> {
        match self {
            Attribute::RootEnvironment => Some("--root-env"),
            Attribute::CurrentEnvironment => Some("--env"),
            Attribute::UserLogin => Some("--user"),
            Attribute::OrganizationLogin => None,
        }
    }
}

/// Whose tokens the role admits, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Pulumi Cloud (or a self-hosted Pulumi Cloud) and its workloads.
    Pulumi(Pulumi),
    /// A CI system's workloads (GitHub Actions, ...).
    Ci(Ci),
    /// Any other OIDC issuer: the audiences and subjects are given as they are.
    Generic {
        /// Accepted `aud` values, compared exactly.
        audiences: Vec<String>,
        /// Accepted `sub` values; `*` and `?` are wildcards.
        subjects: Vec<String>,
    },
}

/// The Pulumi workloads the role admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulumi {
    /// The Pulumi organization.
    pub org: String,
    /// ESC environments: `project/env`, or `env` in the legacy `default` project. Empty: every
    /// environment of the org, unless only Deployments were asked for.
    pub envs: Vec<String>,
    /// Deployments stacks, `project/stack`.
    pub deploy: Vec<String>,
    /// Deployments operations admitted; never empty.
    pub operations: Vec<Operation>,
    /// ESC `subjectAttributes`, in order; empty for the default subject.
    pub subject_attributes: Vec<Attribute>,
    /// Values of `rootEnvironment.name`.
    pub root_envs: Vec<String>,
    /// Values of `pulumi.user.login`.
    pub users: Vec<String>,
}

impl Pulumi {
    /// Whether the role admits ESC tokens: when environments or subject attributes are named, or
    /// when nothing but ESC could be meant (no `--deploy`).
    pub fn admits_esc(&self) -> bool {
        !self.envs.is_empty() || !self.subject_attributes.is_empty() || self.deploy.is_empty()
    }
}

/// What the trust model comes to: the statements, the provider's client IDs, and what the user
/// should know about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The trust policy's statements, in a fixed order.
    pub statements: Vec<Statement>,
    /// The audiences the provider must list as client IDs.
    pub client_ids: Vec<String>,
    /// Notes for the user: values read another way than written, and conditions left open.
    pub notes: Vec<String>,
}

/// The statements and client IDs for `trust` on `issuer`.
pub fn claims(issuer: &Issuer, trust: &Trust) -> Claims {
    let keys = Keys {
        aud: issuer.condition_key("aud"),
        sub: issuer.condition_key("sub"),
    };
    match trust {
        Trust::Pulumi(pulumi) => pulumi_claims(&keys, pulumi),
        Trust::Ci(ci) => {
            let (statements, client_ids) = ci.statements(issuer);
            Claims {
                statements,
                client_ids,
                notes: Vec::new(),
            }
        }
        Trust::Generic {
            audiences,
            subjects,
        } => Claims {
            statements: vec![keys.statement("AllowedSubjects", audiences, subjects, Vec::new())],
            client_ids: audiences.clone(),
            notes: Vec::new(),
        },
    }
}

/// The audiences Pulumi Cloud's tokens carry: `<org>` (legacy `default` project, Deployments) and
/// `aws:<org>` (ESC environments in named projects). Both are the provider's client IDs.
pub fn pulumi_audiences(org: &str) -> Vec<String> {
    vec![org.to_owned(), format!("aws:{org}")]
}

/// The condition keys of one issuer.
struct Keys {
    aud: String,
    sub: String,
}

impl Keys {
    /// A statement that admits `audiences` with `subjects`, and refuses subjects matching any of
    /// `refuse`.
    fn statement(
        &self,
        sid: &'static str,
        audiences: &[String],
        subjects: &[String],
        refuse: Vec<String>,
    ) -> Statement {
        let aud = ConditionKey {
            variable: self.aud.clone(),
            values: audiences.to_vec(),
        };
        let sub = ConditionKey {
            variable: self.sub.clone(),
            values: subjects.to_vec(),
        };
        let mut conditions = if subjects.iter().any(|s| is_pattern(s)) {
            vec![
                group("StringEquals", vec![aud]),
                group("StringLike", vec![sub]),
            ]
        } else {
            vec![group("StringEquals", vec![aud, sub])]
        };
        if !refuse.is_empty() {
            conditions.push(group(
                "StringNotLike",
                vec![ConditionKey {
                    variable: self.sub.clone(),
                    values: refuse,
                }],
            ));
        }
        Statement {
            sid: sid.to_owned(),
            conditions,
        }
    }
}

fn pulumi_claims(keys: &Keys, pulumi: &Pulumi) -> Claims {
    let org = &pulumi.org;
    let [legacy_aud, named_aud] = [vec![org.clone()], vec![format!("aws:{org}")]];
    let mut notes = Vec::new();
    let mut statements = Vec::new();
    if pulumi.admits_esc() {
        let envs = Environments::split(&pulumi.envs, &mut notes);
        if pulumi.subject_attributes.is_empty() {
            let prefix = format!("pulumi:environments:org:{org}:env:");
            let subjects = |envs: &[String]| -> Vec<String> {
                envs.iter().map(|env| format!("{prefix}{env}")).collect()
            };
            if !envs.named.is_empty() {
                statements.push(keys.statement(
                    "EscNamedProjects",
                    &named_aud,
                    &subjects(&envs.named),
                    Vec::new(),
                ));
            }
            if !envs.legacy.is_empty() {
                let refuse = if envs.legacy.iter().any(|e| is_pattern(e)) {
                    vec![format!("{prefix}*/*")]
                } else {
                    Vec::new()
                };
                statements.push(keys.statement(
                    "EscDefaultProject",
                    &legacy_aud,
                    &subjects(&envs.legacy),
                    refuse,
                ));
            }
        } else {
            let custom = CustomSubject::new(pulumi, &mut notes);
            let has_current = pulumi
                .subject_attributes
                .contains(&Attribute::CurrentEnvironment);
            let any = vec!["*".to_owned()];
            let (named, legacy) = if has_current {
                (&envs.named, &envs.legacy)
            } else {
                (&any, &any)
            };
            if !named.is_empty() {
                let subjects = custom.subjects(named);
                let refuse = custom.other_attribute_lists(&subjects);
                statements.push(keys.statement(
                    "EscSubjectNamedProjects",
                    &named_aud,
                    &subjects,
                    refuse,
                ));
            }
            if !legacy.is_empty() {
                let subjects = custom.subjects(legacy);
                let mut refuse = custom.other_attribute_lists(&subjects);
                if has_current && legacy.iter().any(|e| is_pattern(e)) {
                    refuse.insert(0, custom.subjects_with_slash());
                }
                statements.push(keys.statement(
                    "EscSubjectDefaultProject",
                    &legacy_aud,
                    &subjects,
                    refuse,
                ));
            }
        }
    }
    if !pulumi.deploy.is_empty() {
        let subjects: Vec<String> = pulumi
            .deploy
            .iter()
            .flat_map(|project_stack| {
                let (project, stack) = project_stack
                    .split_once('/')
                    .expect("--deploy values are validated as PROJECT/STACK");
                pulumi.operations.iter().map(move |op| {
                    format!(
                        "pulumi:deploy:org:{org}:project:{project}:stack:{stack}:operation:{}:scope:write",
                        op.as_str()
                    )
                })
            })
            .collect();
        statements.push(keys.statement("PulumiDeployments", &legacy_aud, &subjects, Vec::new()));
    }
    Claims {
        statements,
        client_ids: pulumi_audiences(org),
        notes,
    }
}

/// `--env` values sorted by the token shape they reach.
struct Environments {
    /// `project/env` in named projects (audience `aws:<org>`).
    named: Vec<String>,
    /// `env` in the legacy `default` project (audience `<org>`, no `/` in the subject).
    legacy: Vec<String>,
}

impl Environments {
    fn split(envs: &[String], notes: &mut Vec<String>) -> Self {
        let mut split = Environments {
            named: Vec::new(),
            legacy: Vec::new(),
        };
        if envs.is_empty() {
            split.named.push("*/*".into());
            split.legacy.push("*".into());
            return split;
        }
        for value in envs {
            match value.split_once('/') {
                Some(("default", env)) => {
                    notes.push(format!(
                        "--env {value} is the legacy default project's environment {env:?}: its tokens carry the \
                         audience of the org and the subject ...:env:{env} (no project), so that is what the role admits"
                    ));
                    split.legacy.push(env.to_owned());
                }
                Some((project, env)) => {
                    split.named.push(value.clone());
                    if string_like(project, "default") {
                        notes.push(format!(
                            "--env {value} also covers the legacy default project, whose tokens name the environment \
                             without a project: the role also admits ...:env:{env} with the audience of the org"
                        ));
                        split.legacy.push(env.to_owned());
                    }
                }
                None => split.legacy.push(value.clone()),
            }
        }
        split.named = dedup(split.named);
        split.legacy = dedup(split.legacy);
        split
    }
}

/// The subjects ESC builds from `subjectAttributes`: a prefix, then `:<attribute>:<value>` for
/// each attribute in order.
struct CustomSubject<'a> {
    pulumi: &'a Pulumi,
}

impl<'a> CustomSubject<'a> {
    fn new(pulumi: &'a Pulumi, notes: &mut Vec<String>) -> Self {
        for attribute in &pulumi.subject_attributes {
            let given = match attribute {
                Attribute::RootEnvironment => !pulumi.root_envs.is_empty(),
                Attribute::CurrentEnvironment => !pulumi.envs.is_empty(),
                Attribute::UserLogin => !pulumi.users.is_empty(),
                Attribute::OrganizationLogin => true,
            };
            if let (false, Some(flag)) = (given, attribute.flag()) {
                notes.push(format!(
                    "{} is open: without {flag} the role admits any value there ({}:*)",
                    attribute.as_str(),
                    attribute.as_str()
                ));
            }
        }
        CustomSubject { pulumi }
    }

    /// Every subject, with `current` as the values of `currentEnvironment.name`.
    fn subjects(&self, current: &[String]) -> Vec<String> {
        let any = vec!["*".to_owned()];
        let or_any = |values: &'a Vec<String>| if values.is_empty() { &any } else { values };
        let org = vec![self.pulumi.org.clone()];
        let mut subjects = vec![format!(
            "pulumi:environments:pulumi.organization.login:{}",
            self.pulumi.org
        )];
        for attribute in &self.pulumi.subject_attributes {
            let values: &[String] = match attribute {
                Attribute::RootEnvironment => or_any(&self.pulumi.root_envs),
                Attribute::CurrentEnvironment => current,
                Attribute::UserLogin => or_any(&self.pulumi.users),
                Attribute::OrganizationLogin => &org,
            };
            subjects = subjects
                .iter()
                .flat_map(|prefix| {
                    values
                        .iter()
                        .map(move |value| format!("{prefix}:{}:{value}", attribute.as_str()))
                })
                .collect();
        }
        subjects
    }

    /// When a pattern is among `subjects`, the one pattern that matches every subject with more
    /// `:` than this attribute list makes: a `*` must not reach the subject of an environment
    /// configured with more attributes. Names and values hold no `:`, so counting them is exact.
    fn other_attribute_lists(&self, subjects: &[String]) -> Vec<String> {
        if !subjects.iter().any(|s| is_pattern(s)) {
            return Vec::new();
        }
        let colons = subjects[0].matches(':').count();
        vec![format!("*{}", ":*".repeat(colons + 1))]
    }

    /// The one pattern that matches every subject whose current environment has a `/`, so that a
    /// legacy pattern cannot reach a named project. Attribute names occur once each, and values
    /// hold no `:`, so the literal after the environment anchors the `/` inside it.
    fn subjects_with_slash(&self) -> String {
        let mut pattern = format!(
            "pulumi:environments:pulumi.organization.login:{}",
            self.pulumi.org
        );
        for attribute in &self.pulumi.subject_attributes {
            let value = match attribute {
                Attribute::CurrentEnvironment => "*/*",
                Attribute::OrganizationLogin => &self.pulumi.org,
                _ => "*",
            };
            pattern.push_str(&format!(":{}:{value}", attribute.as_str()));
        }
        pattern
    }
}
