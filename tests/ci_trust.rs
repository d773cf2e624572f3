//! GitLab, HCP Terraform, Buildkite and CircleCI trust, proven by evaluating tokens: for each set
//! of flags, thousands of generated tokens (right and wrong group, project, subgroup, ref type,
//! ref, protection, organization, workspace, run phase, pipeline, branch, project ID, audience,
//! issuer, and subjects with fields added) are evaluated against the generated trust policy by the
//! independent evaluator (with the claims AWS maps for the issuer in the request) and by
//! `oidc_gen::simulate`; both must agree with an oracle stated from the flags alone.

mod common;

use std::collections::BTreeMap;

use common::clouds::{self, CloudToken};
use common::evaluator::{ACCOUNT, evaluate};
use common::{oidc_gen, text};
use oidc_gen::issuer::Issuer;
use oidc_gen::issuers;
use oidc_gen::policy::string_like;
use oidc_gen::simulate::{self, Token};
use serde_json::{Value, json};

/// A token: its issuer (without https://), aud, sub and other claims.
#[derive(Debug, Clone)]
struct CiToken {
    issuer: String,
    aud: String,
    sub: String,
    claims: Vec<(String, String)>,
}

/// One set of flags, and the oracle that reads them.
struct Scenario {
    name: &'static str,
    args: Vec<&'static str>,
    names: Box<dyn Fn(&CiToken) -> bool>,
}

fn claim<'a>(token: &'a CiToken, name: &str) -> Option<&'a str> {
    token
        .claims
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The subject's fields, for subjects of `key:value:key:value...`.
fn fields(sub: &str) -> BTreeMap<&str, &str> {
    let parts: Vec<&str> = sub.split(':').collect();
    parts
        .chunks(2)
        .filter_map(|kv| Some((kv[0], *kv.get(1)?)))
        .collect()
}

// ---------------------------------------------------------------------------------- GitLab

fn gitlab_tokens() -> Vec<CiToken> {
    let mut tokens = Vec::new();
    for issuer in ["gitlab.com", "gitlab.example.com", "agent.buildkite.com"] {
        for aud in [
            "https://gitlab.com",
            "https://gitlab.example.com",
            "sts.amazonaws.com",
        ] {
            for project in [
                "acme/app",
                "acme/app2",
                "acme/sub/app",
                "acme/app/sub",
                "acme-evil/app",
                "acme/app-evil",
                "other/x",
            ] {
                for ref_type in ["branch", "tag"] {
                    for name in [
                        "main",
                        "main2",
                        "release-1",
                        "release-1/x",
                        "v1",
                        "v1.2",
                        "feature",
                        "mai",
                    ] {
                        for protected in ["true", "false"] {
                            tokens.push(CiToken {
                                issuer: issuer.into(),
                                aud: aud.into(),
                                sub: format!(
                                    "project_path:{project}:ref_type:{ref_type}:ref:{name}"
                                ),
                                claims: vec![
                                    ("ref_protected".into(), protected.into()),
                                    ("project_id".into(), "42".into()),
                                ],
                            });
                        }
                    }
                }
            }
        }
    }
    // Subjects with a field more (as a changed token format would add).
    let extra: Vec<CiToken> = tokens
        .iter()
        .step_by(7)
        .map(|t| CiToken {
            sub: format!("{}:environment:prod", t.sub),
            ..t.clone()
        })
        .collect();
    tokens.extend(extra);
    tokens
}

