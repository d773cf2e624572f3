//! `oidc-gen lint`: a corpus of good and bad trust policies of every issuer, each named with the
//! rules it must trip; every policy oidc-gen generates lints clean; the inputs lint reads (AWS CLI
//! outputs, CloudFormation, folders) and the ones it refuses (symbolic links, broken files).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use common::{fixtures, oidc_gen, skip, text};
use oidc_gen::lint::{self, Report, Role, Severity};
use oidc_gen::simulate::{self, Token, Verdict};
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";

/// A policy of one web-identity statement for the issuer `host` with these conditions.
fn policy(host: &str, condition: Value) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{host}") },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        }]
    })
}

fn lint_one(policy: &Value) -> Report {
    let mut report = Report::default();
    lint::lint_role(
        &Role {
            path: "policy.json".into(),
            line: None,
            resource: "role".into(),
            policy: policy.clone(),
            suppressed: Vec::new(),
        },
        &mut report,
    );
    report
}

fn rules(report: &Report) -> BTreeSet<&'static str> {
    report.findings.iter().map(|f| f.rule).collect()
}

const GITHUB: &str = "token.actions.githubusercontent.com";
const GITLAB: &str = "gitlab.com";
const PULUMI: &str = "api.pulumi.com/oidc";
const HCP: &str = "app.terraform.io";
const BUILDKITE: &str = "agent.buildkite.com";
const CIRCLECI: &str = "oidc.circleci.com/org/0f3e";

/// A corpus case: its name, the issuer, the conditions, the rules it must trip (none: clean),
/// and, for a policy that admits too much, a token it must not admit but does.
struct Case(
    &'static str,
    &'static str,
    Value,
    Vec<&'static str>,
    Option<(&'static str, &'static str)>,
);

