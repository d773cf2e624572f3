//! The Terraform output applied for real, against moto: what it creates is read back through the
//! AWS API and must be what was generated; a second plan shows no change; destroy leaves nothing.
//! Also `--existing-provider` against an account that already has the provider. Terraform's
//! provider is large, so these tests run one at a time.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

use common::aws::{Moto, Terraform};
use common::{THUMBPRINT, fixtures, oidc_gen, text};
use serde_json::{Value, json};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const PROVIDER_ARN: &str = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc";

/// What the generated module should create, stated from the inputs.
struct Expected {
    role_name: &'static str,
    max_session_duration: u64,
    thumbprints: Vec<&'static str>,
    subjects: Vec<&'static str>,
    policies: Vec<&'static str>,
}

fn sorted(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// IAM may store a one-element list as a plain string.
fn as_set(value: &Value) -> BTreeSet<String> {
    match value {
        Value::String(s) => BTreeSet::from([s.clone()]),
        other => sorted(other),
    }
}

/// Reads the role back and checks its trust policy, session limit and attachments.
fn check_role(moto: &Moto, expected: &Expected, provider_arn: &str) -> Value {
    let role = moto.aws(&["iam", "get-role", "--role-name", expected.role_name])["Role"].clone();
    assert_eq!(role["MaxSessionDuration"], expected.max_session_duration);
    let policy = &role["AssumeRolePolicyDocument"];
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    let statement = &statements[0];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    assert_eq!(statement["Principal"], json!({ "Federated": provider_arn }));
    let condition = statement["Condition"].as_object().unwrap();
    assert_eq!(
        as_set(&condition["StringEquals"]["api.pulumi.com/oidc:aud"]),
        BTreeSet::from(["acme".to_owned(), "aws:acme".to_owned()])
    );
    let sub_test = if expected.subjects.iter().any(|s| s.contains('*')) {
        "StringLike"
    } else {
        "StringEquals"
    };
    let subjects: BTreeSet<String> = expected
        .subjects
        .iter()
        .map(|s| format!("pulumi:environments:org:acme:env:{s}"))
        .collect();
    assert_eq!(
        as_set(&condition[sub_test]["api.pulumi.com/oidc:sub"]),
        subjects
    );
    let keys: usize = condition
        .values()
        .map(|group| group.as_object().unwrap().len())
        .sum();
    assert_eq!(keys, 2, "only aud and sub are tested: {condition:?}");

    // moto's policy validator judges the stored document when it is sent back.
    moto.aws(&[
        "iam",
        "update-assume-role-policy",
        "--role-name",
        expected.role_name,
        "--policy-document",
        &policy.to_string(),
    ]);

    let attached = moto.aws(&[
        "iam",
        "list-attached-role-policies",
        "--role-name",
        expected.role_name,
    ]);
    let arns: BTreeSet<String> = attached["AttachedPolicies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["PolicyArn"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        arns,
        expected.policies.iter().map(|p| p.to_string()).collect()
    );
    role
}

/// fmt, init, validate, apply, read back, plan again, destroy.
fn apply_and_verify(module: &Path, moto: &Moto, expected: &Expected) {
    let Some(terraform) = Terraform::new(module) else {
        return;
    };
    terraform.ok(&["fmt", "-check", "-diff"]);
    terraform.use_moto(moto);
    terraform.ok(&["init"]);
    terraform.ok(&["validate"]);
    terraform.ok(&["apply", "-auto-approve"]);

    let provider = moto.aws(&[
        "iam",
        "get-open-id-connect-provider",
        "--open-id-connect-provider-arn",
        PROVIDER_ARN,
    ]);
    assert_eq!(provider["Url"], "api.pulumi.com/oidc");
    assert_eq!(
        sorted(&provider["ClientIDList"]),
        BTreeSet::from(["acme".to_owned(), "aws:acme".to_owned()])
    );
    let thumbprints: Vec<&str> = provider["ThumbprintList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(thumbprints, expected.thumbprints);

    let role = check_role(moto, expected, PROVIDER_ARN);
    let outputs: Value = serde_json::from_str(&terraform.ok(&["output", "-json"])).unwrap();
    assert_eq!(outputs["role_arn"]["value"], role["Arn"]);
    assert_eq!(outputs["oidc_provider_arn"]["value"], PROVIDER_ARN);
    let esc: Value =
        serde_yaml::from_str(outputs["esc_environment"]["value"].as_str().unwrap()).unwrap();
    let oidc = &esc["values"]["aws"]["login"]["fn::open::aws-login"]["oidc"];
    assert_eq!(json!(oidc["roleArn"].as_str()), role["Arn"]);
    assert_eq!(
        esc["values"]["environmentVariables"]["AWS_SESSION_TOKEN"],
        "${aws.login.sessionToken}"
    );

    let plan = terraform.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "a second plan shows changes:\n{}",
        text(&plan).0
    );

    terraform.ok(&["destroy", "-auto-approve", "-refresh=false"]);
    let providers = moto.aws(&["iam", "list-open-id-connect-providers"]);
    assert_eq!(providers["OpenIDConnectProviderList"], json!([]));
    let roles = moto.aws(&["iam", "list-roles"]);
    assert!(
        roles["Roles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["RoleName"] != expected.role_name)
    );
}

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn committed_example_applies_matches_and_destroys() {
    let _one = lock();
    let Some(moto) = Moto::start() else { return };
    let work = tempfile::tempdir().unwrap();
    let module = work.path().join("terraform");
    std::fs::create_dir(&module).unwrap();
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("out/terraform/main.tf");
    std::fs::copy(committed, module.join("main.tf")).unwrap();
    let expected = Expected {
        role_name: "pulumi-esc-oidc",
        max_session_duration: 3600,
        thumbprints: vec![],
        subjects: vec!["platform/prod"],
        policies: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess"],
    };
    apply_and_verify(&module, &moto, &expected);
}

/// Generates a fixture's Terraform module under `work`; returns its folder and what oidc-gen said.
fn generate(work: &Path, fixture: &str) -> (std::path::PathBuf, String) {
    std::fs::create_dir_all(work).unwrap();
    let (_, args) = fixtures()
        .into_iter()
        .find(|(name, _)| *name == fixture)
        .unwrap();
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--format", "terraform", "--out", "."]);
    let output = oidc_gen(work, &args);
    let (_, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    (work.join("terraform"), stderr)
}

#[test]
fn scoped_fixture_applies_matches_and_destroys() {
    let _one = lock();
    let Some(moto) = Moto::start() else { return };
    // The fixture attaches a customer-managed policy too; it must exist first.
    let document = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]});
    moto.aws(&[
        "iam",
        "create-policy",
        "--policy-name",
        "Deploy",
        "--path",
        "/esc/",
        "--policy-document",
        &document.to_string(),
    ]);
    let work = tempfile::tempdir().unwrap();
    let (module, _) = generate(work.path(), "scoped");
    let expected = Expected {
        role_name: "esc-deployer",
        max_session_duration: 7200,
        thumbprints: vec![THUMBPRINT],
        subjects: vec!["platform/prod", "legacy-env"],
        policies: vec![
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::123456789012:policy/esc/Deploy",
        ],
    };
    apply_and_verify(&module, &moto, &expected);
}

