//! The command line: clap definitions, and their conversion into library types.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use oidc_gen::model::{self, Request, ThumbprintChoice};
use oidc_gen::render::Format;
use oidc_gen::{Network, Selection};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  --check found files that differ from what would be written
  2  invalid input or usage
  3  the issuer could not be reached, read or trusted
  4  a filesystem error";

/// Generate Terraform, CloudFormation, Pulumi YAML and Pulumi ESC code for Pulumi Cloud's OIDC
/// issuer on AWS: the IAM OIDC provider, the role ESC assumes, and the ESC environment.
///
/// The provider's thumbprint is computed live from the issuer's TLS chain, exactly as AWS documents
/// it, unless --thumbprint or --no-thumbprint is given. oidc-gen never calls AWS.
#[derive(Debug, Parser)]
#[command(name = "oidc-gen", version, after_help = EXIT_CODES)]
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
    #[command(after_help = EXIT_CODES)]
    Thumbprint(ThumbprintArgs),
}

/// Options of `oidc-gen thumbprint`.
#[derive(Debug, Args)]
pub struct ThumbprintArgs {
    #[command(flatten)]
    pub network: NetworkArgs,

    /// Print one JSON object on stdout: issuer, jwks_uri, thumbprints and each endpoint's chain.
    #[arg(long)]
    pub json: bool,
}

/// How to reach the issuer.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// The OIDC issuer URL.
    #[arg(long, value_name = "URL", default_value = model::DEFAULT_ISSUER, env = "OIDC_GEN_ISSUER")]
    pub issuer: String,

    /// A PEM file of extra trust anchors for the live TLS checks; the system roots (and
    /// SSL_CERT_FILE) still apply. Verification is never turned off.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Seconds any one network step (discovery request, TLS handshake) may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
}

/// Options of the default command, which generates the files.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub network: NetworkArgs,

    /// The Pulumi organization whose ESC environments may assume the role.
    #[arg(long, value_name = "ORG", required = true)]
    pub org: Option<String>,

    /// What to generate; repeat the flag or separate with commas.
    #[arg(
        long,
        value_name = "FORMAT",
        value_enum,
        value_delimiter = ',',
        default_value = "all"
    )]
    pub format: Vec<FormatArg>,

    /// The output folder, or - to print one format's file on stdout.
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,

    /// The IAM role's name.
    #[arg(long, value_name = "NAME", default_value = model::DEFAULT_ROLE_NAME)]
    pub role_name: String,

    /// The 12-digit AWS account id that will hold the role; the ESC environment needs it.
    #[arg(long, value_name = "ID")]
    pub account_id: Option<String>,

    /// A managed policy to attach to the role (repeatable), e.g.
    /// arn:aws:iam::aws:policy/ReadOnlyAccess.
    #[arg(long, value_name = "ARN")]
    pub policy_arn: Vec<String>,

    /// An ESC environment allowed to assume the role, as PROJECT/ENV (or ENV in the legacy default
    /// project); '*' matches any characters. Repeatable. Default: every environment of the org.
    #[arg(long = "env", value_name = "PROJECT/ENV")]
    pub envs: Vec<String>,

    /// How long ESC's AWS credentials last (ESC syntax: 1h, 1h30m, 45m); 15m to 12h. The role's
    /// MaxSessionDuration is set to cover it.
    #[arg(long, value_name = "DURATION", default_value = model::DEFAULT_DURATION)]
    pub duration: String,

    /// The STS session name ESC uses.
    #[arg(long, value_name = "NAME", default_value = model::DEFAULT_SESSION_NAME)]
    pub session_name: String,

    /// Use this thumbprint (40 hex digits) instead of computing it; repeatable, at most 5.
    /// No network is used.
    #[arg(long, value_name = "HEX", conflicts_with_all = ["no_thumbprint", "ca_file"])]
    pub thumbprint: Vec<String>,

    /// Leave the thumbprint out: IAM then verifies the issuer's certificate against its own
    /// trusted root CAs. No network is used.
    #[arg(long, conflicts_with = "ca_file")]
    pub no_thumbprint: bool,

    /// The account already has an OIDC provider for the issuer (IAM allows one per URL): trust
    /// it instead of creating one. Terraform looks it up by URL, CloudFormation takes its ARN as a
    /// parameter, Pulumi looks it up with getOpenIdConnectProvider. No network is used.
    #[arg(long, conflicts_with_all = ["thumbprint", "no_thumbprint", "ca_file"])]
    pub existing_provider: bool,

    /// The account's limit on the size of a role trust policy, in characters without whitespace:
    /// IAM's default is 2048, and a quota increase raises it up to 4096.
    #[arg(long, value_name = "CHARS", default_value_t = model::DEFAULT_TRUST_POLICY_QUOTA)]
    pub trust_policy_quota: usize,

    /// Write nothing; exit 1 and show every file under --out that differs or is missing.
    #[arg(long)]
    pub check: bool,

    /// A folder of templates (laid out like the built-in ones, e.g. terraform/main.tf.j2) tried
    /// before the built-in templates.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

/// A format on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A Terraform root module: terraform/main.tf.
    Terraform,
    /// A CloudFormation template: cloudformation/template.json.
    Cloudformation,
    /// A Pulumi YAML program: pulumi/Pulumi.yaml.
    Pulumi,
    /// A Pulumi ESC environment definition: esc/environment.yaml (needs --account-id).
    Esc,
    /// All of the above; ESC only when --account-id is given.
    All,
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
            issuer: self.network.issuer.clone(),
            org: self.org.clone().unwrap_or_default(),
            role_name: self.role_name.clone(),
            account_id: self.account_id.clone(),
            policy_arns: self.policy_arn.clone(),
            envs: self.envs.clone(),
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
        if self.format.contains(&FormatArg::All) && !self.format.contains(&FormatArg::Esc) {
            return Selection::All;
        }
        let formats = self
            .format
            .iter()
            .flat_map(|arg| match arg {
                FormatArg::Terraform => vec![Format::Terraform],
                FormatArg::Cloudformation => vec![Format::CloudFormation],
                FormatArg::Pulumi => vec![Format::Pulumi],
                FormatArg::Esc => vec![Format::Esc],
                FormatArg::All => Format::ALL.to_vec(),
            })
            .collect();
        Selection::Only(formats)
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
        assert!(Cli::try_parse_from(["oidc-gen"]).is_err());
    }
}
