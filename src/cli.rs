//! The command line: clap definitions, and their conversion into library types.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use oidc_gen::clouds::{self, CloudRequest};
use oidc_gen::issuer::PULUMI_CLOUD;
use oidc_gen::render::Format;
use oidc_gen::request::{self, Partition, Request, ThumbprintChoice};
use oidc_gen::role::{self, RoleFields, WHAT, WHO};
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

    /// Read trust policies you already have and say, for each statement that trusts an OIDC
    /// provider, which issuer it trusts, what it admits in words, and what is wrong with it (a
    /// rule id, a severity and a fix).
    ///
    /// PATH is a Terraform configuration (.tf) or plan (terraform show -json), a CloudFormation
    /// template (JSON or YAML), a policy document, or the output of aws iam get-role, list-roles
    /// or get-account-authorization-details; - reads standard input. A folder is read for its
    /// .tf, .json, .yaml, .yml and .template files, never through a symbolic link; a file that
    /// mentions no policy is passed over. A finding is suppressed, and reported as such, by
    /// "# oidc-gen:ignore=RULE reason" on the lines above the role (Terraform, YAML) or by
    /// Metadata: {oidc-gen: {suppress: [{rule: RULE, reason: ...}]}} on a CloudFormation role.
    #[command(after_help = LINT_EXIT_CODES)]
    Lint(LintArgs),

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

const LINT_EXIT_CODES: &str = "\
Exit codes:
  0  no finding at or above --fail-on
  1  findings at or above --fail-on
  2  a file could not be read (the others are still linted), or invalid usage
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

/// Options of `oidc-gen lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Files or folders to read. After `--`, every argument is a path, even one named like an
    /// option (`-h.json`).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// How to print the report.
    #[arg(long, value_enum, default_value = "text")]
    pub format: LintFormat,

    /// The least severity that makes the exit code 1.
    #[arg(long, value_enum, default_value = "warning")]
    pub fail_on: oidc_gen::lint::Severity,

    /// A Terraform variable's value, as `terraform plan -var` takes it (a list or map in HCL
    /// syntax, else the text). Applies to every module read; repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = assignment)]
    pub vars: Vec<(String, String)>,

    /// A tfvars file (HCL, or JSON when named .json), read after the module's own
    /// terraform.tfvars and *.auto.tfvars, as `terraform plan -var-file` reads it; repeatable.
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,

    /// A CloudFormation parameter's value, as `aws cloudformation deploy --parameter-overrides`
    /// takes it; repeatable.
    #[arg(long = "parameter", value_name = "NAME=VALUE", value_parser = assignment)]
    pub parameters: Vec<(String, String)>,
}

/// `NAME=VALUE`, NAME a plain identifier.
fn assignment(text: &str) -> std::result::Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{} is not NAME=VALUE", oidc_gen::shown::quoted(text)))?;
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !plain {
        return Err(format!(
            "{} is not a variable or parameter name (letters, digits, _ and -)",
            oidc_gen::shown::quoted(name)
        ));
    }
    oidc_gen::lint::unknown::check_input(value)?;
    Ok((name.to_owned(), value.to_owned()))
}

/// How `oidc-gen lint` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// Each statement's issuer and what it admits, then its findings.
    Text,
    /// One JSON object: findings, statements, unreadable files and a summary.
    Json,
    /// SARIF 2.1.0, as GitHub code scanning reads it.
    Sarif,
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

    /// Evaluate this trust policy instead of generating one: a file `oidc-gen lint` reads (a
    /// policy document, aws iam get-role output, a CloudFormation template, a Terraform file or
    /// plan, a Pulumi YAML program) that holds one role.
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

const OUTPUT: &str = "Output";

/// The options a spec file (--config) replaces: a role's, and those a spec sets for all roles.
fn spec_fields() -> Vec<String> {
    let shared = [
        "org",
        "issuer",
        "partition",
        "account_id",
        "trust_policy_quota",
        "thumbprint",
        "no_thumbprint",
        "existing_provider",
        "templates",
    ];
    role::field_ids()
        .into_iter()
        .chain(shared.map(str::to_owned))
        .collect()
}