#[test]
fn an_existing_provider_is_trusted_not_created_again() {
    let _one = lock();
    let Some(moto) = Moto::start() else { return };
    // Made by hand, earlier, with only the audience Deployments use.
    moto.aws(&[
        "iam",
        "create-open-id-connect-provider",
        "--url",
        "https://api.pulumi.com/oidc",
        "--client-id-list",
        "acme",
    ]);

    // Without --existing-provider the apply fails: one provider per URL.
    let work = tempfile::tempdir().unwrap();
    let (plain, _) = generate(&work.path().join("plain"), "no_thumbprint");
    let Some(terraform) = Terraform::new(&plain) else {
        return;
    };
    terraform.use_moto(&moto);
    terraform.ok(&["init"]);
    let clash = terraform.run(&["apply", "-auto-approve"]);
    assert!(!clash.status.success());
    assert!(
        text(&clash).1.contains("EntityAlreadyExists"),
        "{}",
        text(&clash).1
    );
    terraform.ok(&["destroy", "-auto-approve"]);

    // With it, the role trusts the existing provider, once it lists both audiences.
    let (module, stderr) = generate(&work.path().join("existing"), "existing_provider");
    let terraform = Terraform::new(&module).unwrap();
    terraform.ok(&["fmt", "-check"]);
    terraform.use_moto(&moto);
    terraform.ok(&["init"]);
    terraform.ok(&["validate"]);
    let refused = terraform.run(&["apply", "-auto-approve"]);
    let (_, refused_err) = text(&refused);
    assert!(
        !refused.status.success(),
        "the precondition should refuse a provider without aws:acme"
    );
    assert!(
        refused_err.contains("lacks client IDs") && refused_err.contains("aws:acme"),
        "{refused_err}"
    );

    // The commands oidc-gen printed add the audiences. The aws CLI accepts them and sends the
    // request; moto does not implement AddClientIDToOpenIDConnectProvider (it answers 500), so
    // their effect is made here by recreating the provider with both client IDs.
    let commands: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("aws iam add-client-id"))
        .collect();
    assert_eq!(commands.len(), 2, "{stderr}");
    for (command, client_id) in commands.iter().zip(["acme", "aws:acme"]) {
        let words = shell_words::split(command).unwrap();
        assert_eq!(words[..2], ["aws", "iam"]);
        assert_eq!(words[words.len() - 2..], ["--client-id", client_id]);
        assert!(words.contains(&PROVIDER_ARN.to_owned()), "{command}");
        let words: Vec<&str> = words.iter().skip(1).map(String::as_str).collect();
        let sent = moto.aws_output(&words);
        let (_, sent_err) = text(&sent);
        assert!(
            sent_err.contains("500 Internal Server Error"),
            "the aws CLI refused the command itself: {sent_err}"
        );
    }
    moto.aws(&[
        "iam",
        "delete-open-id-connect-provider",
        "--open-id-connect-provider-arn",
        PROVIDER_ARN,
    ]);
    moto.aws(&[
        "iam",
        "create-open-id-connect-provider",
        "--url",
        "https://api.pulumi.com/oidc",
        "--client-id-list",
        "acme",
        "aws:acme",
    ]);
    terraform.ok(&["apply", "-auto-approve"]);

    let providers = moto.aws(&["iam", "list-open-id-connect-providers"]);
    assert_eq!(
        providers["OpenIDConnectProviderList"],
        json!([{ "Arn": PROVIDER_ARN }])
    );
    let expected = Expected {
        role_name: "pulumi-esc-oidc",
        max_session_duration: 3600,
        thumbprints: vec![],
        subjects: vec!["platform/prod"],
        policies: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess"],
    };
    check_role(&moto, &expected, PROVIDER_ARN);
    let outputs: Value = serde_json::from_str(&terraform.ok(&["output", "-json"])).unwrap();
    assert_eq!(outputs["oidc_provider_arn"]["value"], PROVIDER_ARN);
    let plan = terraform.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan).0);

    // Destroying the module leaves the provider it did not create.
    terraform.ok(&["destroy", "-auto-approve", "-refresh=false"]);
    let providers = moto.aws(&["iam", "list-open-id-connect-providers"]);
    assert_eq!(
        providers["OpenIDConnectProviderList"],
        json!([{ "Arn": PROVIDER_ARN }])
    );
}
