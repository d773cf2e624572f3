//! A role's fields, declared once: clap flattens them as the generation flags, serde reads them
//! as a spec role's fields. Each field's clap id is its spec name, so the table between flags and
//! fields ([`flag_fields`]) comes from this declaration, as do the spec's list of a role's fields
//! and the flags `--config` replaces.

use std::collections::BTreeMap;

use clap::{Args, FromArgMatches};

use crate::bounded;
use crate::claims::{Attribute, Operation};
use crate::issuers::{self, CiRequest};

/// The help heading of the flags that say who may assume the role.
pub const WHO: &str = "Who may assume the role";
/// The help heading of the flags that say what to generate.
pub const WHAT: &str = "What to generate";

/// The STS session name used when `--session-name` is not given (ESC's own default).
pub const DEFAULT_SESSION_NAME: &str = "pulumi-environments-session";
/// The ESC login duration used when `--duration` is not given.
pub const DEFAULT_DURATION: &str = "1h";

/// One role, as given and not yet checked: the flags that describe the role on the command line,
/// and the fields of an item of a spec's `roles`.
#[derive(Debug, Clone, PartialEq, Eq, Args, serde::Deserialize)]
#[group(skip)]
#[serde(default)]
pub struct RoleFields {
    /// An ESC environment whose tokens the role admits, as PROJECT/ENV, or ENV alone for the
    /// legacy `default` project (default/ENV means the same); '*' matches any characters.
    /// Repeatable. Default: every environment of the org, unless only --deploy is given.
    #[arg(long = "env", value_name = "PROJECT/ENV", help_heading = WHO)]
    pub envs: Vec<String>,

    /// A Pulumi Deployments stack whose deployments the role admits, as PROJECT/STACK; '*'
    /// matches any characters in either part. Repeatable.
    #[arg(long, value_name = "PROJECT/STACK", help_heading = WHO)]
    pub deploy: Vec<String>,

    /// Admit only these Deployments operations (repeatable). Default: all four.
    #[arg(long = "deploy-operation", value_name = "OP", value_enum, help_heading = WHO)]
    pub deploy_operations: Vec<Operation>,

    /// ESC's subjectAttributes, in order (repeatable): the ESC file lists them and the role
    /// admits the custom subject they build instead of the default one.
    #[arg(long = "subject-attribute", value_name = "ATTR", value_enum, help_heading = WHO)]
    pub subject_attributes: Vec<Attribute>,

    /// The values of rootEnvironment.name the role admits (PROJECT/ENV, or ENV in the legacy
    /// default project; '*' matches any characters). Repeatable. Default: any.
    #[arg(long = "root-env", value_name = "PROJECT/ENV", help_heading = WHO)]
    pub root_envs: Vec<String>,

    /// The values of pulumi.user.login the role admits ('*' matches any characters).
    /// Repeatable. Default: any.
    #[arg(long = "user", value_name = "LOGIN", help_heading = WHO)]
    pub users: Vec<String>,

    /// For an issuer other than Pulumi Cloud: an aud the role admits, compared exactly.
    /// Repeatable; needs --subject.
    #[arg(long = "audience", value_name = "AUD", help_heading = WHO)]
    pub audiences: Vec<String>,

    /// For an issuer other than Pulumi Cloud: a sub the role admits; '*' and '?' are wildcards
    /// (a bare '*' is refused). Repeatable; needs --audience.
    #[arg(long = "subject", value_name = "PATTERN", help_heading = WHO)]
    pub subjects: Vec<String>,

    /// The CI systems' workloads (`--github ...`, a role's `github:`).
    #[command(flatten)]
    #[serde(flatten)]
    pub ci: CiRequest,

    /// The IAM role's name [default: pulumi-esc-oidc, or the CI system's, e.g.
    /// github-actions-oidc with --github].
    #[arg(long = "role-name", value_name = "NAME", help_heading = WHAT)]
    pub name: Option<String>,

