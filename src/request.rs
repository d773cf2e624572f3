//! What the user asked for, checked: every value that ends up in a generated file is validated
//! here first, against the rules of AWS IAM, Pulumi ESC and the issuer's tokens, and the usage
//! rules between options are stated once.

use std::path::PathBuf;

use crate::claims::{self, Attribute, Claims, Operation, Pulumi, Trust};
use crate::error::{Error, Result};
use crate::issuer::{Issuer, PULUMI_CLOUD};
use crate::issuers;
use crate::policy;
use crate::role::RoleFields;
use crate::thumbprint::MAX_THUMBPRINTS;

/// The role name used when `--role-name` is not given.
pub const DEFAULT_ROLE_NAME: &str = "pulumi-esc-oidc";
pub use crate::role::{DEFAULT_DURATION, DEFAULT_SESSION_NAME, Tag};

/// IAM's default limit on a role trust policy's size, in characters without whitespace.
pub const DEFAULT_TRUST_POLICY_QUOTA: usize = 2048;
/// The highest that limit can be raised to.
pub const MAX_TRUST_POLICY_QUOTA: usize = 4096;
/// Managed policies a role can have attached by default, and at most with a raised quota.
pub const POLICY_ATTACHMENTS: (usize, usize) = (10, 20);
/// Session policies STS accepts in one `AssumeRoleWithWebIdentity` call.
pub const MAX_SESSION_POLICIES: usize = 10;

/// The shortest web-identity session STS grants, in seconds.
const MIN_SESSION_SECONDS: u32 = 900;
/// The range of an IAM role's `MaxSessionDuration`, in seconds.
pub(crate) const ROLE_MAX_SESSION_RANGE: (u32, u32) = (3600, 43200);
/// Tags IAM takes on one role.
const MAX_TAGS: usize = 50;
/// The account id that stands in for an unknown one where its length matters (the size check).
const LONGEST_ACCOUNT: &str = "000000000000";

/// The AWS partition the account is in; every ARN oidc-gen builds names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(into = "&'static str")]
pub enum Partition {
    /// The commercial regions.
    #[default]
    Aws,
    /// AWS GovCloud (US).
    AwsUsGov,
    /// The China regions.
    AwsCn,
}

impl Partition {
    /// Every partition, as `--partition` lists them.
    pub const ALL: [Partition; 3] = [Partition::Aws, Partition::AwsUsGov, Partition::AwsCn];

    /// The name in ARNs, e.g. `aws-us-gov`.
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsUsGov => "aws-us-gov",
            Partition::AwsCn => "aws-cn",
        }
    }

    /// The partition called `name`.
    pub fn parse(name: &str) -> Option<Partition> {
        Partition::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl From<Partition> for &'static str {
    fn from(partition: Partition) -> Self {
        partition.as_str()
    }
}

/// Where the provider's thumbprints come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThumbprintChoice {
    /// Computed live from the issuer's TLS chain.
    Live,
    /// Given on the command line (`--thumbprint`); no network is used.
    Given(Vec<String>),
    /// Left out (`--no-thumbprint`): IAM then checks the issuer's chain against its trusted CAs.
    Omit,
}

/// What the user asked for, as given and not yet checked: one role, its issuer, and where it
/// goes.
#[derive(Debug, Clone)]
pub struct Request {
    /// The role's fields (flags, or a spec's role).
    pub role: RoleFields,
    /// The OIDC issuer URL; none for the CI system's own, or Pulumi Cloud's.
    pub issuer: Option<String>,
    /// The Pulumi organization; not used with another issuer.
    pub org: Option<String>,
    /// The partition of every ARN.
    pub partition: Partition,
    /// The AWS account that will hold the role, needed for the role ARN in ESC and Deployments.
    pub account_id: Option<String>,
    /// Where thumbprints come from.
    pub thumbprints: ThumbprintChoice,
    /// Trust the account's existing OIDC provider for the issuer instead of creating one.
    pub existing_provider: bool,
    /// The account's limit on a trust policy's size (2048 unless the quota was raised).
    pub trust_policy_quota: usize,
    /// A folder of templates tried before the built-in ones.
    pub templates: Option<PathBuf>,
}

impl Default for Request {
    /// No role flag, Pulumi Cloud's issuer, thumbprints computed live.
    fn default() -> Self {
        Request {
            role: RoleFields::default(),
            issuer: None,
            org: None,
            partition: Partition::Aws,
            account_id: None,
            thumbprints: ThumbprintChoice::Live,
            existing_provider: false,
            trust_policy_quota: DEFAULT_TRUST_POLICY_QUOTA,
            templates: None,
        }
    }
}

/// Who may assume the role, checked: the issuer, the trust model and the statements it makes.
#[derive(Debug, Clone)]
pub struct TrustInputs {
    /// The issuer.
    pub issuer: Issuer,
    /// The partition of the provider's ARN.
    pub partition: Partition,
    /// Whose tokens the role admits.
    pub trust: Trust,
    /// The statements and client IDs.
    pub claims: Claims,
    /// What the user should know about how the values were read.
    pub notes: Vec<String>,
}

/// A request whose every value has been checked.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// Who may assume the role.
    pub trust: TrustInputs,
    pub(crate) role_name: String,
    pub(crate) account_id: Option<String>,
    pub(crate) policy_arns: Vec<String>,
    pub(crate) role_path: String,
    pub(crate) permissions_boundary: Option<String>,
    pub(crate) tags: Vec<Tag>,
    pub(crate) max_session_seconds: u32,
    pub(crate) max_session_given: Option<String>,
    pub(crate) session_policy_arns: Vec<String>,
    pub(crate) duration: String,
    pub(crate) session_name: String,
    pub(crate) esc_environment: Option<String>,
    /// Where thumbprints come from; given ones are lowercase, unique and at most five. Always
    /// `Omit` with an existing provider, which oidc-gen does not write.
    pub thumbprints: ThumbprintChoice,
    pub(crate) existing_provider: bool,
    pub(crate) trust_policy_quota: usize,
    pub(crate) templates: Option<PathBuf>,
}

