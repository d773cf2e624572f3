//! GitHub Actions, on github.com and GitHub Enterprise Cloud.


use std::sync::Arc;

use super::family::{Family, words};
use super::{Ci, Claims, ConsumerFile, Given, Listed, Preset, Workloads};
use crate::error::{Error, Result};
use crate::escape::Language;
use crate::issuer::Issuer;
use crate::policy::{self, Statement, dedup};

/// GitHub Actions' issuer.
pub const PRESET: Preset = Preset {
    id: "github",
    name: "GitHub Actions",
    issuers: &[
        "https://token.actions.githubusercontent.com",
        "https://token.actions.githubusercontent.com/<enterprise>",
        "https://token.actions.<subdomain>.ghe.com",
    ],
    matches: |issuer| {
        let url = issuer.host_path();
        let enterprise = url
            .strip_prefix("token.actions.githubusercontent.com/")
            .is_some_and(|name| !name.is_empty() && !name.contains('/'));
        let ghe = url.starts_with("token.actions.") && url.ends_with(".ghe.com") && !url.contains('/');
        url == "token.actions.githubusercontent.com" || enterprise || ghe
    },
    audience: "sts.amazonaws.com (configure-aws-credentials' default)",
    subject: "repo:<owner>/<repo>:ref:<full ref> | :environment:<name> (when the job names one) | \
              :pull_request; repositories created, renamed or transferred on github.com since \
              2026-07-15: repo:<owner>@<owner id>/<repo>@<repo id>:...",
    subject_fields: &["repo", "context"],
    escaping: "':' inside a value is written %3A",
    mapped_claims: &[
        "actor",
        "actor_id",
        "enterprise_id",
        "environment",
        "job_workflow_ref",
        "ref",
        "repository",
        "repository_id",
        "repository_owner_id",
        "workflow",
    ],
    required_claim: Some("sub (or job_workflow_ref)"),
    owner_fields: &[("repo:", '/')],
    custom_subjects: true,
    owner_claims: &["repository_owner_id", "repository_id", "repository"],
    repository_end: Some(':'),
    audience_names_owner: false,
    cloud_audience: |_, _| None,
    consumer: "a workflow job with permissions: id-token: write that runs \
               aws-actions/configure-aws-credentials with role-to-assume and audience",
    example_audience: "sts.amazonaws.com",
    example_subject: "repo:OWNER/REPO:ref:refs/heads/main",
    explain,
    role_name: "github-actions-oidc",
    self_hosted: false,
    consumer_file: Some(ConsumerFile {
        format: "github",
        description: "A GitHub Actions workflow whose job assumes the role: github/workflow.yml \
                      (needs --github and --account-id)",
        language: Language::Yaml,
    }),
};

/// The issuer of github.com's tokens.
pub const ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The audience configure-aws-credentials asks for, and the role admits.
pub const AUDIENCE: &str = "sts.amazonaws.com";
/// The action the generated workflow assumes the role with (its pin is in [`crate::pins`]).
pub const CONFIGURE_AWS_CREDENTIALS: &str = "aws-actions/configure-aws-credentials";

const HEADING: &str = "Who may assume the role: GitHub Actions";

/// GitHub Actions' workloads as given: the `--github*` flags, and a spec role's `github:` field.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args, serde::Deserialize)]
#[group(id = "github", multiple = true)]
#[serde(deny_unknown_fields, default)]
pub struct Request {
    /// A GitHub repository whose workflows may assume the role, as OWNER/REPO; OWNER/* for every
    /// repository of the owner. OWNER@OWNER_ID/REPO@REPO_ID admits the immutable subject GitHub
    /// gives repositories created, renamed or transferred since 2026-07-15 and requires both IDs,
    /// so a repository deleted and re-created under the same name is refused; give both forms
    /// to migrate. Repeatable. Issuer: https://token.actions.githubusercontent.com unless --issuer
    /// names a GitHub Enterprise Cloud one.
    #[arg(id = "github_repos", long = "github", value_name = "OWNER/REPO", help_heading = HEADING)]
    pub repos: Vec<String>,