fn corpus() -> Vec<Case> {
    let aud = |host: &str, value: &str| json!({ format!("{host}:aud"): value });
    vec![
        Case(
            "github_exact_repo_and_ids",
            GITHUB,
            json!({ "StringEquals": {
                format!("{GITHUB}:aud"): "sts.amazonaws.com",
                format!("{GITHUB}:sub"): "repo:acme/app:ref:refs/heads/main",
                format!("{GITHUB}:repository_id"): "22",
            }}),
            vec![],
            None,
        ),
        Case(
            "github_without_repository_id_is_a_note",
            GITHUB,
            json!({
                "StringEquals": { format!("{GITHUB}:aud"): "sts.amazonaws.com" },
                "StringLike": { format!("{GITHUB}:sub"): "repo:acme/*" },
            }),
            vec!["OIDC201"],
            None,
        ),
        Case(
            "github_audience_only",
            GITHUB,
            json!({ "StringEquals": aud(GITHUB, "sts.amazonaws.com") }),
            vec!["OIDC001", "OIDC103"],
            Some(("sts.amazonaws.com", "repo:evil/app:ref:refs/heads/main")),
        ),
        Case(
            "github_any_repository",
            GITHUB,
            json!({
                "StringEquals": aud(GITHUB, "sts.amazonaws.com"),
                "StringLike": { format!("{GITHUB}:sub"): "repo:*" },
            }),
            vec!["OIDC002", "OIDC201"],
            Some(("sts.amazonaws.com", "repo:evil/app:ref:refs/heads/main")),
        ),
        Case(
            "github_owner_prefix_crosses_the_field",
            GITHUB,
            json!({
                "StringEquals": aud(GITHUB, "sts.amazonaws.com"),
                "StringLike": { format!("{GITHUB}:sub"): "repo:acme*" },
            }),
            vec!["OIDC002", "OIDC201"],
            Some((
                "sts.amazonaws.com",
                "repo:acme-evil/app:ref:refs/heads/main",
            )),
        ),
        Case(
            "github_star_in_a_list",
            GITHUB,
            json!({
                "StringEquals": aud(GITHUB, "sts.amazonaws.com"),
                "StringLike": { format!("{GITHUB}:sub"): ["repo:acme/app:*", "*"] },
            }),
            vec!["OIDC002", "OIDC003", "OIDC201"],
            Some(("sts.amazonaws.com", "repo:evil/app:ref:refs/heads/main")),
        ),
        Case(
            "github_string_equals_with_a_wildcard_admits_nothing",
            GITHUB,
            json!({ "StringEquals": {
                format!("{GITHUB}:aud"): "sts.amazonaws.com",
                format!("{GITHUB}:sub"): "repo:acme/*",
            }}),
            vec!["OIDC101", "OIDC201"],
            None,
        ),
        Case(
            "github_audience_pattern",
            GITHUB,
            json!({ "StringLike": {
                format!("{GITHUB}:aud"): "sts.*",
                format!("{GITHUB}:sub"): "repo:acme/app:*",
            }}),
            vec!["OIDC004", "OIDC201"],
            None,
        ),
        Case(
            "github_for_all_values",
            GITHUB,
            json!({
                "StringEquals": aud(GITHUB, "sts.amazonaws.com"),
                "ForAllValues:StringLike": { format!("{GITHUB}:sub"): "repo:acme/app:*" },
            }),
            vec!["OIDC005", "OIDC103", "OIDC201"],
            None,
        ),
        Case(
            "github_unmapped_claim",
            GITHUB,
            json!({ "StringEquals": {
                format!("{GITHUB}:aud"): "sts.amazonaws.com",
                format!("{GITHUB}:sub"): "repo:acme/app:ref:refs/heads/main",
                format!("{GITHUB}:repository_id"): "22",
                format!("{GITHUB}:run_attempt"): "1",
            }}),
            vec!["OIDC102"],
            None,
        ),
        Case(
            "gitlab_key_on_a_github_provider",
            GITHUB,
            json!({ "StringEquals": {
                format!("{GITHUB}:aud"): "sts.amazonaws.com",
                format!("{GITHUB}:sub"): "repo:acme/app:ref:refs/heads/main",
                format!("{GITHUB}:repository_id"): "22",
                format!("{GITLAB}:project_id"): "7",
            }}),
            vec!["OIDC102"],
            None,
        ),
        Case(
            "gitlab_project",
            GITLAB,
            json!({
                "StringEquals": aud(GITLAB, "https://gitlab.com"),
                "StringLike": { format!("{GITLAB}:sub"): "project_path:acme/app:ref_type:branch:ref:*" },
            }),
            vec![],
            None,
        ),
        Case(
            "gitlab_every_group",
            GITLAB,
            json!({
                "StringEquals": aud(GITLAB, "https://gitlab.com"),
                "StringLike": { format!("{GITLAB}:sub"): "project_path:*" },
            }),
            vec!["OIDC002"],
            Some((
                "https://gitlab.com",
                "project_path:evil/app:ref_type:branch:ref:main",
            )),
        ),
        Case(
            "pulumi_org_environments",
            PULUMI,
            json!({
                "StringEquals": aud(PULUMI, "aws:acme"),
                "StringLike": { format!("{PULUMI}:sub"): "pulumi:environments:org:acme:env:*" },
            }),
            vec![],
            None,
        ),
        Case(
            "pulumi_audience_only_admits_deployments_too",
            PULUMI,
            json!({ "StringEquals": aud(PULUMI, "acme") }),
            vec!["OIDC001"],
            Some((
                "acme",
                "pulumi:deploy:org:acme:project:p:stack:s:operation:update:scope:write",
            )),
        ),
        Case(
            "pulumi_every_org",
            PULUMI,
            json!({
                "StringEquals": aud(PULUMI, "aws:acme"),
                "StringLike": { format!("{PULUMI}:sub"): "pulumi:environments:org:*" },
            }),
            vec!["OIDC002"],
            Some(("aws:acme", "pulumi:environments:org:evil:env:p/e")),
        ),
        Case(
            "pulumi_one_pattern_for_every_shape",
            PULUMI,
            json!({
                "StringEquals": { format!("{PULUMI}:aud"): ["acme", "aws:acme"] },
                "StringLike": { format!("{PULUMI}:sub"): "pulumi:*:org:acme:*" },
            }),
            vec!["OIDC002", "OIDC006"],
            Some((
                "acme",
                "pulumi:deploy:org:acme:project:p:stack:s:operation:destroy:scope:write",
            )),
        ),
        Case(
            "pulumi_subject_without_audience",
            PULUMI,
            json!({
                "StringLike": { format!("{PULUMI}:sub"): "pulumi:environments:org:acme:env:*" },
            }),
            vec!["OIDC103"],
            None,
        ),
        Case(
            "github_negation_alone",
            GITHUB,
            json!({
                "StringEquals": aud(GITHUB, "sts.amazonaws.com"),
                "StringNotLike": { format!("{GITHUB}:sub"): "repo:evil/*" },
            }),
            vec!["OIDC007", "OIDC103"],
            Some(("sts.amazonaws.com", "repo:other/app:ref:refs/heads/main")),
        ),
        Case(
            "gitlab_subject_in_no_grammar",
            GITLAB,
            json!({ "StringEquals": {
                format!("{GITLAB}:aud"): "https://gitlab.com",
                format!("{GITLAB}:sub"): "acme/app",
            }}),
            vec!["OIDC104"],
            None,
        ),
        Case(
            "hcp_workspace",
            HCP,
            json!({
                "StringEquals": aud(HCP, "aws.workload.identity"),
                "StringLike": { format!("{HCP}:sub"): "organization:acme:project:*:workspace:prod:run_phase:*" },
            }),
            vec![],
            None,
        ),
        Case(
            "hcp_every_organization",
            HCP,
            json!({
                "StringEquals": aud(HCP, "aws.workload.identity"),
                "StringLike": { format!("{HCP}:sub"): "organization:*:project:*:workspace:prod:run_phase:*" },
            }),
            vec!["OIDC002"],
            Some((
                "aws.workload.identity",
                "organization:evil:project:p:workspace:prod:run_phase:apply",
            )),
        ),
        Case(
            "buildkite_pipeline",
            BUILDKITE,
            json!({
                "StringEquals": aud(BUILDKITE, "sts.amazonaws.com"),
                "StringLike": { format!("{BUILDKITE}:sub"): "organization:acme:pipeline:deploy:*" },
            }),
            vec![],
            None,
        ),
        Case(
            "buildkite_no_subject",
            BUILDKITE,
            json!({ "StringEquals": aud(BUILDKITE, "sts.amazonaws.com") }),
            vec!["OIDC001", "OIDC103"],
            Some((
                "sts.amazonaws.com",
                "organization:evil:pipeline:p:ref:refs/heads/main:commit:c:step:s",
            )),
        ),
        Case(
            "circleci_project",
            CIRCLECI,
            json!({
                "StringEquals": aud(CIRCLECI, "0f3e"),
                "StringLike": { format!("{CIRCLECI}:sub"): "org/0f3e/project/p1/user/*" },
            }),
            vec![],
            None,
        ),
    ]
}

#[test]
fn every_case_of_the_corpus_gets_its_verdict() {
    for Case(name, host, condition, expected, escape) in corpus() {
        let policy = policy(host, condition);
        let report = lint_one(&policy);
        let got = rules(&report);
        let expected: BTreeSet<&str> = expected.into_iter().collect();
        assert_eq!(got, expected, "{name}: {:#?}", report.findings);
        assert_eq!(report.statements.len(), 1, "{name}");
        // A case that admits nothing says so, and why; any other says whose tokens get in.
        let admits = &report.statements[0].admits;
        let nothing = ["OIDC101", "OIDC102", "OIDC104"]
            .iter()
            .any(|rule| got.contains(rule));
        assert!(
            admits.starts_with(if nothing { "nothing: " } else { "tokens of " }),
            "{name}: {admits}"
        );
        for finding in &report.findings {
            assert!(
                !finding.fix.is_empty() && !finding.message.is_empty(),
                "{name}"
            );
            assert_eq!(finding.issuer.as_deref(), Some(host), "{name}");
        }
        // A finding that the policy admits too much is proven with a token it lets in; a clean
        // policy must refuse that kind of token.
        let too_much = report
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error);
        if let Some((aud, sub)) = escape {
            let token = Token {
                iss: None,
                aud: aud.into(),
                sub: sub.into(),
                claims: Default::default(),
            };
            let verdict = simulate::evaluate(&policy, host, &token).unwrap();
            assert!(
                matches!(verdict, Verdict::Allow { .. }),
                "{name}: {sub} should get in, {verdict:?}"
            );
            assert!(too_much, "{name}: admits {sub} with no error");
        }
    }
}

