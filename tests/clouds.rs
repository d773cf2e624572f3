//! The Google Cloud and Azure files, by the real tools that run here: `terraform fmt -check`
//! (it needs no provider; the google, azuread and azurerm providers cannot be installed, so
//! `terraform validate` and `plan` do not run on these files) and checkov's checks of workload
//! identity (CKV_GCP_118, CKV_GCP_125, CKV_AZURE_249), once over every case, beside hand-written
//! weak files each check must fail. What the clouds admit is proven token by token in
//! `tests/common/clouds.rs`, from the AWS trust tests.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::clouds::{PROJECT, TENANT};
use common::{
    assert_schema, assert_zizmor_clean, checkov, checkov_reports, ci_checker, have_tool, oidc_gen,
    text,
};

/// Each case: a name, and the flags of one role in one cloud.
fn cases() -> Vec<(&'static str, Vec<&'static str>)> {
    let gcp = ["--cloud", "gcp", "--gcp-project-number", PROJECT];
    let sa = [
        "--gcp-service-account",
        "deploy@acme-prod.iam.gserviceaccount.com",
    ];
    let azure = ["--cloud", "azure", "--azure-tenant-id", TENANT];
    let cases: Vec<(&str, Vec<&[&str]>)> = vec![
        (
            "gcp_github_branch",
            vec![
                &[
                    "--github",
                    "acme/app",
                    "--github-ref",
                    "refs/heads/main",
                    "--github-ref",
                    "refs/heads/release",
                ],
                &gcp,
                &sa,
            ],
        ),
        (
            "gcp_github_every_run",
            vec![
                &["--github", "acme/app"],
                &gcp,
                &["--gcp-role", "roles/viewer"],
            ],
        ),
        (
            "gcp_github_immutable",
            vec![
                &[
                    "--github",
                    "acme@42/app@7",
                    "--github-ref",
                    "refs/heads/main",
                ],
                &gcp,
                &sa,
            ],
        ),
        (
            "gcp_gitlab",
            vec![
                &[
                    "--gitlab",
                    "acme/app",
                    "--gitlab-ref",
                    "main",
                    "--gitlab-ref-type",
                    "branch",
                ],
                &gcp,
                &sa,
            ],
        ),
        (
            "gcp_pulumi",
            vec![
                &[
                    "--org",
                    "acme",
                    "--env",
                    "platform/*",
                    "--deploy",
                    "infra/prod",
                ],
                &gcp,
                &sa,
            ],
        ),
        (
            "azure_github_branch",
            vec![
                &["--github", "acme/app", "--github-ref", "refs/heads/main"],
                &azure,
            ],
        ),
        (
            "azure_github_flexible",
            vec![&["--github", "acme@42/app@7"], &azure],
        ),
        (
            "azure_gitlab_existing_application",
            vec![
                &[
                    "--gitlab",
                    "acme/app",
                    "--gitlab-ref",
                    "main",
                    "--gitlab-ref-type",
                    "branch",
                ],
                &azure,
                &["--azure-application", TENANT],
            ],
        ),
        (
            "azure_pulumi_managed_identity",
            vec![
                &[
                    "--org",
                    "acme",
                    "--env",
                    "platform/prod",
                    "--env",
                    "platform/dev",
                ],
                &azure,
                &["--azure-identity", "esc"],
            ],
        ),
        (
            "azure_hcp_terraform",
            vec![&["--hcp-terraform", "acme/infra/prod"], &azure],
        ),
    ];
    cases
        .into_iter()
        .map(|(name, parts)| (name, parts.concat()))
        .collect()
}

/// Writes every case's Terraform file to `root/<case>/main.tf`.
fn generate(root: &Path) {
    for (name, args) in cases() {
        let out = root.join(name);
        std::fs::create_dir_all(&out).unwrap();
        let args = [
            &args[..],
            &["--no-thumbprint", "--format", "terraform", "--out", "-"],
        ]
        .concat();
        let output = oidc_gen(root, &args);
        assert!(output.status.success(), "{name}: {}", text(&output).1);
        std::fs::write(out.join("main.tf"), &output.stdout).unwrap();
    }
}

/// Where checkov's checks, written before workload identity used immutable IDs or patterns, fail
/// a file that admits exactly what it should: the case, the check, and why.
const CHECKOV_MISREADS: [(&str, &str, &str); 3] = [
    (
        "gcp_github_every_run",
        "CKV_GCP_125",
        "checkov wants `assertion.sub == '...'`; a prefix (`startsWith('repo:acme/app:')`) is as narrow and fails it",
    ),
    (
        "gcp_github_immutable",
        "CKV_GCP_125",
        "checkov's repository pattern does not know GitHub's immutable subjects (repo:acme@42/app@7:...)",
    ),
    (
        "azure_github_flexible",
        "CKV_AZURE_249",
        "never: CKV_AZURE_249 reads only standard credentials, and this case has a flexible one",
    ),
];