    /// Admit workflow runs on this full ref: refs/heads/main, refs/tags/v* ('*' matches any
    /// characters). Repeatable. A job that names an environment carries the environment in its
    /// subject instead of the ref: use --github-environment for it.
    #[arg(id = "github_refs", long = "github-ref", value_name = "REF", help_heading = HEADING)]
    pub refs: Vec<String>,

    /// Admit jobs that name this deployment environment (GitHub then puts environment:NAME in the
    /// subject, not the ref). Repeatable.
    #[arg(id = "github_environments", long = "github-environment", value_name = "NAME", help_heading = HEADING)]
    pub environments: Vec<String>,

    /// Admit workflow runs of pull_request events (subject ...:pull_request, whatever the branch).
    #[arg(id = "github_pull_request", long = "github-pull-request", help_heading = HEADING)]
    pub pull_request: bool,

    /// Admit only jobs of this reusable workflow, as OWNER/REPO/.github/workflows/FILE@REF (the
    /// job_workflow_ref claim, which AWS maps to a condition key); ANDed with the repositories.
    /// Repeatable.
    #[arg(id = "github_workflows", long = "github-workflow", value_name = "OWNER/REPO/PATH@REF", help_heading = HEADING)]
    pub workflows: Vec<String>,

    /// The repository uses a custom subject template: these claims, in order (its
    /// include_claim_keys, e.g. repo, context, job_workflow_ref). The role admits the subject
    /// GitHub builds from them (values from the flags above; any value for other claims), and the
    /// workflow file says how to set the template on GitHub, and in which order. Repeatable.
    #[arg(id = "github_subject_claims", long = "github-subject-claim", value_name = "CLAIM", help_heading = HEADING)]
    pub subject_claims: Vec<String>,

    /// With --github-subject-claim: also admit the default subject, for the switch (widen the
    /// trust, change GitHub's template, then generate again without this flag).
    #[arg(id = "github_default_subject", long = "github-default-subject", requires = "github_subject_claims", help_heading = HEADING)]
    pub default_subject: bool,
}

/// GitHub Actions' workloads the role admits, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Github {
    /// The repositories, one entry per repository however many forms name it.
    pub repositories: Vec<Repository>,
    /// The contexts admitted; empty for every context.
    pub contexts: Vec<Context>,
    /// Reusable workflows (`job_workflow_ref` values) the job must run; empty for any.
    pub workflows: Vec<String>,
    /// A custom subject template's claims, in order; empty for the default subject.
    pub subject_claims: Vec<String>,
    /// With a custom template, whether the default subject is admitted too.
    pub default_subject: bool,
}

/// One repository (or every repository of an owner) and the subject forms that name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// The owner's login.
    pub owner: String,
    /// The repository's name, or `*` for every repository of the owner.
    pub name: String,
    /// The owner's and the repository's numeric IDs, when given; the repository's is absent for `*`.
    pub ids: Option<(String, Option<String>)>,
    /// Whether the subject may name it as `OWNER/REPO`.
    pub by_name: bool,
    /// Whether the subject may name it as `OWNER@ID/REPO@ID`.
    pub by_id: bool,
}

/// What follows the repository in the subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Context {
    /// `ref:<full ref>`.
    Ref(String),
    /// `environment:<name>`, `:` written `%3A`.
    Environment(String),
    /// `pull_request`.
    PullRequest,
}

impl Context {
    fn subject(&self) -> String {
        match self {
            Context::Ref(reference) => format!("ref:{reference}"),
            Context::Environment(name) => format!("environment:{}", name.replace(':', "%3A")),
            Context::PullRequest => "pull_request".into(),
        }
    }
}

impl Repository {
    /// The repository part of the subject in each admitted form.
    fn subject_forms(&self) -> Vec<String> {
        let mut forms = Vec::new();
        if self.by_name {
            forms.push(format!("repo:{}/{}", self.owner, self.name));
        }
        if let (true, Some((owner_id, repo_id))) = (self.by_id, &self.ids) {
            let name = match repo_id {
                Some(id) => format!("{}@{id}", self.name),
                None => self.name.clone(),
            };
            forms.push(format!("repo:{}@{owner_id}/{name}", self.owner));
        }
        forms
    }