    /// A managed policy to attach to the role (repeatable), e.g.
    /// arn:aws:iam::aws:policy/ReadOnlyAccess. It grants the role's permissions.
    #[arg(long = "policy-arn", value_name = "ARN", help_heading = WHAT)]
    pub policy_arns: Vec<String>,

    /// The role's path, e.g. /pulumi/ (it becomes part of the role's ARN).
    #[arg(long = "role-path", value_name = "PATH", help_heading = WHAT)]
    pub path: Option<String>,

    /// A managed policy that bounds the role's permissions: whatever the attached policies
    /// grant, the role can do no more than this allows.
    #[arg(long, value_name = "ARN", help_heading = WHAT)]
    pub permissions_boundary: Option<String>,

    /// A tag on the role, as KEY=VALUE (repeatable); a spec writes a mapping.
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag, help_heading = WHAT)]
    #[serde(deserialize_with = "tag_map")]
    pub tags: Vec<Tag>,

    /// The role's MaxSessionDuration (1h to 12h, ESC syntax such as 2h). Default: 1h, or
    /// --duration when that is longer.
    #[arg(long, value_name = "DURATION", help_heading = WHAT)]
    pub max_session_duration: Option<String>,

    /// A session policy ESC and Deployments pass when they assume the role (repeatable; their
    /// policyArns). It is not attached: it narrows each session to what both it and the role's
    /// policies allow.
    #[arg(long = "session-policy-arn", value_name = "ARN", help_heading = WHAT)]
    pub session_policy_arns: Vec<String>,

    /// How long the AWS credentials last (ESC syntax: 1h, 1h30m, 45m); 15m to 12h. The role's
    /// MaxSessionDuration is set to cover it.
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_DURATION, help_heading = WHAT)]
    pub duration: String,

    /// Also create this ESC environment (PROJECT/ENV, one the role admits) from the Pulumi
    /// program, with the aws-login definition that uses the role (pulumiservice:index:Environment):
    /// one pulumi up makes the role and the environment.
    #[arg(long, value_name = "PROJECT/ENV", help_heading = WHAT)]
    pub esc_environment: Option<String>,

    /// The STS session name ESC and Deployments use.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SESSION_NAME, help_heading = WHAT)]
    pub session_name: String,
}

impl Default for RoleFields {
    /// What the command line has when no role flag is given.
    fn default() -> Self {
        let command = RoleFields::augment_args(clap::Command::new("role"));
        let matches = command
            .try_get_matches_from(["role"])
            .expect("no role flag is required");
        RoleFields::from_arg_matches(&matches).expect("the defaults parse")
    }
}

/// A tag on the role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value, possibly empty.
    pub value: String,
}

/// `KEY=VALUE`, split at the first `=`.
fn parse_tag(value: &str) -> Result<Tag, String> {
    match value.split_once('=') {
        Some((key, value)) => Ok(Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        }),
        None => Err(format!(
            "write the tag as KEY=VALUE (e.g. team=platform), not {value:?}"
        )),
    }
}

/// A spec's `tags:` mapping, whose keys are all different: YAML forbids duplicate keys, and a
/// kept last value would hide the first.
fn tag_map<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<Tag>, D::Error> {
    struct Unique;
    impl<'de> serde::de::Visitor<'de> for Unique {
        type Value = Vec<Tag>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a mapping of strings")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut values = BTreeMap::new();
            while let Some((key, value)) = map.next_entry::<String, String>()? {
                if values.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!(
                        "tags: duplicate key {}",
                        bounded::quoted(&key)
                    )));
                }
                values.insert(key, value);
            }
            Ok(values
                .into_iter()
                .map(|(key, value)| Tag { key, value })
                .collect())
        }
    }
    deserializer.deserialize_map(Unique)
}

