//! Real AWS tooling for tests: moto as a local IAM API, the aws CLI against it, and Terraform with
//! the machine's offline provider mirror. Each helper reports a missing tool through `have_tool`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{have_tool, text};

/// moto exits by itself after this long, whatever happens to the test that started it.
const MOTO_LIFETIME_SECONDS: &str = "900";

/// A moto server on 127.0.0.1, stopped by its pid when dropped.
pub struct Moto {
    child: Child,
    /// The port it listens on.
    pub port: u16,
}

impl Moto {
    /// Starts moto with AWS-managed policies loaded; `None` (test skipped) when it is missing.
    pub fn start() -> Option<Self> {
        Self::launch(&["moto_server"])
    }

    /// Starts moto through `tests/moto/launcher.py`, which adds what its CloudFormation lacks for
    /// the generated templates (the OIDC provider, managed policy attachments, and StackSet
    /// targets filtered by account).
    pub fn start_with_cloudformation() -> Option<Self> {
        let launcher = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/moto/launcher.py");
        Self::launch(&["python3", launcher])
    }

    fn launch(program: &[&str]) -> Option<Self> {
        if !have_tool("moto_server", "--help") || !have_tool("aws", "--version") {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("timeout")
            .arg(MOTO_LIFETIME_SECONDS)
            .args(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not listen on port {port} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs `aws --endpoint-url ... ARGS` against moto.
    pub fn aws_output(&self, args: &[&str]) -> Output {
        self.aws_output_as(&Credentials::default(), args)
    }

    /// Runs `aws --endpoint-url ... ARGS` against moto with `credentials`.
    pub fn aws_output_as(&self, credentials: &Credentials, args: &[&str]) -> Output {
        let home = tempfile::tempdir().unwrap();
        let mut command = Command::new("aws");
        command
            .arg("--endpoint-url")
            .arg(self.endpoint())
            .args(["--output", "json"])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", &credentials.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &credentials.secret_access_key)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", home.path().join("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                home.path().join("credentials"),
            )
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN");
        if let Some(token) = &credentials.session_token {
            command.env("AWS_SESSION_TOKEN", token);
        }
        command.output().expect("the aws CLI runs")
    }

    /// Runs an aws command that must succeed, and parses its JSON output (null when empty).
    pub fn aws(&self, args: &[&str]) -> serde_json::Value {
        self.aws_as(&Credentials::default(), args)
    }

    /// Runs an aws command with `credentials` that must succeed, and parses its JSON output.
    pub fn aws_as(&self, credentials: &Credentials, args: &[&str]) -> serde_json::Value {
        let output = self.aws_output_as(credentials, args);
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "aws {args:?} failed:\n{stderr}");
        if stdout.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&stdout).unwrap()
        }
    }

    /// Credentials in `account`, through its `OrganizationAccountAccessRole`.
    pub fn assume(&self, account: &str) -> Credentials {
        let role = format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole");
        let answer = self.aws(&[
            "sts",
            "assume-role",
            "--role-arn",
            &role,
            "--role-session-name",
            "oidc-gen-test",
        ]);
        let field = |name: &str| answer["Credentials"][name].as_str().unwrap().to_owned();
        Credentials {
            access_key_id: field("AccessKeyId"),
            secret_access_key: field("SecretAccessKey"),
            session_token: Some(field("SessionToken")),
        }
    }

    /// The variables that point the AWS SDKs (and Terraform's provider) at moto.
    pub fn sdk_environment(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

/// AWS credentials for the aws CLI against moto.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl Default for Credentials {
    /// moto's default account, 123456789012.
    fn default() -> Self {
        Credentials {
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
            session_token: None,
        }
    }
}

/// A policy with every list sorted and every one-element list as IAM may store it (a string),
/// so that documents that mean the same compare equal.
pub fn normalized_policy(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Value, json};
    match value {
        Value::String(s) => json!([s]),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(normalized_policy).collect();
            if items
                .iter()
                .all(|i| i.is_array() && i.as_array().unwrap().len() == 1 && i[0].is_string())
            {
                items = items.into_iter().map(|i| i[0].clone()).collect();
                items.sort_by_key(|i| i.to_string());
            }
            Value::Array(items)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalized_policy(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // SIGTERM to `timeout`, which passes it on to moto; SIGKILL if that was not enough.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The folder holding `registry.terraform.io/` with the AWS provider: `TF_PROVIDER_MIRROR`, or
/// the machine image's `/opt/tf-plugins`.
fn provider_mirror() -> Option<PathBuf> {
    let candidate = std::env::var_os("TF_PROVIDER_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/tf-plugins"));
    let found = candidate
        .join("registry.terraform.io/hashicorp/aws")
        .is_dir();
    if !found {
        super::skip(&format!(
            "no Terraform AWS provider mirror at {} (set TF_PROVIDER_MIRROR)",
            candidate.display()
        ));
    }
    found.then_some(candidate)
}

/// Terraform in one module folder, offline, with its own CLI configuration.
pub struct Terraform {
    module: PathBuf,
    config: PathBuf,
    environment: Vec<(&'static str, String)>,
}

impl Terraform {
    /// Terraform for `module`, or `None` (test skipped) without terraform or the provider mirror.
    pub fn new(module: &Path) -> Option<Self> {
        if !have_tool("terraform", "version") {
            return None;
        }
        let mirror = provider_mirror()?;
        let config = module.parent().unwrap().join(format!(
            "{}.tfrc",
            module.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(
            &config,
            format!(
                r#"provider_installation {{
  filesystem_mirror {{
    path    = "{}"
    include = ["registry.terraform.io/hashicorp/*"]
  }}
  direct {{
    exclude = ["registry.terraform.io/hashicorp/*"]
  }}
}}
"#,
                mirror.display()
            ),
        )
        .unwrap();
        Some(Terraform {
            module: module.to_path_buf(),
            config,
            environment: Vec::new(),
        })
    }

    /// Points the AWS provider at moto, through an override file beside the generated module.
    pub fn use_moto(&self, moto: &Moto) {
        std::fs::write(
            self.module.join("moto_override.tf"),
            format!(
                r#"provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  max_retries                 = 1

  endpoints {{
    iam = "{endpoint}"
    sts = "{endpoint}"
  }}
}}
"#,
                endpoint = moto.endpoint()
            ),
        )
        .unwrap();
    }

    /// Points every AWS provider of the module, aliases included, at moto through the
    /// environment (the module is left as generated).
    pub fn use_moto_environment(&mut self, moto: &Moto) {
        self.environment = moto.sdk_environment();
    }

    /// Runs `terraform ARGS` in the module.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("terraform")
            .envs(self.environment.iter().map(|(k, v)| (k, v)))
            .args(args)
            .arg("-no-color")
            .current_dir(&self.module)
            .env("TF_CLI_CONFIG_FILE", &self.config)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("terraform runs")
    }

    /// Runs a terraform command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        let (stdout, stderr) = text(&output);
        assert!(
            output.status.success(),
            "terraform {args:?} failed:\n{stdout}\n{stderr}"
        );
        stdout
    }
}
