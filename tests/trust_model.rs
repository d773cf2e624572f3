//! The trust model, proven by evaluating tokens: for every token shape and the default, thousands
//! of generated tokens (right and wrong org, audience, project, environment, stack, operation,
//! user, suffixes, case, `/` in the wrong place, other shapes and issuers) are evaluated against
//! the generated trust policy three ways, which must agree on every token:
//! - the independent evaluator, `@cloud-copilot/iam-simulate`'s core engine (in Node);
//! - `oidc_gen::simulate`, the engine behind `oidc-gen simulate` (and the binary on a sample);
//! - the oracle below, which states from the flags alone which tokens the user named.

mod common;

use common::clouds::{self, CloudToken};
use common::evaluator::evaluate;
use common::{oidc_gen, text};
use oidc_gen::claims::{Attribute, Operation};
use oidc_gen::policy::string_like;
use oidc_gen::request::{Partition, Request};
use oidc_gen::simulate::{self, Token};
use serde_json::{Value, json};

use common::evaluator::ACCOUNT;
const PULUMI: &str = "api.pulumi.com/oidc";
const SELF_HOSTED: &str = "pulumi.example.com/oidc";
const GITHUB: &str = "token.actions.githubusercontent.com";

/// What a generated token is, field by field, so the oracle can judge it without its strings.
#[derive(Debug, Clone)]
enum Shape {
    /// An ESC environment in a named project; `aud_org` says the audience is `<org>` (wrong).
    Named {
        org: String,
        project: String,
        env: String,
        aud_org: bool,
    },
    /// An ESC environment of the legacy default project; `aud_aws` says `aws:<org>` (wrong).
    Legacy {
        org: String,
        env: String,
        aud_aws: bool,
    },
    /// An ESC token with `subjectAttributes`.
    Custom {
        org: String,
        aud_aws: bool,
        attributes: Vec<(Attribute, String)>,
    },
    /// A Pulumi Deployments token.
    Deploy {
        org: String,
        project: String,
        stack: String,
        operation: String,
        aud_aws: bool,
    },
    /// Anything else: judged by its strings only.
    Raw,
}

#[derive(Debug, Clone)]
struct TestToken {
    issuer: &'static str,
    aud: String,
    sub: String,
    shape: Shape,
}

/// The values tokens are made of: valid names, near misses and other organizations.
const ORGS: [&str; 4] = ["acme", "acme2", "Acme", "acm"];
const PROJECTS: [&str; 7] = [
    "platform", "shared", "devtools", "default", "web", "infra", "Platform",
];
const ENVS: [&str; 8] = [
    "prod", "dev", "devtools", "staging", "legacy-a", "legacy", "ops", "prod2",
];
const STACKS: [&str; 3] = ["prod", "dev", "staging"];
const OPERATIONS: [&str; 5] = ["preview", "update", "refresh", "destroy", "detect-drift"];
const USERS: [&str; 4] = ["alice", "bob", "bot-1", "Alice"];

fn aud(org: &str, aws: bool) -> String {
    if aws {
        format!("aws:{org}")
    } else {
        org.to_owned()
    }
}

impl Shape {
    /// The claims a token of this shape carries.
    fn claims(&self) -> (String, String) {
        match self {
            Shape::Named {
                org,
                project,
                env,
                aud_org,
            } => (
                aud(org, !aud_org),
                format!("pulumi:environments:org:{org}:env:{project}/{env}"),
            ),
            Shape::Legacy { org, env, aud_aws } => (
                aud(org, *aud_aws),
                format!("pulumi:environments:org:{org}:env:{env}"),
            ),
            Shape::Custom {
                org,
                aud_aws,
                attributes,
            } => {
                let mut sub = format!("pulumi:environments:pulumi.organization.login:{org}");
                for (attribute, value) in attributes {
                    sub.push_str(&format!(":{}:{value}", attribute.as_str()));
                }
                (aud(org, *aud_aws), sub)
            }
            Shape::Deploy {
                org,
                project,
                stack,
                operation,
                aud_aws,
            } => (
                aud(org, *aud_aws),
                format!(
                    "pulumi:deploy:org:{org}:project:{project}:stack:{stack}:operation:{operation}:scope:write"
                ),
            ),
            Shape::Raw => unreachable!("raw tokens carry their claims"),
        }
    }

