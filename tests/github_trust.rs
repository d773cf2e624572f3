//! GitHub Actions' trust, proven by evaluating tokens: for each set of `--github*` flags,
//! thousands of generated tokens (right and wrong owner, repository, owner and repository IDs, the
//! old and the immutable subject, refs, environments, pull requests, reusable workflows,
//! audiences, custom subject templates, a re-created repository, other issuers) are evaluated
//! against the generated trust policy, with the claims AWS maps to condition keys in the request,
//! by the independent evaluator and by `oidc_gen::simulate`; both must agree with an oracle that
//! states from the flags alone which tokens were named.

mod common;

use common::clouds::{self, CloudToken};
use common::evaluator::{ACCOUNT, evaluate};
use common::{oidc_gen, text};
use oidc_gen::issuers::{CiRequest, github};
use oidc_gen::policy::string_like;
use oidc_gen::request::Request;
use oidc_gen::role::RoleFields;
use oidc_gen::simulate::{self, Token};
use serde_json::{Value, json};

const GITHUB: &str = "token.actions.githubusercontent.com";
const ENTERPRISE: &str = "token.actions.githubusercontent.com/acme-ent";
const PULUMI: &str = "api.pulumi.com/oidc";
const MAPPED: [&str; 4] = [
    "repository_id",
    "repository_owner_id",
    "job_workflow_ref",
    "repository",
];
const SHARED: &str = "acme/shared/.github/workflows/deploy.yml@refs/heads/main";