fn gitlab_scenario(
    name: &'static str,
    issuer: &'static str,
    args: &[&'static str],
    projects: &'static [&'static str],
    ref_types: &'static [&'static str],
    refs: &'static [&'static str],
    protected: bool,
) -> Scenario {
    let narrowed = ref_types.len() == 1 || !refs.is_empty();
    Scenario {
        name,
        args: args.to_vec(),
        names: Box::new(move |t: &CiToken| {
            let f = fields(&t.sub);
            let exact_shape = t.sub.split(':').count() == 6;
            let project = f.get("project_path").copied().unwrap_or_default();
            let project_ok = projects.iter().any(|p| string_like(p, project));
            let refs_ok = !narrowed
                || (exact_shape
                    && ref_types.contains(&f.get("ref_type").copied().unwrap_or_default())
                    && (refs.is_empty()
                        || refs
                            .iter()
                            .any(|r| string_like(r, f.get("ref").copied().unwrap_or_default()))));
            let protected_ok = !protected || claim(t, "ref_protected") == Some("true");
            t.issuer == issuer
                && t.aud == format!("https://{issuer}")
                && project_ok
                && refs_ok
                && protected_ok
        }),
    }
}

fn gitlab_scenarios() -> Vec<Scenario> {
    vec![
        gitlab_scenario(
            "gitlab_main_branch_protected",
            "gitlab.com",
            &[
                "--gitlab",
                "acme/app",
                "--gitlab-ref-type",
                "branch",
                "--gitlab-ref",
                "main",
                "--gitlab-protected",
            ],
            &["acme/app"],
            &["branch"],
            &["main"],
            true,
        ),
        gitlab_scenario(
            "gitlab_group_release_patterns",
            "gitlab.com",
            &[
                "--gitlab",
                "acme/*",
                "--gitlab-ref",
                "release-*",
                "--gitlab-ref",
                "v1",
            ],
            &["acme/*"],
            &["branch", "tag"],
            &["release-*", "v1"],
            false,
        ),
        gitlab_scenario(
            "gitlab_self_managed_every_pipeline",
            "gitlab.example.com",
            &[
                "--issuer",
                "https://gitlab.example.com",
                "--gitlab",
                "acme/app",
                "--gitlab",
                "acme/sub/app",
            ],
            &["acme/app", "acme/sub/app"],
            &["branch", "tag"],
            &[],
            false,
        ),
    ]
}

// ------------------------------------------------------------------------------ HCP Terraform