/// The same policy in every input format lint reads: (file name, text). The provider is written
/// the way each format refers to it (a Terraform resource, a CloudFormation `!Sub`, a Pulumi
/// interpolation) where the format allows.
fn in_every_format(host: &str, policy: &Value) -> Vec<(String, String)> {
    let arn = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{host}");
    let with_principal = |principal: Value| {
        let mut policy = policy.clone();
        policy["Statement"][0]["Principal"]["Federated"] = principal;
        policy
    };
    let hcl = |value: &Value| hcl::format::to_string(&hcl::to_expression(value).unwrap()).unwrap();
    let provider = format!(
        "resource \"aws_iam_openid_connect_provider\" \"ci\" {{\n  url = \"https://{host}\"\n  client_id_list = [\"x\"]\n}}\n"
    );
    let referenced = hcl(&with_principal(json!("PROVIDER_ARN")))
        .replace("\"PROVIDER_ARN\"", "aws_iam_openid_connect_provider.ci.arn");
    let statement = &policy["Statement"][0];
    let mut conditions = String::new();
    for (test, keys) in statement["Condition"].as_object().unwrap() {
        for (variable, values) in keys.as_object().unwrap() {
            let values = if values.is_array() {
                values.clone()
            } else {
                json!([values])
            };
            conditions.push_str(&format!(
                "    condition {{\n      test = {}\n      variable = {}\n      values = {}\n    }}\n",
                json!(test), json!(variable), values
            ));
        }
    }
    let document = format!(
        "data \"aws_iam_policy_document\" \"trust\" {{\n  statement {{\n    actions = [\"sts:AssumeRoleWithWebIdentity\"]\n    principals {{\n      type = \"Federated\"\n      identifiers = [aws_iam_openid_connect_provider.ci.arn]\n    }}\n{conditions}  }}\n}}\n"
    );
    let sub = with_principal(
        json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:oidc-provider/{host}") }),
    );
    let cfn_yaml = format!(
        "Resources:\n  Provider:\n    Type: AWS::IAM::OIDCProvider\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n        Version: \"2012-10-17\"\n        Statement:\n          - Effect: Allow\n            Action: sts:AssumeRoleWithWebIdentity\n            Principal:\n              Federated: !Sub \"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:oidc-provider/{host}\"\n            Condition: {}\n",
        statement["Condition"]
    );
    let pulumi = format!(
        "name: trust\nruntime: yaml\nresources:\n  role:\n    type: aws:iam:Role\n    properties:\n      assumeRolePolicy:\n        fn::toJSON: {}\n",
        with_principal(json!("${provider.arn}"))
    );
    let plan = json!({
        "format_version": "1.2",
        "planned_values": { "root_module": { "child_modules": [{ "resources": [{
            "address": "module.ci.aws_iam_role.this",
            "mode": "managed",
            "type": "aws_iam_role",
            "values": { "assume_role_policy": with_principal(json!(arn)).to_string() },
        }]}]}},
    });
    vec![
        ("policy.json".into(), policy.to_string()),
        (
            "get-role.json".into(),
            json!({ "Role": { "RoleName": "r", "AssumeRolePolicyDocument":
                url::form_urlencoded::byte_serialize(policy.to_string().as_bytes()).collect::<String>() } })
            .to_string(),
        ),
        (
            "template.json".into(),
            json!({ "Resources": { "Role": { "Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": sub } } } })
            .to_string(),
        ),
        ("template.yaml".into(), cfn_yaml),
        ("Pulumi.yaml".into(), pulumi),
        (
            "jsonencode.tf".into(),
            format!("{provider}resource \"aws_iam_role\" \"r\" {{\n  assume_role_policy = jsonencode({referenced})\n}}\n"),
        ),
        (
            "heredoc.tf".into(),
            format!(
                "{provider}resource \"aws_iam_role\" \"r\" {{\n  assume_role_policy = <<-EOT\n    {}\n  EOT\n}}\n",
                with_principal(json!("${aws_iam_openid_connect_provider.ci.arn}"))
            ),
        ),
        (
            "document.tf".into(),
            format!("{provider}{document}resource \"aws_iam_role\" \"r\" {{\n  assume_role_policy = data.aws_iam_policy_document.trust.json\n}}\n"),
        ),
        ("plan.json".into(), plan.to_string()),
    ]
}

/// Every case of the corpus gets the same findings and the same words in every input format.
#[test]
fn every_format_reads_the_same_policy() {
    let dir = tempfile::tempdir().unwrap();
    for Case(name, host, condition, _, _) in corpus() {
        let policy = policy(host, condition);
        let expected = lint_one(&policy);
        for (file, text) in in_every_format(host, &policy) {
            // A folder is one Terraform module: each configuration in a folder of its own.
            let folder = dir.path().join(format!("{name}-{file}.d"));
            fs::create_dir_all(&folder).unwrap();
            let path = folder.join(format!("{name}-{file}"));
            fs::write(&path, &text).unwrap();
            let report = lint::lint_paths(std::slice::from_ref(&path));
            let context = format!("{name} as {file}:\n{text}\n{}", report.text());
            assert!(
                report.unreadable.is_empty() && !rules(&report).contains("OIDC301"),
                "{context}"
            );
            assert_eq!(rules(&report), rules(&expected), "{context}");
            assert_eq!(report.statements.len(), 1, "{context}");
            assert_eq!(report.statements[0].issuer, host, "{context}");
            assert_eq!(
                report.statements[0].admits, expected.statements[0].admits,
                "{context}"
            );
            let line = report.statements[0].line;
            assert!(file.starts_with("plan") || line.is_some(), "{context}");
        }
    }
}