    /// A legacy-project token with a `/` in the environment and the audience `aws:<org>` has
    /// exactly the claims of a named project's token: judge it as one.
    fn normalized(self) -> Shape {
        match self {
            Shape::Legacy {
                org,
                env,
                aud_aws: true,
            } if env.contains('/') => {
                let (project, env) = env.split_once('/').unwrap();
                Shape::Named {
                    org,
                    project: project.into(),
                    env: env.into(),
                    aud_org: false,
                }
            }
            other => other,
        }
    }

    /// The same shape with `change` applied to every name in it (the org, projects, values).
    fn map(&self, change: impl Fn(&str) -> String) -> Shape {
        match self.clone() {
            Shape::Named {
                org,
                project,
                env,
                aud_org,
            } => Shape::Named {
                org: change(&org),
                project: change(&project),
                env: change(&env),
                aud_org,
            },
            Shape::Legacy { org, env, aud_aws } => Shape::Legacy {
                org: change(&org),
                env: change(&env),
                aud_aws,
            },
            Shape::Custom {
                org,
                aud_aws,
                attributes,
            } => Shape::Custom {
                org: change(&org),
                aud_aws,
                attributes: attributes
                    .into_iter()
                    .map(|(a, v)| (a, change(&v)))
                    .collect(),
            },
            Shape::Deploy {
                org,
                project,
                stack,
                operation,
                aud_aws,
            } => Shape::Deploy {
                org: change(&org),
                project: change(&project),
                stack: change(&stack),
                operation: change(&operation),
                aud_aws,
            },
            Shape::Raw => Shape::Raw,
        }
    }

    /// The same shape with `suffix` added to the name that ends its subject (the environment,
    /// stack or last attribute value): a `/` or `:` in the wrong place.
    fn with_suffix(&self, suffix: &str) -> Shape {
        match self.clone() {
            Shape::Named {
                org,
                project,
                env,
                aud_org,
            } => Shape::Named {
                org,
                project,
                env: format!("{env}{suffix}"),
                aud_org,
            },
            Shape::Legacy { org, env, aud_aws } => Shape::Legacy {
                org,
                env: format!("{env}{suffix}"),
                aud_aws,
            },
            Shape::Custom {
                org,
                aud_aws,
                mut attributes,
            } => {
                if let Some((_, value)) = attributes.last_mut() {
                    value.push_str(suffix);
                }
                Shape::Custom {
                    org,
                    aud_aws,
                    attributes,
                }
            }
            Shape::Deploy {
                org,
                project,
                stack,
                operation,
                aud_aws,
            } => Shape::Deploy {
                org,
                project,
                stack: format!("{stack}{suffix}"),
                operation,
                aud_aws,
            },
            Shape::Raw => Shape::Raw,
        }
    }
}

