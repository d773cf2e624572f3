//! The command line: clap definitions, and their conversion into library types.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use oidc_gen::claims::{Attribute, Operation};
use oidc_gen::issuer::PULUMI_CLOUD;
use oidc_gen::issuers::CiRequest;
use oidc_gen::render::Format;
use oidc_gen::request::{self, Partition, Request, RoleOptions, ThumbprintChoice, TrustRequest};
use oidc_gen::{Network, Selection};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  --check found files that differ from what would be written
  2  invalid input or usage
  3  the issuer could not be reached, read or trusted
  4  a filesystem error, or a file under --out that oidc-gen will not write through or over
     (a symbolic link, a file it did not write), or another run holding --out";

/// Generate Terraform, CloudFormation, Pulumi YAML and Pulumi ESC code for Pulumi Cloud's OIDC
/// issuer (or another one) on AWS: the IAM OIDC provider, a role whose trust policy admits exactly
/// the tokens you name, the ESC environment and the Deployments settings that use it.
///
/// The provider's thumbprint is computed live from the issuer's TLS chain, exactly as AWS documents
/// it, unless --thumbprint or --no-thumbprint is given. oidc-gen never calls AWS.
#[derive(Debug, Parser)]
#[command(name = "oidc-gen", version = env!("OIDC_GEN_VERSION"), after_help = EXIT_CODES)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub generate: GenerateArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the issuer's thumbprint(s) on stdout and the chain they come from on stderr.
    #[command(after_help = THUMBPRINT_EXIT_CODES)]
    Thumbprint(ThumbprintArgs),

    /// Would this token get in? Evaluate it against the trust policy the same flags would
    /// generate, or against an existing policy (--policy), and say why not.
    ///
    /// The token's aud and sub (or a whole token with --token) are tested the way IAM does:
    /// statements OR together, an explicit Deny wins, conditions AND together, a list matches
    /// any value, string operators are case-sensitive, and StringLike's * matches any characters,
    /// '/' and ':' included.
    #[command(after_help = SIMULATE_EXIT_CODES)]
    Simulate(Box<SimulateArgs>),

    /// Print what oidc-gen knows of each issuer that logs into AWS: its URLs, audience, subject
    /// grammar, the claims AWS maps to condition keys, the claim IAM's shared-issuer guard requires,
    /// and what makes the workload use the role.
    #[command(after_help = PRINT_EXIT_CODES)]
    Issuers {
        /// Print one JSON array instead of text.
        #[arg(long)]
        json: bool,
    },

    /// Print a shell completion script on stdout, e.g.
    /// `oidc-gen completions bash > ~/.local/share/bash-completion/completions/oidc-gen`.
    #[command(after_help = PRINT_EXIT_CODES)]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print the manual page (roff) on stdout, e.g.
    /// `oidc-gen man > ~/.local/share/man/man1/oidc-gen.1`.
    #[command(after_help = PRINT_EXIT_CODES)]
    Man,
}

const PRINT_EXIT_CODES: &str = "\
Exit codes:
  0  success
  2  invalid usage
  4  standard output cannot be written";

const THUMBPRINT_EXIT_CODES: &str = "\
Exit codes:
  0  success
  2  invalid input or usage
  3  the issuer could not be reached, read or trusted
  4  standard output cannot be written";

const SIMULATE_EXIT_CODES: &str = "\
Exit codes:
  0  ALLOW: a statement admits the token
  1  DENY: no statement admits it, or one denies it
  2  invalid input, or a policy oidc-gen cannot evaluate (an element or operator it does not
     know, or larger than IAM accepts)
  4  standard output cannot be written";

/// Options of `oidc-gen thumbprint`.
#[derive(Debug, Args)]
pub struct ThumbprintArgs {
    /// The OIDC issuer URL.
    #[arg(long, value_name = "URL", default_value = PULUMI_CLOUD, env = "OIDC_GEN_ISSUER")]
    pub issuer: String,

    #[command(flatten)]
    pub network: NetworkArgs,