/// Weak files each check must fail, so that a pass above means the check ran.
const WEAK: &str = r#"
resource "google_iam_workload_identity_pool_provider" "no_condition" {
  workload_identity_pool_id          = "pool"
  workload_identity_pool_provider_id = "github"
  attribute_mapping                  = { "google.subject" = "assertion.sub" }
  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_iam_workload_identity_pool_provider" "owner_only" {
  workload_identity_pool_id          = "pool"
  workload_identity_pool_provider_id = "github2"
  attribute_mapping                  = { "google.subject" = "assertion.sub" }
  attribute_condition                = "assertion.repository_owner == 'acme'"
  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "azuread_application_federated_identity_credential" "any_repository" {
  application_id = "/applications/00000000-0000-0000-0000-000000000000"
  display_name   = "any"
  audiences      = ["api://AzureADTokenExchange"]
  issuer         = "https://token.actions.githubusercontent.com"
  subject        = "repo:*:ref:refs/heads/main"
}
"#;

#[test]
fn terraform_fmt_and_checkov_pass_every_clouds_file() {
    let root = tempfile::tempdir().unwrap();
    generate(root.path());
    if have_tool("terraform", "version") {
        let config = root.path().join("terraform.rc");
        std::fs::write(&config, "").unwrap();
        let output = Command::new("terraform")
            .args(["fmt", "-check", "-diff", "-no-color", "-recursive"])
            .arg(root.path())
            .env("TF_CLI_CONFIG_FILE", &config)
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert!(
            output.status.success(),
            "terraform fmt would change:\n{stdout}{stderr}"
        );
    }
    let Some(checkov) = checkov() else { return };
    let weak = root.path().join("weak");
    std::fs::create_dir_all(&weak).unwrap();
    std::fs::write(weak.join("main.tf"), WEAK).unwrap();
    let checks = "CKV_GCP_118,CKV_GCP_125,CKV_AZURE_249";
    let (reports, _) = checkov_reports(&checkov, root.path(), &["--check", checks]);
    let mut failed = BTreeSet::new();
    let mut passed = BTreeSet::new();
    for report in &reports {
        for (list, set) in [
            ("failed_checks", &mut failed),
            ("passed_checks", &mut passed),
        ] {
            for check in report["results"][list].as_array().into_iter().flatten() {
                let path = check["file_path"].as_str().unwrap().trim_start_matches('/');
                let case = path.split('/').next().unwrap().to_owned();
                let resource = check["resource"].as_str().unwrap().to_owned();
                set.insert((
                    case,
                    check["check_id"].as_str().unwrap().to_owned(),
                    resource,
                ));
            }
        }
    }
    let weak_failed: BTreeSet<&str> = failed
        .iter()
        .filter(|(case, _, _)| case == "weak")
        .map(|(_, _, resource)| resource.as_str())
        .collect();
    assert_eq!(
        weak_failed.into_iter().collect::<Vec<_>>(),
        [
            "azuread_application_federated_identity_credential.any_repository",
            "google_iam_workload_identity_pool_provider.no_condition",
            "google_iam_workload_identity_pool_provider.owner_only",
        ],
        "the weak files fail the checks"
    );
    for (case, check, resource) in failed.iter().filter(|(case, _, _)| case != "weak") {
        let known = CHECKOV_MISREADS
            .iter()
            .find(|(c, id, _)| c == case && id == check);
        assert!(
            known.is_some(),
            "checkov fails {check} on {resource} in {case}, which no entry of CHECKOV_MISREADS explains"
        );
    }
    for (case, check, why) in CHECKOV_MISREADS {
        let fails = failed.iter().any(|(c, id, _)| c == case && id == check);
        assert_eq!(
            fails,
            !why.starts_with("never"),
            "{case} {check}: checkov's reading changed ({why})"
        );
    }
    let passed_ids: BTreeSet<&str> = passed.iter().map(|(_, id, _)| id.as_str()).collect();
    assert_eq!(
        passed_ids.into_iter().collect::<Vec<_>>(),
        ["CKV_AZURE_249", "CKV_GCP_118", "CKV_GCP_125"],
        "each check passes a generated file"
    );
    let gcp_cases = cases().iter().filter(|(n, _)| n.starts_with("gcp")).count();
    let checked = passed
        .iter()
        .chain(&failed)
        .filter(|(case, id, _)| case.starts_with("gcp") && id == "CKV_GCP_118")
        .count();
    assert_eq!(checked, gcp_cases, "CKV_GCP_118 read every GCP provider");
}

/// The CI side of each cloud: GitHub's workflows fit GitHub's schema and pass zizmor with no
/// finding, GitLab's jobs fit GitLab's schema, HCP Terraform's variables are what `terraform fmt`
/// writes; with a service account and without, a new app registration and a given one.
#[test]
fn every_clouds_ci_files_pass_their_schemas_and_zizmor() {
    let (Some(schema), Some(zizmor)) = (ci_checker("check-jsonschema"), ci_checker("zizmor"))
    else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let gcp = ["--cloud", "gcp", "--gcp-project-number", PROJECT];
    let azure = ["--cloud", "azure", "--azure-tenant-id", TENANT];
    let sa = [
        "--gcp-service-account",
        "deploy@acme-prod.iam.gserviceaccount.com",
    ];
    let cases: Vec<(&str, Vec<&[&str]>)> = vec![
        (
            "github_gcp",
            vec![
                &["--github", "acme/app", "--github-environment", "prod"],
                &gcp,
                &sa,
            ],
        ),
        (
            "github_gcp_direct",
            vec![
                &["--github", "acme/app", "--github-ref", "refs/heads/main"],
                &gcp,
                &["--gcp-role", "roles/viewer"],
            ],
        ),
        (
            "github_azure",
            vec![
                &["--github", "acme/app", "--github-ref", "refs/heads/main"],
                &azure,
            ],
        ),
        (
            "github_azure_given",
            vec![
                &["--github", "acme@42/app@7", "--github-pull-request"],
                &azure,
                &["--azure-application", TENANT],
            ],
        ),
        (
            "gitlab_gcp",
            vec![
                &[
                    "--gitlab",
                    "acme/app",
                    "--gitlab-ref",
                    "main",
                    "--gitlab-ref-type",
                    "branch",
                    "--gitlab-protected",
                ],
                &gcp,
                &sa,
            ],
        ),
        (
            "gitlab_azure",
            vec![
                &[
                    "--gitlab",
                    "acme/app",
                    "--gitlab-ref",
                    "main",
                    "--gitlab-ref-type",
                    "branch",
                ],
                &azure,
            ],
        ),
        (
            "hcp_gcp",
            vec![
                &[
                    "--hcp-terraform",
                    "acme/infra/prod",
                    "--hcp-run-phase",
                    "apply",
                ],
                &gcp,
                &sa,
            ],
        ),
        (
            "hcp_azure",
            vec![&["--hcp-terraform", "acme/infra/prod"], &azure],
        ),
    ];
    let mut checked = BTreeSet::new();
    for (name, parts) in cases {
        let out = root.path().join(name);
        let args = [
            parts.concat(),
            vec!["--no-thumbprint", "--out", out.to_str().unwrap()],
        ]
        .concat();
        let output = oidc_gen(root.path(), &args);
        assert!(output.status.success(), "{name}: {}", text(&output).1);
        for cloud in oidc_gen::clouds::CLOUDS {
            for (file, vendor) in [
                ("github/workflow.yml", "vendor.github-workflows"),
                ("gitlab/.gitlab-ci.yml", "vendor.gitlab-ci"),
            ] {
                let path = out.join(cloud).join(file);
                if !path.is_file() {
                    continue;
                }
                assert_schema(&schema, vendor, &path, &format!("{name} {cloud}/{file}"));
                checked.insert(format!("{cloud}/{file}"));
                if file.starts_with("github") {
                    let repository = root.path().join(format!("{name}-repo"));
                    let folder = repository.join(".github/workflows");
                    std::fs::create_dir_all(&folder).unwrap();
                    std::fs::copy(&path, folder.join(format!("{cloud}.yml"))).unwrap();
                    assert_zizmor_clean(&zizmor, &repository, name);
                }
            }
            let variables = out.join(cloud).join("hcp-terraform/variables.tf");
            if variables.is_file() && have_tool("terraform", "version") {
                let output = Command::new("terraform")
                    .args(["fmt", "-check", "-diff", "-no-color"])
                    .arg(&variables)
                    .env("TF_CLI_CONFIG_FILE", "/dev/null")
                    .env("CHECKPOINT_DISABLE", "1")
                    .output()
                    .unwrap();
                assert!(output.status.success(), "{name}: {}", text(&output).0);
                checked.insert(format!("{cloud}/hcp-terraform/variables.tf"));
            }
        }
    }
    assert_eq!(
        checked.into_iter().collect::<Vec<_>>(),
        [
            "azure/github/workflow.yml",
            "azure/gitlab/.gitlab-ci.yml",
            "azure/hcp-terraform/variables.tf",
            "gcp/github/workflow.yml",
            "gcp/gitlab/.gitlab-ci.yml",
            "gcp/hcp-terraform/variables.tf",
        ],
        "every cloud's CI file is checked"
    );
}

/// `lint` reads the GCP providers, members and Azure credentials people write: each weak one
/// in `tests/fixtures/clouds/weak.tf` is flagged by the rule that names its weakness, a value it
/// cannot know is unproven, and every file `--cloud gcp` and `--cloud azure` write is clean.
#[test]
fn lint_flags_weak_gcp_and_azure_trust_and_passes_the_generated_files() {
    let root = tempfile::tempdir().unwrap();
    let weak = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/clouds/weak.tf");
    let folder = root.path().join("weak");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(weak, folder.join("main.tf")).unwrap();
    let output = oidc_gen(root.path(), &["lint", "--format", "json", "weak"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output).1);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut found: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["resource"].as_str().unwrap().to_owned(),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    let expected = [
        (
            "azuread_application_federated_identity_credential.star",
            "OIDC406",
        ),
        (
            "azuread_application_flexible_federated_identity_credential.no_id",
            "OIDC404",
        ),
        ("azurerm_federated_identity_credential.unknown", "OIDC301"),
        (
            "google_iam_workload_identity_pool_provider.gitlab_grammar",
            "OIDC402",
        ),
        (
            "google_iam_workload_identity_pool_provider.gitlab_grammar",
            "OIDC405",
        ),
        (
            "google_iam_workload_identity_pool_provider.no_condition",
            "OIDC401",
        ),
        (
            "google_iam_workload_identity_pool_provider.pulumi_unknown_audience",
            "OIDC301",
        ),
        (
            "google_iam_workload_identity_pool_provider.ref_only",
            "OIDC402",
        ),
        ("google_service_account_iam_member.everyone", "OIDC403"),
        (
            "google_service_account_iam_member.unknown_member",
            "OIDC301",
        ),
    ]
    .map(|(r, id)| (r.to_owned(), id.to_owned()));
    assert_eq!(found, expected);
    // The value lint cannot know is named, never printed raw with its marks.
    let unknown = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"] == "azurerm_federated_identity_credential.unknown")
        .unwrap();
    assert!(unknown["message"].as_str().unwrap().contains("var.repo"));
    assert!(!output.stdout.contains(&0xEF), "a mark printed raw");

    let sa = [
        "--gcp-service-account",
        "deploy@acme-prod.iam.gserviceaccount.com",
    ];
    let gcp = ["--cloud", "gcp", "--gcp-project-number", PROJECT];
    let azure = ["--cloud", "azure", "--azure-tenant-id", TENANT];
    let generated: Vec<(&str, Vec<&[&str]>)> = vec![
        ("github", vec![&["--github", "acme/app"], &gcp, &sa]),
        (
            "github_branch",
            vec![
                &["--github", "acme/app", "--github-ref", "refs/heads/main"],
                &gcp,
                &["--gcp-role", "roles/viewer"],
                &azure,
            ],
        ),
        (
            "github_ids",
            vec![&["--github", "acme@42/app@7"], &gcp, &sa, &azure],
        ),
        ("gitlab", vec![&["--gitlab", "acme/*"], &gcp, &sa]),
        ("pulumi", vec![&["--org", "acme"], &gcp, &sa]),
        (
            "hcp",
            vec![
                &["--hcp-terraform", "acme/infra/prod"],
                &gcp,
                &sa,
                &azure,
                &["--azure-identity", "tfc"],
            ],
        ),
    ];
    for (name, parts) in generated {
        let out = root.path().join(name);
        let args = [
            parts.concat(),
            vec![
                "--no-thumbprint",
                "--format",
                "terraform",
                "--out",
                out.to_str().unwrap(),
            ],
        ]
        .concat();
        let output = oidc_gen(root.path(), &args);
        assert!(output.status.success(), "{name}: {}", text(&output).1);
        let output = oidc_gen(
            root.path(),
            &["lint", "--format", "json", out.to_str().unwrap()],
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["findings"], serde_json::json!([]), "{name}");
        assert!(
            report["statements"].as_array().unwrap().len() >= 2,
            "{name}: the provider and the members (or the credentials) are read: {report:#}"
        );
        assert_eq!(output.status.code(), Some(0), "{name}");
    }
}

/// The commands the README gives for Google Cloud and Azure run as written (offline, into a
/// fresh folder), and write both sides for a GitHub repository, a GitLab project and ESC.
#[test]
fn the_readmes_cloud_commands_write_both_sides() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("## Google Cloud and Azure")
        .nth(1)
        .expect("the README has the section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let commands: Vec<String> = block
        .replace("\\\n", " ")
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("oidc-gen "))
        .map(str::to_owned)
        .collect();
    assert_eq!(commands.len(), 3, "{block}");
    let mut written = BTreeSet::new();
    for command in commands {
        let dir = tempfile::tempdir().unwrap();
        let words = shell_words::split(&command).unwrap();
        let args: Vec<&str> = words[1..]
            .iter()
            .map(String::as_str)
            .chain(["--no-thumbprint", "--out", "out"])
            .collect();
        let output = oidc_gen(dir.path(), &args);
        assert!(output.status.success(), "{command}: {}", text(&output).1);
        for cloud in oidc_gen::clouds::CLOUDS {
            for file in [
                "github/workflow.yml",
                "gitlab/.gitlab-ci.yml",
                "esc/environment.yaml",
                "terraform/main.tf",
            ] {
                if dir.path().join("out").join(cloud).join(file).is_file() {
                    written.insert(format!("{cloud}/{file}"));
                }
            }
        }
    }
    assert_eq!(
        written.into_iter().collect::<Vec<_>>(),
        [
            "azure/esc/environment.yaml",
            "azure/github/workflow.yml",
            "azure/terraform/main.tf",
            "gcp/esc/environment.yaml",
            "gcp/github/workflow.yml",
            "gcp/gitlab/.gitlab-ci.yml",
            "gcp/terraform/main.tf",
        ]
    );
}