    /// `OWNER/REPO`, as written on the command line in each form.
    pub fn given(&self) -> Vec<String> {
        self.subject_forms()
            .into_iter()
            .map(|form| form.trim_start_matches("repo:").to_owned())
            .collect()
    }

    /// A statement id made of the names: letters and digits only, as IAM requires.
    fn sid(&self) -> String {
        let name = if self.name == "*" {
            "AllRepositories".to_owned()
        } else {
            words(&self.name)
        };
        format!("GitHub{}{name}", words(&self.owner))
    }
}

impl Given for Request {
    fn default_issuer(&self) -> String {
        ISSUER.into()
    }

    fn validate(&self, issuer: &Issuer, notes: &mut Vec<String>) -> Result<Ci> {
        super::check_issuer(&PRESET, issuer)?;
        Ok(Ci(Arc::new(self.check(notes)?)))
    }
}

impl Request {
    /// Checks the values; `notes` gets what the user should know about how they were read.
    fn check(&self, notes: &mut Vec<String>) -> Result<Github> {
        if self.repos.is_empty() {
            return Err(Error::Usage(
                "--github OWNER/REPO names the repositories whose workflows may assume the role; the other \
                 --github-* flags narrow it"
                    .into(),
            ));
        }
        let mut repositories: Vec<Repository> = Vec::new();
        for value in &self.repos {
            let parsed = parse_repository(value)?;
            if parsed.name == "*" {
                notes.push(format!(
                    "--github {value} admits every repository of {}, present and future",
                    parsed.owner
                ));
            }
            let same = repositories.iter_mut().find(|r| {
                r.owner.eq_ignore_ascii_case(&parsed.owner) && r.name.eq_ignore_ascii_case(&parsed.name)
            });
            match same {
                None => repositories.push(parsed),
                Some(known) => {
                    if let (Some(a), Some(b)) = (&known.ids, &parsed.ids) {
                        if a != b {
                            return Err(Error::invalid(
                                "github.repos",
                                value,
                                format!(
                                    "another --github names {}/{} with other IDs; a repository has one owner ID \
                                     and one repository ID (gh api repos/OWNER/REPO --jq '.owner.id, .id')",
                                    known.owner, known.name
                                ),
                            ));
                        }
                    }
                    known.by_name |= parsed.by_name;
                    known.by_id |= parsed.by_id;
                    known.ids = known.ids.clone().or(parsed.ids);
                }
            }
        }
        let mut contexts = Vec::new();
        for reference in &self.refs {
            validate_ref("github.refs", reference)?;
            contexts.push(Context::Ref(reference.clone()));
        }
        for name in &self.environments {
            if name.is_empty() || name.chars().count() > 255 || name.chars().any(char::is_control) {
                return Err(Error::invalid(
                    "github.environments",
                    name,
                    "an environment name is 1-255 characters without control characters",
                ));
            }
            if name.contains("${{") {
                return Err(Error::invalid(
                    "github.environments",
                    name,
                    "GitHub evaluates ${{ ... }} in a workflow's environment as an expression, so the job could never \
                     name this environment as written: rename the environment",
                ));
            }
            contexts.push(Context::Environment(name.clone()));
        }
        if self.pull_request {
            contexts.push(Context::PullRequest);
        }
        contexts.dedup();
        if contexts.is_empty() {
            let names: Vec<String> = repositories.iter().flat_map(Repository::given).collect();
            notes.push(format!(
                "the role admits every workflow run of {} (any branch, tag, environment or pull request); narrow it \
                 with --github-ref, --github-environment or --github-pull-request",
                names.join(", ")
            ));
        }
        for workflow in &self.workflows {
            validate_workflow(workflow)?;
        }
        validate_subject_claims(&self.subject_claims, notes)?;
        Ok(Github {
            repositories,
            contexts,
            workflows: dedup(self.workflows.clone()),
            subject_claims: self.subject_claims.clone(),
            default_subject: self.default_subject,
        })
    }
}

