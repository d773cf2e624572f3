//! What every template sees: the validated inputs and the statements, laid out for rendering,
//! and the command line that writes the same files again.

use serde::Serialize;

use crate::claims::{Operation, Trust};
use crate::issuer::PULUMI_CLOUD;
use crate::policy::Statement;
use crate::request::{
    DEFAULT_DURATION, DEFAULT_SESSION_NAME, DEFAULT_TRUST_POLICY_QUOTA, Inputs, Partition, Tag,
};

/// The context every template is rendered with.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// Who generated the files, and how to do it again.
    pub generator: Generator,
    /// The Pulumi organization; absent for another issuer.
    pub org: Option<String>,
    /// The IAM OIDC identity provider.
    pub provider: Provider,
    /// The IAM role and who may assume it.
    pub role: Role,
    /// The ESC environment's login settings; absent when the role admits no ESC tokens.
    pub esc: Option<Login>,
    /// The Pulumi Deployments settings; absent when the role admits no Deployments tokens.
    pub deployments: Option<Login>,
    /// The ESC environment the Pulumi program creates, if asked for.
    pub esc_environment: Option<EscEnvironment>,
}

/// An ESC environment the Pulumi program creates (`pulumiservice:index:Environment`).
#[derive(Debug, Clone, Serialize)]
pub struct EscEnvironment {
    /// The Pulumi organization.
    pub organization: String,
    /// The ESC project.
    pub project: String,
    /// The environment's name.
    pub name: String,
}

/// The generator's name, version and the command that reproduces the output.
#[derive(Debug, Clone, Serialize)]
pub struct Generator {
    /// `oidc-gen`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
    /// A shell command line that writes the same files again.
    pub command: String,
}

/// The IAM OIDC identity provider.
#[derive(Debug, Clone, Serialize)]
pub struct Provider {
    /// The issuer URL, e.g. `https://api.pulumi.com/oidc`.
    pub url: String,
    /// Whether the provider already exists in the account, to be looked up rather than created.
    pub existing: bool,
    /// The URL without its scheme, as IAM stores it and as condition keys start.
    pub host_path: String,
    /// The client IDs: the audiences the role admits.
    pub client_ids: Vec<String>,
    /// Lowercase hex SHA-1 thumbprints; empty when they are left out.
    pub thumbprints: Vec<String>,
}

/// The IAM role and its trust statements.
#[derive(Debug, Clone, Serialize)]
pub struct Role {
    /// The role name.
    pub name: String,
    /// The role description.
    pub description: String,
    /// `MaxSessionDuration` in seconds, at least the login duration.
    pub max_session_duration: u32,
    /// The role's path; absent for `/`.
    pub path: Option<String>,
    /// The ARN of the permissions boundary, if any.
    pub permissions_boundary: Option<String>,
    /// Tags, sorted by key.
    pub tags: Vec<Tag>,
    /// Managed policies to attach.
    pub policy_arns: Vec<String>,
    /// The trust policy's statements, one per token shape.
    pub statements: Vec<Statement>,
}

/// How Pulumi Cloud assumes the role: ESC's `aws-login` or a stack's Deployments settings.
#[derive(Debug, Clone, Serialize)]
pub struct Login {
    /// The role's ARN; known only when an account id was given.
    pub role_arn: Option<String>,
    /// The STS session name.
    pub session_name: String,
    /// The session duration, as ESC writes it (`1h`, `1h30m`).
    pub duration: String,
    /// Session policies: they narrow the session; they are not attached to the role.
    pub policy_arns: Vec<String>,
    /// ESC's `subjectAttributes`, in order (always empty for Deployments).
    pub subject_attributes: Vec<&'static str>,
}