impl Request {
    /// The issuer URL: the one given, else the CI system's, else Pulumi Cloud's.
    pub fn issuer_url(&self) -> String {
        self.issuer
            .clone()
            .unwrap_or_else(|| match self.role.ci.given().first() {
                Some(system) => system.default_issuer(),
                None => PULUMI_CLOUD.into(),
            })
    }

    /// The role's name: the one given, else the CI system's default, else Pulumi's.
    pub fn role_name(&self) -> String {
        self.role
            .name
            .clone()
            .unwrap_or_else(|| match self.role.ci.given().first() {
                Some(system) => system.preset.role_name.into(),
                None => DEFAULT_ROLE_NAME.into(),
            })
    }

    /// Checks the issuer and the workloads, and builds the statements.
    pub fn trust(&self) -> Result<TrustInputs> {
        let issuer = Issuer::parse(&self.issuer_url())?;
        let mut notes = Vec::new();
        let role = &self.role;
        let generic = !role.audiences.is_empty() || !role.subjects.is_empty();
        let trust = if !role.ci.given().is_empty() {
            self.ci(&issuer, &mut notes)?
        } else if generic {
            self.generic()?
        } else {
            if let Some(known) = issuers::find(&issuer).filter(|preset| preset.id != "pulumi") {
                let flags = match known.id {
                    "github" => "--github OWNER/REPO (and --github-ref, --github-environment ...)"
                        .to_owned(),
                    _ => format!(
                        "--audience and --subject (for example --audience {} --subject '{}')",
                        known.example_audience, known.example_subject
                    ),
                };
                return Err(Error::Usage(format!(
                    "{issuer} is the issuer of {}, not of Pulumi Cloud (oidc-gen issuers describes its tokens). \
                     Say which tokens the role admits with {flags}",
                    known.name
                )));
            }
            if !issuer.is_pulumi_cloud() {
                notes.push(format!(
                    "{issuer} is taken as a self-hosted Pulumi Cloud issuer: the role admits Pulumi's token shapes \
                     with the condition keys {} and {}. For another issuer, pass --audience and --subject",
                    issuer.condition_key("aud"),
                    issuer.condition_key("sub")
                ));
            }
            Trust::Pulumi(self.pulumi()?)
        };
        let claims = claims::claims(&issuer, &trust);
        notes.extend(claims.notes.iter().cloned());
        Ok(TrustInputs {
            issuer,
            partition: self.partition,
            trust,
            claims,
            notes,
        })
    }

    /// The Pulumi flags given, by name.
    fn pulumi_flags(&self) -> [(&'static str, bool); 7] {
        [
            ("--org", self.org.is_some()),
            ("--env", !self.role.envs.is_empty()),
            ("--deploy", !self.role.deploy.is_empty()),
            (
                "--deploy-operation",
                !self.role.deploy_operations.is_empty(),
            ),
            (
                "--subject-attribute",
                !self.role.subject_attributes.is_empty(),
            ),
            ("--root-env", !self.role.root_envs.is_empty()),
            ("--user", !self.role.users.is_empty()),
        ]
    }

    fn ci(&self, issuer: &Issuer, notes: &mut Vec<String>) -> Result<Trust> {
        let others = self.pulumi_flags().into_iter().chain([
            ("--audience", !self.role.audiences.is_empty()),
            ("--subject", !self.role.subjects.is_empty()),
        ]);
        if let Some((flag, _)) = others.into_iter().find(|(_, given)| *given) {
            return Err(Error::Usage(format!(
                "{flag} describes another issuer's tokens than the CI system's flags; a role trusts one issuer: \
                 use one or the other"
            )));
        }
        let [system] = self.role.ci.given()[..] else {
            return Err(Error::Usage(
                "the flags name workloads of more than one CI system; a role trusts one issuer: give each CI \
                 system its own role (a spec file holds many)"
                    .into(),
            ));
        };
        Ok(Trust::Ci(system.validate(issuer, notes)?))
    }

    fn generic(&self) -> Result<Trust> {
        if self.role.audiences.is_empty() || self.role.subjects.is_empty() {
            return Err(Error::Usage(
                "--audience and --subject go together: name the audiences and the subjects the role admits".into(),
            ));
        }
        if let Some((flag, _)) = self.pulumi_flags().iter().find(|(_, given)| *given) {
            return Err(Error::Usage(format!(
                "{flag} describes Pulumi Cloud's tokens, but --audience and --subject describe another issuer's; \
                 use one or the other"
            )));
        }
        for audience in &self.role.audiences {
            validate_claim_value("audiences", audience)?;
            if policy::is_pattern(audience) {
                return Err(Error::invalid(
                    "audiences",
                    audience,
                    "an audience is compared exactly (StringEquals); remove '*' and '?'",
                ));
            }
        }
        for subject in &self.role.subjects {
            validate_claim_value("subjects", subject)?;
            if subject.chars().all(|c| c == '*' || c == '?') {
                return Err(Error::invalid(
                    "subjects",
                    subject,
                    "it admits every subject: every repository, project or pipeline of everyone who can get a \
                     token from the issuer, and AWS refuses such trust policies for shared issuers; name the subjects \
                     (for GitHub Actions: repo:OWNER/REPO:ref:refs/heads/main)",
                ));
            }
        }
        Ok(Trust::Generic {
            audiences: policy::dedup(self.role.audiences.clone()),
            subjects: policy::dedup(self.role.subjects.clone()),
        })
    }

    fn pulumi(&self) -> Result<Pulumi> {
        let Some(org) = &self.org else {
            return Err(Error::Usage(
                "--org is required: the Pulumi organization whose tokens the role admits (for another issuer, \
                 pass --audience and --subject instead)"
                    .into(),
            ));
        };
        validate_org(org)?;
        for env in &self.role.envs {
            validate_env("envs", env)?;
        }
        for env in &self.role.root_envs {
            validate_env("root_envs", env)?;
        }
        for stack in &self.role.deploy {
            validate_stack(stack)?;
        }
        for user in &self.role.users {
            validate_user(user)?;
        }
        if !self.role.deploy_operations.is_empty() && self.role.deploy.is_empty() {
            return Err(Error::Usage(
                "--deploy-operation narrows --deploy; name the stacks with --deploy PROJECT/STACK"
                    .into(),
            ));
        }
        let attributes = &self.role.subject_attributes;
        if let Some(repeated) = attributes
            .iter()
            .enumerate()
            .find(|(i, a)| attributes[..*i].contains(a))
        {
            return Err(Error::Usage(format!(
                "--subject-attribute {} is given twice; ESC lists each attribute once",
                repeated.1.as_str()
            )));
        }
        let needs = [
            (
                "--root-env",
                !self.role.root_envs.is_empty(),
                Attribute::RootEnvironment,
            ),
            ("--user", !self.role.users.is_empty(), Attribute::UserLogin),
        ];
        for (flag, given, attribute) in needs {
            if given && !attributes.contains(&attribute) {
                return Err(Error::Usage(format!(
                    "{flag} is matched in the subject ESC builds with --subject-attribute {}; add that attribute",
                    attribute.as_str()
                )));
            }
        }
        if !attributes.is_empty()
            && !self.role.envs.is_empty()
            && !attributes.contains(&Attribute::CurrentEnvironment)
        {
            return Err(Error::Usage(
                "with --subject-attribute, --env is matched through currentEnvironment.name; add \
                 --subject-attribute currentEnvironment.name, or drop --env"
                    .into(),
            ));
        }
        let mut operations = self.role.deploy_operations.clone();
        operations.sort();
        operations.dedup();
        if operations.is_empty() {
            operations = Operation::ALL.to_vec();
        }
        Ok(Pulumi {
            org: org.clone(),
            envs: policy::dedup(self.role.envs.clone()),
            deploy: policy::dedup(self.role.deploy.clone()),
            operations,
            subject_attributes: attributes.clone(),
            root_envs: policy::dedup(self.role.root_envs.clone()),
            users: policy::dedup(self.role.users.clone()),
        })
    }
}

impl TrustInputs {
    /// The ARN IAM gives the issuer's provider in `account`.
    pub fn provider_arn(&self, account: &str) -> String {
        format!(
            "arn:{}:iam::{account}:oidc-provider/{}",
            self.partition.as_str(),
            self.issuer.host_path()
        )
    }