    /// Print one JSON object on stdout: issuer, jwks_uri, thumbprints and each endpoint's chain.
    #[arg(long)]
    pub json: bool,
}

/// Options of `oidc-gen simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Every generation option: those that say who may assume the role make the policy; the
    /// others are accepted and ignored, so a generated file's command works with `simulate`
    /// inserted.
    #[command(flatten)]
    pub generate: GenerateArgs,

    /// With --config: the role of the spec whose trust policy is evaluated.
    #[arg(
        long,
        value_name = "NAME",
        requires = "config",
        help_heading = "The policy"
    )]
    pub role: Option<String>,

    /// The token's audience (aud claim).
    #[arg(
        long,
        value_name = "AUD",
        requires = "sub",
        conflicts_with = "token",
        help_heading = "The token"
    )]
    pub aud: Option<String>,

    /// The token's subject (sub claim).
    #[arg(long, value_name = "SUB", requires = "aud", help_heading = "The token")]
    pub sub: Option<String>,

    /// Another claim of the token, as NAME=VALUE (repeatable), e.g. repository_id=123: those
    /// AWS maps to condition keys for the issuer (oidc-gen issuers lists them) are evaluated.
    #[arg(
        long,
        value_name = "NAME=VALUE",
        requires = "aud",
        value_parser = parse_claim,
        help_heading = "The token"
    )]
    pub claim: Vec<(String, String)>,

    /// A whole token (JWT): its iss, aud, sub and the claims AWS maps for its issuer (GitHub's
    /// repository_id, job_workflow_ref, ...) are read from the payload. It is decoded, not
    /// verified: its signature and expiry are not checked.
    #[arg(
        long,
        value_name = "JWT",
        required_unless_present = "aud",
        help_heading = "The token"
    )]
    pub token: Option<String>,

    /// Evaluate this trust policy instead of generating one: a policy document, the output of
    /// `aws iam get-role`, or a CloudFormation template with one AWS::IAM::Role.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "config",
        help_heading = "The policy"
    )]
    pub policy: Option<PathBuf>,
}

/// How to reach the issuer.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// A PEM file of extra trust anchors for the live TLS checks; the system roots (and
    /// SSL_CERT_FILE) still apply. Verification is never turned off.
    #[arg(long, value_name = "PEM", help_heading = "The thumbprint")]
    pub ca_file: Option<PathBuf>,

    /// Seconds any one network step (discovery request, TLS handshake) may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=600), help_heading = "The thumbprint")]
    pub timeout: u64,
}

/// Who may assume the role: the issuer and the tokens it admits.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// The Pulumi organization whose tokens the role admits. Required for Pulumi Cloud's issuer
    /// (and a self-hosted one); not used with --audience and --subject.
    #[arg(long, value_name = "ORG", help_heading = WHO)]
    pub org: Option<String>,

    /// The OIDC issuer URL [default: https://api.pulumi.com/oidc, or GitHub's with --github]. A
    /// self-hosted Pulumi Cloud's is https://HOST/oidc; GitHub Enterprise Cloud's
    /// https://token.actions.githubusercontent.com/ENTERPRISE or
    /// https://token.actions.SUBDOMAIN.ghe.com; any other issuer needs --audience and --subject.
    #[arg(long, value_name = "URL", env = "OIDC_GEN_ISSUER", help_heading = WHO)]
    pub issuer: Option<String>,

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
    #[arg(long, value_name = "OP", value_enum, help_heading = WHO)]
    pub deploy_operation: Vec<OperationArg>,

    /// ESC's subjectAttributes, in order (repeatable): the ESC file lists them and the role
    /// admits the custom subject they build instead of the default one.
    #[arg(long, value_name = "ATTR", value_enum, help_heading = WHO)]
    pub subject_attribute: Vec<AttributeArg>,

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

    #[command(flatten)]
    pub ci: CiRequest,

    /// The AWS partition of the account: every ARN oidc-gen builds (provider, role, the
    /// principal in the trust policy) names it, and policy ARNs must be in it.
    #[arg(long, value_name = "PARTITION", value_enum, default_value = "aws", help_heading = WHO)]
    pub partition: PartitionArg,
}