impl Workloads for Github {
    fn preset(&self) -> &'static Preset {
        &PRESET
    }

    fn statements(&self, issuer: &Issuer) -> (Vec<Statement>, Vec<String>) {
        statements(issuer, self)
    }

    fn default_issuer(&self) -> String {
        ISSUER.into()
    }

    fn consumer(&self, role_arn: &str) -> serde_json::Value {
        serde_json::to_value(self.job(role_arn.to_owned(), DEFAULT_REGION))
            .expect("a job serializes")
    }

    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for given in self.repositories.iter().flat_map(Repository::given) {
            args.extend(["--github".to_owned(), given]);
        }
        for context in &self.contexts {
            match context {
                Context::Ref(reference) => args.extend(["--github-ref".to_owned(), reference.clone()]),
                Context::Environment(name) => {
                    args.extend(["--github-environment".to_owned(), name.clone()])
                }
                Context::PullRequest => args.push("--github-pull-request".to_owned()),
            }
        }
        for workflow in &self.workflows {
            args.extend(["--github-workflow".to_owned(), workflow.clone()]);
        }
        for claim in &self.subject_claims {
            args.extend(["--github-subject-claim".to_owned(), claim.clone()]);
        }
        if self.default_subject {
            args.push("--github-default-subject".to_owned());
        }
        args
    }
}

/// The region configure-aws-credentials sets (the role is global; later steps may change it).
const DEFAULT_REGION: &str = "us-east-1";

/// What the generated workflow needs: the job that assumes the role, and when it runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Job {
    /// The role's ARN.
    pub role_arn: String,
    /// The audience the token is asked for.
    pub audience: &'static str,
    /// The region configure-aws-credentials sets.
    pub region: &'static str,
    /// The action, pinned to a commit, and the version that commit is.
    pub action: String,
    /// The version of the pinned action.
    pub action_version: &'static str,
    /// The repositories whose workflows may use the role, as given.
    pub repositories: Vec<String>,
    /// Branch filters for `on: push` (GitHub's globs); empty with `tags` empty: every push.
    pub branches: Vec<String>,
    /// Tag filters for `on: push`.
    pub tags: Vec<String>,
    /// Whether pull requests run it.
    pub pull_request: bool,
    /// The environment the job names, when the role admits one by name.
    pub environment: Option<String>,
    /// The reusable workflows the role requires, which the steps belong in.
    pub workflows: Vec<String>,
    /// A custom subject template's claims, in order; empty for the default subject.
    pub subject_claims: Vec<String>,
    /// The template as GitHub's API takes it.
    pub template: String,
    /// Whether the role still admits the default subject (the switch is under way).
    pub default_subject: bool,
}

impl Github {
    /// The job that assumes the role `role_arn` under the conditions the role sets. IAM's `*`
    /// matches `/`; in GitHub's filters `**` does.
    pub fn job(&self, role_arn: String, region: &'static str) -> Job {
        // `+` repeats and a leading `!` negates in a filter: written `\+` and `\!` they are themselves.
        let filter = |pattern: &str| {
            let pattern = pattern.replace('+', "\\+").replace('*', "**").replace('?', "*");
            match pattern.strip_prefix('!') {
                Some(rest) => format!("\\!{rest}"),
                None => pattern,
            }
        };
        let refs = |prefix: &str| -> Vec<String> {
            self.contexts
                .iter()
                .filter_map(|c| match c {
                    Context::Ref(r) => r.strip_prefix(prefix).map(filter),
                    _ => None,
                })
                .collect()
        };
        let environment = self.contexts.iter().find_map(|c| match c {
            Context::Environment(name) if !policy::is_pattern(name) => Some(name.clone()),
            _ => None,
        });
        Job {
            role_arn,
            audience: AUDIENCE,
            region,
            action: crate::pins::pin(CONFIGURE_AWS_CREDENTIALS).uses(),
            action_version: crate::pins::pin(CONFIGURE_AWS_CREDENTIALS).tag,
            repositories: self
                .repositories
                .iter()
                .map(|r| format!("{}/{}", r.owner, r.name))
                .collect(),
            branches: refs("refs/heads/"),
            tags: refs("refs/tags/"),
            pull_request: self.contexts.contains(&Context::PullRequest),
            environment,
            workflows: self.workflows.clone(),
            subject_claims: self.subject_claims.clone(),
            template: serde_json::json!({
                "use_default": false,
                "include_claim_keys": self.subject_claims,
            })
            .to_string(),
            default_subject: self.default_subject,
        }
    }
}