/// Every token of every shape, for one issuer, and their mutations.
fn tokens(issuer: &'static str) -> Vec<TestToken> {
    let mut shapes = Vec::new();
    for org in ORGS {
        for aws in [true, false] {
            for project in PROJECTS {
                for env in ENVS {
                    shapes.push(Shape::Named {
                        org: org.into(),
                        project: project.into(),
                        env: env.into(),
                        aud_org: !aws,
                    });
                }
            }
            for env in ENVS
                .iter()
                .chain(&["devtools/prod", "legacy-a/prod", "<yaml>"])
            {
                shapes.push(Shape::Legacy {
                    org: org.into(),
                    env: env.to_string(),
                    aud_aws: aws,
                });
            }
            for project in PROJECTS {
                for stack in STACKS {
                    for operation in OPERATIONS {
                        shapes.push(Shape::Deploy {
                            org: org.into(),
                            project: project.into(),
                            stack: stack.into(),
                            operation: operation.into(),
                            aud_aws: aws,
                        });
                    }
                }
            }
        }
    }
    // Custom subjects: a few attribute lists, environments of both kinds, users.
    let environments = [
        "platform/prod",
        "platform/dev",
        "shared/prod",
        "devtools/prod",
        "web/dev",
        "legacy",
        "legacy-a",
        "prod",
        "dev",
    ];
    let lists = [
        vec![Attribute::CurrentEnvironment, Attribute::UserLogin],
        vec![Attribute::UserLogin, Attribute::RootEnvironment],
        vec![Attribute::CurrentEnvironment],
        vec![
            Attribute::RootEnvironment,
            Attribute::CurrentEnvironment,
            Attribute::OrganizationLogin,
        ],
    ];
    for org in ["acme", "acme2"] {
        for aws in [true, false] {
            for list in &lists {
                for environment in environments {
                    for user in USERS {
                        let attributes =
                            list.iter()
                                .map(|attribute| {
                                    let value = match attribute {
                                        Attribute::CurrentEnvironment
                                        | Attribute::RootEnvironment => environment,
                                        Attribute::UserLogin => user,
                                        Attribute::OrganizationLogin => org,
                                    };
                                    (*attribute, value.to_owned())
                                })
                                .collect();
                        shapes.push(Shape::Custom {
                            org: org.into(),
                            aud_aws: aws,
                            attributes,
                        });
                    }
                }
            }
        }
    }
    // Mutations of the right org's tokens: case, and a `/` or `:` where the name ends.
    let mutated: Vec<Shape> = shapes
        .iter()
        .filter(|shape| shape.claims().1.contains(":acme:") || shape.claims().1.ends_with(":acme"))
        .step_by(3)
        .flat_map(|shape| {
            [
                shape.map(str::to_uppercase),
                shape.with_suffix("/x"),
                shape.with_suffix(":x"),
            ]
        })
        .collect();
    shapes.extend(mutated);
    let mut tokens: Vec<TestToken> = shapes
        .into_iter()
        .map(Shape::normalized)
        .map(|shape| {
            let (aud, sub) = shape.claims();
            TestToken {
                issuer,
                aud,
                sub,
                shape,
            }
        })
        .collect();
    // Broken claims that no pattern can reach.
    let broken: Vec<TestToken> = tokens
        .iter()
        .step_by(7)
        .flat_map(|t| {
            let mut broken = vec![
                (format!("{} ", t.aud), t.sub.clone()),
                (t.aud.clone(), format!(" {}", t.sub)),
            ];
            if t.sub.ends_with(":scope:write") {
                broken.push((t.aud.clone(), t.sub.replace(":scope:write", ":scope:read")));
            }
            broken.into_iter().map(|(aud, sub)| TestToken {
                issuer,
                aud,
                sub,
                shape: Shape::Raw,
            })
        })
        .collect();
    tokens.extend(broken);
    tokens
}

/// GitHub Actions tokens for the generic issuer.
fn github_tokens() -> Vec<TestToken> {
    let mut tokens = Vec::new();
    for aud in [
        "sts.amazonaws.com",
        "STS.amazonaws.com",
        "acme",
        "sts.amazonaws.com.cn",
        "sts.amazonaws.com ",
        "https://github.com/acme",
    ] {
        for repo in [
            "acme/infra",
            "acme/infra2",
            "acme/infra-x",
            "other/infra",
            "acme/INFRA",
            "acme@1/infra@2",
            "acme/infra/x",
            "xacme/infra",
        ] {
            for suffix in [
                "ref:refs/heads/main",
                "ref:refs/heads/main2",
                "ref:refs/heads/main/x",
                "ref:refs/heads/feature",
                "environment:prod",
                "environment:prod/x",
                "environment:prod:x",
                "environment:",
                "pull_request",
                "ref:refs/tags/v1",
                "job_workflow_ref:acme/infra/.github/workflows/x.yml@refs/heads/main",
            ] {
                for sub in [
                    format!("repo:{repo}:{suffix}"),
                    format!("REPO:{repo}:{suffix}"),
                    format!("repo:{repo}:{suffix} "),
                    format!("x-repo:{repo}:{suffix}"),
                ] {
                    tokens.push(TestToken {
                        issuer: GITHUB,
                        aud: aud.into(),
                        sub,
                        shape: Shape::Raw,
                    });
                }
            }
        }
    }
    // Pulumi-shaped tokens from GitHub's issuer, and GitHub-shaped ones from Pulumi's.
    for token in tokens.clone().into_iter().take(40) {
        tokens.push(TestToken {
            issuer: PULUMI,
            ..token
        });
    }
    tokens
}

/// One set of flags, and what they mean.
struct Scenario {
    name: &'static str,
    issuer: &'static str,
    args: Vec<&'static str>,
    request: Request,
}