    /// The trust policy document with the provider of `account` (the longest possible ARN when
    /// the account is not known).
    pub fn trust_policy(&self, account: Option<&str>) -> serde_json::Value {
        let provider = self.provider_arn(account.unwrap_or(LONGEST_ACCOUNT));
        policy::trust_policy(&self.claims.statements, &provider)
    }

    /// Whether a statement admits the token with `aud` and `sub` (and no other claim).
    pub fn admits(&self, aud: &str, sub: &str) -> bool {
        let claims = [
            (self.issuer.condition_key("aud"), aud),
            (self.issuer.condition_key("sub"), sub),
        ];
        self.claims.statements.iter().any(|s| s.admits(&claims))
    }

    /// The Pulumi workloads, when the issuer is Pulumi Cloud's.
    pub fn pulumi(&self) -> Option<&Pulumi> {
        match &self.trust {
            Trust::Pulumi(pulumi) => Some(pulumi),
            Trust::Ci(_) | Trust::Generic { .. } => None,
        }
    }
}

impl Request {
    /// Checks every value, reporting the first that is invalid.
    pub fn validate(self) -> Result<Inputs> {
        let trust = self.trust()?;
        let role_name = self.role_name();
        validate_iam_name("name", &role_name, 1, 64)?;
        if let Some(account) = &self.account_id {
            validate_account_id(account)?;
        }
        if let Some(dir) = &self.templates {
            if !dir.is_dir() {
                return Err(Error::invalid(
                    "templates",
                    &dir.display().to_string(),
                    "it is not a folder; give a folder laid out like templates/ (e.g. terraform/main.tf.j2), \
                     or leave --templates out to use the built-in templates",
                ));
            }
        }
        let partition = trust.partition;
        for arn in &self.role.policy_arns {
            validate_policy_arn("policy_arns", arn, partition)?;
        }
        for arn in &self.role.session_policy_arns {
            validate_policy_arn("session_policy_arns", arn, partition)?;
        }
        let role_path = match self.role.path.clone() {
            Some(path) => validate_role_path(path)?,
            None => "/".to_owned(),
        };
        if let Some(arn) = &self.role.permissions_boundary {
            validate_policy_arn("permissions_boundary", arn, partition)?;
        }
        let tags = validate_tags(self.role.tags.clone())?;
        if let Some(env) = &self.role.esc_environment {
            let what = "esc_environment";
            let Some(pulumi) = trust.pulumi() else {
                return Err(Error::Usage(
                    "--esc-environment creates an ESC environment that logs in with Pulumi Cloud's tokens; this role \
                     trusts another issuer"
                        .into(),
                ));
            };
            validate_env(what, env)?;
            if !env.contains('/') || env.starts_with("default/") || policy::is_pattern(env) {
                return Err(Error::invalid(
                    what,
                    env,
                    "name one environment of a named project, PROJECT/ENV, without wildcards",
                ));
            }
            if !pulumi.subject_attributes.is_empty() {
                return Err(Error::Usage(
                    "--esc-environment writes ESC's default subject; with --subject-attribute, create the environment \
                     from esc/environment.yaml instead"
                        .into(),
                ));
            }
            let sub = format!("pulumi:environments:org:{}:env:{env}", pulumi.org);
            if !trust.admits(&format!("aws:{}", pulumi.org), &sub) {
                return Err(Error::invalid(
                    what,
                    env,
                    "the role does not admit this environment's tokens; add it with --env",
                ));
            }
        }
        let pulumi = trust.pulumi();
        if !self.role.session_policy_arns.is_empty() && pulumi.is_none() {
            return Err(Error::Usage(
                "--session-policy-arn goes to Pulumi ESC and Deployments, which assume the role for Pulumi Cloud's \
                 tokens; another issuer's clients pass session policies themselves"
                    .into(),
            ));
        }
        let duration_seconds = parse_duration("duration", &self.role.duration)?;
        let max_session_seconds = match &self.role.max_session_duration {
            Some(given) => {
                let seconds = parse_duration("max_session_duration", given)?;
                if seconds < ROLE_MAX_SESSION_RANGE.0 || seconds < duration_seconds {
                    return Err(Error::invalid(
                        "max_session_duration",
                        given,
                        format!(
                            "IAM takes 1h to 12h, and ESC and Deployments ask for --duration {}; give at least \
                             the larger of the two",
                            self.role.duration
                        ),
                    ));
                }
                seconds
            }
            None => duration_seconds.max(ROLE_MAX_SESSION_RANGE.0),
        };
        validate_iam_name("session_name", &self.role.session_name, 2, 64)?;
        let thumbprints = match self.thumbprints {
            _ if self.existing_provider => ThumbprintChoice::Omit,
            ThumbprintChoice::Given(given) => {
                ThumbprintChoice::Given(normalize_thumbprints(&given)?)
            }
            other => other,
        };
        if self.role.policy_arns.len() > POLICY_ATTACHMENTS.1 {
            return Err(Error::Limit(format!(
                "{} --policy-arn values, but IAM attaches at most {} managed policies to a role (10 unless the \
                 quota was raised); combine them into fewer policies",
                self.role.policy_arns.len(),
                POLICY_ATTACHMENTS.1
            )));
        }
        let session_policy_arns = policy::dedup(self.role.session_policy_arns.clone());
        if session_policy_arns.len() > MAX_SESSION_POLICIES {
            return Err(Error::Limit(format!(
                "{} --session-policy-arn values, but STS takes at most {MAX_SESSION_POLICIES} session policies; \
                 combine them into fewer policies",
                session_policy_arns.len()
            )));
        }
        if !(DEFAULT_TRUST_POLICY_QUOTA..=MAX_TRUST_POLICY_QUOTA).contains(&self.trust_policy_quota)
        {
            return Err(Error::invalid(
                "trust_policy_quota",
                &self.trust_policy_quota.to_string(),
                format!(
                    "IAM's limit is {DEFAULT_TRUST_POLICY_QUOTA}, or up to {MAX_TRUST_POLICY_QUOTA} when raised"
                ),
            ));
        }
        let inputs = Inputs {
            trust,
            role_name,
            account_id: self.account_id,
            policy_arns: policy::dedup(self.role.policy_arns.clone()),
            role_path,
            permissions_boundary: self.role.permissions_boundary.clone(),
            tags,
            max_session_seconds,
            max_session_given: self.role.max_session_duration.clone(),
            session_policy_arns,
            duration: self.role.duration.clone(),
            session_name: self.role.session_name.clone(),
            esc_environment: self.role.esc_environment.clone(),
            thumbprints,
            existing_provider: self.existing_provider,
            trust_policy_quota: self.trust_policy_quota,
            templates: self.templates,
        };
        check_trust_policy_size(
            inputs.trust_policy_size(),
            inputs.trust.claims.statements.len(),
            inputs.trust_policy_quota,
        )?;
        Ok(inputs)
    }
}

impl Inputs {
    /// The role's name.
    pub fn role_name(&self) -> &str {
        &self.role_name
    }