/// The claims of a custom subject template: names of claims, once each, `repo` among them (the
/// subject must name the repository), `context` standing for the ref, environment or pull request.
fn validate_subject_claims(claims: &[String], notes: &mut Vec<String>) -> Result<()> {
    if claims.is_empty() {
        return Ok(());
    }
    for (index, claim) in claims.iter().enumerate() {
        let name_ok = !claim.is_empty()
            && claim.len() <= 64
            && claim.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !name_ok {
            return Err(Error::invalid(
                "github.subject_claims",
                claim,
                "a claim of GitHub's token, as include_claim_keys names it (repo, context, job_workflow_ref, actor, ...)",
            ));
        }
        if claims[..index].contains(claim) {
            return Err(Error::invalid(
                "github.subject_claims",
                claim,
                "it is given twice; a template lists each claim once",
            ));
        }
    }
    if !claims.iter().any(|c| c == "repo") {
        return Err(Error::Usage(
            "--github-subject-claim must include repo: without it the subject does not name the repository, and \
             the role would admit any repository's tokens that match the rest"
                .into(),
        ));
    }
    let bound = ["repo", "context", "job_workflow_ref"];
    let open: Vec<&str> = claims
        .iter()
        .map(String::as_str)
        .filter(|c| !bound.contains(c))
        .collect();
    if !open.is_empty() {
        notes.push(format!(
            "the custom subject's {} admit any value (no flag sets them)",
            open.join(", ")
        ));
    }
    Ok(())
}

/// `OWNER/REPO`, `OWNER/*`, `OWNER@ID/REPO@ID` or `OWNER@ID/*`.
fn parse_repository(value: &str) -> Result<Repository> {
    let invalid = |hint: &str| Error::invalid("github.repos", value, hint.to_owned());
    if value.chars().all(|c| matches!(c, '*' | '?' | '/')) {
        return Err(invalid(
            "it admits every repository on GitHub, anyone's; name the owner: OWNER/REPO, or OWNER/* for all of \
             one owner's repositories",
        ));
    }
    let Some((owner, repo)) = value.split_once('/') else {
        return Err(invalid(
            "write the repository as OWNER/REPO (or OWNER/* for all of an owner's)",
        ));
    };
    let split_id = |part: &str| -> Result<(String, Option<String>)> {
        match part.split_once('@') {
            None => Ok((part.to_owned(), None)),
            Some((name, id)) if !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()) => {
                Ok((name.to_owned(), Some(id.to_owned())))
            }
            Some(_) => Err(invalid(
                "an ID after '@' is the owner's or repository's number (gh api repos/OWNER/REPO --jq '.owner.id, .id')",
            )),
        }
    };
    let (owner, owner_id) = split_id(owner)?;
    let (name, repo_id) = split_id(repo)?;
    let owner_ok = (1..=39).contains(&owner.len())
        && owner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !owner_ok {
        return Err(invalid(
            "the owner is a GitHub login: 1-39 letters, digits, '-' or '_', no wildcard",
        ));
    }
    let name_ok = name == "*"
        || ((1..=100).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')));
    if !name_ok {
        return Err(invalid(
            "the repository is a name of letters, digits, '-', '_' or '.', or * alone for every repository of the \
             owner; a partial wildcard (app*) would also admit other repositories (app-evil)",
        ));
    }
    let ids = match (owner_id, repo_id, name == "*") {
        (None, None, _) => None,
        (Some(owner_id), None, true) => Some((owner_id, None)),
        (Some(owner_id), Some(repo_id), false) => Some((owner_id, Some(repo_id))),
        (_, Some(_), true) => {
            return Err(invalid("OWNER@ID/* takes no repository ID"));
        }
        _ => {
            return Err(invalid(
                "the immutable subject carries both IDs: write OWNER@OWNER_ID/REPO@REPO_ID (gh api \
                 repos/OWNER/REPO --jq '.owner.id, .id' prints them)",
            ));
        }
    };
    let by_id = ids.is_some();
    Ok(Repository {
        owner,
        name,
        ids,
        by_name: !by_id,
        by_id,
    })
}