/// Every policy oidc-gen writes lints without a warning or an error.
#[test]
fn every_generated_policy_lints_clean() {
    let dir = tempfile::tempdir().unwrap();
    let mut linted = 0;
    for (name, args) in fixtures() {
        for (format, file) in [
            ("cloudformation", "template.json"),
            ("terraform", "main.tf"),
            ("pulumi", "Pulumi.yaml"),
        ] {
            let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
            args.extend(["--format", format, "--out", "-"]);
            let output = oidc_gen(dir.path(), &args);
            assert!(output.status.success(), "{name}: {}", text(&output).1);
            // A folder is one Terraform module: each configuration in a folder of its own.
            let folder = dir.path().join(format!("{name}-{file}.d"));
            fs::create_dir_all(&folder).unwrap();
            let path = folder.join(format!("{name}-{file}"));
            fs::write(&path, &output.stdout).unwrap();
            let report = lint::lint_paths(std::slice::from_ref(&path));
            let context = format!("{name} {format}: {}", report.text());
            assert!(
                report.unreadable.is_empty() && !rules(&report).contains("OIDC301"),
                "{context}"
            );
            assert!(
                !report.statements.is_empty(),
                "{context}: no statement read"
            );
            assert_eq!(report.at_least(Severity::Warning), 0, "{context}");
            linted += report.statements.len();
        }
    }
    assert!(linted >= fixtures().len(), "{linted} statements");

    // A spec mixing every issuer: each role of the member template, its principal computed.
    let spec = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/every-issuer.yaml"
    );
    let output = oidc_gen(dir.path(), &["--config", spec, "--out", "spec"]);
    assert!(output.status.success(), "{}", text(&output).1);
    for format in ["cloudformation", "terraform", "pulumi"] {
        let report = lint::lint_paths(&[dir.path().join("spec").join(format)]);
        let issuers: BTreeSet<&str> = report
            .statements
            .iter()
            .map(|s| s.issuer.as_str())
            .collect();
        assert_eq!(issuers.len(), 6, "{format}: {}", report.text());
        assert_eq!(
            report.at_least(Severity::Warning),
            0,
            "{format}: {}",
            report.text()
        );
        assert!(report.unreadable.is_empty(), "{format}: {}", report.text());
    }
}

/// The AWS CLI's outputs and CloudFormation templates in JSON and YAML, in a folder: each role
/// found and named; a symbolic link in the folder is not followed, one named is refused; a
/// broken file is reported and the others still linted, with exit 2.
#[test]
fn inputs_of_every_kind_and_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let bad = policy(
        GITHUB,
        json!({ "StringEquals": { format!("{GITHUB}:aud"): "sts.amazonaws.com" } }),
    );
    let good = policy(
        GITLAB,
        json!({ "StringEquals": {
            format!("{GITLAB}:aud"): "https://gitlab.com",
            format!("{GITLAB}:sub"): "project_path:acme/app:ref_type:branch:ref:main",
        }}),
    );
    let encoded: String =
        url::form_urlencoded::byte_serialize(bad.to_string().as_bytes()).collect();
    let root = dir.path().join("in");
    fs::create_dir_all(root.join("nested")).unwrap();
    let files = [
        (
            "get-role.json",
            json!({ "Role": { "RoleName": "from-get-role", "AssumeRolePolicyDocument": encoded } }),
        ),
        (
            "list-roles.json",
            json!({ "Roles": [
                { "RoleName": "listed-bad", "AssumeRolePolicyDocument": bad },
                { "RoleName": "listed-good", "AssumeRolePolicyDocument": good },
            ]}),
        ),
        (
            "nested/details.json",
            json!({ "RoleDetailList": [
                { "RoleName": "detailed", "AssumeRolePolicyDocument": bad },
            ]}),
        ),
    ];
    for (name, value) in &files {
        fs::write(root.join(name), value.to_string()).unwrap();
    }
    let template = format!(
        "Resources:\n  GoodRole:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {}\n",
        good
    );
    fs::write(root.join("template.yaml"), template).unwrap();
    fs::write(root.join("notes.txt"), "not read: not a policy's extension").unwrap();
    // Outside the folder, reached only through links.
    fs::write(dir.path().join("secret.json"), bad.to_string()).unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.json"), root.join("link.json")).unwrap();

    let report = lint::lint_paths(std::slice::from_ref(&root));
    let resources: BTreeSet<&str> = report
        .statements
        .iter()
        .map(|s| s.resource.as_str())
        .collect();
    assert_eq!(
        resources,
        BTreeSet::from([
            "from-get-role",
            "listed-bad",
            "listed-good",
            "detailed",
            "GoodRole"
        ]),
        "{}",
        report.text()
    );
    let flagged: BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|f| f.rule == "OIDC001")
        .map(|f| f.resource.as_str())
        .collect();
    assert_eq!(
        flagged,
        BTreeSet::from(["from-get-role", "listed-bad", "detailed"])
    );
    assert!(report.unreadable.is_empty(), "{:?}", report.unreadable);

    // The binary: findings are exit 1; --fail-on error too; JSON carries them.
    let run = |args: &[&str]| {
        let output = oidc_gen(dir.path(), args);
        (output.status.code(), text(&output).0)
    };
    let (code, stdout) = run(&["lint", "in"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("error OIDC001 unchecked-subject"),
        "{stdout}"
    );
    let (code, stdout) = run(&["lint", "in", "--format", "json"]);
    assert_eq!(code, Some(1));
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["summary"]["roles"], 5);
    assert_eq!(json["summary"]["errors"], 3);
    assert!(json["findings"].as_array().unwrap().iter().all(|f| {
        [
            "path",
            "line",
            "resource",
            "statement",
            "issuer",
            "rule",
            "severity",
            "message",
            "fix",
        ]
        .iter()
        .all(|k| f.get(k).is_some())
    }));
    // Only the clean role: exit 0.
    fs::write(dir.path().join("clean.json"), good.to_string()).unwrap();
    assert_eq!(run(&["lint", "clean.json"]).0, Some(0));
    // A link named is refused, a broken file reported: exit 2, the rest still linted.
    fs::write(dir.path().join("broken.json"), "{\"Statement\": [").unwrap();
    let (code, stdout) = run(&["lint", "in/link.json", "broken.json", "clean.json"]);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(stdout.contains("in/link.json: unreadable"), "{stdout}");
    assert!(stdout.contains("broken.json: unreadable"), "{stdout}");
    assert!(stdout.contains("1 role(s)"), "{stdout}");
}