/// What follows the repository in a token's subject.
#[derive(Debug, Clone)]
enum Context {
    Ref(&'static str),
    Environment(&'static str),
    PullRequest,
    /// A custom subject template's tail (`include_claim_keys`), which no default form has.
    Custom(&'static str),
}

/// A GitHub token, field by field.
#[derive(Debug, Clone)]
struct GithubToken {
    issuer: &'static str,
    aud: &'static str,
    owner: &'static str,
    owner_id: &'static str,
    repo: &'static str,
    repo_id: &'static str,
    immutable: bool,
    context: Context,
    workflow: Option<&'static str>,
}

impl GithubToken {
    fn sub(&self) -> String {
        let repo = match self.immutable {
            true => format!(
                "{}@{}/{}@{}",
                self.owner, self.owner_id, self.repo, self.repo_id
            ),
            false => format!("{}/{}", self.owner, self.repo),
        };
        let context = match &self.context {
            Context::Ref(r) => format!("ref:{r}"),
            Context::Environment(e) => format!("environment:{}", e.replace(':', "%3A")),
            Context::PullRequest => "pull_request".into(),
            Context::Custom(tail) => tail.to_string(),
        };
        format!("repo:{repo}:{context}")
    }

    /// The claims besides aud and sub that AWS maps for GitHub.
    fn claims(&self) -> Vec<(String, String)> {
        let mut claims = vec![
            ("repository_id".to_owned(), self.repo_id.to_owned()),
            ("repository_owner_id".to_owned(), self.owner_id.to_owned()),
            (
                "repository".to_owned(),
                format!("{}/{}", self.owner, self.repo),
            ),
        ];
        if let Some(workflow) = self.workflow {
            claims.push(("job_workflow_ref".into(), workflow.into()));
        }
        claims
    }
}

/// The repositories a scenario names, as the oracle reads the flags.
struct Named {
    owner: &'static str,
    repo: &'static str,
    ids: Option<(&'static str, Option<&'static str>)>,
    by_name: bool,
    by_id: bool,
}

struct Scenario {
    name: &'static str,
    issuer: &'static str,
    args: Vec<&'static str>,
    repos: Vec<Named>,
    refs: Vec<&'static str>,
    environments: Vec<&'static str>,
    pull_request: bool,
    workflows: Vec<&'static str>,
    /// A custom subject template's claims; empty for the default subject.
    subject_claims: Vec<&'static str>,
    default_subject: bool,
}

fn scenario(name: &'static str, issuer: &'static str, args: &[&'static str]) -> Scenario {
    let mut scenario = Scenario {
        name,
        issuer,
        args: args.to_vec(),
        repos: Vec::new(),
        refs: Vec::new(),
        environments: Vec::new(),
        pull_request: false,
        workflows: Vec::new(),
        subject_claims: Vec::new(),
        default_subject: false,
    };
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        match *flag {
            "--github-pull-request" => scenario.pull_request = true,
            "--github-default-subject" => scenario.default_subject = true,
            "--github" => {
                let value = rest.next().unwrap();
                let (owner, repo) = value.split_once('/').unwrap();
                let (owner, owner_id) = match owner.split_once('@') {
                    Some((o, id)) => (o, Some(id)),
                    None => (owner, None),
                };
                let (repo, repo_id) = match repo.split_once('@') {
                    Some((r, id)) => (r, Some(id)),
                    None => (repo, None),
                };
                let by_id = owner_id.is_some();
                match scenario
                    .repos
                    .iter_mut()
                    .find(|n| n.owner == owner && n.repo == repo)
                {
                    Some(known) => {
                        known.by_name |= !by_id;
                        known.by_id |= by_id;
                        if by_id {
                            known.ids = Some((owner_id.unwrap(), repo_id));
                        }
                    }
                    None => scenario.repos.push(Named {
                        owner,
                        repo,
                        ids: owner_id.map(|o| (o, repo_id)),
                        by_name: !by_id,
                        by_id,
                    }),
                }
            }
            "--github-ref" => scenario.refs.push(rest.next().unwrap()),
            "--github-environment" => scenario.environments.push(rest.next().unwrap()),
            "--github-workflow" => scenario.workflows.push(rest.next().unwrap()),
            "--github-subject-claim" => scenario.subject_claims.push(rest.next().unwrap()),
            other => panic!("unknown flag {other}"),
        }
    }
    scenario
}

impl Scenario {
    fn request(&self) -> Request {
        let mut github = github::Request::default();
        let mut rest = self.args.iter();
        while let Some(flag) = rest.next() {
            match *flag {
                "--github-pull-request" => github.pull_request = true,
                "--github" => github.repos.push(rest.next().unwrap().to_string()),
                "--github-ref" => github.refs.push(rest.next().unwrap().to_string()),
                "--github-environment" => {
                    github.environments.push(rest.next().unwrap().to_string())
                }
                "--github-workflow" => github.workflows.push(rest.next().unwrap().to_string()),
                "--github-subject-claim" => {
                    github.subject_claims.push(rest.next().unwrap().to_string())
                }
                "--github-default-subject" => github.default_subject = true,
                other => panic!("unknown flag {other}"),
            }
        }
        Request {
            issuer: Some(format!("https://{}", self.issuer)),
            role: RoleFields {
                ci: CiRequest {
                    github,
                    ..CiRequest::default()
                },
                ..RoleFields::default()
            },
            ..Request::default()
        }
    }

    /// Whether the flags name this token: the oracle, from the flags' meaning alone.
    fn names(&self, token: &GithubToken) -> bool {
        if token.issuer != self.issuer || token.aud != "sts.amazonaws.com" {
            return false;
        }
        let repository = self.repos.iter().any(|named| {
            let repo = named.repo == "*" || named.repo == token.repo;
            let form = if token.immutable {
                named.by_id
            } else {
                named.by_name
            };
            let ids = match named.ids {
                None => true,
                Some((owner_id, repo_id)) => {
                    owner_id == token.owner_id && repo_id.is_none_or(|id| id == token.repo_id)
                }
            };
            named.owner == token.owner && repo && form && ids
        });
        let any_context =
            self.refs.is_empty() && self.environments.is_empty() && !self.pull_request;
        let named_context = |context: &str| match context.split_once(':') {
            Some(("ref", r)) => self.refs.iter().any(|wanted| string_like(wanted, r)),
            Some(("environment", e)) => self.environments.contains(&e),
            _ => context == "pull_request" && self.pull_request,
        };
        let default_form = self.subject_claims.is_empty() || self.default_subject;
        let context = match &token.context {
            // A custom template's subject: the context, then the reusable workflow, as the
            // template's claims (repo, context, job_workflow_ref) order them.
            Context::Custom(tail) if !self.subject_claims.is_empty() => {
                assert_eq!(self.subject_claims, ["repo", "context", "job_workflow_ref"]);
                let (context, workflow) =
                    tail.split_once(":job_workflow_ref:").unwrap_or((tail, ""));
                (any_context || named_context(context))
                    && !workflow.is_empty()
                    && !workflow.contains(':')
                    && (self.workflows.is_empty()
                        || self.workflows.iter().any(|w| string_like(w, workflow)))
            }
            Context::Custom(_) => default_form && any_context,
            _ if !default_form => false,
            Context::Ref(r) => any_context || named_context(&format!("ref:{r}")),
            Context::Environment(e) => any_context || named_context(&format!("environment:{e}")),
            Context::PullRequest => any_context || named_context("pull_request"),
        };
        let workflow = self.workflows.is_empty()
            || token
                .workflow
                .is_some_and(|w| self.workflows.iter().any(|wanted| string_like(wanted, w)));
        repository && context && workflow
    }
}

fn scenarios() -> Vec<Scenario> {
    vec![
        scenario(
            "one_branch",
            GITHUB,
            &["--github", "acme/app", "--github-ref", "refs/heads/main"],
        ),
        scenario(
            "migration_to_immutable_subjects",
            GITHUB,
            &[
                "--github",
                "acme/app",
                "--github",
                "acme@11/app@22",
                "--github-ref",
                "refs/heads/main",
                "--github-ref",
                "refs/tags/v*",
            ],
        ),
        scenario(
            "immutable_owner_environment_and_pull_requests",
            GITHUB,
            &[
                "--github",
                "acme@11/*",
                "--github-environment",
                "prod",
                "--github-pull-request",
            ],
        ),
        scenario(
            "every_repository_of_an_owner_through_a_reusable_workflow",
            GITHUB,
            &[
                "--github",
                "acme/*",
                "--github-ref",
                "refs/tags/v*",
                "--github-pull-request",
                "--github-workflow",
                SHARED,
            ],
        ),
        scenario(
            "every_run_of_a_repository",
            GITHUB,
            &["--github", "acme/app"],
        ),
        scenario(
            "custom_subject_template_during_the_switch",
            GITHUB,
            &[
                "--github",
                "acme/app",
                "--github-environment",
                "prod",
                "--github-workflow",
                SHARED,
                "--github-subject-claim",
                "repo",
                "--github-subject-claim",
                "context",
                "--github-subject-claim",
                "job_workflow_ref",
                "--github-default-subject",
            ],
        ),
        scenario(
            "custom_subject_template_only",
            GITHUB,
            &[
                "--github",
                "acme@11/*",
                "--github-environment",
                "prod",
                "--github-subject-claim",
                "repo",
                "--github-subject-claim",
                "context",
                "--github-subject-claim",
                "job_workflow_ref",
            ],
        ),
        scenario(
            "enterprise_issuer_two_repositories",
            ENTERPRISE,
            &[
                "--github",
                "acme/app",
                "--github",
                "acme/infra",
                "--github-environment",
                "prod",
                "--github-environment",
                "a:b",
            ],
        ),
    ]
}

/// Tokens of every kind: the right values, near misses, and other issuers.
fn tokens() -> Vec<GithubToken> {
    let contexts = [
        Context::Ref("refs/heads/main"),
        Context::Ref("refs/heads/main2"),
        Context::Ref("refs/heads/dev"),
        Context::Ref("refs/tags/v1"),
        Context::Ref("refs/tags/v1.2/x"),
        Context::Ref("refs/tags/x-v1"),
        Context::Environment("prod"),
        Context::Environment("prod2"),
        Context::Environment("pull_request"),
        Context::Environment("a:b"),
        Context::PullRequest,
        Context::Custom(
            "environment:prod:job_workflow_ref:acme/shared/.github/workflows/deploy.yml@refs/heads/main",
        ),
        Context::Custom("ref:refs/heads/main:workflow:ci"),
        Context::Custom(
            "environment:prod:job_workflow_ref:acme/shared/.github/workflows/deploy.yml@refs/heads/dev",
        ),
        Context::Custom(
            "environment:prod:job_workflow_ref:acme/shared/.github/workflows/deploy.yml@refs/heads/main:actor:x",
        ),
    ];
    let mut tokens = Vec::new();
    for issuer in [GITHUB, ENTERPRISE, PULUMI] {
        for aud in ["sts.amazonaws.com", "acme"] {
            for (owner, owner_id) in [
                ("acme", "11"),
                ("acme", "99"),
                ("acme2", "12"),
                ("Acme", "11"),
            ] {
                for (repo, repo_id) in [
                    ("app", "22"),
                    ("app", "23"),
                    ("infra", "24"),
                    ("app-evil", "25"),
                ] {
                    for immutable in [false, true] {
                        for context in &contexts {
                            for workflow in [
                                None,
                                Some(SHARED),
                                Some("acme/shared/.github/workflows/deploy.yml@refs/heads/dev"),
                            ] {
                                tokens.push(GithubToken {
                                    issuer,
                                    aud,
                                    owner,
                                    owner_id,
                                    repo,
                                    repo_id,
                                    immutable,
                                    context: context.clone(),
                                    workflow,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    // Pulumi's issuer and the wrong audience need only a sample.
    let keep = |(i, t): &(usize, &GithubToken)| {
        (t.issuer != PULUMI && t.aud == "sts.amazonaws.com") || i % 17 == 0
    };
    tokens
        .iter()
        .enumerate()
        .filter(keep)
        .map(|(_, t)| t.clone())
        .collect()
}

/// The independent evaluator's answers, the request holding every claim AWS maps.
fn independent(policy: &Value, tokens: &[GithubToken]) -> Option<Vec<bool>> {
    let requests: Vec<Value> = tokens
        .iter()
        .map(|t| {
            let mut context = serde_json::Map::new();
            context.insert(format!("{}:aud", t.issuer), t.aud.into());
            context.insert(format!("{}:sub", t.issuer), t.sub().into());
            if t.issuer != PULUMI {
                for (claim, value) in t.claims() {
                    assert!(MAPPED.contains(&claim.as_str()));
                    context.insert(format!("{}:{claim}", t.issuer), value.into());
                }
            }
            json!({
                "principal": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{}", t.issuer),
                "context": context,
            })
        })
        .collect();
    let answers = evaluate(policy, "aws", &requests)?;
    Some(answers.iter().map(|a| a == "Allowed").collect())
}

#[test]
fn every_github_scenario_admits_exactly_the_named_tokens() {
    let tokens = tokens();
    let mut total = 0;
    for scenario in scenarios() {
        let trust = scenario
            .request()
            .trust()
            .unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
        let policy = trust.trust_policy(Some(ACCOUNT));
        let oracle: Vec<bool> = tokens.iter().map(|t| scenario.names(t)).collect();
        let ours: Vec<bool> = tokens
            .iter()
            .map(|t| {
                let token = Token {
                    iss: None,
                    aud: t.aud.into(),
                    sub: t.sub(),
                    claims: t.claims().into_iter().collect(),
                };
                simulate::evaluate(&policy, t.issuer, &token)
                    .unwrap()
                    .allowed()
            })
            .collect();
        for (i, token) in tokens.iter().enumerate() {
            assert_eq!(
                ours[i],
                oracle[i],
                "{}: simulate says {} but the flags {} name {token:?} (sub {})\npolicy: {policy:#}",
                scenario.name,
                if ours[i] { "ALLOW" } else { "DENY" },
                if oracle[i] { "do" } else { "do not" },
                token.sub()
            );
        }
        let admitted = oracle.iter().filter(|a| **a).count();
        assert!(
            admitted > 0 && admitted < tokens.len() / 2,
            "{}: {admitted} admitted",
            scenario.name
        );
        if let Some(theirs) = independent(&policy, &tokens) {
            for (i, token) in tokens.iter().enumerate() {
                assert_eq!(
                    theirs[i],
                    oracle[i],
                    "{}: the independent evaluator disagrees on {token:?} (sub {})\npolicy: {policy:#}",
                    scenario.name,
                    token.sub()
                );
            }
        }
        let cloud_tokens: Vec<CloudToken> = tokens
            .iter()
            .map(|t| CloudToken {
                iss: format!("https://{}", t.issuer),
                aud: t.aud.into(),
                sub: t.sub(),
                claims: t.claims(),
            })
            .collect();
        let issuer = format!("https://{}", scenario.issuer);
        let args = [&["--issuer", issuer.as_str()][..], &scenario.args].concat();
        let dir = tempfile::tempdir().unwrap();
        clouds::agree(
            dir.path(),
            &args,
            &policy,
            &cloud_tokens,
            &oracle,
            scenario.name,
        );
        assert!(tokens.len() >= 2000, "{} tokens", tokens.len());
        eprintln!(
            "{}: {} tokens, {admitted} admitted",
            scenario.name,
            tokens.len()
        );
        total += tokens.len();
    }
    eprintln!("{total} GitHub tokens evaluated");
}

/// The binary, given the same flags and a token's claims, answers as the oracle on a sample, and
/// explains a denial in GitHub's terms.
#[test]
fn simulate_answers_github_tokens_like_the_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = tokens();
    for scenario in scenarios() {
        let admitted = tokens.iter().filter(|t| scenario.names(t)).take(3);
        let spread = tokens.iter().step_by(tokens.len() / 6 + 1);
        for token in admitted.chain(spread) {
            let issuer = format!("https://{}", scenario.issuer);
            let sub = token.sub();
            let claims: Vec<String> = token
                .claims()
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let mut args = vec!["simulate", "--issuer", &issuer];
            args.extend(scenario.args.iter().copied());
            args.extend(["--aud", token.aud, "--sub", &sub]);
            for claim in &claims {
                args.extend(["--claim", claim]);
            }
            let output = oidc_gen(dir.path(), &args);
            let (stdout, stderr) = text(&output);
            // A token of another issuer is evaluated as if sent to this one's provider: judge it
            // by its claims alone, here.
            let as_this = GithubToken {
                issuer: scenario.issuer,
                ..token.clone()
            };
            let expected = if scenario.names(&as_this) { 0 } else { 1 };
            assert_eq!(
                output.status.code(),
                Some(expected),
                "{}: {token:?}\n{stdout}{stderr}",
                scenario.name
            );
        }
    }
}

#[test]
fn denials_are_explained_in_githubs_terms() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "simulate",
        "--github",
        "acme/app",
        "--github-ref",
        "refs/heads/main",
        "--aud",
        "sts.amazonaws.com",
    ];
    for (sub, reason) in [
        (
            "repo:acme/app:environment:prod",
            "this job names the environment \"prod\", so GitHub put environment:prod in sub, not the ref",
        ),
        (
            "repo:acme@1/app@2:ref:refs/heads/main",
            "the sub has the immutable form repo:acme@1/app@2",
        ),
        ("repo:acme/app:pull_request", "--github-pull-request"),
    ] {
        let output = oidc_gen(dir.path(), &[&base[..], &["--sub", sub]].concat());
        let (stdout, _) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{stdout}");
        assert!(stdout.contains(reason), "{sub}: {stdout}");
    }
    // A repository re-created under the same name: its new ID is named as the reason.
    let output = oidc_gen(
        dir.path(),
        &[
            "simulate",
            "--github",
            "acme@11/app@22",
            "--aud",
            "sts.amazonaws.com",
            "--sub",
            "repo:acme@11/app@23:ref:refs/heads/main",
            "--claim",
            "repository_id=23",
            "--claim",
            "repository_owner_id=11",
        ],
    );
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("the repository's ID is 23, not the 22 the role names"),
        "{stdout}"
    );
    // A condition on a claim AWS does not map for GitHub can never hold, and says so.
    let policy = dir.path().join("p.json");
    std::fs::write(
        &policy,
        json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB}")},
            "Condition": {"StringEquals": {
                format!("{GITHUB}:sub"): "repo:acme/app:ref:refs/heads/main",
                format!("{GITHUB}:runner_environment"): "github-hosted"}}}]})
        .to_string(),
    )
    .unwrap();
    let output = oidc_gen(
        dir.path(),
        &[
            "simulate",
            "--policy",
            "p.json",
            "--aud",
            "sts.amazonaws.com",
            "--sub",
            "repo:acme/app:ref:refs/heads/main",
            "--claim",
            "runner_environment=github-hosted",
        ],
    );
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("AWS does not map the claim runner_environment of this issuer"),
        "{stdout}"
    );
}