/// A full git ref: `refs/heads/...`, `refs/tags/...`, `refs/pull/...`; `*` and `?` allowed.
fn validate_ref(what: &'static str, value: &str) -> Result<()> {
    if !value.starts_with("refs/") {
        return Err(Error::invalid(
            what,
            value,
            format!(
                "write the full ref, as the token carries it: refs/heads/{value} for a branch, refs/tags/{value} \
                 for a tag"
            ),
        ));
    }
    if let Some(rule) = super::git::broken_rule(value, true) {
        return Err(Error::invalid(what, value, rule));
    }
    if value.contains("${{") {
        return Err(Error::invalid(
            what,
            value,
            "GitHub reads ${{ in a workflow as the start of an expression, so the workflow oidc-gen writes could \
             not name this ref: rename the branch or tag",
        ));
    }
    Ok(())
}

/// `OWNER/REPO/.github/workflows/FILE@REF`, as `job_workflow_ref` holds it.
fn validate_workflow(value: &str) -> Result<()> {
    let invalid = |hint: &str| Error::invalid("github.workflows", value, hint.to_owned());
    let Some((path, reference)) = value.split_once('@') else {
        return Err(invalid(
            "write it as job_workflow_ref holds it: OWNER/REPO/.github/workflows/FILE.yml@refs/heads/main",
        ));
    };
    let mut parts = path.splitn(3, '/');
    let (owner, repo, file) = (parts.next(), parts.next(), parts.next());
    let literal = |s: &str| !s.is_empty() && !policy::is_pattern(s) && !s.contains(':');
    let path_ok = owner.is_some_and(literal)
        && repo.is_some_and(literal)
        && file.is_some_and(|f| {
            literal(f) && f.starts_with(".github/workflows/") && (f.ends_with(".yml") || f.ends_with(".yaml"))
        });
    if !path_ok {
        return Err(invalid(
            "the workflow is OWNER/REPO/.github/workflows/FILE.yml, without wildcards, then @ and the ref",
        ));
    }
    let is_sha = reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_sha {
        validate_ref("github.workflows", reference)?;
    }
    Ok(())
}

/// The statements admitting `github`'s workloads on `issuer`, and the provider's client IDs: one
/// statement per repository, whose ID conditions (when known) hold for every form of its subject.
/// Where a subject is a pattern in the middle (`OWNER/*`, `refs/tags/v*`), a `StringNotLike`
/// refuses subjects with more fields than the form has, so the `*` cannot reach across a field
/// (a custom subject template, or an environment named `pull_request`); forms with different
/// numbers of fields then get a statement each.
fn statements(issuer: &Issuer, github: &Github) -> (Vec<Statement>, Vec<String>) {
    let mut statements = Vec::new();
    let contexts: Vec<String> = match github.contexts.is_empty() {
        true => vec!["*".into()],
        false => github.contexts.iter().map(Context::subject).collect(),
    };
    let workflows: Vec<String> = match github.workflows.is_empty() {
        true => vec!["*".into()],
        false => github.workflows.clone(),
    };
    for repository in &github.repositories {
        let mut claims = Vec::new();
        if let Some((owner_id, repo_id)) = &repository.ids {
            claims.push(("repository_owner_id", vec![owner_id.clone()]));
            if let Some(repo_id) = repo_id {
                claims.push(("repository_id", vec![repo_id.clone()]));
            }
        }
        if !github.workflows.is_empty() {
            claims.push(("job_workflow_ref", github.workflows.clone()));
        }
        let forms = repository.subject_forms();
        if github.subject_claims.is_empty() || github.default_subject {
            Family {
                sid: repository.sid(),
                audiences: vec![AUDIENCE.into()],
                subjects: forms
                    .iter()
                    .flat_map(|form| contexts.iter().map(move |context| format!("{form}:{context}")))
                    .collect(),
                claims: claims.clone(),
                separator: ':',
                guard: !github.contexts.is_empty(),
                part_name: |separators| match separators {
                    2 => "PullRequest".into(),
                    _ => String::new(),
                },
            }
            .write(issuer, &mut statements);
        }
        if github.subject_claims.is_empty() {
            continue;
        }
        // The custom template: each claim in order, `context` in its own form, others as
        // `claim:value`; every field is bounded, so the guard holds every `*` inside its field.
        let mut subjects: Vec<String> = vec![String::new()];
        for claim in &github.subject_claims {
            let parts: Vec<String> = match claim.as_str() {
                "repo" => forms.clone(),
                "context" => contexts.clone(),
                "job_workflow_ref" => workflows.iter().map(|w| format!("job_workflow_ref:{w}")).collect(),
                other => vec![format!("{other}:*")],
            };
            subjects = subjects
                .iter()
                .flat_map(|prefix| {
                    parts.iter().map(move |part| match prefix.is_empty() {
                        true => part.clone(),
                        false => format!("{prefix}:{part}"),
                    })
                })
                .collect();
        }
        Family {
            sid: format!("{}Custom", repository.sid()),
            audiences: vec![AUDIENCE.into()],
            subjects,
            claims,
            separator: ':',
            guard: true,
            part_name: |separators| format!("Fields{separators}"),
        }
        .write(issuer, &mut statements);
    }
    (statements, vec![AUDIENCE.to_owned()])
}