fn hcp_tokens() -> Vec<CiToken> {
    let mut tokens = Vec::new();
    for issuer in ["app.terraform.io", "tfe.example.com"] {
        for aud in [
            "aws.workload.identity",
            "sts.amazonaws.com",
            "aws.workload.identity2",
        ] {
            for org in ["acme", "acme2", "Acme"] {
                for project in ["Default Project", "infra", "infra2", "Infra"] {
                    for workspace in [
                        "prod",
                        "prod2",
                        "prod-eu",
                        "stage-1",
                        "stage-2",
                        "stage",
                        "x-stage-1",
                    ] {
                        for phase in ["plan", "apply"] {
                            for extra in ["", ":run_id:run-1"] {
                                tokens.push(CiToken {
                                    issuer: issuer.into(),
                                    aud: aud.into(),
                                    sub: format!(
                                        "organization:{org}:project:{project}:workspace:{workspace}:run_phase:{phase}{extra}"
                                    ),
                                    claims: Vec::new(),
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    tokens
}

fn hcp_scenario(
    name: &'static str,
    issuer: &'static str,
    args: &[&'static str],
    workspaces: &'static [(&'static str, &'static str, &'static str)],
    phases: &'static [&'static str],
) -> Scenario {
    Scenario {
        name,
        args: args.to_vec(),
        names: Box::new(move |t: &CiToken| {
            let f = fields(&t.sub);
            let get = |k: &str| f.get(k).copied().unwrap_or_default();
            let shape = t.sub.split(':').count() == 8;
            let workspace_ok = workspaces.iter().any(|(o, p, w)| {
                *o == get("organization")
                    && string_like(p, get("project"))
                    && string_like(w, get("workspace"))
            });
            t.issuer == issuer
                && t.aud == "aws.workload.identity"
                && shape
                && workspace_ok
                && phases.contains(&get("run_phase"))
        }),
    }
}

fn hcp_scenarios() -> Vec<Scenario> {
    vec![
        hcp_scenario(
            "hcp_one_workspace_both_phases",
            "app.terraform.io",
            &["--hcp-terraform", "acme/Default Project/prod"],
            &[("acme", "Default Project", "prod")],
            &["plan", "apply"],
        ),
        hcp_scenario(
            "terraform_enterprise_one_workspace",
            "tfe.example.com",
            &[
                "--issuer",
                "https://tfe.example.com",
                "--hcp-terraform",
                "acme/infra/prod",
            ],
            &[("acme", "infra", "prod")],
            &["plan", "apply"],
        ),
        hcp_scenario(
            "hcp_workspace_pattern_apply_only",
            "app.terraform.io",
            &[
                "--hcp-terraform",
                "acme/infra/stage-*",
                "--hcp-terraform",
                "acme/*/prod",
                "--hcp-run-phase",
                "apply",
            ],
            &[("acme", "infra", "stage-*"), ("acme", "*", "prod")],
            &["apply"],
        ),
    ]
}

// ---------------------------------------------------------------------------------- Buildkite

fn buildkite_tokens() -> Vec<CiToken> {
    let mut tokens = Vec::new();
    for issuer in ["agent.buildkite.com", "gitlab.com"] {
        for aud in ["sts.amazonaws.com", "sts.amazonaws.com.cn", "acme"] {
            for org in ["acme", "acme2", "acm", "acme-evil"] {
                for pipeline in ["deploy", "deploy2", "build", "deploy-x", "x"] {
                    for (reference, branch) in [
                        ("refs/heads/main", "main"),
                        ("refs/heads/release-1", "release-1"),
                        ("refs/heads/feature", "feature"),
                        ("refs/tags/v1", ""),
                    ] {
                        for step in ["deploy", "build", "test"] {
                            for branch_claim in [branch, "main"] {
                                tokens.push(CiToken {
                                    issuer: issuer.into(),
                                    aud: aud.into(),
                                    sub: format!(
                                        "organization:{org}:pipeline:{pipeline}:ref:{reference}:commit:0123abc:step:{step}"
                                    ),
                                    claims: vec![
                                        ("build_branch".into(), branch_claim.into()),
                                        ("organization_slug".into(), org.into()),
                                        ("pipeline_slug".into(), pipeline.into()),
                                    ],
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    tokens
}

fn buildkite_scenario(
    name: &'static str,
    args: &[&'static str],
    pipelines: &'static [(&'static str, &'static str)],
    branches: &'static [&'static str],
) -> Scenario {
    Scenario {
        name,
        args: args.to_vec(),
        names: Box::new(move |t: &CiToken| {
            let f = fields(&t.sub);
            let get = |k: &str| f.get(k).copied().unwrap_or_default();
            let pipeline_ok = pipelines
                .iter()
                .any(|(o, p)| *o == get("organization") && (*p == "*" || *p == get("pipeline")));
            let branch_ok = branches.is_empty()
                || branches
                    .iter()
                    .any(|b| string_like(b, claim(t, "build_branch").unwrap_or_default()));
            t.issuer == "agent.buildkite.com"
                && t.aud == "sts.amazonaws.com"
                && pipeline_ok
                && branch_ok
        }),
    }
}

fn buildkite_scenarios() -> Vec<Scenario> {
    vec![
        buildkite_scenario(
            "buildkite_one_pipeline_main",
            &["--buildkite", "acme/deploy", "--buildkite-branch", "main"],
            &[("acme", "deploy")],
            &["main"],
        ),
        buildkite_scenario(
            "buildkite_every_pipeline_release_branches",
            &["--buildkite", "acme/*", "--buildkite-branch", "release-*"],
            &[("acme", "*")],
            &["release-*"],
        ),
    ]
}

// ----------------------------------------------------------------------------------- CircleCI

const ORG: &str = "0f3e1a2b-0000-4000-8000-00000000abcd";
const ORG2: &str = "0f3e1a2b-0000-4000-8000-00000000abce";
const PROJECTS: [&str; 6] = [
    "11111111-2222-4333-8444-555555555555",
    "11111111-2222-4333-8444-555555555556",
    "21111111-2222-4333-8444-555555555555",
    "11111111-2222-4333-8444-55555555555",
    "11111111-2222-4333-8444-5555555555555",
    "x",
];

fn circleci_tokens() -> Vec<CiToken> {
    let mut tokens = Vec::new();
    for issuer_org in [ORG, ORG2, "evil"] {
        for aud in [ORG, ORG2, "sts.amazonaws.com"] {
            for sub_org in [ORG, ORG2] {
                for project in PROJECTS {
                    for user in ["u1", "u2", "u3"] {
                        for tail in [
                            "",
                            "/vcs-origin/github.com/acme/app/vcs-ref/refs/heads/main",
                            "/x",
                        ] {
                            for claimed in [project, PROJECTS[0], PROJECTS[1]] {
                                tokens.push(CiToken {
                                    issuer: format!("oidc.circleci.com/org/{issuer_org}"),
                                    aud: aud.into(),
                                    sub: format!(
                                        "org/{sub_org}/project/{project}/user/{user}{tail}"
                                    ),
                                    claims: vec![(
                                        "oidc.circleci.com/project-id".into(),
                                        claimed.into(),
                                    )],
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    tokens
}

fn circleci_scenario(
    name: &'static str,
    args: &[&'static str],
    projects: &'static [&'static str],
) -> Scenario {
    Scenario {
        name,
        args: args.to_vec(),
        names: Box::new(move |t: &CiToken| {
            let parts: Vec<&str> = t.sub.split('/').collect();
            let sub_project = parts.get(3).copied().unwrap_or_default();
            let project_ok = projects.is_empty()
                || projects.iter().any(|p| {
                    *p == sub_project
                        && parts.get(4) == Some(&"user")
                        && claim(t, "oidc.circleci.com/project-id") == Some(*p)
                });
            t.issuer == format!("oidc.circleci.com/org/{ORG}")
                && t.aud == ORG
                && parts.get(1) == Some(&ORG)
                && parts.get(2) == Some(&"project")
                && project_ok
        }),
    }
}

fn circleci_scenarios() -> Vec<Scenario> {
    vec![
        circleci_scenario(
            "circleci_two_projects",
            &[
                "--circleci",
                ORG,
                "--circleci-project",
                PROJECTS[0],
                "--circleci-project",
                PROJECTS[2],
            ],
            &[
                "11111111-2222-4333-8444-555555555555",
                "21111111-2222-4333-8444-555555555555",
            ],
        ),
        circleci_scenario("circleci_every_project", &["--circleci", ORG], &[]),
    ]
}

// ------------------------------------------------------------------------------------- judge

/// The trust policy the flags write, read from the CloudFormation template the binary prints.
fn policy(dir: &std::path::Path, args: &[&str]) -> Value {
    let args = [
        args,
        &[
            "--no-thumbprint",
            "--format",
            "cloudformation",
            "--out",
            "-",
        ],
    ]
    .concat();
    let output = oidc_gen(dir, &args);
    assert!(output.status.success(), "{args:?}: {}", text(&output).1);
    let template: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut policy =
        template["Resources"]["PulumiEscRole"]["Properties"]["AssumeRolePolicyDocument"].clone();
    let issuer = template["Resources"]["PulumiOidcProvider"]["Properties"]["Url"]
        .as_str()
        .unwrap()
        .trim_start_matches("https://")
        .to_owned();
    for statement in policy["Statement"].as_array_mut().unwrap() {
        statement["Principal"]["Federated"] =
            json!(format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}"));
    }
    policy
}

/// The claims AWS maps for the token's issuer.
fn mapped(token: &CiToken) -> Vec<(String, String)> {
    let preset = Issuer::parse(&format!("https://{}", token.issuer))
        .ok()
        .and_then(|issuer| issuers::find(&issuer));
    let mapped = preset.map_or(&[][..], |p| p.mapped_claims);
    token
        .claims
        .iter()
        .filter(|(name, _)| mapped.contains(&name.as_str()))
        .cloned()
        .collect()
}

fn judge(scenarios: Vec<Scenario>, tokens: &[CiToken]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let mut total = 0;
    for scenario in scenarios {
        let policy = policy(dir.path(), &scenario.args);
        let oracle: Vec<bool> = tokens.iter().map(|t| (scenario.names)(t)).collect();
        for (token, expected) in tokens.iter().zip(&oracle) {
            let ours = simulate::evaluate(
                &policy,
                &token.issuer,
                &Token {
                    iss: None,
                    aud: token.aud.clone(),
                    sub: token.sub.clone(),
                    claims: token.claims.iter().cloned().collect(),
                },
            )
            .unwrap()
            .allowed();
            assert_eq!(
                ours,
                *expected,
                "{}: simulate says {}, the flags {} name {token:?}\npolicy: {policy:#}",
                scenario.name,
                if ours { "ALLOW" } else { "DENY" },
                if *expected { "do" } else { "do not" }
            );
        }
        let admitted = oracle.iter().filter(|a| **a).count();
        assert!(
            admitted > 0 && admitted < tokens.len() / 2,
            "{}: {admitted} of {} admitted",
            scenario.name,
            tokens.len()
        );
        let requests: Vec<Value> = tokens
            .iter()
            .map(|t| {
                let mut context = serde_json::Map::new();
                context.insert(format!("{}:aud", t.issuer), t.aud.clone().into());
                context.insert(format!("{}:sub", t.issuer), t.sub.clone().into());
                for (name, value) in mapped(t) {
                    context.insert(format!("{}:{name}", t.issuer), value.into());
                }
                json!({
                    "principal": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{}", t.issuer),
                    "context": context,
                })
            })
            .collect();
        if let Some(answers) = evaluate(&policy, "aws", &requests) {
            for ((token, answer), expected) in tokens.iter().zip(&answers).zip(&oracle) {
                assert_eq!(
                    answer == "Allowed",
                    *expected,
                    "{}: the independent evaluator says {answer} for {token:?}\npolicy: {policy:#}",
                    scenario.name
                );
            }
        }
        let cloud_tokens: Vec<CloudToken> = tokens
            .iter()
            .map(|t| CloudToken {
                iss: format!("https://{}", t.issuer),
                aud: t.aud.clone(),
                sub: t.sub.clone(),
                claims: t.claims.clone(),
            })
            .collect();
        clouds::agree(
            dir.path(),
            &scenario.args,
            &policy,
            &cloud_tokens,
            &oracle,
            scenario.name,
        );
        assert!(
            tokens.len() >= 2000,
            "{}: {} tokens",
            scenario.name,
            tokens.len()
        );
        eprintln!(
            "{}: {} tokens, {admitted} admitted",
            scenario.name,
            tokens.len()
        );
        total += tokens.len();
    }
    total
}

#[test]
fn gitlab_roles_admit_exactly_the_named_pipelines() {
    let total = judge(gitlab_scenarios(), &gitlab_tokens());
    eprintln!("{total} GitLab tokens evaluated");
}

#[test]
fn hcp_terraform_roles_admit_exactly_the_named_runs() {
    let total = judge(hcp_scenarios(), &hcp_tokens());
    eprintln!("{total} HCP Terraform tokens evaluated");
}

#[test]
fn buildkite_roles_admit_exactly_the_named_builds() {
    let total = judge(buildkite_scenarios(), &buildkite_tokens());
    eprintln!("{total} Buildkite tokens evaluated");
}

#[test]
fn circleci_roles_admit_exactly_the_named_projects() {
    let total = judge(circleci_scenarios(), &circleci_tokens());
    eprintln!("{total} CircleCI tokens evaluated");
}

/// As a new user would try each CI system: the fixture's command with `simulate` and a whole
/// token of that system (its mapped claims read from the payload) says ALLOW, and the same token
/// with one claim changed says DENY and why.
#[test]
fn simulate_reads_each_systems_token() {
    use base64::Engine;
    let encode = |claims: &Value| {
        let part =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.signature",
            part(&json!({"alg": "RS256"})),
            part(claims)
        )
    };
    let org = "0f3e1a2b-0000-4000-8000-00000000abcd";
    let project = "11111111-2222-4333-8444-555555555555";
    let cases: Vec<(&str, Value, (&str, Value), &str)> = vec![
        (
            "github_preset",
            json!({"iss": "https://token.actions.githubusercontent.com", "aud": "sts.amazonaws.com",
                   "sub": "repo:acme@1342004/infra@892375110:environment:prod", "repository_id": "892375110",
                   "repository_owner_id": "1342004", "repository": "acme/infra",
                   "job_workflow_ref": "acme/shared/.github/workflows/deploy.yml@refs/heads/main",
                   "runner_environment": "github-hosted"}),
            ("repository_id", json!("892375111")),
            "the repository's ID is 892375111",
        ),
        (
            "gitlab_preset",
            json!({"iss": "https://gitlab.com", "aud": "https://gitlab.com",
                   "sub": "project_path:acme/platform/infra:ref_type:branch:ref:release-2", "ref_protected": "true",
                   "project_id": "42"}),
            ("ref_protected", json!("false")),
            "this pipeline's ref is not protected",
        ),
        (
            "hcp_terraform_preset",
            json!({"iss": "https://app.terraform.io", "aud": "aws.workload.identity",
                   "sub": "organization:acme:project:infra:workspace:stage-1:run_phase:apply"}),
            (
                "sub",
                json!("organization:acme:project:infra:workspace:prod:run_phase:apply"),
            ),
            "wants",
        ),
        (
            "buildkite_preset",
            json!({"iss": "https://agent.buildkite.com", "aud": "sts.amazonaws.com",
                   "sub": "organization:acme:pipeline:deploy:ref:refs/heads/main:commit:0123abc:step:deploy",
                   "build_branch": "main", "organization_slug": "acme", "pipeline_slug": "deploy"}),
            ("build_branch", json!("feature")),
            "agent.buildkite.com:build_branch wants \"main\"",
        ),
        (
            "circleci_preset",
            json!({"iss": format!("https://oidc.circleci.com/org/{org}"), "aud": org,
                   "sub": format!("org/{org}/project/{project}/user/u1"),
                   "oidc.circleci.com/project-id": project}),
            (
                "oidc.circleci.com/project-id",
                json!("21111111-2222-4333-8444-555555555555"),
            ),
            "project-id wants",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (fixture, claims, (changed, value), why) in cases {
        let (_, args) = common::fixtures()
            .into_iter()
            .find(|(name, _)| *name == fixture)
            .unwrap();
        let run = |claims: &Value| {
            let jwt = encode(claims);
            let mut all: Vec<&str> = vec!["simulate"];
            all.extend(args.iter().map(String::as_str));
            all.extend(["--token", &jwt]);
            let output = oidc_gen(dir.path(), &all);
            (output.status.code(), text(&output).0)
        };
        let (code, stdout) = run(&claims);
        assert_eq!(code, Some(0), "{fixture}: {stdout}");
        let mut wrong = claims.clone();
        wrong[changed] = value;
        let (code, stdout) = run(&wrong);
        assert_eq!(code, Some(1), "{fixture}: {stdout}");
        assert!(stdout.contains(why), "{fixture}: {stdout}");
    }
}