/// The SARIF output, for findings and for an unreadable file, passes Microsoft's SARIF validator
/// (`SARIF_MULTITOOL`, installed by `.ci/run`); its rules and results are the report's.
#[test]
fn sarif_passes_microsofts_validator() {
    let dir = tempfile::tempdir().unwrap();
    let bad = policy(
        GITHUB,
        json!({
            "StringEquals": { format!("{GITHUB}:aud"): "sts.amazonaws.com" },
            "StringLike": { format!("{GITHUB}:sub"): ["repo:*", "*"] },
        }),
    );
    fs::create_dir_all(dir.path().join("my roles")).unwrap();
    fs::write(dir.path().join("my roles/bad role.json"), bad.to_string()).unwrap();
    fs::write(dir.path().join("broken.json"), "{\"Statement\": [").unwrap();
    // A finding suppressed with its reason, and a role whose policy the file does not hold.
    fs::write(
        dir.path().join("my roles/module.tf"),
        "# oidc-gen:ignore=OIDC201 the repository ids are pinned by the caller\n\
         resource \"aws_iam_role\" \"known\" {\n  assume_role_policy = jsonencode({\n    Statement = [{\n\
         Effect = \"Allow\"\n Action = \"sts:AssumeRoleWithWebIdentity\"\n\
         Principal = { Federated = \"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com\" }\n\
         Condition = { StringEquals = { \"token.actions.githubusercontent.com:aud\" = \"sts.amazonaws.com\",\n\
         \"token.actions.githubusercontent.com:sub\" = \"repo:acme/app:ref:refs/heads/main\" } }\n }]\n  })\n}\n\
         resource \"aws_iam_role\" \"passed_in\" {\n  assume_role_policy = var.trust\n}\n",
    )
    .unwrap();
    let output = oidc_gen(
        dir.path(),
        &["lint", "my roles", "broken.json", "--format", "sarif"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output).1);
    let sarif: Value = serde_json::from_slice(&output.stdout).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        run["tool"]["driver"]["rules"].as_array().unwrap().len(),
        lint::RULES.len()
    );
    let results = run["results"].as_array().unwrap();
    let ids: BTreeSet<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from(["OIDC002", "OIDC003", "OIDC201", "OIDC301"])
    );
    // The role whose trust the file does not hold is a result, not only a notification.
    let unproven = results.iter().find(|r| r["ruleId"] == "OIDC301").unwrap();
    let message = unproven["message"]["text"].as_str().unwrap();
    assert!(
        message.contains("aws_iam_role.passed_in") && message.contains("var.trust"),
        "{message}"
    );
    assert_eq!(unproven["level"], "warning");
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(lint::RULES[index].id, result["ruleId"]);
        let uri = &result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        if result.get("suppressions").is_some() {
            assert_eq!(uri, "my%20roles/module.tf");
            assert_eq!(
                result["suppressions"][0]["justification"],
                "the repository ids are pinned by the caller"
            );
            assert_eq!(
                result["locations"][0]["physicalLocation"]["region"]["startLine"],
                3
            );
        } else if result["ruleId"] == "OIDC301" {
            assert_eq!(uri, "my%20roles/module.tf");
        } else {
            assert_eq!(uri, "my%20roles/bad%20role.json");
        }
    }
    assert_eq!(
        results
            .iter()
            .filter(|r| r.get("suppressions").is_some())
            .count(),
        1
    );
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);

    let Ok(validator) = std::env::var("SARIF_MULTITOOL") else {
        skip("Microsoft's SARIF validator is not installed (SARIF_MULTITOOL, see .ci/run)");
        return;
    };
    fs::write(dir.path().join("lint.sarif"), &output.stdout).unwrap();
    // A result without its required message must fail the validator: the check can fail.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    fs::write(dir.path().join("broken.sarif"), broken.to_string()).unwrap();
    for (file, valid) in [("lint.sarif", true), ("broken.sarif", false)] {
        let result = format!("result-{file}");
        let out = std::process::Command::new(&validator)
            .args(["validate", file, "-o", &result])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The validator writes what it found as SARIF: schema errors are results of level error.
        let found: Value =
            serde_json::from_str(&fs::read_to_string(dir.path().join(&result)).unwrap()).unwrap();
        let errors: Vec<&Value> = found["runs"][0]["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["level"] == "error")
            .collect();
        assert_eq!(errors.is_empty(), valid, "{file}: {errors:#?}");
    }
}

/// Where lint flags a GitHub case of the corpus (warning or above) and checkov's GitHub OIDC checks
/// (CKV_AWS_358 on `aws_iam_policy_document`, CKV_AWS_393 on inline trust policies) pass it: the
/// case, the Terraform forms it happens in, and why.
const CHECKOV_MISSES: [(&str, &[&str], &str); 7] = [
    (
        "github_audience_pattern",
        &["document.tf", "jsonencode.tf"],
        "StringLike on aud (sts.*): checkov judges only the subject",
    ),
    (
        "github_for_all_values",
        &["document.tf", "jsonencode.tf"],
        "ForAllValues:StringLike on sub is true for a token without sub: checkov reads the values, not the qualifier",
    ),
    (
        "github_negation_alone",
        &["document.tf", "jsonencode.tf"],
        "a StringNotLike on sub alone admits every other repository: checkov takes it for a subject check",
    ),
    (
        "github_star_in_a_list",
        &["jsonencode.tf"],
        "CKV_AWS_393 stops at the first acceptable value of [repo:acme/app:*, *]",
    ),
    (
        "github_string_equals_with_a_wildcard_admits_nothing",
        &["document.tf", "jsonencode.tf"],
        "StringEquals repo:acme/* passes checkov and admits nothing",
    ),
    (
        "github_unmapped_claim",
        &["document.tf", "jsonencode.tf"],
        "run_attempt is not a key AWS maps for GitHub, so the condition never matches: checkov does not know the mapped claims",
    ),
    (
        "gitlab_key_on_a_github_provider",
        &["document.tf", "jsonencode.tf"],
        "a GitLab key on GitHub's provider never matches: checkov does not compare keys with the provider",
    ),
];

