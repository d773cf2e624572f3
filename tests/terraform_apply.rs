//! The Terraform output applied for real, against moto: what it creates is read back through the
//! AWS API and must be what was generated; a second plan shows no change; destroy leaves nothing.
//! Also `--existing-provider` against an account that already has the provider. Terraform's
//! provider is large, so these tests run one at a time.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

use common::aws::{Moto, Terraform, normalized_policy};
use common::{THUMBPRINT, fixtures, oidc_gen, text};
use serde_json::{Value, json};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const PROVIDER_ARN: &str = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc";

/// What the generated module should create, stated from the inputs.
struct Expected {
    role_name: &'static str,
    max_session_duration: u64,
    thumbprints: Vec<&'static str>,
    /// The trust policy as generated (taken from the CloudFormation file of the same inputs).
    trust_policy: Value,
    /// The Sids of the statements, stated from the inputs.
    sids: Vec<&'static str>,
    /// Tokens (aud, sub) the role admits, one or more per statement.
    admitted: Vec<(&'static str, &'static str)>,
    policies: Vec<&'static str>,
}

/// The trust policy of a generated CloudFormation template, with the account's provider ARN.
fn generated_policy(template: &Path) -> Value {
    let template: Value =
        serde_json::from_str(&std::fs::read_to_string(template).unwrap()).unwrap();
    let mut policy =
        template["Resources"]["PulumiEscRole"]["Properties"]["AssumeRolePolicyDocument"].clone();
    for statement in policy["Statement"].as_array_mut().unwrap() {
        statement["Principal"]["Federated"] = json!(PROVIDER_ARN);
    }
    policy
}