/// Why a token of GitHub's may not be what the role expects, in GitHub's terms: `sub` is the
/// token's, `listed` the subjects the policy tests.
pub fn explain(claims: &Claims, listed: &Listed) -> Vec<String> {
    let mut reasons = Vec::new();
    let sub = claims.get("sub").map_or("", String::as_str);
    let none = Vec::new();
    let ids = |claim: &str| listed.get(claim).unwrap_or(&none);
    for (claim, what) in [("repository_id", "repository"), ("repository_owner_id", "owner")] {
        if let Some(id) = claims.get(claim).filter(|id| !ids(claim).is_empty() && !ids(claim).contains(id)) {
            reasons.push(format!(
                "the {what}'s ID is {id}, not the {} the role names: a {what} deleted and re-created (or another \
                 one given the same name) gets a new ID, which is what the ID condition refuses",
                ids(claim).join(" or ")
            ));
        }
    }
    let listed = listed.get("sub").unwrap_or(&none);
    let Some(rest) = sub.strip_prefix("repo:") else {
        return reasons;
    };
    let (repo, context) = match rest.split_once(':') {
        Some((repo, context)) => (repo, context),
        None => (rest, ""),
    };
    if let Some(environment) = context.strip_prefix("environment:") {
        reasons.push(format!(
            "this job names the environment {environment:?}, so GitHub put environment:{environment} in sub, not the \
             ref: admit it with --github-environment {environment}"
        ));
    }
    if context == "pull_request" {
        reasons.push(
            "this run is for a pull_request event, so GitHub put pull_request in sub whatever the branch: admit it \
             with --github-pull-request"
                .into(),
        );
    }
    let immutable = |r: &str| r.split('/').all(|part| part.contains('@'));
    let plain = |r: &str| -> String {
        r.split('/')
            .map(|part| part.split('@').next().unwrap_or(part))
            .collect::<Vec<_>>()
            .join("/")
    };
    let lists = |form: &str| listed.iter().any(|s| s.starts_with(&format!("repo:{form}:")));
    if immutable(repo) && !lists(repo) && lists(&plain(repo)) {
        reasons.push(format!(
            "the sub has the immutable form repo:{repo} (repositories created, renamed or transferred since \
             2026-07-15, or opted in); the role lists the old form repo:{}: add --github {repo}",
            plain(repo)
        ));
    }
    let owner = repo.split('/').next().unwrap_or_default();
    let lists_ids = listed.iter().any(|s| s.starts_with(&format!("repo:{owner}@")));
    if !immutable(repo) && !lists(repo) && lists_ids {
        reasons.push(format!(
            "the sub has the old form repo:{repo}; the role lists the immutable one (OWNER@ID/REPO@ID): add --github \
             {repo} while the repository still sends the old form"
        ));
    }
    reasons
}