    /// The user's template folder, if any.
    pub fn templates(&self) -> Option<&std::path::Path> {
        self.templates.as_deref()
    }

    /// Whether an AWS account id was given (the ESC environment needs one).
    pub fn has_account_id(&self) -> bool {
        self.account_id.is_some()
    }

    /// How many managed policies the role gets.
    pub fn policy_count(&self) -> usize {
        self.policy_arns.len()
    }

    /// Whether the role trusts an existing provider rather than one oidc-gen creates.
    pub fn uses_existing_provider(&self) -> bool {
        self.existing_provider
    }

    /// Whether the role admits ESC tokens, so that an ESC environment can use it.
    pub fn admits_esc(&self) -> bool {
        self.trust.pulumi().is_some_and(Pulumi::admits_esc)
    }

    /// The CI system whose tokens the role admits, if any.
    pub fn ci(&self) -> Option<&issuers::Ci> {
        match &self.trust.trust {
            Trust::Ci(ci) => Some(ci),
            _ => None,
        }
    }

    /// The role's name when none is given: the CI system's, or Pulumi's.
    pub fn default_role_name(trust: &Trust) -> &'static str {
        match trust {
            Trust::Ci(ci) => ci.preset().role_name,
            _ => DEFAULT_ROLE_NAME,
        }
    }

    /// Whether the role admits Pulumi Deployments tokens.
    pub fn admits_deployments(&self) -> bool {
        self.trust.pulumi().is_some_and(|p| !p.deploy.is_empty())
    }

    /// The role's ARN, when the account is known.
    pub fn role_arn(&self) -> Option<String> {
        self.account_id
            .as_ref()
            .map(|account| self.role_arn_in(account))
    }

    /// The role's ARN in `account`: partition, path and name.
    pub fn role_arn_in(&self, account: &str) -> String {
        format!(
            "arn:{}:iam::{account}:role{}{}",
            self.trust.partition.as_str(),
            self.role_path,
            self.role_name
        )
    }

    /// The trust policy's size as IAM counts it (characters, whitespace excluded), every
    /// statement included, with the longest provider ARN the account id allows.
    pub fn trust_policy_size(&self) -> usize {
        crate::policy::policy_size(&self.trust.trust_policy(self.account_id.as_deref()))
    }