/// Every value a cloud's flag puts into a file is checked first: an expression GitHub or a
/// template would evaluate, a quote, a line break or a `::` command is refused with exit 2, the
/// flag named, and nothing written.
#[test]
fn hostile_cloud_values_are_refused_before_anything_is_written() {
    let hostile = [
        "x${{ github.token }}",
        "a\"b",
        "a\nb",
        "::set-env name=x::y",
        "a\u{202e}b",
        "$(id)",
        "",
    ];
    let flags: [(&str, &[&str], &str); 8] = [
        (
            "--gcp-project-number",
            &["--cloud", "gcp", "--gcp-role", "roles/viewer"],
            "{}",
        ),
        (
            "--gcp-pool",
            &[
                "--cloud",
                "gcp",
                "--gcp-project-number",
                "1",
                "--gcp-role",
                "roles/viewer",
            ],
            "{}",
        ),
        (
            "--gcp-provider",
            &[
                "--cloud",
                "gcp",
                "--gcp-project-number",
                "1",
                "--gcp-role",
                "roles/viewer",
            ],
            "{}",
        ),
        (
            "--gcp-service-account",
            &["--cloud", "gcp", "--gcp-project-number", "1"],
            "{}@p.iam.gserviceaccount.com",
        ),
        (
            "--gcp-role",
            &["--cloud", "gcp", "--gcp-project-number", "1"],
            "roles/{}",
        ),
        ("--azure-tenant-id", &["--cloud", "azure"], "{}"),
        (
            "--azure-identity",
            &["--cloud", "azure", "--azure-tenant-id", TENANT],
            "{}",
        ),
        (
            "--azure-application",
            &["--cloud", "azure", "--azure-tenant-id", TENANT],
            "{}",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (flag, rest, shape) in flags {
        for value in hostile {
            let value = shape.replace("{}", value);
            let args = [
                &[
                    "--github",
                    "acme/app",
                    "--github-ref",
                    "refs/heads/main",
                    flag,
                    &value,
                ][..],
                rest,
                &["--out", "out"],
            ]
            .concat();
            let output = oidc_gen(dir.path(), &args);
            let stderr = text(&output).1;
            assert_eq!(output.status.code(), Some(2), "{flag} {value:?}: {stderr}");
            assert!(stderr.contains(flag), "{flag} {value:?}: {stderr}");
            assert!(!stderr.lines().any(|l| l.starts_with("::")), "{stderr}");
            assert!(!stderr.contains('\u{202e}'), "{stderr}");
            assert!(
                !dir.path().join("out").exists(),
                "{flag} {value:?} wrote files"
            );
        }
    }
}