impl RoleFields {
    /// Whether any field says which tokens the role admits (beyond the issuer and org).
    pub fn names_tokens(&self) -> bool {
        ![
            &self.envs,
            &self.deploy,
            &self.root_envs,
            &self.users,
            &self.audiences,
            &self.subjects,
        ]
        .iter()
        .all(|values| values.is_empty())
            || !self.deploy_operations.is_empty()
            || !self.subject_attributes.is_empty()
            || !self.ci.given().is_empty()
    }

    /// Whether the role lists none of the workloads that may assume it. On the command line that
    /// means every ESC environment of the org; a spec of many roles must say it.
    pub fn names_no_workloads(&self) -> bool {
        [&self.envs, &self.deploy, &self.audiences, &self.subjects]
            .iter()
            .all(|values| values.is_empty())
            && self.ci.given().is_empty()
    }
}

/// The fields of a spec's role (`name`, `envs`, ..., and each CI system's): the ids of a role's
/// flags, which `--config` replaces.
pub fn field_ids() -> Vec<String> {
    let command = RoleFields::augment_args(clap::Command::new("role"));
    let mut ids: Vec<String> = command
        .get_arguments()
        .map(|arg| arg.get_id().as_str())
        .filter(|id| ci_system(id).is_none())
        .map(str::to_owned)
        .collect();
    ids.extend(
        issuers::CI_SYSTEMS
            .iter()
            .map(|system| (*system).to_owned()),
    );
    // The name first, as a spec writes it.
    ids.sort_by_key(|id| id != "name");
    ids
}

/// Each flag of a role and the spec field it is, e.g. `("--policy-arn", "policy_arns")` and
/// `("--github-ref", "github.refs")`, longest flag first so that a flag is never taken for the
/// start of a longer one.
pub fn flag_fields() -> Vec<(String, String)> {
    let command = RoleFields::augment_args(clap::Command::new("role"));
    let mut pairs: Vec<(String, String)> = command
        .get_arguments()
        .filter_map(|arg| {
            let long = arg.get_long()?;
            let id = arg.get_id().as_str();
            let field = match ci_system(id) {
                Some(system) => format!("{system}.{}", &id[system.len() + 1..]),
                None => id.to_owned(),
            };
            Some((format!("--{long}"), field))
        })
        .collect();
    pairs.sort_by_key(|(flag, _)| std::cmp::Reverse(flag.len()));
    pairs
}

/// The CI system whose flag has the clap id `id` (ids are `<system>_<field>`).
fn ci_system(id: &str) -> Option<&'static str> {
    issuers::CI_SYSTEMS.iter().copied().find(|system| {
        id.strip_prefix(system)
            .is_some_and(|rest| rest.starts_with('_'))
    })
}

/// The command line's flag for the field a check names: a role's (`envs` -> `--env`,
/// `github.refs` -> `--github-ref`), else the field with dashes (`account_id` -> `--account-id`).
/// A flag stays as it is.
pub fn flag_of(field: &str) -> String {
    if field.starts_with("--") {
        return field.to_owned();
    }
    flag_fields()
        .into_iter()
        .find(|(_, name)| name == field)
        .map_or_else(
            || format!("--{}", field.replace('_', "-")),
            |(flag, _)| flag,
        )
}

/// The spec-wide fields that are flags on the command line (the same name, with dashes).
pub const SPEC_WIDE: [&str; 5] = [
    "org",
    "issuer",
    "partition",
    "trust_policy_quota",
    "templates",
];