    /// The commands that add the client IDs the tokens carry to an existing provider; harmless
    /// when they are there already.
    pub fn add_client_id_commands(&self) -> Vec<String> {
        let arn = self
            .trust
            .provider_arn(self.account_id.as_deref().unwrap_or("ACCOUNT_ID"));
        self.trust
            .claims
            .client_ids
            .iter()
            .map(|client_id| add_client_id_command(&arn, client_id))
            .collect()
    }
}

/// The aws CLI command that adds `client_id` to the provider `provider_arn`; harmless when it is
/// there already.
pub(crate) fn add_client_id_command(provider_arn: &str, client_id: &str) -> String {
    shell_words::join([
        "aws",
        "iam",
        "add-client-id-to-open-id-connect-provider",
        "--open-id-connect-provider-arn",
        provider_arn,
        "--client-id",
        client_id,
    ])
}

/// Pulumi organization, project and environment names: letters, digits, `-`, `_` and `.`.
fn is_pulumi_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Refuses a trust policy of `size` characters (as IAM counts them) over `quota`.
pub fn check_trust_policy_size(size: usize, statements: usize, quota: usize) -> Result<()> {
    if size <= quota {
        return Ok(());
    }
    let raise = if quota < MAX_TRUST_POLICY_QUOTA {
        format!(
            ", or, if the account's quota was raised, pass --trust-policy-quota {MAX_TRUST_POLICY_QUOTA}"
        )
    } else {
        format!(" ({MAX_TRUST_POLICY_QUOTA} is the most IAM allows after a quota increase)")
    };
    Err(Error::Limit(format!(
        "the role's trust policy would be {size} characters (IAM counts them without whitespace; \
         {statements} statements), over the limit of {quota}; name fewer workloads (environments, stacks, \
         repositories, refs, projects...), or wider ones with '*' (e.g. --env 'project/*', --github-ref \
         'refs/tags/v*'){raise}"
    )))
}

fn validate_org(value: &str) -> Result<()> {
    if value.is_empty() || value.len() > 100 || !value.chars().all(is_pulumi_name_char) {
        return Err(Error::invalid(
            "org",
            value,
            "a Pulumi organization name has 1-100 letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(())
}

/// `project/env`, or `env` alone for the legacy default project; `*` matches any run of characters.
fn validate_env(what: &'static str, value: &str) -> Result<()> {
    let parts: Vec<&str> = value.split('/').collect();
    let well_formed = parts.len() <= 2
        && parts.iter().all(|part| {
            !part.is_empty()
                && part.len() <= 100
                && part.chars().all(|c| is_pulumi_name_char(c) || c == '*')
        });
    if !well_formed {
        return Err(Error::invalid(
            what,
            value,
            "give PROJECT/ENV (or ENV for the legacy default project); names have letters, digits, \
             '-', '_' or '.', and '*' matches any characters",
        ));
    }
    Ok(())
}

/// IAM names (roles, session names): `[\w+=,.@-]` between `min` and `max` characters.
pub(crate) fn validate_iam_name(
    what: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<()> {
    let valid_chars = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-'));
    if !(min..=max).contains(&value.len()) || !valid_chars {
        return Err(Error::invalid(
            what,
            value,
            format!("IAM allows {min}-{max} characters, each a letter, digit or one of _+=,.@-"),
        ));
    }
    Ok(())
}

fn validate_account_id(value: &str) -> Result<()> {
    if value.len() != 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            "account_id",
            value,
            "an AWS account id is exactly 12 digits (aws sts get-caller-identity shows it)",
        ));
    }
    Ok(())
}

/// `arn:<partition>:iam::<aws|account>:policy/<path/name>`, in the role's partition.
fn validate_policy_arn(what: &'static str, value: &str, expected: Partition) -> Result<()> {
    let hint = format!(
        "give a managed policy ARN such as arn:{0}:iam::aws:policy/ReadOnlyAccess or \
         arn:{0}:iam::123456789012:policy/MyPolicy",
        expected.as_str()
    );
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return Err(Error::invalid(what, value, hint));
    };
    if let Some(other) = Partition::parse(partition).filter(|p| *p != expected) {
        return Err(Error::invalid(
            what,
            value,
            format!(
                "it is in the {} partition, but the role is in {} (--partition); write arn:{}:...",
                other.as_str(),
                expected.as_str(),
                expected.as_str()
            ),
        ));
    }
    let partition_ok = Partition::parse(partition).is_some();
    let account_ok =
        account == "aws" || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
    let name = resource.strip_prefix("policy/").unwrap_or_default();
    let name_ok = !name.is_empty()
        && !name.ends_with('/')
        && name.len() <= 512
        && name.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-' | '/')
        });
    if arn != "arn"
        || !partition_ok
        || service != "iam"
        || !region.is_empty()
        || !account_ok
        || !name_ok
    {
        return Err(Error::invalid(what, value, hint));
    }
    Ok(())
}

/// `/` or `/a/b/`: IAM's path syntax, 1-512 printable ASCII characters.
fn validate_role_path(path: String) -> Result<String> {
    let well_formed = path.starts_with('/')
        && path.ends_with('/')
        && path.len() <= 512
        && !path.contains("//")
        && path.bytes().all(|b| (0x21..=0x7e).contains(&b))
        && !path.contains('$');
    if !well_formed {
        return Err(Error::invalid(
            "path",
            &path,
            "an IAM path starts and ends with '/' (e.g. /pulumi/), has up to 512 printable characters and no \
             spaces or '$'",
        ));
    }
    Ok(path)
}