/// The options a spec file (--config) replaces.
const SPEC_FIELDS: [&str; 26] = [
    "org",
    "esc_environment",
    "envs",
    "deploy",
    "deploy_operation",
    "subject_attribute",
    "root_envs",
    "users",
    "audiences",
    "subjects",
    "partition",
    "role_name",
    "account_id",
    "policy_arn",
    "session_policy_arn",
    "duration",
    "session_name",
    "trust_policy_quota",
    "thumbprint",
    "no_thumbprint",
    "existing_provider",
    "role_path",
    "permissions_boundary",
    "tag",
    "max_session_duration",
    "templates",
];

/// The options a spec file replaces, and every CI system's flags (by their groups).
fn spec_fields() -> Vec<&'static str> {
    SPEC_FIELDS
        .iter()
        .copied()
        .chain(oidc_gen::issuers::CI_SYSTEMS.iter().copied())
        .collect()
}

const WHO: &str = "Who may assume the role";
const WHAT: &str = "What to generate";
const OUTPUT: &str = "Output";

/// Options of the default command, which generates the files. The headings follow the order of
/// use: who may assume the role, what to generate, the thumbprint, the output.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub trust: TrustArgs,

    /// Read the roles and accounts from a spec file (YAML) instead of the flags that describe
    /// one role: many roles, many accounts, and a StackSet over organizational units. Every
    /// generation flag has a field (--policy-arn -> policy_arns); see the README, "Many accounts".
    #[arg(long, value_name = "FILE", help_heading = WHAT, conflicts_with_all = spec_fields())]
    pub config: Option<PathBuf>,

    /// What to generate; repeat the flag or separate with commas.
    #[arg(
        long,
        value_name = "FORMAT",
        value_parser = format_names(),
        value_delimiter = ',',
        default_value = "all",
        help_heading = WHAT
    )]
    pub format: Vec<String>,

    /// The IAM role's name [default: pulumi-esc-oidc, or github-actions-oidc with --github].
    #[arg(long, value_name = "NAME", help_heading = WHAT)]
    pub role_name: Option<String>,

    /// The 12-digit AWS account id that will hold the role; the ESC environment and the
    /// Deployments settings need it for the role's ARN.
    #[arg(long, value_name = "ID", help_heading = WHAT)]
    pub account_id: Option<String>,

    /// A managed policy to attach to the role (repeatable), e.g.
    /// arn:aws:iam::aws:policy/ReadOnlyAccess. It grants the role's permissions.
    #[arg(long, value_name = "ARN", help_heading = WHAT)]
    pub policy_arn: Vec<String>,

    /// The role's path, e.g. /pulumi/ (it becomes part of the role's ARN).
    #[arg(long, value_name = "PATH", help_heading = WHAT)]
    pub role_path: Option<String>,

    /// A managed policy that bounds the role's permissions: whatever the attached policies
    /// grant, the role can do no more than this allows.
    #[arg(long, value_name = "ARN", help_heading = WHAT)]
    pub permissions_boundary: Option<String>,

    /// A tag on the role, as KEY=VALUE (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_tag, help_heading = WHAT)]
    pub tag: Vec<(String, String)>,

    /// The role's MaxSessionDuration (1h to 12h, ESC syntax such as 2h). Default: 1h, or
    /// --duration when that is longer.
    #[arg(long, value_name = "DURATION", help_heading = WHAT)]
    pub max_session_duration: Option<String>,

    /// A session policy ESC and Deployments pass when they assume the role (repeatable; their
    /// policyArns). It is not attached: it narrows each session to what both it and the role's
    /// policies allow.
    #[arg(long, value_name = "ARN", help_heading = WHAT)]
    pub session_policy_arn: Vec<String>,

    /// How long the AWS credentials last (ESC syntax: 1h, 1h30m, 45m); 15m to 12h. The role's
    /// MaxSessionDuration is set to cover it.
    #[arg(long, value_name = "DURATION", default_value = request::DEFAULT_DURATION, help_heading = WHAT)]
    pub duration: String,

    /// Also create this ESC environment (PROJECT/ENV, one the role admits) from the Pulumi
    /// program, with the aws-login definition that uses the role (pulumiservice:index:Environment):
    /// one pulumi up makes the role and the environment.
    #[arg(long, value_name = "PROJECT/ENV", help_heading = WHAT)]
    pub esc_environment: Option<String>,

    /// The STS session name ESC and Deployments use.
    #[arg(long, value_name = "NAME", default_value = request::DEFAULT_SESSION_NAME, help_heading = WHAT)]
    pub session_name: String,

    /// The account's limit on the size of a role trust policy, in characters without whitespace:
    /// IAM's default is 2048, and a quota increase raises it up to 4096.
    #[arg(long, value_name = "CHARS", default_value_t = request::DEFAULT_TRUST_POLICY_QUOTA, help_heading = WHAT)]
    pub trust_policy_quota: usize,

    /// Use this thumbprint (40 hex digits) instead of computing it; repeatable, at most 5.
    /// No network is used.
    #[arg(long, value_name = "HEX", conflicts_with_all = ["no_thumbprint", "ca_file"], help_heading = "The thumbprint")]
    pub thumbprint: Vec<String>,

    /// Leave the thumbprint out: IAM then verifies the issuer's certificate against its own
    /// trusted root CAs. No network is used.
    #[arg(long, conflicts_with = "ca_file", help_heading = "The thumbprint")]
    pub no_thumbprint: bool,

    /// The account already has an OIDC provider for the issuer (IAM allows one per URL): trust
    /// it instead of creating one. Terraform looks it up by URL, CloudFormation takes its ARN as a
    /// parameter, Pulumi looks it up with getOpenIdConnectProvider. No network is used.
    #[arg(long, conflicts_with_all = ["thumbprint", "no_thumbprint", "ca_file"], help_heading = "The thumbprint")]
    pub existing_provider: bool,

    #[command(flatten)]
    pub network: NetworkArgs,

    /// The output folder, or - to print one format's file on stdout.
    #[arg(long, value_name = "DIR", default_value = "out", help_heading = OUTPUT)]
    pub out: PathBuf,

    /// Write nothing; exit 1 and show every file under --out that is missing, differs (with a
    /// short diff), is unowned (not as oidc-gen wrote it, or a symbolic link: a run refuses it
    /// without --force), is stale (written by an earlier run, no longer generated) or is a
    /// leftover of an interrupted run.
    #[arg(long, help_heading = OUTPUT)]
    pub check: bool,

    /// Remove stale files: those an earlier run wrote (as the folder's .oidc-gen-files lists,
    /// with the hash of what it wrote) that this one no longer generates and nobody has edited.
    /// Other files are never touched.
    #[arg(long, conflicts_with = "check", help_heading = OUTPUT)]
    pub prune: bool,

    /// Replace files at generated paths that oidc-gen did not write, or that were edited since
    /// (without it such a file stops the run, exit 4). Symbolic links are replaced, never
    /// followed.
    #[arg(long, conflicts_with = "check", help_heading = OUTPUT)]
    pub force: bool,

    /// How long to wait for another oidc-gen run on the same --out folder to finish, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, help_heading = OUTPUT)]
    pub lock_wait: u64,

    /// A folder of templates (laid out like the built-in ones, e.g. terraform/main.tf.j2) tried
    /// before the built-in templates.
    #[arg(long, value_name = "DIR", help_heading = OUTPUT)]
    pub templates: Option<PathBuf>,
}