/// `text` told in a spec's field names: each role flag becomes its field, each spec-wide flag its
/// top-level field.
pub fn with_fields(text: &str) -> String {
    let mut table = flag_fields();
    table.extend(SPEC_WIDE.iter().map(|field| {
        (
            format!("--{}", field.replace('_', "-")),
            (*field).to_owned(),
        )
    }));
    table.sort_by_key(|(flag, _)| std::cmp::Reverse(flag.len()));
    let mut out = text.to_owned();
    for (flag, field) in &table {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(flag.as_str()) {
            let after = rest[at + flag.len()..].chars().next();
            let whole = !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
            result.push_str(&rest[..at]);
            result.push_str(if whole { field } else { flag });
            rest = &rest[at + flag.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declaration_is_well_formed() {
        RoleFields::augment_args(clap::Command::new("role")).debug_assert();
    }

    #[test]
    fn fields_name_their_flags() {
        for (field, flag) in [
            ("envs", "--env"),
            ("name", "--role-name"),
            ("path", "--role-path"),
            ("github.repos", "--github"),
            ("hcp_terraform.run_phases", "--hcp-run-phase"),
            ("account_id", "--account-id"),
            ("--token", "--token"),
        ] {
            assert_eq!(flag_of(field), flag);
        }
    }

    #[test]
    fn flags_become_fields() {
        assert_eq!(
            with_fields(
                "--deploy-operation narrows --deploy; name --env or --subject-attribute x, --role-path, \
                 --github-ref, --github, --org, --trust-policy-quota"
            ),
            "deploy_operations narrows deploy; name envs or subject_attributes x, path, github.refs, \
             github.repos, org, trust_policy_quota"
        );
    }

    /// Every flag's field, written in a spec's role, is read into the same value the flag gives:
    /// the table between them cannot name a field that does not exist.
    #[test]
    fn every_flag_is_its_field() {
        let command = RoleFields::augment_args(clap::Command::new("role"));
        for arg in command.get_arguments() {
            let long = arg.get_long().expect("every role flag is long");
            let id = arg.get_id().as_str();
            let (flag_value, yaml_value) = match arg.get_action() {
                clap::ArgAction::SetTrue => (None, "true".to_owned()),
                clap::ArgAction::Append => (Some(sample(arg)), format!("[{:?}]", sample(arg))),
                _ => (Some(sample(arg)), format!("{:?}", sample(arg))),
            };
            // A flag that needs another is given with it.
            let (extra_flags, extra_field) = match id {
                "github_default_subject" => (
                    vec!["--github-subject-claim", "repo"],
                    ", subject_claims: [repo]",
                ),
                "circleci_projects" => (vec!["--circleci", "x"], ", org: x"),
                _ => (vec![], ""),
            };
            let yaml = match ci_system(id) {
                Some(system) => {
                    format!(
                        "{system}: {{{}: {yaml_value}{extra_field}}}",
                        &id[system.len() + 1..]
                    )
                }
                None if id == "tags" => "tags: {k: v}".to_owned(),
                None => format!("{id}: {yaml_value}"),
            };
            let from_spec: RoleFields =
                serde_yaml::from_str(&yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
            let mut argv = vec!["role".to_owned(), format!("--{long}")];
            argv.extend(flag_value);
            argv.extend(extra_flags.into_iter().map(str::to_owned));
            let matches = RoleFields::augment_args(clap::Command::new("role"))
                .try_get_matches_from(&argv)
                .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
            let from_flags = RoleFields::from_arg_matches(&matches).unwrap();
            assert_eq!(from_spec, from_flags, "{yaml} and {argv:?}");
            assert_ne!(
                from_flags,
                RoleFields::default(),
                "{argv:?} changes nothing"
            );
        }
    }

    /// A value the flag takes.
    fn sample(arg: &clap::Arg) -> String {
        match arg.get_id().as_str() {
            "tags" => "k=v".to_owned(),
            _ => arg
                .get_possible_values()
                .first()
                .map_or("x".to_owned(), |v| v.get_name().to_owned()),
        }
    }

    #[test]
    fn the_spec_knows_every_role_field() {
        let ids = field_ids();
        for id in [
            "name",
            "envs",
            "policy_arns",
            "path",
            "tags",
            "github",
            "circleci",
        ] {
            assert!(ids.iter().any(|i| i == id), "{id}");
        }
        assert!(!ids.iter().any(|id| id.starts_with("github_")));
    }
}