/// IAM's tag rules: at most 50, keys 1-128 and values 0-256 characters of letters, digits,
/// spaces and `_.:/=+-@`, keys unique and not starting with `aws:`. Sorted by key.
fn validate_tags(given: Vec<Tag>) -> Result<Vec<Tag>> {
    let allowed = |text: &str| {
        text.chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
    };
    let mut tags: Vec<Tag> = Vec::new();
    for Tag { key, value } in given {
        let shown = format!("{key}={value}");
        if key.is_empty() || key.chars().count() > 128 || !allowed(&key) {
            return Err(Error::invalid(
                "tags",
                &shown,
                "a tag key has 1-128 letters, digits, spaces or _.:/=+-@; write KEY=VALUE",
            ));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(Error::invalid(
                "tags",
                &shown,
                "keys starting with aws: are reserved for AWS",
            ));
        }
        if value.chars().count() > 256 || !allowed(&value) {
            return Err(Error::invalid(
                "tags",
                &shown,
                "a tag value has up to 256 letters, digits, spaces or _.:/=+-@",
            ));
        }
        if tags.iter().any(|tag| tag.key == key) {
            return Err(Error::invalid(
                "tags",
                &shown,
                "the key is given twice; a role has one value per tag key",
            ));
        }
        tags.push(Tag { key, value });
    }
    if tags.len() > MAX_TAGS {
        return Err(Error::Limit(format!(
            "{} tags, but IAM takes at most {MAX_TAGS} on a role",
            tags.len()
        )));
    }
    tags.sort();
    Ok(tags)
}

/// Parses ESC's duration syntax (`^([0-9]+h)?([0-9]+m)?([0-9]+s)?$`) into seconds, within STS's range.
fn parse_duration(what: &'static str, value: &str) -> Result<u32> {
    let (min, max) = (MIN_SESSION_SECONDS, ROLE_MAX_SESSION_RANGE.1);
    let bad = || {
        Error::invalid(
            what,
            value,
            "write hours, minutes and seconds such as 1h, 1h30m or 45m, between 15m and 12h",
        )
    };
    let mut seconds: u64 = 0;
    let mut rest = value;
    for (unit, factor) in [('h', 3600), ('m', 60), ('s', 1)] {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(unit) {
            let amount: u64 = rest[..digits].parse().map_err(|_| bad())?;
            seconds = seconds.saturating_add(amount.saturating_mul(factor));
            rest = &rest[digits + 1..];
        }
    }
    if value.is_empty() || !rest.is_empty() {
        return Err(bad());
    }
    match u32::try_from(seconds) {
        Ok(s) if (min..=max).contains(&s) => Ok(s),
        _ => Err(bad()),
    }
}

pub(crate) fn normalize_thumbprints(given: &[String]) -> Result<Vec<String>> {
    let mut thumbprints = Vec::new();
    for value in given {
        if value.len() != 40 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::invalid(
                "thumbprint",
                value,
                "a thumbprint is the SHA-1 of a certificate: 40 hex digits (oidc-gen thumbprint prints it)",
            ));
        }
        thumbprints.push(value.to_ascii_lowercase());
    }
    let thumbprints = policy::dedup(thumbprints);
    if thumbprints.len() > MAX_THUMBPRINTS {
        return Err(Error::invalid(
            "thumbprint",
            &thumbprints.join(","),
            format!("IAM accepts at most {MAX_THUMBPRINTS} thumbprints per provider; give fewer"),
        ));
    }
    Ok(thumbprints)
}

/// `project/stack` for Pulumi Deployments; `*` matches any characters in either part.
fn validate_stack(value: &str) -> Result<()> {
    let well_formed = value.split_once('/').is_some_and(|(project, stack)| {
        [project, stack].iter().all(|part| {
            !part.is_empty()
                && part.len() <= 100
                && part.chars().all(|c| is_pulumi_name_char(c) || c == '*')
        })
    });
    if !well_formed {
        return Err(Error::invalid(
            "deploy",
            value,
            "give PROJECT/STACK (e.g. infra/prod); names have letters, digits, '-', '_' or '.', and '*' \
             matches any characters",
        ));
    }
    Ok(())
}

/// A Pulumi user login, or a pattern of them.
fn validate_user(value: &str) -> Result<()> {
    if value.is_empty()
        || value.len() > 100
        || !value.chars().all(|c| is_pulumi_name_char(c) || c == '*')
    {
        return Err(Error::invalid(
            "users",
            value,
            "a Pulumi user login has letters, digits, '-', '_' or '.'; '*' matches any characters",
        ));
    }
    Ok(())
}