impl Inputs {
    /// Builds the template context, with the thumbprints that will be written (empty to omit them).
    pub fn model(&self, thumbprints: &[String]) -> Model {
        let issuer = &self.trust.issuer;
        let login = |subject_attributes: Vec<&'static str>| Login {
            role_arn: self.role_arn(),
            session_name: self.session_name.clone(),
            duration: self.duration.clone(),
            policy_arns: self.session_policy_arns.clone(),
            subject_attributes,
        };
        let pulumi = self.trust.pulumi();
        Model {
            generator: Generator {
                name: env!("CARGO_PKG_NAME"),
                version: env!("CARGO_PKG_VERSION"),
                command: self.command(thumbprints),
            },
            org: pulumi.map(|p| p.org.clone()),
            provider: Provider {
                url: issuer.as_str().to_owned(),
                existing: self.existing_provider,
                host_path: issuer.host_path().to_owned(),
                client_ids: self.trust.claims.client_ids.clone(),
                thumbprints: thumbprints.to_vec(),
            },
            role: Role {
                name: self.role_name.clone(),
                description: self.description(),
                max_session_duration: self.max_session_seconds,
                path: (self.role_path != "/").then(|| self.role_path.clone()),
                permissions_boundary: self.permissions_boundary.clone(),
                tags: self.tags.clone(),
                policy_arns: self.policy_arns.clone(),
                statements: self.trust.claims.statements.clone(),
            },
            esc: self.admits_esc().then(|| {
                let attributes = pulumi.map(|p| p.subject_attributes.as_slice());
                login(
                    attributes
                        .unwrap_or_default()
                        .iter()
                        .map(|a| a.as_str())
                        .collect(),
                )
            }),
            deployments: self.admits_deployments().then(|| login(Vec::new())),
            esc_environment: self.esc_environment.as_ref().and_then(|env| {
                let (project, name) = env.split_once('/')?;
                Some(EscEnvironment {
                    organization: pulumi?.org.clone(),
                    project: project.to_owned(),
                    name: name.to_owned(),
                })
            }),
        }
    }

    /// Who assumes the role, in words.
    fn description(&self) -> String {
        match self.trust.pulumi() {
            Some(pulumi) => {
                let who = match (self.admits_esc(), self.admits_deployments()) {
                    (true, true) => "Pulumi ESC environments and Pulumi Deployments stacks",
                    (false, true) => "Pulumi Deployments stacks",
                    _ => "Pulumi ESC environments",
                };
                format!(
                    "Assumed by {who} of the Pulumi organization {} through OIDC",
                    pulumi.org
                )
            }
            None => format!("Assumed through OIDC with tokens of {}", self.trust.issuer),
        }
    }

    /// The command line that reproduces these files byte for byte, without the network.
    fn command(&self, thumbprints: &[String]) -> String {
        let mut args: Vec<String> = vec![env!("CARGO_PKG_NAME").into()];
        let push = |args: &mut Vec<String>, flag: &str, value: &str| {
            args.push(flag.into());
            args.push(value.into());
        };
        let issuer = self.trust.issuer.as_str();
        let default_issuer = match &self.trust.trust {
            Trust::Ci(ci) => ci.default_issuer(),
            _ => PULUMI_CLOUD.to_owned(),
        };
        if issuer != default_issuer {
            push(&mut args, "--issuer", issuer);
        }
        if self.trust.partition != Partition::Aws {
            push(&mut args, "--partition", self.trust.partition.as_str());
        }
        match &self.trust.trust {
            Trust::Pulumi(pulumi) => {
                push(&mut args, "--org", &pulumi.org);
                for env in &pulumi.envs {
                    push(&mut args, "--env", env);
                }
                for stack in &pulumi.deploy {
                    push(&mut args, "--deploy", stack);
                }
                if pulumi.operations != Operation::ALL {
                    for operation in &pulumi.operations {
                        push(&mut args, "--deploy-operation", operation.as_str());
                    }
                }
                for attribute in &pulumi.subject_attributes {
                    push(&mut args, "--subject-attribute", attribute.as_str());
                }
                for env in &pulumi.root_envs {
                    push(&mut args, "--root-env", env);
                }
                for user in &pulumi.users {
                    push(&mut args, "--user", user);
                }
            }
            Trust::Ci(ci) => args.extend(ci.args()),
            Trust::Generic {
                audiences,
                subjects,
            } => {
                for audience in audiences {
                    push(&mut args, "--audience", audience);
                }
                for subject in subjects {
                    push(&mut args, "--subject", subject);
                }
            }
        }
        if self.role_name != Inputs::default_role_name(&self.trust.trust) {
            push(&mut args, "--role-name", &self.role_name);
        }
        if let Some(account) = &self.account_id {
            push(&mut args, "--account-id", account);
        }
        for arn in &self.policy_arns {
            push(&mut args, "--policy-arn", arn);
        }
        if self.role_path != "/" {
            push(&mut args, "--role-path", &self.role_path);
        }
        if let Some(arn) = &self.permissions_boundary {
            push(&mut args, "--permissions-boundary", arn);
        }
        for tag in &self.tags {
            push(&mut args, "--tag", &format!("{}={}", tag.key, tag.value));
        }
        if let Some(env) = &self.esc_environment {
            push(&mut args, "--esc-environment", env);
        }
        if let Some(duration) = &self.max_session_given {
            push(&mut args, "--max-session-duration", duration);
        }
        for arn in &self.session_policy_arns {
            push(&mut args, "--session-policy-arn", arn);
        }
        if self.duration != DEFAULT_DURATION {
            push(&mut args, "--duration", &self.duration);
        }
        if self.session_name != DEFAULT_SESSION_NAME {
            push(&mut args, "--session-name", &self.session_name);
        }
        for thumbprint in thumbprints {
            push(&mut args, "--thumbprint", thumbprint);
        }
        if let Some(dir) = &self.templates {
            push(&mut args, "--templates", &dir.to_string_lossy());
        }
        if self.trust_policy_quota != DEFAULT_TRUST_POLICY_QUOTA {
            push(
                &mut args,
                "--trust-policy-quota",
                &self.trust_policy_quota.to_string(),
            );
        }
        if self.existing_provider {
            args.push("--existing-provider".into());
        } else if thumbprints.is_empty() {
            args.push("--no-thumbprint".into());
        }
        shell_words::join(args)
    }
}
