//! The spec file (`--config`): what it generates for many roles in many accounts, and how a bad
//! spec is refused (exit 2, naming the file, the line and the field, and nothing written).

mod common;

use std::path::Path;

use common::{oidc_gen, settings, text, tree};

const SPEC: &str = include_str!("fixtures/organization.yaml");

/// Writes `spec` as `oidc-gen.yaml` in a new folder and runs `oidc-gen --config oidc-gen.yaml`.
fn run(spec: &str, extra: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("oidc-gen.yaml"), spec).unwrap();
    let mut args = vec!["--config", "oidc-gen.yaml", "--out", "out"];
    args.extend(extra);
    let output = oidc_gen(dir.path(), &args);
    (dir, output)
}

/// The files under `dir/out`, relative to it, sorted.
fn files(dir: &Path) -> Vec<String> {
    tree(&dir.join("out"))
        .into_iter()
        .filter(|(path, _)| dir.join("out").join(path).is_file())
        .map(|(path, _)| path.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn three_accounts_and_two_roles_in_every_format() {
    let (dir, output) = run(SPEC, &[]);
    assert!(output.status.success(), "{}", text(&output).1);
    let expected = [
        ".oidc-gen-files",
        "cloudformation/stackset.json",
        "cloudformation/template.json",
        "deployments/dev/pulumi-admin.json",
        "deployments/prod/pulumi-admin.json",
        "deployments/staging/pulumi-admin.json",
        "esc/dev/pulumi-admin.yaml",
        "esc/dev/pulumi-esc-readonly.yaml",
        "esc/prod/pulumi-admin.yaml",
        "esc/prod/pulumi-esc-readonly.yaml",
        "esc/staging/pulumi-admin.yaml",
        "esc/staging/pulumi-esc-readonly.yaml",
        "pulumi/Pulumi.yaml",
        "terraform/main.tf",
        "terraform/modules/pulumi-oidc/main.tf",
    ];
    assert_eq!(files(dir.path()), expected);

    // Every file names the spec; the role ARNs carry the account, the path and the name.
    for path in files(dir.path()) {
        let contents = std::fs::read_to_string(dir.path().join("out").join(&path)).unwrap();
        let path = Path::new(&path);
        let json = path.extension().is_some_and(|e| e == "json");
        if !json && path != Path::new(".oidc-gen-files") {
            assert!(
                contents.contains("#   oidc-gen --config oidc-gen.yaml\n"),
                "{}",
                path.display()
            );
        }
    }
    let esc = std::fs::read_to_string(dir.path().join("out/esc/prod/pulumi-admin.yaml")).unwrap();
    assert!(esc.contains(r#"roleArn: "arn:aws:iam::333333333333:role/pulumi/pulumi-admin""#));
    let stack_set =
        std::fs::read_to_string(dir.path().join("out/cloudformation/stackset.json")).unwrap();
    assert!(stack_set.contains(r#""Command": "oidc-gen --config oidc-gen.yaml""#));

    // Same spec, same bytes; --check agrees; a second run changes nothing.
    let before = tree(&dir.path().join("out"));
    let check = oidc_gen(
        dir.path(),
        &["--config", "oidc-gen.yaml", "--out", "out", "--check"],
    );
    assert!(check.status.success(), "{}", text(&check).0);
    let again = oidc_gen(dir.path(), &["--config", "oidc-gen.yaml", "--out", "out"]);
    assert!(again.status.success());
    assert_eq!(tree(&dir.path().join("out")), before);

    // Dropping an account leaves its files stale: --check says so, --prune removes them.
    let fewer = SPEC.replace("  - {id: \"222222222222\", name: staging}\n", "");
    std::fs::write(dir.path().join("oidc-gen.yaml"), fewer).unwrap();
    let check = oidc_gen(
        dir.path(),
        &["--config", "oidc-gen.yaml", "--out", "out", "--check"],
    );
    assert_eq!(check.status.code(), Some(1));
    assert!(
        text(&check)
            .0
            .contains("stale: out/esc/staging/pulumi-admin.yaml"),
        "{}",
        text(&check).0
    );
    let pruned = oidc_gen(
        dir.path(),
        &["--config", "oidc-gen.yaml", "--out", "out", "--prune"],
    );
    assert!(pruned.status.success());
    assert!(!files(dir.path()).iter().any(|f| f.contains("staging")));
}

#[test]
fn every_file_of_the_spec() {
    let (dir, output) = run(SPEC, &[]);
    assert!(output.status.success(), "{}", text(&output).1);
    settings().bind(|| {
        insta::assert_snapshot!("spec__stderr", text(&output).1);
        for path in files(dir.path()) {
            let contents = std::fs::read(dir.path().join("out").join(&path)).unwrap();
            // One account's ESC and Deployments files stand for the others.
            if path.starts_with("esc/") && !path.starts_with("esc/dev/")
                || path.starts_with("deployments/") && !path.starts_with("deployments/dev/")
            {
                continue;
            }
            let name = format!("spec__{}", path.replace(['/', '.'], "_"));
            insta::assert_snapshot!(name, String::from_utf8(contents).unwrap());
        }
    });
}

#[test]
fn the_stack_set_does_not_grow_with_the_accounts() {
    let size = |accounts: usize| {
        let list: String = (0..accounts)
            .map(|i| {
                format!(
                    "  - {{id: \"{:012}\", name: a{i}}}\n",
                    100_000_000_000u64 + i as u64
                )
            })
            .collect();
        let start = SPEC.find("accounts:\n").unwrap();
        let end = SPEC.find("organization:").unwrap();
        let spec = format!("{}accounts:\n{list}{}", &SPEC[..start], &SPEC[end..]);
        let (dir, output) = run(&spec, &["--format", "cloudformation"]);
        assert!(output.status.success(), "{}", text(&output).1);
        std::fs::metadata(dir.path().join("out/cloudformation/stackset.json"))
            .unwrap()
            .len()
    };
    assert_eq!(size(1), size(40));
}

/// A bad spec: exit 2, a message naming the file, line and field, and nothing written.
fn refused(spec: &str, location: &str, words: &str) {
    let (dir, output) = run(spec, &[]);
    let stderr = text(&output).1;
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(location),
        "wanted {location:?} in: {stderr}"
    );
    assert!(stderr.contains(words), "wanted {words:?} in: {stderr}");
    assert!(!dir.path().join("out").exists(), "{stderr}");
}

#[test]
fn bad_specs_are_refused_with_file_line_and_field() {
    refused(
        &SPEC.replace(
            "    envs: [platform/prod]",
            "    environments: [platform/prod]",
        ),
        "oidc-gen.yaml:10: roles[1].environments:",
        "unknown field \"environments\": a role has name, envs,",
    );
    refused(
        &SPEC.replace("  - name: pulumi-admin", "  - name: Pulumi-ESC-Readonly"),
        "oidc-gen.yaml:8: roles[1].name:",
        "roles[0]",
    );
    refused(
        &SPEC.replace("name: staging}", "name: dev}"),
        "oidc-gen.yaml:18: accounts[1].name:",
        "\"dev\" is the name of accounts[0] too",
    );
    refused(
        &SPEC.replace("id: \"222222222222\"", "id: \"22222222222\""),
        "oidc-gen.yaml:18: accounts[1].id:",
        "\"22222222222\" is not an AWS account id",
    );
    refused(
        &SPEC.replace("    envs: [\"*/dev\", \"*/staging\"]\n", ""),
        "oidc-gen.yaml:5: roles[0]:",
        "names no tokens",
    );
    refused(
        &SPEC.replace("ou-abcd-12345678", "ou-12345678"),
        "oidc-gen.yaml:20: organization.ou_ids:",
        "\"ou-12345678\" is not an organizational unit id",
    );
    refused(
        &SPEC.replace("envs: [platform/prod]", "envs: [platform/prod/x]"),
        "oidc-gen.yaml:8: roles[1].envs:",
        "invalid \"platform/prod/x\"",
    );
    refused(
        &SPEC.replace("max_session_duration: 2h", "max_session_duration: 13h"),
        "oidc-gen.yaml:8: roles[1].max_session_duration:",
        "between 15m and 12h",
    );
    refused(
        &SPEC.replace("deploy: [infra/prod]", "deploy_operations: [update]"),
        "oidc-gen.yaml:8: roles[1]:",
        "deploy_operations narrows deploy",
    );
    refused(
        &SPEC.replace("org: acme\n", "org: acme\ncolour: blue\n"),
        "oidc-gen.yaml:3:",
        "unknown field `colour`",
    );
    refused("roles: [\n", "oidc-gen.yaml:", "did not find expected");
}

#[test]
fn the_spec_replaces_the_flags_that_describe_a_role() {
    let (_dir, output) = run(SPEC, &["--env", "platform/prod"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).1.contains("cannot be used with"),
        "{}",
        text(&output).1
    );
    let dir = tempfile::tempdir().unwrap();
    let missing = oidc_gen(dir.path(), &["--config", "no-such.yaml", "--out", "out"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing).1);
    assert!(
        text(&missing)
            .1
            .contains("no-such.yaml: cannot read the spec")
    );
    assert!(!dir.path().join("out").exists());
}

/// A spec of GitHub roles: the issuer is GitHub's when every role names repositories, each role's
/// trust policy is the one its flags write (which `tests/github_trust.rs` proves by evaluation),
/// and every account gets each role's workflow.
#[test]
fn github_roles_in_a_spec_are_their_flags() {
    let spec = r#"
thumbprint: none
roles:
  - name: deploy
    github:
      repos: [acme/app, "acme@11/app@22"]
      refs: [refs/heads/main]
  - name: plan
    github:
      repos: ["acme/*"]
      pull_request: true
accounts:
  - {id: "123456789012", name: prod}
  - {id: "210987654321", name: dev}
"#;
    let (dir, output) = run(spec, &[]);
    assert!(output.status.success(), "{}", text(&output).1);
    let listed = files(dir.path());
    for account in ["prod", "dev"] {
        for role in ["deploy", "plan"] {
            let path = format!("github/{account}/{role}.yml");
            assert!(listed.contains(&path), "{listed:?}");
        }
    }
    let workflow = std::fs::read_to_string(dir.path().join("out/github/dev/plan.yml")).unwrap();
    assert!(
        workflow.contains("arn:aws:iam::210987654321:role/plan")
            && workflow.contains("pull_request: {}"),
        "{workflow}"
    );
    let template: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/cloudformation/template.json")).unwrap(),
    )
    .unwrap();
    for (role, flags) in [
        (
            "deploy",
            &[
                "--github",
                "acme/app",
                "--github",
                "acme@11/app@22",
                "--github-ref",
                "refs/heads/main",
            ][..],
        ),
        ("plan", &["--github", "acme/*", "--github-pull-request"][..]),
    ] {
        let from_spec = template["Resources"]
            .as_object()
            .unwrap()
            .values()
            .find(|r| r["Properties"]["RoleName"] == role)
            .unwrap()["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Condition"].clone())
            .collect::<Vec<_>>();
        let args = [
            flags,
            &[
                "--no-thumbprint",
                "--format",
                "cloudformation",
                "--out",
                "-",
            ],
        ]
        .concat();
        let output = oidc_gen(dir.path(), &args);
        let single: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let from_flags = single["Resources"]["PulumiEscRole"]["Properties"]["AssumeRolePolicyDocument"]
            ["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Condition"].clone())
            .collect::<Vec<_>>();
        assert_eq!(from_spec, from_flags, "{role}");
    }
    refused(
        "thumbprint: [9e99a48a9960b14926bb7f3b02e22da2b0ab7280]\nroles:\n  - name: a\n    github: {repos: [acme/app]}\n  - name: b\n    gitlab: {projects: [acme/app]}\naccounts:\n  - {id: \"123456789012\", name: prod}\n",
        "oidc-gen.yaml:1: thumbprint",
        "the roles trust 2 issuers, and a list of thumbprints cannot say whose it is",
    );
    refused(
        "roles:\n  - name: r\n    github:\n      repos: [acme/app]\n      refs: [main]\naccounts:\n  - {id: \"123456789012\", name: prod}\n",
        "oidc-gen.yaml:2: roles[0].github.refs",
        "refs/heads/main for a branch",
    );
    refused(
        "roles:\n  - name: r\n    github:\n      repos: [acme/app]\n      reffs: [main]\naccounts:\n  - {id: \"123456789012\", name: prod}\n",
        "oidc-gen.yaml:2: roles[0]",
        "unknown field `reffs`, expected one of `repos`, `refs`",
    );
}

/// A spec of every issuer: each account gets one provider per issuer, each role trusts its own
/// issuer's (the principal names that provider), and each role's conditions are the ones the same
/// flags write for a single role (which the evaluator tests prove).
#[test]
fn a_spec_of_every_issuer_gives_each_role_its_issuers_provider() {
    let (dir, output) = run(include_str!("fixtures/every-issuer.yaml"), &[]);
    assert!(output.status.success(), "{}", text(&output).1);
    let template: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/cloudformation/template.json")).unwrap(),
    )
    .unwrap();
    let resources = template["Resources"].as_object().unwrap();
    let providers: std::collections::BTreeMap<&str, &str> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::IAM::OIDCProvider")
        .map(|(id, r)| (id.as_str(), r["Properties"]["Url"].as_str().unwrap()))
        .collect();
    assert_eq!(providers.len(), 6, "{providers:?}");
    let org = "0f3e1a2b-0000-4000-8000-00000000abcd";
    let flags: [(&str, Vec<&str>); 6] = [
        (
            "pulumi-esc",
            vec!["--org", "acme", "--env", "platform/prod"],
        ),
        (
            "github-deploy",
            vec![
                "--github",
                "acme/infra",
                "--github",
                "acme@1342004/infra@892375110",
                "--github-ref",
                "refs/heads/main",
            ],
        ),
        (
            "gitlab-deploy",
            vec![
                "--gitlab",
                "acme/platform/infra",
                "--gitlab-ref-type",
                "branch",
                "--gitlab-ref",
                "main",
                "--gitlab-protected",
            ],
        ),
        (
            "hcp-apply",
            vec![
                "--hcp-terraform",
                "acme/Default Project/prod",
                "--hcp-run-phase",
                "apply",
            ],
        ),
        (
            "buildkite-deploy",
            vec!["--buildkite", "acme/deploy", "--buildkite-branch", "main"],
        ),
        (
            "circleci-deploy",
            vec![
                "--circleci",
                org,
                "--circleci-project",
                "11111111-2222-4333-8444-555555555555",
            ],
        ),
    ];
    for (role, flags) in flags {
        let resource = resources
            .values()
            .find(|r| r["Properties"]["RoleName"] == role)
            .unwrap_or_else(|| panic!("no role {role}"));
        let statements = resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            .as_array()
            .unwrap();
        let args = [
            &flags[..],
            &[
                "--no-thumbprint",
                "--format",
                "cloudformation",
                "--out",
                "-",
            ],
        ]
        .concat();
        let single = oidc_gen(dir.path(), &args);
        assert!(single.status.success(), "{role}: {}", text(&single).1);
        let single: serde_json::Value = serde_json::from_slice(&single.stdout).unwrap();
        let url = single["Resources"]["PulumiOidcProvider"]["Properties"]["Url"]
            .as_str()
            .unwrap();
        let wanted = &single["Resources"]["PulumiEscRole"]["Properties"]["AssumeRolePolicyDocument"]
            ["Statement"];
        let conditions = |s: &Vec<serde_json::Value>| {
            s.iter().map(|s| s["Condition"].clone()).collect::<Vec<_>>()
        };
        assert_eq!(
            conditions(statements),
            conditions(wanted.as_array().unwrap()),
            "{role}"
        );
        for statement in statements {
            let reference = &statement["Principal"]["Federated"]["Fn::If"][1]["Ref"];
            let host = url.trim_start_matches("https://");
            assert_eq!(providers[reference.as_str().unwrap()], url, "{role}");
            assert_eq!(
                statement["Principal"]["Federated"]["Fn::If"][2]["Fn::Join"][1][5], host,
                "{role}: the existing provider's ARN names its issuer"
            );
        }
    }
    // Every account gets each role's CI file.
    let listed = files(dir.path());
    for file in [
        "github/dev/github-deploy.yml",
        "gitlab/staging/gitlab-deploy.yml",
        "hcp-terraform/dev/hcp-apply.tf",
        "buildkite/staging/buildkite-deploy.yml",
        "circleci/dev/circleci-deploy.yml",
        "esc/dev/pulumi-esc.yaml",
    ] {
        assert!(listed.iter().any(|f| f == file), "{file}: {listed:?}");
    }
}

/// A spec's `clouds:` writes every role in every Google Cloud project and Azure subscription it
/// names, under `<cloud>/<name>/<role>/`, each file saying the spec writes it; the files lint
/// clean; a bad entry is refused with the field, and nothing is written.
#[test]
fn a_specs_clouds_write_every_role_in_every_project() {
    let spec = format!(
        "{SPEC}clouds:\n  gcp:\n    - name: prod\n      project_number: \"123456789012\"\n      service_account: esc@acme-prod.iam.gserviceaccount.com\n    - name: dev\n      project_number: \"210987654321\"\n      roles: [roles/viewer]\n"
    );
    let (dir, output) = run(&spec, &[]);
    assert!(output.status.success(), "{}", text(&output).1);
    let written: Vec<String> = files(dir.path())
        .into_iter()
        .filter(|f| f.starts_with("gcp/") || f.starts_with("azure/"))
        .collect();
    let mut expected = Vec::new();
    for (cloud, target) in [("gcp", "dev"), ("gcp", "prod")] {
        for role in ["pulumi-admin", "pulumi-esc-readonly"] {
            expected.push(format!("{cloud}/{target}/{role}/pulumi/Pulumi.yaml"));
            expected.push(format!("{cloud}/{target}/{role}/terraform/main.tf"));
            // ESC's gcp-login impersonates a service account; azure-login needs a client id.
            if (cloud, target) == ("gcp", "prod") {
                expected.push(format!("{cloud}/{target}/{role}/esc/environment.yaml"));
            }
        }
    }
    let mut written_sorted = written.clone();
    written_sorted.sort();
    expected.sort();
    assert_eq!(written_sorted, expected);
    for file in &written {
        let text = std::fs::read_to_string(dir.path().join("out").join(file)).unwrap();
        assert!(text.contains("oidc-gen --config oidc-gen.yaml"), "{file}");
    }
    let pools: Vec<String> = ["pulumi-admin", "pulumi-esc-readonly"]
        .iter()
        .map(|role| {
            std::fs::read_to_string(
                dir.path()
                    .join(format!("out/gcp/prod/{role}/terraform/main.tf")),
            )
            .unwrap()
        })
        .collect();
    assert!(pools[0].contains("workload_identity_pool_id = \"pulumi-admin\""));
    assert!(
        pools[1].contains("assertion.sub.matches('(?s)^pulumi:environments:org:acme:env:.*/dev$')")
    );
    let lint = oidc_gen(dir.path(), &["lint", "out/gcp"]);
    assert_eq!(lint.status.code(), Some(0), "{}", text(&lint).0);

    // Azure takes exact subjects; a role it cannot express stops the run, naming the entry.
    let azure = "clouds:\n  azure:\n    - name: corp\n      tenant_id: 11111111-2222-3333-4444-555555555555\n";
    let exact = "org: acme\nthumbprint: none\nroles:\n  - name: esc-prod\n    envs: [platform/prod]\naccounts:\n  - {id: \"111111111111\", name: dev}\n";
    let (dir, output) = run(&format!("{exact}{azure}"), &[]);
    assert!(output.status.success(), "{}", text(&output).1);
    let terraform =
        std::fs::read_to_string(dir.path().join("out/azure/corp/esc-prod/terraform/main.tf"))
            .unwrap();
    assert!(
        terraform.contains("subject        = \"pulumi:environments:org:acme:env:platform/prod\"")
    );
    let (dir, output) = run(&format!("{SPEC}{azure}"), &[]);
    let stderr = text(&output).1;
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "clouds.azure[0] for role pulumi-esc-readonly: --cloud azure cannot admit exactly"
        ),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists());

    for (entry, field, words) in [
        (
            "    - name: corp\n      tenant_id: x\n",
            "clouds.azure[0]",
            "invalid --azure-tenant-id",
        ),
        (
            "    - name: corp\n      tenant: 11111111-2222-3333-4444-555555555555\n",
            "clouds.azure[0]",
            "unknown field \"tenant\"",
        ),
        (
            "    - name: ../corp\n      tenant_id: 11111111-2222-3333-4444-555555555555\n",
            "clouds.azure[0].name",
            "a folder's",
        ),
    ] {
        let spec = format!("{SPEC}clouds:\n  azure:\n{entry}");
        let (dir, output) = run(&spec, &[]);
        let stderr = text(&output).1;
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(field) && stderr.contains(words), "{stderr}");
        assert!(
            !dir.path().join("out").exists(),
            "nothing is written: {stderr}"
        );
    }
}