/// A Pulumi Deployments operation on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OperationArg {
    /// pulumi preview.
    Preview,
    /// pulumi up.
    Update,
    /// pulumi refresh.
    Refresh,
    /// pulumi destroy.
    Destroy,
}

/// An ESC subject attribute on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AttributeArg {
    /// The environment opened first; values from --root-env.
    #[value(name = "rootEnvironment.name")]
    RootEnvironment,
    /// The environment that logs in; values from --env.
    #[value(name = "currentEnvironment.name")]
    CurrentEnvironment,
    /// The Pulumi user; values from --user.
    #[value(name = "pulumi.user.login")]
    UserLogin,
    /// The Pulumi organization (--org).
    #[value(name = "pulumi.organization.login")]
    OrganizationLogin,
}

/// An AWS partition on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PartitionArg {
    /// The commercial regions.
    Aws,
    /// AWS GovCloud (US).
    AwsUsGov,
    /// The China regions.
    AwsCn,
}

impl From<PartitionArg> for Partition {
    fn from(arg: PartitionArg) -> Self {
        match arg {
            PartitionArg::Aws => Partition::Aws,
            PartitionArg::AwsUsGov => Partition::AwsUsGov,
            PartitionArg::AwsCn => Partition::AwsCn,
        }
    }
}