/// Side by side with checkov, in one run over the corpus's GitHub cases as Terraform (a policy
/// document, `jsonencode`) and CloudFormation: every file checkov fails has a finding here at
/// warning or above, and every case lint flags that checkov passes is named above with why.
#[test]
fn checkov_failures_are_lint_findings() {
    let Some(checkov) = common::checkov() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut lint_flags = BTreeSet::new();
    let mut files = Vec::new();
    for Case(name, host, condition, _, _) in corpus() {
        if host != GITHUB {
            continue;
        }
        let policy = policy(host, condition);
        // checkov reads the provider's ARN only where it is written out, not through a reference.
        let arn = format!("\"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}\"");
        let template = json!({ "Resources": { "Role": { "Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": policy } } } });
        let written_out = in_every_format(host, &policy)
            .into_iter()
            .filter(|(file, _)| ["document.tf", "jsonencode.tf"].contains(&file.as_str()))
            .map(|(file, text)| {
                (
                    file,
                    text.replace("aws_iam_openid_connect_provider.ci.arn", &arn),
                )
            })
            .chain([("template.json".to_owned(), template.to_string())]);
        for (file, text) in written_out {
            let folder = dir.path().join(name);
            fs::create_dir_all(&folder).unwrap();
            let path = folder.join(&file);
            fs::write(&path, text).unwrap();
            let report = lint::lint_paths(std::slice::from_ref(&path));
            if report.at_least(Severity::Warning) > 0 {
                lint_flags.insert(format!("{name}/{file}"));
            }
            files.push(format!("{name}/{file}"));
        }
    }
    let (reports, _) = common::checkov_reports(
        &checkov,
        dir.path(),
        &["--check", "CKV_AWS_358,CKV_AWS_393"],
    );
    let mut checked = BTreeSet::new();
    let mut failed = BTreeSet::new();
    for report in &reports {
        for (kind, into) in [
            ("failed_checks", &mut failed),
            ("passed_checks", &mut checked),
        ] {
            for check in report["results"][kind].as_array().into_iter().flatten() {
                let path = check["file_path"].as_str().unwrap().trim_start_matches('/');
                into.insert(path.to_owned());
            }
        }
    }
    checked.extend(failed.iter().cloned());
    let missed: Vec<&String> = failed.difference(&lint_flags).collect();
    assert!(missed.is_empty(), "checkov fails, lint passes: {missed:?}");
    assert!(
        !checked.iter().any(|file| file.ends_with(".json")),
        "checkov's GitHub checks now read CloudFormation: compare it too ({checked:?})"
    );
    // Every case checkov fails in some form, lint flags in every form.
    for file in &failed {
        let case = file.split('/').next().unwrap();
        for form in ["document.tf", "jsonencode.tf", "template.json"] {
            assert!(
                lint_flags.contains(&format!("{case}/{form}")),
                "{case}/{form}"
            );
        }
    }
    let disagreements: BTreeSet<String> = lint_flags
        .iter()
        .filter(|file| checked.contains(*file) && !failed.contains(*file))
        .cloned()
        .collect();
    let named: BTreeSet<String> = CHECKOV_MISSES
        .iter()
        .flat_map(|(case, forms, _)| forms.iter().map(move |form| format!("{case}/{form}")))
        .collect();
    assert_eq!(
        disagreements, named,
        "checked by checkov: {checked:?}\nfailed by checkov: {failed:?}\nflagged by lint: {lint_flags:?}"
    );
    assert!(
        !failed.is_empty(),
        "checkov failed nothing: the comparison is empty"
    );
}

/// Roles created in moto with the aws CLI, one per corpus case that IAM accepts, then the
/// account's `get-account-authorization-details` (and one `get-role`) as the CLI prints them:
/// each role found by its name with its case's findings.
#[test]
fn an_account_dump_from_the_aws_cli() {
    let Some(moto) = common::aws::Moto::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut expected = std::collections::BTreeMap::new();
    for Case(name, host, condition, rules, _) in corpus() {
        let role = name.replace('_', "-");
        let document = dir.path().join(format!("{role}.json"));
        fs::write(&document, policy(host, condition).to_string()).unwrap();
        let created = moto.aws_output(&[
            "iam",
            "create-role",
            "--role-name",
            &role,
            "--assume-role-policy-document",
            &format!("file://{}", document.display()),
        ]);
        assert!(created.status.success(), "{role}: {}", text(&created).1);
        expected.insert(role, rules.into_iter().collect::<BTreeSet<&str>>());
    }
    let dump = moto.aws(&["iam", "get-account-authorization-details"]);
    fs::write(
        dir.path().join("account.json"),
        serde_json::to_string_pretty(&dump).unwrap(),
    )
    .unwrap();
    let report = lint::lint_paths(&[dir.path().join("account.json")]);
    assert!(report.unreadable.is_empty(), "{}", report.text());
    assert_eq!(report.roles, expected.len(), "{}", report.text());
    for (role, rules) in &expected {
        let found: BTreeSet<&str> = report
            .findings
            .iter()
            .filter(|f| &f.resource == role)
            .map(|f| f.rule)
            .collect();
        assert_eq!(&found, rules, "{role}: {}", report.text());
        assert!(
            report
                .statements
                .iter()
                .any(|s| &s.resource == role && s.line.is_some())
        );
    }
    // get-role prints the document URL-encoded or as JSON: either way, the same findings.
    let role = "github-any-repository";
    let one = moto.aws(&["iam", "get-role", "--role-name", role]);
    fs::write(dir.path().join("get-role.json"), one.to_string()).unwrap();
    let report = lint::lint_paths(&[dir.path().join("get-role.json")]);
    assert_eq!(rules(&report), expected[role], "{}", report.text());
}