fn sorted(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Reads the role back and checks its trust policy, session limit and attachments.
fn check_role(moto: &Moto, expected: &Expected, provider_arn: &str) -> Value {
    let role = moto.aws(&["iam", "get-role", "--role-name", expected.role_name])["Role"].clone();
    assert_eq!(role["MaxSessionDuration"], expected.max_session_duration);
    let policy = &role["AssumeRolePolicyDocument"];
    let statements = policy["Statement"].as_array().unwrap();
    let sids: Vec<&str> = statements
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids, expected.sids, "the statements read back");
    let mut generated = expected.trust_policy.clone();
    for statement in generated["Statement"].as_array_mut().unwrap() {
        statement["Principal"]["Federated"] = json!(provider_arn);
    }
    assert_eq!(
        normalized_policy(policy),
        normalized_policy(&generated),
        "the trust policy read back"
    );
    for statement in statements {
        assert_eq!(statement["Effect"], "Allow");
        assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
        assert_eq!(statement["Principal"], json!({ "Federated": provider_arn }));
        let keys: Vec<&String> = statement["Condition"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|group| group.as_object().unwrap().keys())
            .collect();
        assert!(
            keys.iter().any(|k| *k == "api.pulumi.com/oidc:aud"),
            "{statement}"
        );
        assert!(
            keys.iter().any(|k| *k == "api.pulumi.com/oidc:sub"),
            "{statement}"
        );
    }

    // `oidc-gen simulate` reads what `aws iam get-role` prints: each admitted token gets in, and
    // the same token with the other audience does not.
    let work = tempfile::tempdir().unwrap();
    let saved = work.path().join("role.json");
    std::fs::write(&saved, json!({ "Role": role }).to_string()).unwrap();
    for (aud, sub) in &expected.admitted {
        let other = if aud.starts_with("aws:") {
            "acme"
        } else {
            "aws:acme"
        };
        for (aud, code) in [(*aud, 0), (other, 1)] {
            let args = [
                "simulate",
                "--policy",
                saved.to_str().unwrap(),
                "--aud",
                aud,
                "--sub",
                sub,
            ];
            let output = oidc_gen(work.path(), &args);
            assert_eq!(
                output.status.code(),
                Some(code),
                "{aud} {sub}: {}",
                text(&output).0
            );
        }
    }

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

    if let Some(settings) = outputs.get("deployment_settings") {
        let settings: Value = serde_json::from_str(settings["value"].as_str().unwrap()).unwrap();
        assert_eq!(
            settings["operationContext"]["oidc"]["aws"]["roleArn"],
            role["Arn"]
        );
    }

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
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("out");
    std::fs::copy(committed.join("terraform/main.tf"), module.join("main.tf")).unwrap();
    let expected = Expected {
        role_name: "pulumi-esc-oidc",
        max_session_duration: 3600,
        thumbprints: vec![],
        trust_policy: generated_policy(&committed.join("cloudformation/template.json")),
        sids: vec!["EscNamedProjects", "EscDefaultProject", "PulumiDeployments"],
        admitted: vec![
            ("aws:acme", "pulumi:environments:org:acme:env:platform/prod"),
            ("acme", "pulumi:environments:org:acme:env:legacy"),
            (
                "acme",
                "pulumi:deploy:org:acme:project:infra:stack:prod:operation:destroy:scope:write",
            ),
        ],
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
    args.extend(["--format", "terraform,cloudformation", "--out", "."]);
    let output = oidc_gen(work, &args);
    let (_, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    (work.join("terraform"), stderr)
}

/// Every Pulumi token shape in one role: named and legacy ESC environments, Deployments.
#[test]
fn all_shapes_apply_match_and_destroy() {
    let _one = lock();
    let Some(moto) = Moto::start() else { return };
    let work = tempfile::tempdir().unwrap();
    let (module, _) = generate(work.path(), "all_shapes");
    let expected = Expected {
        role_name: "pulumi-all",
        max_session_duration: 3600,
        thumbprints: vec![THUMBPRINT],
        trust_policy: generated_policy(&work.path().join("cloudformation/template.json")),
        sids: vec!["EscNamedProjects", "EscDefaultProject", "PulumiDeployments"],
        admitted: vec![
            ("aws:acme", "pulumi:environments:org:acme:env:platform/prod"),
            ("acme", "pulumi:environments:org:acme:env:legacy-eu"),
            ("acme", "pulumi:environments:org:acme:env:ops"),
            (
                "acme",
                "pulumi:deploy:org:acme:project:web:stack:dev:operation:preview:scope:write",
            ),
        ],
        policies: vec!["arn:aws:iam::aws:policy/PowerUserAccess"],
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
        trust_policy: generated_policy(&work.path().join("existing/cloudformation/template.json")),
        sids: vec!["EscNamedProjects"],
        admitted: vec![("aws:acme", "pulumi:environments:org:acme:env:platform/prod")],
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

/// GitHub's preset: the provider for GitHub's issuer with its one audience, and a role whose
/// stored trust policy is the generated one, which admits the repository's tokens (old and
/// immutable subject) and refuses the same name re-created (a new repository ID).
#[test]
fn github_role_applies_and_admits_its_repository() {
    let _one = lock();
    let Some(moto) = Moto::start() else { return };
    let work = tempfile::tempdir().unwrap();
    let (module, _) = generate(work.path(), "github_preset");
    let Some(terraform) = Terraform::new(&module) else {
        return;
    };
    terraform.use_moto(&moto);
    terraform.ok(&["init"]);
    terraform.ok(&["validate"]);
    terraform.ok(&["apply", "-auto-approve"]);

    let provider_arn =
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
    let provider = moto.aws(&[
        "iam",
        "get-open-id-connect-provider",
        "--open-id-connect-provider-arn",
        provider_arn,
    ]);
    assert_eq!(provider["Url"], "token.actions.githubusercontent.com");
    assert_eq!(provider["ClientIDList"], json!(["sts.amazonaws.com"]));

    let role = moto.aws(&["iam", "get-role", "--role-name", "github-actions-oidc"])["Role"].clone();
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(work.path().join("cloudformation/template.json")).unwrap(),
    )
    .unwrap();
    let mut generated =
        template["Resources"]["PulumiEscRole"]["Properties"]["AssumeRolePolicyDocument"].clone();
    for statement in generated["Statement"].as_array_mut().unwrap() {
        statement["Principal"]["Federated"] = json!(provider_arn);
    }
    assert_eq!(
        normalized_policy(&role["AssumeRolePolicyDocument"]),
        normalized_policy(&generated),
        "the trust policy read back"
    );
    let outputs: Value = serde_json::from_str(&terraform.ok(&["output", "-json"])).unwrap();
    assert_eq!(outputs["role_arn"]["value"], role["Arn"]);

    // The role as `aws iam get-role` prints it, judged by `simulate` with GitHub's claims.
    let saved = work.path().join("role.json");
    std::fs::write(&saved, json!({ "Role": role }).to_string()).unwrap();
    let workflow = "job_workflow_ref=acme/shared/.github/workflows/deploy.yml@refs/heads/main";
    for (sub, repo_id, code) in [
        ("repo:acme/infra:ref:refs/heads/main", "892375110", 0),
        (
            "repo:acme@1342004/infra@892375110:environment:prod",
            "892375110",
            0,
        ),
        ("repo:acme/infra:pull_request", "892375110", 0),
        ("repo:acme/infra:ref:refs/heads/main", "999", 1),
        ("repo:acme/infra:ref:refs/heads/dev", "892375110", 1),
    ] {
        let repo_id = format!("repository_id={repo_id}");
        let output = oidc_gen(
            work.path(),
            &[
                "simulate",
                "--policy",
                saved.to_str().unwrap(),
                "--aud",
                "sts.amazonaws.com",
                "--sub",
                sub,
                "--claim",
                &repo_id,
                "--claim",
                "repository_owner_id=1342004",
                "--claim",
                workflow,
            ],
        );
        assert_eq!(
            output.status.code(),
            Some(code),
            "{sub} {repo_id}: {}",
            text(&output).0
        );
    }

    let plan = terraform.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan).0);
    terraform.ok(&["destroy", "-auto-approve", "-refresh=false"]);
    let providers = moto.aws(&["iam", "list-open-id-connect-providers"]);
    assert_eq!(providers["OpenIDConnectProviderList"], json!([]));
}

/// Every other CI system's role, applied on moto one after the other: the provider for the
/// system's issuer with its audience, the role's stored trust policy equal to the generated one,
/// a second plan empty, and nothing left after destroy.
#[test]
fn ci_system_roles_apply_match_and_destroy() {
    let _one = lock();
    let Some(moto) = Moto::start() else { return };
    let systems = [
        (
            "gitlab_preset",
            "gitlab-oidc",
            "gitlab.com",
            "https://gitlab.com",
        ),
        (
            "hcp_terraform_preset",
            "hcp-terraform-oidc",
            "app.terraform.io",
            "aws.workload.identity",
        ),
        (
            "buildkite_preset",
            "buildkite-oidc",
            "agent.buildkite.com",
            "sts.amazonaws.com",
        ),
        (
            "circleci_preset",
            "circleci-oidc",
            "oidc.circleci.com/org/0f3e1a2b-0000-4000-8000-00000000abcd",
            "0f3e1a2b-0000-4000-8000-00000000abcd",
        ),
    ];
    // Four roles of four issuers touch nothing in common: they are applied at once.
    std::thread::scope(|scope| {
        for (fixture, role_name, host, client_id) in systems {
            let moto = &moto;
            scope.spawn(move || apply_ci_system(moto, fixture, role_name, host, client_id));
        }
    });
}

/// Applies one CI system's fixture on `moto`, reads it back, plans again and destroys it.
fn apply_ci_system(moto: &Moto, fixture: &str, role_name: &str, host: &str, client_id: &str) {
    {
        let work = tempfile::tempdir().unwrap();
        let (module, _) = generate(work.path(), fixture);
        let Some(terraform) = Terraform::new(&module) else {
            return;
        };
        terraform.use_moto(moto);
        terraform.ok(&["init"]);
        terraform.ok(&["apply", "-auto-approve"]);
        let provider_arn = format!("arn:aws:iam::123456789012:oidc-provider/{host}");
        let provider = moto.aws(&[
            "iam",
            "get-open-id-connect-provider",
            "--open-id-connect-provider-arn",
            &provider_arn,
        ]);
        assert_eq!(provider["Url"], host, "{fixture}");
        assert_eq!(provider["ClientIDList"], json!([client_id]), "{fixture}");
        let role = moto.aws(&["iam", "get-role", "--role-name", role_name])["Role"].clone();
        let template: Value = serde_json::from_str(
            &std::fs::read_to_string(work.path().join("cloudformation/template.json")).unwrap(),
        )
        .unwrap();
        let mut generated =
            template["Resources"]["PulumiEscRole"]["Properties"]["AssumeRolePolicyDocument"]
                .clone();
        for statement in generated["Statement"].as_array_mut().unwrap() {
            statement["Principal"]["Federated"] = json!(provider_arn);
        }
        assert_eq!(
            normalized_policy(&role["AssumeRolePolicyDocument"]),
            normalized_policy(&generated),
            "{fixture}: the trust policy read back"
        );
        let plan = terraform.run(&["plan", "-detailed-exitcode"]);
        assert_eq!(plan.status.code(), Some(0), "{fixture}: {}", text(&plan).0);
        terraform.ok(&["destroy", "-auto-approve", "-refresh=false"]);
        let left = moto.aws(&["iam", "list-open-id-connect-providers"]);
        let left = left["OpenIDConnectProviderList"].to_string();
        assert!(!left.contains(&provider_arn), "{fixture}: {left}");
    }
}