/// Another issuer's audience or subject: printable ASCII without spaces, and no `$`, which IAM
/// would read as the start of a policy variable.
fn validate_claim_value(what: &'static str, value: &str) -> Result<()> {
    if value.is_empty()
        || value.len() > 1000
        || !value.chars().all(|c| c.is_ascii_graphic() && c != '$')
    {
        return Err(Error::invalid(
            what,
            value,
            "give the claim as the issuer writes it: 1-1000 printable characters without spaces or '$'",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::{Attribute, Operation};

    pub(crate) fn request() -> Request {
        Request {
            org: Some("acme".into()),
            thumbprints: ThumbprintChoice::Omit,
            ..Request::default()
        }
    }

    #[test]
    fn durations() {
        let cases = [
            ("1h", Some(3600)),
            ("15m", Some(900)),
            ("1h30m", Some(5400)),
            ("1h0m30s", Some(3630)),
            ("12h", Some(43200)),
            ("3600s", Some(3600)),
            ("12h1s", None),
            ("14m59s", None),
            ("", None),
            ("1", None),
            ("h", None),
            ("1m1h", None),
            ("1h ", None),
            ("99999999999999999999h", None),
            ("-1h", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_duration("duration", input).ok(),
                expected,
                "duration {input:?}"
            );
        }
    }

    #[test]
    fn names_and_arns() {
        assert!(validate_iam_name("name", "a", 1, 64).is_ok());
        assert!(validate_iam_name("name", &"a".repeat(64), 1, 64).is_ok());
        assert!(validate_iam_name("name", &"a".repeat(65), 1, 64).is_err());
        assert!(validate_iam_name("name", "has space", 1, 64).is_err());
        assert!(validate_iam_name("name", "a${b}", 1, 64).is_err());
        assert!(validate_iam_name("session_name", "x", 2, 64).is_err());
        assert!(validate_org("acme-corp_1.x").is_ok());
        assert!(validate_org("acme/corp").is_err());
        assert!(validate_org("").is_err());
        assert!(validate_env("envs", "proj/dev").is_ok());
        assert!(validate_env("envs", "dev").is_ok());
        assert!(validate_env("envs", "proj/*").is_ok());
        assert!(validate_env("envs", "a/b/c").is_err());
        assert!(validate_env("envs", "proj/").is_err());
        assert!(validate_env("envs", "proj/${x}").is_err());
        assert!(validate_stack("infra/prod").is_ok());
        assert!(validate_stack("*/prod").is_ok());
        assert!(validate_stack("infra").is_err());
        assert!(validate_stack("a/b/c").is_err());
        assert!(validate_user("bot-*").is_ok());
        assert!(validate_user("a b").is_err());
        assert!(validate_claim_value("subjects", "repo:o/r:ref:refs/heads/main").is_ok());
        assert!(validate_claim_value("subjects", "a b").is_err());
        assert!(validate_claim_value("subjects", "${aws:username}").is_err());
        assert!(validate_account_id("123456789012").is_ok());
        assert!(validate_account_id("12345678901").is_err());
        assert!(validate_account_id("12345678901x").is_err());
        for (ok, partition) in [
            ("arn:aws:iam::aws:policy/ReadOnlyAccess", Partition::Aws),
            (
                "arn:aws:iam::123456789012:policy/team/MyPolicy",
                Partition::Aws,
            ),
            (
                "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess",
                Partition::AwsUsGov,
            ),
        ] {
            assert!(
                validate_policy_arn("policy_arns", ok, partition).is_ok(),
                "{ok}"
            );
        }
        let other = validate_policy_arn(
            "policy_arns",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            Partition::AwsCn,
        );
        assert!(other.unwrap_err().to_string().contains("write arn:aws-cn:"));
        assert!(validate_role_path("/".into()).is_ok());
        assert!(validate_role_path("/pulumi/esc/".into()).is_ok());
        for bad in ["pulumi/", "/pulumi", "/a b/", "//", "/a//b/"] {
            assert!(validate_role_path(bad.into()).is_err(), "{bad}");
        }
        let tag = |k: &str, v: &str| Tag {
            key: k.to_owned(),
            value: v.to_owned(),
        };
        let tags = validate_tags(vec![tag("team", "platform"), tag("cost center", "")]).unwrap();
        assert_eq!(tags[0].key, "cost center");
        for bad in [
            vec![tag("", "x")],
            vec![tag("aws:x", "y")],
            vec![tag("a", "b"), tag("a", "c")],
            vec![tag("a", "$b")],
            (0..51).map(|i| tag(&i.to_string(), "")).collect(),
        ] {
            assert!(validate_tags(bad.clone()).is_err(), "{bad:?}");
        }
        for bad in [
            "ReadOnlyAccess",
            "arn:aws:iam::aws:role/x",
            "arn:aws:s3:::bucket",
            "arn:aws:iam:us-east-1:aws:policy/x",
            "arn:aws:iam::aws:policy/",
            "arn:aws:iam::12345:policy/x",
            "arn:aws:iam::aws:policy/a\"b",
        ] {
            assert!(
                validate_policy_arn("policy_arns", bad, Partition::Aws).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn thumbprints_are_lowercased_deduplicated_and_limited() {
        let upper = "A".repeat(40);
        let got = normalize_thumbprints(&[upper.clone(), "a".repeat(40)]).unwrap();
        assert_eq!(got, vec!["a".repeat(40)]);
        let six: Vec<String> = (0..6).map(|i| format!("{i:040x}")).collect();
        assert!(normalize_thumbprints(&six).is_err());
        assert!(normalize_thumbprints(&six[..5]).is_ok());
        assert!(normalize_thumbprints(&["g".repeat(40)]).is_err());
        assert!(normalize_thumbprints(&["a".repeat(39)]).is_err());
    }

    #[test]
    fn every_environment_of_the_org_by_default_in_two_statements() {
        let model = request().validate().unwrap().model(&[]);
        let sids: Vec<_> = model
            .role
            .statements
            .iter()
            .map(|s| s.sid.clone())
            .collect();
        assert_eq!(sids, ["EscNamedProjects", "EscDefaultProject"]);
        let named = &model.role.statements[0].conditions;
        assert_eq!(named[0].operator, "StringEquals");
        assert_eq!(named[0].keys[0].variable, "api.pulumi.com/oidc:aud");
        assert_eq!(named[0].keys[0].values, ["aws:acme"]);
        assert_eq!(named[1].operator, "StringLike");
        assert_eq!(
            named[1].keys[0].values,
            ["pulumi:environments:org:acme:env:*/*"]
        );
        let legacy = &model.role.statements[1].conditions;
        assert_eq!(legacy[0].keys[0].values, ["acme"]);
        assert_eq!(
            legacy[1].keys[0].values,
            ["pulumi:environments:org:acme:env:*"]
        );
        assert_eq!(legacy[2].operator, "StringNotLike");
        assert_eq!(
            legacy[2].keys[0].values,
            ["pulumi:environments:org:acme:env:*/*"]
        );
    }

    #[test]
    fn exact_environments_are_compared_exactly() {
        let mut req = request();
        req.role.envs = vec!["proj/dev".into(), "legacy".into(), "proj/dev".into()];
        let model = req.validate().unwrap().model(&[]);
        assert_eq!(model.role.statements.len(), 2);
        for (statement, sub) in model.role.statements.iter().zip([
            "pulumi:environments:org:acme:env:proj/dev",
            "pulumi:environments:org:acme:env:legacy",
        ]) {
            assert_eq!(statement.conditions.len(), 1);
            assert_eq!(statement.conditions[0].operator, "StringEquals");
            assert_eq!(statement.conditions[0].keys[1].values, [sub]);
        }
    }

    #[test]
    fn default_env_means_the_legacy_project() {
        let mut req = request();
        req.role.envs = vec!["default/prod".into()];
        let inputs = req.validate().unwrap();
        let statements = &inputs.trust.claims.statements;
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0].sid, "EscDefaultProject");
        assert_eq!(
            statements[0].conditions[0].keys[1].values,
            ["pulumi:environments:org:acme:env:prod"]
        );
        assert!(inputs.trust.notes[0].contains("legacy default project"));
    }

    #[test]
    fn only_deployments_admits_no_esc_tokens() {
        let mut req = request();
        req.role.deploy = vec!["infra/prod".into()];
        req.role.deploy_operations = vec![Operation::Update];
        let inputs = req.validate().unwrap();
        assert!(!inputs.admits_esc());
        let statements = &inputs.trust.claims.statements;
        assert_eq!(statements.len(), 1);
        assert_eq!(
            statements[0].conditions[0].keys[1].values,
            ["pulumi:deploy:org:acme:project:infra:stack:prod:operation:update:scope:write"]
        );
    }

    #[test]
    fn usage_rules_between_options() {
        let refused = |change: fn(&mut Request)| {
            let mut req = request();
            change(&mut req);
            req.validate().unwrap_err().exit_code()
        };
        assert_eq!(refused(|t| t.role.users = vec!["a".into()]), 2);
        assert_eq!(
            refused(|t| t.role.deploy_operations = vec![Operation::Update]),
            2
        );
        assert_eq!(refused(|t| t.role.audiences = vec!["a".into()]), 2);
        assert_eq!(
            refused(|t| {
                t.role.subject_attributes = vec![Attribute::UserLogin, Attribute::UserLogin];
            }),
            2
        );
        assert_eq!(
            refused(|t| {
                t.role.subject_attributes = vec![Attribute::UserLogin];
                t.role.envs = vec!["p/e".into()];
            }),
            2
        );
        assert_eq!(
            refused(|t| {
                t.issuer = Some("https://gitlab.com".into());
            }),
            2
        );
    }

    #[test]
    fn max_session_duration_covers_the_esc_duration() {
        let mut req = request();
        req.role.duration = "2h30m".into();
        assert_eq!(
            req.validate().unwrap().model(&[]).role.max_session_duration,
            9000
        );
        assert_eq!(
            request()
                .validate()
                .unwrap()
                .model(&[])
                .role
                .max_session_duration,
            3600
        );
        let mut short = request();
        short.role.duration = "20m".into();
        assert_eq!(
            short
                .validate()
                .unwrap()
                .model(&[])
                .role
                .max_session_duration,
            3600
        );
    }

    #[test]
    fn an_existing_provider_needs_no_thumbprint_and_gets_client_id_commands() {
        let mut req = request();
        req.existing_provider = true;
        req.thumbprints = ThumbprintChoice::Live;
        req.account_id = Some("123456789012".into());
        let inputs = req.validate().unwrap();
        assert_eq!(inputs.thumbprints, ThumbprintChoice::Omit);
        assert!(inputs.model(&[]).provider.existing);
        assert!(
            inputs
                .model(&[])
                .generator
                .command
                .ends_with(" --existing-provider")
        );
        assert_eq!(
            inputs.add_client_id_commands(),
            [
                "aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn \
                 arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc --client-id acme",
                "aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn \
                 arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc --client-id aws:acme",
            ]
        );
    }

    #[test]
    fn trust_policy_size_is_counted_and_limited() {
        // The size of the default policy, counted by hand from its compact JSON.
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"EscNamedProjects","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::000000000000:oidc-provider/api.pulumi.com/oidc"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"api.pulumi.com/oidc:aud":["aws:acme"]},"StringLike":{"api.pulumi.com/oidc:sub":["pulumi:environments:org:acme:env:*/*"]}}},{"Sid":"EscDefaultProject","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::000000000000:oidc-provider/api.pulumi.com/oidc"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"api.pulumi.com/oidc:aud":["acme"]},"StringLike":{"api.pulumi.com/oidc:sub":["pulumi:environments:org:acme:env:*"]},"StringNotLike":{"api.pulumi.com/oidc:sub":["pulumi:environments:org:acme:env:*/*"]}}}]}"#;
        assert_eq!(
            request().validate().unwrap().trust_policy_size(),
            policy.len()
        );

        let mut many = request();
        many.role.envs = (0..60)
            .map(|i| format!("project-{i:02}/environment"))
            .collect();
        let error = many.clone().validate().unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error.to_string().contains("over the limit of 2048"),
            "{error}"
        );
        many.trust_policy_quota = MAX_TRUST_POLICY_QUOTA;
        let raised = many.clone().validate().unwrap();
        assert!(raised.trust_policy_size() > DEFAULT_TRUST_POLICY_QUOTA);
        assert!(
            raised
                .model(&[])
                .generator
                .command
                .contains("--trust-policy-quota 4096")
        );
        // Past the largest quota there is no quota to raise.
        let mut more = many.clone();
        more.trust_policy_quota = MAX_TRUST_POLICY_QUOTA;
        more.role.envs = (0..200)
            .map(|i| format!("project-{i:03}/environment"))
            .collect();
        let error = more.validate().unwrap_err().to_string();
        assert!(!error.contains("pass --trust-policy-quota"), "{error}");
        assert!(error.contains("4096 is the most IAM allows"), "{error}");
    }

    #[test]
    fn command_reproduces_the_request() {
        let mut req = request();
        req.account_id = Some("123456789012".into());
        req.role.envs = vec!["p/e".into()];
        req.role.name = Some("x+y".into());
        let inputs = req.validate().unwrap();
        assert_eq!(
            inputs.model(&["ab".repeat(20)]).generator.command,
            format!(
                "oidc-gen --org acme --env p/e --role-name x+y --account-id 123456789012 --thumbprint {}",
                "ab".repeat(20)
            )
        );
        assert!(
            inputs
                .model(&[])
                .generator
                .command
                .ends_with(" --no-thumbprint")
        );
    }
}