/// Generation flags of one role, drawn from names, patterns and the options of each issuer.
fn generation_flags() -> impl proptest::strategy::Strategy<Value = Vec<String>> {
    use proptest::prelude::*;
    let name = "[a-z][a-z0-9-]{0,7}";
    let pattern = "[a-z][a-z0-9*-]{0,7}";
    let flags = |pairs: Vec<(&'static str, String)>| -> Vec<String> {
        pairs
            .into_iter()
            .flat_map(|(flag, value)| [flag.to_owned(), value])
            .collect()
    };
    prop_oneof![
        (
            name,
            proptest::collection::vec((name, proptest::option::of(pattern)), 0..3),
            proptest::collection::vec((name, pattern), 0..2),
        )
            .prop_map(move |(org, envs, deploys)| {
                let mut pairs = vec![("--org", org)];
                for (project, env) in envs {
                    pairs.push((
                        "--env",
                        env.map_or(project.clone(), |e| format!("{project}/{e}")),
                    ));
                }
                for (project, stack) in deploys {
                    pairs.push(("--deploy", format!("{project}/{stack}")));
                }
                flags(pairs)
            }),
        (
            proptest::collection::vec((name, pattern), 1..3),
            proptest::option::of(pattern),
            any::<bool>(),
        )
            .prop_map(move |(repos, branch, pull_requests)| {
                let mut pairs: Vec<_> = repos
                    .into_iter()
                    .map(|(owner, repo)| ("--github", format!("{owner}/{repo}")))
                    .collect();
                if let Some(branch) = branch {
                    pairs.push(("--github-ref", format!("refs/heads/{branch}")));
                }
                let mut flags = flags(pairs);
                if pull_requests {
                    flags.push("--github-pull-request".into());
                }
                flags
            }),
        (
            proptest::collection::vec((name, pattern), 1..3),
            proptest::option::of(pattern),
        )
            .prop_map(move |(projects, branch)| {
                let mut pairs: Vec<_> = projects
                    .into_iter()
                    .map(|(group, project)| ("--gitlab", format!("{group}/{project}")))
                    .collect();
                if let Some(branch) = branch {
                    pairs.push(("--gitlab-ref-type", "branch".into()));
                    pairs.push(("--gitlab-ref", branch));
                }
                flags(pairs)
            }),
        (name, name, pattern).prop_map(move |(org, project, workspace)| {
            flags(vec![(
                "--hcp-terraform",
                format!("{org}/{project}/{workspace}"),
            )])
        }),
        (name, pattern).prop_map(move |(org, pipeline)| {
            flags(vec![("--buildkite", format!("{org}/{pipeline}"))])
        }),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(common::proptest_cases(64)))]

    /// Whatever valid flags oidc-gen is given, the trust policy it writes lints with no warning or
    /// error, in CloudFormation and in Terraform; flags it refuses write nothing to lint.
    #[test]
    fn every_policy_generated_from_any_flags_lints_clean(mut flags in generation_flags()) {
        let dir = tempfile::tempdir().unwrap();
        flags.extend(["--account-id".into(), ACCOUNT.into(), "--no-thumbprint".into()]);
        for (format, file) in [("cloudformation", "template.json"), ("terraform", "main.tf")] {
            let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
            args.extend(["--format", format, "--out", "-"]);
            let output = oidc_gen(dir.path(), &args);
            if output.status.code() == Some(2) {
                proptest::prop_assume!(false, "refused: {}", text(&output).1);
            }
            proptest::prop_assert!(output.status.success(), "{flags:?}: {}", text(&output).1);
            let contents = lint::roles_in(std::path::Path::new(file), &text(&output).0).unwrap();
            let mut report = Report::default();
            for role in &contents.roles {
                lint::lint_role(role, &mut report);
            }
            proptest::prop_assert!(!report.statements.is_empty(), "{flags:?} {format}: no statement");
            proptest::prop_assert_eq!(
                report.at_least(Severity::Warning), 0, "{:?} {}: {}", flags, format, report.text()
            );
        }
    }
}

/// `-` reads standard input, JSON, YAML or Terraform alike, named `-` in the report.
#[test]
fn standard_input_is_read_whatever_its_kind() {
    use std::io::Write;
    let bad = policy(
        GITHUB,
        json!({ "StringEquals": { format!("{GITHUB}:aud"): "sts.amazonaws.com" } }),
    );
    let terraform = format!(
        "resource \"aws_iam_role\" \"ci\" {{\n  assume_role_policy = <<EOF\n{bad}\nEOF\n}}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    for input in [
        bad.to_string(),
        serde_yaml::to_string(&bad).unwrap(),
        terraform,
    ] {
        let mut child = common::oidc_gen_command(dir.path(), &["lint", "-", "--format", "json"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "{input}\n{}",
            text(&output).0
        );
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["findings"][0]["path"], "-", "{input}");
        assert_eq!(report["findings"][0]["rule"], "OIDC001", "{input}");
    }
}

/// `simulate --policy` reads what lint reads: the role of a generated Terraform file admits the
/// token it names and refuses one of another environment.
#[test]
fn simulate_reads_a_terraform_file() {
    let dir = tempfile::tempdir().unwrap();
    let generated = oidc_gen(
        dir.path(),
        &[
            "--org",
            "acme",
            "--env",
            "platform/prod",
            "--no-thumbprint",
            "--format",
            "terraform",
            "--out",
            "out",
        ],
    );
    assert!(generated.status.success(), "{}", text(&generated).1);
    let simulate = |sub: &str| {
        oidc_gen(
            dir.path(),
            &[
                "simulate",
                "--policy",
                "out/terraform/main.tf",
                "--aud",
                "aws:acme",
                "--sub",
                sub,
            ],
        )
    };
    let admitted = simulate("pulumi:environments:org:acme:env:platform/prod");
    assert_eq!(admitted.status.code(), Some(0), "{}", text(&admitted).0);
    let refused = simulate("pulumi:environments:org:acme:env:platform/dev");
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused).0);
}

/// What one file makes lint write is bounded: past `REPORTED_PER_FILE` statements and findings a
/// line counts the rest, and the exit code still counts every finding. A policy larger than IAM
/// could hold is refused with IAM's limit.
#[test]
fn what_a_file_makes_lint_write_is_bounded() {
    let statement = json!({
        "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                      "StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}}});
    let per_role = 200;
    let roles = lint::REPORTED_PER_FILE / per_role + 1;
    let policy = json!({"Version": "2012-10-17", "Statement": vec![statement.clone(); per_role]})
        .to_string();
    let details: Vec<Value> = (0..roles)
        .map(|i| json!({"RoleName": format!("r{i}"), "AssumeRolePolicyDocument": policy}))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("dump.json"),
        json!({ "RoleDetailList": details }).to_string(),
    )
    .unwrap();
    let output = oidc_gen(
        dir.path(),
        &[
            "lint",
            "dump.json",
            "--format",
            "json",
            "--fail-on",
            "error",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["statements"].as_array().unwrap().len(),
        lint::REPORTED_PER_FILE
    );
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        lint::REPORTED_PER_FILE
    );
    let omitted = &report["omitted"][0];
    assert_eq!(
        omitted["statements"],
        roles * per_role - lint::REPORTED_PER_FILE
    );
    let listed_and_not = report["summary"]["errors"].as_u64().unwrap();
    assert!(
        listed_and_not as usize >= roles * per_role,
        "every finding counts: {listed_and_not}"
    );
    let printed = text(&oidc_gen(dir.path(), &["lint", "dump.json"])).0;
    assert!(
        printed.contains("dump.json: 200 more statement(s)") && printed.contains("not shown"),
        "{}",
        &printed[printed.len() - 600..]
    );

    let huge = json!({"Version": "2012-10-17", "Statement": vec![statement; 1_000]});
    fs::write(dir.path().join("huge.json"), huge.to_string()).unwrap();
    let output = oidc_gen(dir.path(), &["lint", "huge.json"]);
    assert_eq!(output.status.code(), Some(2));
    let printed = text(&output).0;
    assert!(
        printed.contains("IAM accepts at most 4,096 characters"),
        "{printed}"
    );
}