/// `KEY=VALUE`, split at the first `=`.
fn parse_tag(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((key, value)) => Ok((key.to_owned(), value.to_owned())),
        None => Err(format!(
            "write the tag as KEY=VALUE (e.g. team=platform), not {value:?}"
        )),
    }
}

/// `NAME=VALUE`, split at the first `=`.
fn parse_claim(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!(
            "write the claim as NAME=VALUE (e.g. repository_id=123), not {value:?}"
        )),
    }
}

/// The names `--format` takes, each with what it writes, and `all`.
fn format_names() -> clap::builder::PossibleValuesParser {
    let formats = Format::all()
        .into_iter()
        .map(|format| clap::builder::PossibleValue::new(format.name()).help(format.description()));
    let all = clap::builder::PossibleValue::new("all").help(
        "All of the above that apply: ESC, Deployments and a CI system's file when the role admits \
         their tokens and --account-id is given",
    );
    clap::builder::PossibleValuesParser::new(formats.chain([all]))
}

impl NetworkArgs {
    /// The library's network settings.
    pub fn network(&self) -> Network {
        Network {
            ca_file: self.ca_file.clone(),
            timeout: Duration::from_secs(self.timeout),
        }
    }
}

impl TrustArgs {
    /// The library's request for who may assume the role.
    pub fn request(&self) -> TrustRequest {
        TrustRequest {
            issuer: self
                .issuer
                .clone()
                .unwrap_or_else(|| match self.ci.given().first() {
                    Some(system) => system.default_issuer(),
                    None => PULUMI_CLOUD.into(),
                }),
            org: self.org.clone(),
            envs: self.envs.clone(),
            deploy: self.deploy.clone(),
            deploy_operations: self
                .deploy_operation
                .iter()
                .map(|op| match op {
                    OperationArg::Preview => Operation::Preview,
                    OperationArg::Update => Operation::Update,
                    OperationArg::Refresh => Operation::Refresh,
                    OperationArg::Destroy => Operation::Destroy,
                })
                .collect(),
            subject_attributes: self
                .subject_attribute
                .iter()
                .map(|attribute| match attribute {
                    AttributeArg::RootEnvironment => Attribute::RootEnvironment,
                    AttributeArg::CurrentEnvironment => Attribute::CurrentEnvironment,
                    AttributeArg::UserLogin => Attribute::UserLogin,
                    AttributeArg::OrganizationLogin => Attribute::OrganizationLogin,
                })
                .collect(),
            root_envs: self.root_envs.clone(),
            users: self.users.clone(),
            audiences: self.audiences.clone(),
            subjects: self.subjects.clone(),
            ci: self.ci.clone(),
            partition: self.partition.into(),
        }
    }

    /// Whether any option beyond the issuer says who may assume the role.
    pub fn names_tokens(&self) -> bool {
        let request = self.request();
        request.org.is_some()
            || ![
                &request.envs,
                &request.deploy,
                &request.root_envs,
                &request.users,
                &request.audiences,
                &request.subjects,
            ]
            .iter()
            .all(|values| values.is_empty())
            || !request.deploy_operations.is_empty()
            || !request.subject_attributes.is_empty()
            || !request.ci.given().is_empty()
    }
}