fn scenario(name: &'static str, issuer: &'static str, args: &[&'static str]) -> Scenario {
    let mut request = Request {
        issuer: Some(format!("https://{issuer}")),
        ..Request::default()
    };
    let mut rest = args.iter();
    while let (Some(flag), Some(value)) = (rest.next(), rest.next()) {
        let value = value.to_string();
        match *flag {
            "--org" => request.org = Some(value),
            "--env" => request.role.envs.push(value),
            "--deploy" => request.role.deploy.push(value),
            "--deploy-operation" => request.role.deploy_operations.push(
                *Operation::ALL
                    .iter()
                    .find(|op| op.as_str() == value)
                    .unwrap(),
            ),
            "--subject-attribute" => request
                .role
                .subject_attributes
                .push(*Attribute::ALL.iter().find(|a| a.as_str() == value).unwrap()),
            "--root-env" => request.role.root_envs.push(value),
            "--user" => request.role.users.push(value),
            "--audience" => request.role.audiences.push(value),
            "--subject" => request.role.subjects.push(value),
            other => panic!("unknown flag {other}"),
        }
    }
    Scenario {
        name,
        issuer,
        args: args.to_vec(),
        request,
    }
}

fn scenarios() -> Vec<Scenario> {
    vec![
        scenario("default", PULUMI, &["--org", "acme"]),
        scenario(
            "legacy_patterns",
            PULUMI,
            &[
                "--org",
                "acme",
                "--env",
                "platform/prod",
                "--env",
                "dev*",
                "--env",
                "legacy*",
            ],
        ),
        scenario("legacy_all", PULUMI, &["--org", "acme", "--env", "*"]),
        scenario(
            "default_project",
            PULUMI,
            &[
                "--org",
                "acme",
                "--env",
                "*/dev",
                "--env",
                "default/ops",
                "--env",
                "shared/*",
            ],
        ),
        scenario(
            "deployments",
            PULUMI,
            &[
                "--org",
                "acme",
                "--deploy",
                "infra/prod",
                "--deploy",
                "web/*",
                "--deploy-operation",
                "update",
                "--deploy-operation",
                "preview",
            ],
        ),
        scenario(
            "all_shapes",
            PULUMI,
            &[
                "--org",
                "acme",
                "--env",
                "platform/prod",
                "--env",
                "legacy-*",
                "--deploy",
                "infra/*",
            ],
        ),
        scenario(
            "custom_subject",
            PULUMI,
            &[
                "--org",
                "acme",
                "--subject-attribute",
                "currentEnvironment.name",
                "--subject-attribute",
                "pulumi.user.login",
                "--env",
                "platform/*",
                "--env",
                "legacy*",
                "--user",
                "alice",
                "--user",
                "bot-*",
            ],
        ),
        scenario(
            "custom_subject_open",
            PULUMI,
            &[
                "--org",
                "acme",
                "--subject-attribute",
                "currentEnvironment.name",
            ],
        ),
        scenario(
            "custom_subject_root",
            PULUMI,
            &[
                "--org",
                "acme",
                "--subject-attribute",
                "pulumi.user.login",
                "--subject-attribute",
                "rootEnvironment.name",
                "--root-env",
                "shared/*",
                "--user",
                "alice",
            ],
        ),
        scenario(
            "custom_subject_org",
            PULUMI,
            &[
                "--org",
                "acme",
                "--subject-attribute",
                "rootEnvironment.name",
                "--subject-attribute",
                "currentEnvironment.name",
                "--subject-attribute",
                "pulumi.organization.login",
                "--env",
                "prod",
            ],
        ),
        scenario(
            "self_hosted",
            SELF_HOSTED,
            &["--org", "acme", "--env", "platform/prod", "--env", "legacy"],
        ),
        scenario(
            "github",
            GITHUB,
            &[
                "--audience",
                "sts.amazonaws.com",
                "--subject",
                "repo:acme/infra:ref:refs/heads/main",
                "--subject",
                "repo:acme/infra:environment:*",
            ],
        ),
    ]
}

/// Any of `patterns` matches `value`; no patterns means any value.
fn any_like(patterns: &[String], value: &str) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| string_like(p, value))
}