/// Options of the default command, which generates the files. The headings follow the order of
/// use: who may assume the role, what to generate, the thumbprint, the output.
#[derive(Debug, Args)]
pub struct GenerateArgs {
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

    /// The role: who may assume it and what it may do.
    #[command(flatten)]
    pub role: RoleFields,

    /// The AWS partition of the account: every ARN oidc-gen builds (provider, role, the
    /// principal in the trust policy) names it, and policy ARNs must be in it.
    #[arg(long, value_name = "PARTITION", value_enum, default_value = "aws", help_heading = WHO)]
    pub partition: PartitionArg,

    /// Read the roles and accounts from a spec file (YAML) instead of the flags that describe
    /// one role: many roles, many accounts, and a StackSet over organizational units. Every
    /// generation flag has a field (--policy-arn -> policy_arns); see the README, "Many accounts".
    #[arg(long, value_name = "FILE", help_heading = WHAT, display_order = 0, conflicts_with_all = spec_fields())]
    pub config: Option<PathBuf>,

    /// What to generate; repeat the flag or separate with commas.
    #[arg(
        long,
        value_name = "FORMAT",
        value_parser = format_names(),
        value_delimiter = ',',
        default_value = "all",
        help_heading = WHAT,
        display_order = 1
    )]
    pub format: Vec<String>,

    /// The clouds the trust is written for (repeatable, or comma-separated): aws writes the
    /// files above; gcp and azure write the same trust under gcp/ and azure/ (Terraform, Pulumi
    /// YAML, and the ESC environment), or refuse what the cloud cannot express and say why.
    #[arg(
        long = "cloud",
        value_name = "CLOUD",
        value_delimiter = ',',
        default_value = "aws",
        value_parser = cloud_names(),
        help_heading = WHAT,
        display_order = 2
    )]
    pub cloud: Vec<String>,

    /// Each cloud's own flags.
    #[command(flatten)]
    pub clouds: CloudRequest,

    /// The 12-digit AWS account id that will hold the role; the ESC environment and the
    /// Deployments settings need it for the role's ARN.
    #[arg(long, value_name = "ID", help_heading = WHAT, display_order = 2)]
    pub account_id: Option<String>,

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

/// `NAME=VALUE`, split at the first `=`.
fn parse_claim(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!(
            "write the claim as NAME=VALUE (e.g. repository_id=123), not {value:?}"
        )),
    }
}

/// The names `--cloud` takes.
fn cloud_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        ["aws"].into_iter().chain(clouds::CLOUDS.iter().copied()),
    )
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
            role: self.role.clone(),
            issuer: self.issuer.clone(),
            org: self.org.clone(),
            partition: self.partition.into(),
            account_id: self.account_id.clone(),
            thumbprints,
            existing_provider: self.existing_provider,
            trust_policy_quota: self.trust_policy_quota,
            templates: self.templates.clone(),
        }
    }

    /// Whether any option beyond the issuer says who may assume the role.
    pub fn names_tokens(&self) -> bool {
        self.org.is_some() || self.role.names_tokens()
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

    /// The clouds besides AWS asked for, with their flags.
    pub fn other_clouds(&self) -> Vec<&dyn clouds::Cloud> {
        let mut names: Vec<&str> = self.cloud.iter().map(String::as_str).collect();
        names.dedup();
        names
            .into_iter()
            .filter_map(|name| self.clouds.cloud(name))
            .collect()
    }

    /// Whether AWS is among the clouds asked for.
    pub fn aws(&self) -> bool {
        self.cloud.iter().any(|name| name == "aws")
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
        let error = bare.generate.request().trust().unwrap_err();
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
            cli.generate.role.subject_attributes,
            [
                oidc_gen::claims::Attribute::UserLogin,
                oidc_gen::claims::Attribute::CurrentEnvironment
            ]
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