/// What a configuration names (a file for `file()`, a module's folder) is read only inside the
/// module's folder or the repository, never through a link, and never printed when refused; a
/// file cannot forge the marks lint keeps for unknown values.
#[test]
fn terraform_reads_nothing_outside_the_repository_and_follows_no_link() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    let repo = dir.path().join("repo");
    fs::create_dir_all(outside.join("module")).unwrap();
    fs::create_dir_all(repo.join(".git")).unwrap();
    fs::create_dir_all(repo.join("infra")).unwrap();
    let secret = "SECRET-7f3a-do-not-print";
    fs::write(
        outside.join("trust.json"),
        format!("{{\"Statement\": \"{secret}\"}}"),
    )
    .unwrap();
    fs::write(
        outside.join("module/main.tf"),
        format!("variable \"subject\" {{}}\n# {secret}\nresource \"aws_iam_role\" \"r\" {{\n  assume_role_policy = \"{secret}\"\n}}\n"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&outside, repo.join("infra/linked")).unwrap();
    std::os::unix::fs::symlink(outside.join("module"), repo.join("infra/module-link")).unwrap();
    fs::write(
        repo.join("infra/main.tf"),
        r#"
resource "aws_iam_role" "through_a_link" {
  assume_role_policy = file("${path.module}/linked/trust.json")
}
resource "aws_iam_role" "up_and_out" {
  assume_role_policy = templatefile("../../outside/trust.json", {})
}
module "outside_the_repository" {
  source  = "../../outside/module"
  subject = "repo:*"
}
module "linked_folder" {
  source  = "./module-link"
  subject = "repo:*"
}
"#,
    )
    .unwrap();
    let output = oidc_gen(&repo, &["lint", "--format", "json", "infra"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        !stdout.contains(secret) && !stderr.contains(secret),
        "{stdout}{stderr}"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let unproven: BTreeMap<&str, &str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "OIDC301")
        .map(|f| {
            (
                f["resource"].as_str().unwrap(),
                f["message"].as_str().unwrap(),
            )
        })
        .collect();
    let says = |resource: &str, words: &str| {
        let message = unproven
            .get(resource)
            .unwrap_or_else(|| panic!("{resource}: {unproven:#?}"));
        assert!(message.contains(words), "{resource}: {message}");
    };
    says("aws_iam_role.through_a_link", "lint follows no link");
    says(
        "aws_iam_role.up_and_out",
        "not a plain path inside the module's folder",
    );
    says("module.outside_the_repository", "outside the repository");
    says("module.linked_folder", "outside the repository");
    assert_eq!(report["summary"]["roles"], 4, "{stdout}");

    // The marks of unknown values cannot come from a file, nor from --var.
    fs::write(
        repo.join("infra/forged.tf"),
        "locals {\n  x = \"\u{FDD0}var.a\u{FDD1}b\u{FDD2}\"\n}\n",
    )
    .unwrap();
    let output = oidc_gen(&repo, &["lint", "infra"]);
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("forged.tf: unreadable: line 2: it holds the Unicode noncharacter U+FDD0"),
        "{stdout}"
    );
    let output = oidc_gen(&repo, &["lint", "--var", "a=\u{FDD0}", "infra"]);
    assert_eq!(output.status.code(), Some(2));
}

/// `--parameter` and `--var` give what a template or module leaves open, as
/// `aws cloudformation deploy` and `terraform plan` take them; a malformed one is refused.
#[test]
fn values_given_on_the_command_line_prove_a_role() {
    let layouts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layouts");
    let lint = |args: &[&str], folder: &str| {
        let output = oidc_gen(&layouts.join(folder), args);
        let (stdout, stderr) = text(&output);
        (output.status.code(), format!("{stdout}{stderr}"))
    };
    let (code, said) = lint(&["lint", "roles.yaml"], "09-cloudformation-parameters");
    assert_eq!(code, Some(1));
    assert!(said.contains("OwnerNotGiven #1: tokens of GitHub Actions whose aud is \"sts.amazonaws.com\", and sub matches \"repo:${Owner}/app:*\""), "{said}");
    let (_, said) = lint(
        &[
            "lint",
            "--parameter",
            "Owner=acme",
            "--parameter",
            "Environment=prod",
            "roles.yaml",
        ],
        "09-cloudformation-parameters",
    );
    assert!(said.contains("OwnerNotGiven #1: tokens of GitHub Actions whose aud is \"sts.amazonaws.com\", and sub matches \"repo:acme/app:*\"\n"), "{said}");
    assert!(!said.contains("OIDC301"), "{said}");
    // The condition is decided: one role, not one per outcome.
    assert!(
        said.contains("PerEnvironment #1:") && !said.contains("[unless IsProd]"),
        "{said}"
    );
    let (code, said) = lint(
        &["lint", "--var", "org=acme", "--var", "repo=app", "."],
        "03-unset-variables",
    );
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("sub matches \"repo:acme/app:*\""), "{said}");
    assert!(said.contains("var.trust_policy"), "{said}");
    for bad in ["org", "=acme", "a b=c"] {
        let (code, said) = lint(&["lint", "--var", bad, "."], "03-unset-variables");
        assert_eq!(code, Some(2), "{bad}: {said}");
        assert!(said.contains("--var"), "{bad}: {said}");
    }
}