/// The oracle: whether the flags named this token. Stated from the flags and the token's fields,
/// in the words of the README, never from the generated policy.
fn named(scenario: &Scenario, token: &TestToken) -> bool {
    let request = &scenario.request;
    if token.issuer != scenario.issuer {
        return false;
    }
    if !request.role.audiences.is_empty() {
        return request.role.audiences.contains(&token.aud)
            && request
                .role
                .subjects
                .iter()
                .any(|s| string_like(s, &token.sub));
    }
    let org = request.org.as_deref().unwrap();
    let esc = !request.role.envs.is_empty()
        || !request.role.subject_attributes.is_empty()
        || request.role.deploy.is_empty();
    // The environments `--env` names, as (project pattern, env pattern) of named projects and env
    // patterns of the legacy default project.
    let mut named_envs = Vec::new();
    let mut legacy_envs = Vec::new();
    for value in &request.role.envs {
        match value.split_once('/') {
            Some(("default", env)) => legacy_envs.push(env.to_owned()),
            Some((project, env)) => {
                named_envs.push((project.to_owned(), env.to_owned()));
                if string_like(project, "default") {
                    legacy_envs.push(env.to_owned());
                }
            }
            None => legacy_envs.push(value.clone()),
        }
    }
    let every_env = request.role.envs.is_empty();
    let named_env = |project: &str, env: &str| {
        every_env
            || named_envs
                .iter()
                .any(|(p, e)| string_like(p, project) && string_like(e, env))
    };
    let legacy_env = |env: &str| {
        !env.contains('/') && (every_env || legacy_envs.iter().any(|e| string_like(e, env)))
    };
    match &token.shape {
        Shape::Named {
            org: o,
            project,
            env,
            aud_org,
        } => {
            esc && request.role.subject_attributes.is_empty()
                && o == org
                && !aud_org
                && named_env(project, env)
        }
        Shape::Legacy {
            org: o,
            env,
            aud_aws,
        } => {
            esc && request.role.subject_attributes.is_empty()
                && o == org
                && !aud_aws
                && legacy_env(env)
        }
        Shape::Deploy {
            org: o,
            project,
            stack,
            operation,
            aud_aws,
        } => {
            let operations: Vec<&str> = if request.role.deploy_operations.is_empty() {
                Operation::ALL.iter().map(|op| op.as_str()).collect()
            } else {
                request
                    .role
                    .deploy_operations
                    .iter()
                    .map(|op| op.as_str())
                    .collect()
            };
            o == org
                && !aud_aws
                && operations.contains(&operation.as_str())
                && request.role.deploy.iter().any(|value| {
                    let (p, s) = value.split_once('/').unwrap();
                    string_like(p, project) && string_like(s, stack)
                })
        }
        Shape::Custom {
            org: o,
            aud_aws,
            attributes,
        } => {
            let list: Vec<Attribute> = attributes.iter().map(|(a, _)| *a).collect();
            if request.role.subject_attributes.is_empty()
                || list != request.role.subject_attributes
                || o != org
            {
                return false;
            }
            // ESC's values hold no `:`; one that does reads as another attribute list.
            if attributes.iter().any(|(_, value)| value.contains(':')) {
                return false;
            }
            attributes.iter().all(|(attribute, value)| match attribute {
                Attribute::CurrentEnvironment => {
                    // The audience follows the environment's kind.
                    match value.split_once('/') {
                        Some((project, env)) => *aud_aws && named_env(project, env),
                        None => !aud_aws && legacy_env(value),
                    }
                }
                Attribute::RootEnvironment => any_like(&request.role.root_envs, value),
                Attribute::UserLogin => any_like(&request.role.users, value),
                Attribute::OrganizationLogin => value == org,
            })
        }
        Shape::Raw => false,
    }
}

/// The `--issuer`-style URL for a host/path.
fn url(host_path: &str) -> String {
    format!("https://{host_path}")
}

/// The independent evaluator's answers, or `None` (test skipped) when it is not installed.
fn independent(policy: &Value, tokens: &[TestToken]) -> Option<Vec<bool>> {
    let requests: Vec<Value> = tokens
        .iter()
        .map(|t| {
            json!({
                "principal": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{}", t.issuer),
                "context": { format!("{}:aud", t.issuer): t.aud, format!("{}:sub", t.issuer): t.sub },
            })
        })
        .collect();
    let answers = evaluate(policy, "aws", &requests)?;
    assert_eq!(answers.len(), tokens.len());
    Some(answers.iter().map(|a| a == "Allowed").collect())
}

#[test]
fn every_shape_admits_exactly_the_named_tokens_by_three_judges() {
    let mut total = 0;
    for scenario in scenarios() {
        let trust = scenario
            .request
            .trust()
            .unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
        total += judge(&scenario, &trust.trust_policy(Some(ACCOUNT)));
    }
    eprintln!("{total} tokens evaluated");
}