impl GenerateArgs {
    /// The library's request.
    pub fn request(&self) -> Request {
        let thumbprints = if self.no_thumbprint {
            ThumbprintChoice::Omit
        } else if !self.thumbprint.is_empty() {
            ThumbprintChoice::Given(self.thumbprint.clone())
        } else {
            ThumbprintChoice::Live
        };
        Request {
            trust: self.trust.request(),
            role_name: self.role_name.clone().unwrap_or_else(|| {
                match self.trust.ci.given().first() {
                    Some(system) => system.preset.role_name.into(),
                    None => request::DEFAULT_ROLE_NAME.into(),
                }
            }),
            account_id: self.account_id.clone(),
            policy_arns: self.policy_arn.clone(),
            role: RoleOptions {
                path: self.role_path.clone(),
                permissions_boundary: self.permissions_boundary.clone(),
                tags: self.tag.clone(),
                max_session_duration: self.max_session_duration.clone(),
                esc_environment: self.esc_environment.clone(),
            },
            session_policy_arns: self.session_policy_arn.clone(),
            duration: self.duration.clone(),
            session_name: self.session_name.clone(),
            thumbprints,
            existing_provider: self.existing_provider,
            trust_policy_quota: self.trust_policy_quota,
            templates: self.templates.clone(),
        }
    }

    /// The formats asked for.
    pub fn selection(&self) -> Selection {
        let explicit: Vec<Format> = self
            .format
            .iter()
            .filter_map(|name| Format::from_name(name))
            .collect();
        if self.format.iter().any(|name| name == "all") {
            // `all` plus a login file by name asks for that file whatever happens.
            let main = [Format::Terraform, Format::CloudFormation, Format::Pulumi];
            if explicit.iter().all(|f| main.contains(f)) {
                return Selection::All;
            }
            return Selection::Only(main.into_iter().chain(explicit).collect());
        }
        Selection::Only(explicit)
    }

    /// Whether the files go to stdout (`--out -`).
    pub fn to_stdout(&self) -> bool {
        self.out.as_os_str() == "-"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn formats_are_repeatable_and_comma_separated() {
        let cli = Cli::try_parse_from([
            "oidc-gen",
            "--org",
            "a",
            "--format",
            "terraform,pulumi",
            "--format",
            "esc",
        ])
        .unwrap();
        assert_eq!(
            cli.generate.selection(),
            Selection::Only(vec![Format::Terraform, Format::Pulumi, Format::Esc])
        );
        let all = Cli::try_parse_from(["oidc-gen", "--org", "a"]).unwrap();
        assert_eq!(all.generate.selection(), Selection::All);
    }

    #[test]
    fn thumbprint_subcommand_does_not_need_org() {
        let cli = Cli::try_parse_from(["oidc-gen", "thumbprint", "--json"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Thumbprint(ThumbprintArgs { json: true, .. }))
        ));
        let bare = Cli::try_parse_from(["oidc-gen"]).unwrap();
        let error = bare.generate.trust.request().validate().unwrap_err();
        assert!(error.to_string().contains("--org is required"), "{error}");
    }

    #[test]
    fn subject_attributes_keep_their_order() {
        let cli = Cli::try_parse_from([
            "oidc-gen",
            "--org",
            "a",
            "--subject-attribute",
            "pulumi.user.login",
            "--subject-attribute",
            "currentEnvironment.name",
        ])
        .unwrap();
        assert_eq!(
            cli.generate.trust.request().subject_attributes,
            [Attribute::UserLogin, Attribute::CurrentEnvironment]
        );
    }

    #[test]
    fn simulate_takes_claims_or_a_token() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["oidc-gen", "simulate"], args].concat());
        assert!(parse(&["--org", "a", "--aud", "a", "--sub", "s"]).is_ok());
        assert!(parse(&["--org", "a", "--token", "x.y.z"]).is_ok());
        assert!(parse(&["--org", "a", "--aud", "a"]).is_err());
        assert!(parse(&["--org", "a"]).is_err());
        assert!(parse(&["--aud", "a", "--sub", "s", "--token", "x.y.z"]).is_err());
    }
}