/// The roles of a spec file (`--config`), each read from the CloudFormation member template with
/// the account's provider ARN, admit exactly what the same flags admit.
#[test]
fn every_role_of_a_spec_admits_exactly_its_named_tokens() {
    let chosen: Vec<Scenario> = scenarios()
        .into_iter()
        .filter(|s| {
            s.issuer == PULUMI
                && !(s.request.role.envs.is_empty() && s.request.role.deploy.is_empty())
        })
        .collect();
    assert!(chosen.len() >= 5, "{} scenarios", chosen.len());
    let roles: Vec<Value> = chosen
        .iter()
        .map(|scenario| {
            let mut role = json!({ "name": scenario.name.replace('_', "-") });
            let mut rest = scenario.args.iter();
            while let (Some(flag), Some(value)) = (rest.next(), rest.next()) {
                let field = match *flag {
                    "--org" => continue,
                    "--env" => "envs",
                    "--deploy" => "deploy",
                    "--deploy-operation" => "deploy_operations",
                    "--subject-attribute" => "subject_attributes",
                    "--root-env" => "root_envs",
                    "--user" => "users",
                    other => panic!("{}: no field for {other}", scenario.name),
                };
                let values = role[field].as_array().cloned().unwrap_or_default();
                role[field] = [values, vec![json!(value)]].concat().into();
            }
            role
        })
        .collect();
    let spec = serde_yaml::to_string(&json!({
        "org": "acme",
        "thumbprint": "none",
        "roles": roles,
        "accounts": [{ "id": ACCOUNT, "name": "test" }],
    }))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("oidc-gen.yaml"), &spec).unwrap();
    let output = oidc_gen(
        dir.path(),
        &[
            "--config",
            "oidc-gen.yaml",
            "--format",
            "cloudformation",
            "--out",
            "out",
        ],
    );
    assert!(output.status.success(), "{}\n{spec}", text(&output).1);
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/cloudformation/template.json")).unwrap(),
    )
    .unwrap();
    let mut total = 0;
    for scenario in &chosen {
        let name = scenario.name.replace('_', "-");
        let role = template["Resources"]
            .as_object()
            .unwrap()
            .values()
            .find(|r| r["Properties"]["RoleName"] == name.as_str())
            .unwrap_or_else(|| panic!("no role {name}"));
        let mut policy = role["Properties"]["AssumeRolePolicyDocument"].clone();
        for statement in policy["Statement"].as_array_mut().unwrap() {
            assert_eq!(
                statement["Principal"]["Federated"]["Fn::If"][0], "CreateOidcProvider",
                "{name}"
            );
            statement["Principal"]["Federated"] =
                format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{PULUMI}").into();
        }
        total += judge(scenario, &policy);
    }
    eprintln!(
        "{} roles of one spec, {total} tokens evaluated",
        chosen.len()
    );
}

/// Evaluates the scenario's tokens against `policy` three ways and checks they agree with the
/// oracle; returns how many tokens were evaluated.
fn judge(scenario: &Scenario, policy: &Value) -> usize {
    let tokens = if scenario.issuer == GITHUB {
        let mut tokens = github_tokens();
        tokens.extend(tokens_sample(PULUMI));
        tokens
    } else {
        let mut tokens = tokens(scenario.issuer);
        let other = if scenario.issuer == PULUMI {
            SELF_HOSTED
        } else {
            PULUMI
        };
        tokens.extend(tokens_sample(other));
        tokens
    };
    let ours: Vec<bool> = tokens
        .iter()
        .map(|t| {
            let token = Token {
                iss: None,
                aud: t.aud.clone(),
                sub: t.sub.clone(),
                claims: Default::default(),
            };
            simulate::evaluate(policy, t.issuer, &token)
                .unwrap()
                .allowed()
        })
        .collect();
    let oracle: Vec<bool> = tokens.iter().map(|t| named(scenario, t)).collect();
    for (i, token) in tokens.iter().enumerate() {
        assert_eq!(
            ours[i],
            oracle[i],
            "{}: oidc-gen simulate says {} but the flags {} name this token {token:?}\npolicy: {policy:#}",
            scenario.name,
            if ours[i] { "ALLOW" } else { "DENY" },
            if oracle[i] { "do" } else { "do not" },
        );
    }
    let admitted = oracle.iter().filter(|a| **a).count();
    assert!(admitted > 0, "{}: no token is admitted", scenario.name);
    assert!(
        admitted < tokens.len() / 2,
        "{}: most tokens are admitted",
        scenario.name
    );
    if let Some(theirs) = independent(policy, &tokens) {
        for (i, token) in tokens.iter().enumerate() {
            assert_eq!(
                theirs[i], ours[i],
                "{}: the independent evaluator disagrees on {token:?}\npolicy: {policy:#}",
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
            claims: Vec::new(),
        })
        .collect();
    let issuer = format!("https://{}", scenario.issuer);
    let args = [&["--issuer", issuer.as_str()][..], &scenario.args].concat();
    let dir = tempfile::tempdir().unwrap();
    clouds::agree(
        dir.path(),
        &args,
        policy,
        &cloud_tokens,
        &oracle,
        scenario.name,
    );
    eprintln!(
        "{}: {} tokens, {admitted} admitted",
        scenario.name,
        tokens.len()
    );
    assert!(
        tokens.len() >= 2000,
        "{}: {} tokens",
        scenario.name,
        tokens.len()
    );
    tokens.len()
}

/// A slice of another issuer's tokens: right claims, wrong provider.
fn tokens_sample(issuer: &'static str) -> Vec<TestToken> {
    tokens(issuer).into_iter().step_by(25).collect()
}

/// The control requests: another provider, or another action, never get in.
#[test]
fn the_independent_evaluator_refuses_other_principals_and_actions() {
    let context = json!({
        "api.pulumi.com/oidc:aud": "aws:acme",
        "api.pulumi.com/oidc:sub": "pulumi:environments:org:acme:env:platform/prod",
    });
    for partition in Partition::ALL {
        let mut request = scenarios().remove(0).request;
        request.partition = partition;
        let policy = request.trust().unwrap().trust_policy(Some(ACCOUNT));
        let name = partition.as_str();
        let provider = format!("arn:{name}:iam::{ACCOUNT}:oidc-provider/{PULUMI}");
        let other_partition = if partition == Partition::Aws {
            "aws-cn"
        } else {
            "aws"
        };
        let requests = [
            json!({ "principal": provider, "context": context }),
            json!({ "principal": format!("arn:{name}:iam::{ACCOUNT}:oidc-provider/other.example/oidc"), "context": context }),
            json!({ "principal": provider, "action": "sts:AssumeRole", "context": context }),
            json!({ "principal": format!("arn:{other_partition}:iam::{ACCOUNT}:oidc-provider/{PULUMI}"), "context": context }),
        ];
        let Some(answers) = evaluate(&policy, name, &requests) else {
            return;
        };
        assert_eq!(
            answers,
            [
                "Allowed",
                "ImplicitlyDenied",
                "ImplicitlyDenied",
                "ImplicitlyDenied"
            ],
            "{name}"
        );
    }
}

/// The binary agrees with the library on a sample of every scenario: exit 0 for ALLOW, 1 for DENY.
#[test]
fn the_binary_answers_like_the_oracle() {
    let dir = tempfile::tempdir().unwrap();
    for scenario in scenarios() {
        let tokens = if scenario.issuer == GITHUB {
            github_tokens()
        } else {
            tokens(scenario.issuer)
        };
        // Every admitted token among the first ones, and a spread of the rest.
        let admitted = tokens.iter().filter(|t| named(&scenario, t)).take(4);
        let spread = tokens.iter().step_by(tokens.len() / 8 + 1);
        for token in admitted.chain(spread) {
            let mut args = vec!["simulate", "--issuer"];
            let issuer = url(scenario.issuer);
            args.push(&issuer);
            args.extend(scenario.args.iter().copied());
            args.extend(["--aud", &token.aud, "--sub", &token.sub]);
            let output = oidc_gen(dir.path(), &args);
            let (stdout, stderr) = text(&output);
            let expected = if named(&scenario, token) { 0 } else { 1 };
            assert_eq!(
                output.status.code(),
                Some(expected),
                "{}: {token:?}\n{stdout}{stderr}",
                scenario.name
            );
            assert!(
                stdout.starts_with(if expected == 0 { "ALLOW" } else { "DENY" }),
                "{stdout}"
            );
        }
    }
}
