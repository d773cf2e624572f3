//! Property-based tests for every user value that reaches a template: for thousands of generated
//! values, either validation rejects it (exit code 2, nothing rendered), or every rendered file
//! parses with its language's real parser, the parsed value equals the input exactly, and no
//! interpolation or template sequence survives.

mod common;

use std::collections::BTreeSet;

use common::artifacts::{self, Provider};
use common::{THUMBPRINT, oidc_gen, text};
use oidc_gen::Selection;
use oidc_gen::claims::Attribute;
use oidc_gen::plan::Plan;
use oidc_gen::render::{Format, Overrides, Renderer};
use oidc_gen::request::{self, Request, ThumbprintChoice};
use oidc_gen::role::RoleFields;
use proptest::prelude::*;

/// Generated values per field; `PROPTEST_CASES` overrides it.
const CASES: u32 = 600;

/// A value that is not a valid name of any kind is found quickly among these.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9._-]{1,24}",
        "[A-Za-z0-9._+=,@/*-]{1,24}",
        r#"[a-z0-9${}%"'\\\n\t #:!&*|<>\[\]`~/.-]{0,16}"#,
        any::<String>(),
    ]
}

fn request() -> Request {
    Request {
        org: Some("acme".into()),
        account_id: Some("123456789012".into()),
        thumbprints: ThumbprintChoice::Given(vec![THUMBPRINT.into()]),
        ..Request::default()
    }
}

/// The request with these role fields.
fn with_role(role: RoleFields) -> Request {
    Request { role, ..request() }
}

/// The subjects `--env value` admits: a named project's environment, or the legacy default
/// project's (which `default/ENV` also means, and a project pattern matching `default` adds).
fn env_subjects(org: &str, value: &str) -> BTreeSet<String> {
    let prefix = format!("pulumi:environments:org:{org}:env:");
    match value.split_once('/') {
        Some(("default", env)) => BTreeSet::from([format!("{prefix}{env}")]),
        Some((project, env)) if oidc_gen::policy::string_like(project, "default") => {
            BTreeSet::from([format!("{prefix}{value}"), format!("{prefix}{env}")])
        }
        _ => BTreeSet::from([format!("{prefix}{value}")]),
    }
}

/// The files of the four main formats for `request`, or the exit code validation gives.
fn render(request: Request) -> Result<Vec<String>, u8> {
    let inputs = request.validate().map_err(|e| e.exit_code())?;
    let (formats, _) = Plan::of_role(inputs.clone())
        .formats(&Selection::All)
        .map_err(|e| e.exit_code())?;
    assert!(formats.contains(&Format::Esc));
    let model = inputs.model(&[THUMBPRINT.to_owned()]);
    let renderer = Renderer::new(inputs.templates().map(Overrides::given).as_ref());
    Ok(formats[..4]
        .iter()
        .map(|format| {
            renderer
                .render(*format, &model)
                .expect("a valid request renders")
                .contents
        })
        .collect())
}

/// What the files say, each parsed by its own language's parser.
struct Parsed {
    terraform: artifacts::Iam,
    terraform_esc: artifacts::Esc,
    cloudformation: artifacts::Iam,
    pulumi: artifacts::Iam,
    esc: artifacts::Esc,
}

/// Parses the files, and checks that the only `${...}` references left in the Pulumi program and
/// the ESC definition (once `$$` is read as `$`) are the templates' own.
fn parse(files: &[String]) -> Parsed {
    let own = [
        "${oidcProvider.arn}",
        "${escRole.name}",
        "${escRole.arn}",
        "${aws.login.accessKeyId}",
        "${aws.login.secretAccessKey}",
        "${aws.login.sessionToken}",
    ];
    for yaml in &files[2..] {
        let mut strings = Vec::new();
        collect_strings(&artifacts::yaml(yaml), &mut strings);
        for string in strings {
            let unescaped = string.replace("$$", "");
            let mut rest = unescaped.as_str();
            while let Some(start) = rest.find("${") {
                let end = rest[start..]
                    .find('}')
                    .map_or(rest.len(), |e| start + e + 1);
                assert!(
                    own.contains(&&rest[start..end]),
                    "interpolation survives in {string:?}"
                );
                rest = &rest[end..];
            }
        }
    }
    let (terraform, terraform_esc) = artifacts::terraform(&files[0]);
    Parsed {
        terraform,
        terraform_esc: terraform_esc.expect("the module outputs the ESC definition"),
        cloudformation: artifacts::cloudformation(&files[1]),
        pulumi: artifacts::pulumi(&files[2]),
        esc: artifacts::esc(&files[3]),
    }
}

fn collect_strings(value: &serde_json::Value, into: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => into.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, into)),
        serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| {
            into.push(k.clone());
            collect_strings(v, into);
        }),
        _ => {}
    }
}

impl Parsed {
    fn iam(&self) -> [&artifacts::Iam; 3] {
        [&self.terraform, &self.cloudformation, &self.pulumi]
    }

    /// The `sub` values of every IAM artifact's trust policy.
    fn subjects(&self) -> Vec<BTreeSet<String>> {
        self.iam()
            .iter()
            .map(|iam| artifacts::admitted_subjects(&iam.trust_policy, "api.pulumi.com/oidc:sub"))
            .collect()
    }
}

/// Either refused with exit code 2, or rendered and checked by `check`.
fn either_refused_or(request: Request, check: impl FnOnce(Parsed)) -> Result<(), TestCaseError> {
    match render(request) {
        Err(code) => prop_assert_eq!(code, 2),
        Ok(files) => check(parse(&files)),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::proptest_cases(CASES)))]

    #[test]
    fn org(value in hostile()) {
        either_refused_or(Request { org: Some(value.clone()), ..request() }, |parsed| {
            let audiences = vec![value.clone(), format!("aws:{value}")];
            for iam in parsed.iam() {
                let Provider::Created { client_ids, .. } = &iam.provider else { panic!("no provider") };
                assert_eq!(client_ids, &audiences);
                // Named projects first, then the legacy default project.
                let statements = iam.trust_policy["Statement"].as_array().unwrap();
                let aud = |i: usize| artifacts::strings(&statements[i]["Condition"]["StringEquals"]["api.pulumi.com/oidc:aud"]);
                assert_eq!([aud(0), aud(1)], [vec![audiences[1].clone()], vec![audiences[0].clone()]]);
            }
            let prefix = format!("pulumi:environments:org:{value}:env:");
            let expected = BTreeSet::from([format!("{prefix}*/*"), format!("{prefix}*")]);
            assert!(parsed.subjects().iter().all(|s| *s == expected));
        })?;
    }

    #[test]
    fn env(value in hostile()) {
        let role = RoleFields { envs: vec![value.clone()], ..RoleFields::default() };
        either_refused_or(with_role(role), |parsed| {
            let expected = env_subjects("acme", &value);
            assert!(parsed.subjects().iter().all(|s| *s == expected));
        })?;
    }

    #[test]
    fn deploy(value in hostile()) {
        let role = RoleFields { envs: vec!["p/e".into()], deploy: vec![value.clone()], ..RoleFields::default() };
        either_refused_or(with_role(role), |parsed| {
            let (project, stack) = value.split_once('/').unwrap();
            let expected: BTreeSet<String> = ["preview", "update", "refresh", "destroy"]
                .iter()
                .map(|op| format!("pulumi:deploy:org:acme:project:{project}:stack:{stack}:operation:{op}:scope:write"))
                .chain(env_subjects("acme", "p/e"))
                .collect();
            assert!(parsed.subjects().iter().all(|s| *s == expected));
        })?;
    }

    #[test]
    fn user(value in hostile()) {
        let role = RoleFields {
            subject_attributes: vec![Attribute::UserLogin],
            users: vec![value.clone()],
            ..RoleFields::default()
        };
        either_refused_or(with_role(role), |parsed| {
            let expected = BTreeSet::from([format!(
                "pulumi:environments:pulumi.organization.login:acme:pulumi.user.login:{value}"
            )]);
            assert!(parsed.subjects().iter().all(|s| *s == expected));
            assert_eq!(parsed.esc.subject_attributes, ["pulumi.user.login"]);
        })?;
    }

    #[test]
    fn session_policy_arn(value in hostile()) {
        let arn = format!("arn:aws:iam::aws:policy/{value}");
        either_refused_or(with_role(RoleFields { session_policy_arns: vec![arn.clone()], ..RoleFields::default() }), |parsed| {
            assert_eq!(parsed.esc.policy_arns, std::slice::from_ref(&arn));
            assert_eq!(parsed.terraform_esc.policy_arns, std::slice::from_ref(&arn));
            assert!(parsed.iam().iter().all(|iam| iam.policies.is_empty()), "a session policy is not attached");
        })?;
    }

    #[test]
    fn subject_of_another_issuer(value in hostile(), audience in hostile()) {
        let role = RoleFields {
            audiences: vec![audience.clone()],
            subjects: vec![value.clone()],
            ..RoleFields::default()
        };
        let request = Request {
            issuer: Some("https://token.actions.githubusercontent.com".into()),
            org: None,
            account_id: None,
            ..with_role(role)
        };
        match request.validate() {
            Err(error) => prop_assert_eq!(error.exit_code(), 2),
            Ok(inputs) => {
                let model = inputs.model(&[]);
                let renderer = Renderer::new(None);
                let render = |format| renderer.render(format, &model).unwrap().contents;
                let (terraform, esc) = artifacts::terraform(&render(Format::Terraform));
                prop_assert!(esc.is_none());
                for iam in [terraform, artifacts::cloudformation(&render(Format::CloudFormation)), artifacts::pulumi(&render(Format::Pulumi))] {
                    let key = "token.actions.githubusercontent.com:sub";
                    prop_assert_eq!(artifacts::admitted_subjects(&iam.trust_policy, key), BTreeSet::from([value.clone()]));
                    let Provider::Created { client_ids, .. } = &iam.provider else { panic!("no provider") };
                    prop_assert_eq!(client_ids, &vec![audience.clone()]);
                }
            }
        }
    }

    #[test]
    fn role_name(value in hostile()) {
        either_refused_or(with_role(RoleFields { name: Some(value.clone()), ..RoleFields::default() }), |parsed| {
            assert!(parsed.iam().iter().all(|iam| iam.role_name == value));
            assert_eq!(parsed.esc.role_arn, format!("arn:aws:iam::123456789012:role/{value}"));
        })?;
    }

    #[test]
    fn session_name(value in hostile()) {
        either_refused_or(with_role(RoleFields { session_name: value.clone(), ..RoleFields::default() }), |parsed| {
            assert_eq!(parsed.esc.session_name, value);
            assert_eq!(parsed.terraform_esc.session_name, value);
        })?;
    }

    #[test]
    fn duration(value in prop_oneof!["([0-9]{1,3}[hms]){1,3}", hostile()]) {
        either_refused_or(with_role(RoleFields { duration: value.clone(), ..RoleFields::default() }), |parsed| {
            assert_eq!(parsed.esc.duration, value.clone());
            assert_eq!(parsed.terraform_esc.duration, value);
        })?;
    }

    #[test]
    fn policy_arn(value in hostile()) {
        let arn = format!("arn:aws:iam::aws:policy/{value}");
        either_refused_or(with_role(RoleFields { policy_arns: vec![arn.clone()], ..RoleFields::default() }), |parsed| {
            assert!(parsed.iam().iter().all(|iam| iam.policies == BTreeSet::from([arn.clone()])));
        })?;
    }

    #[test]
    fn issuer(value in hostile()) {
        let url = format!("https://{value}");
        either_refused_or(Request { issuer: Some(url.clone()), ..request() }, |parsed| {
            for iam in parsed.iam() {
                let Provider::Created { url: written, .. } = &iam.provider else { panic!("no provider") };
                assert_eq!(written, &url);
            }
        })?;
    }

    #[test]
    fn templates_folder(value in any::<String>().prop_filter("a path", |v| !v.is_empty() && !v.contains('\0'))) {
        // Only the header's command line shows it; every file must still parse.
        let templates = Some(std::path::PathBuf::from(format!("/nonexistent/{value}")));
        either_refused_or(Request { templates, ..request() }, |parsed| {
            assert_eq!(parsed.esc.session_name, request::DEFAULT_SESSION_NAME);
        })?;
    }
}

proptest! {
    // The whole binary for a smaller sample: refused values leave the folder empty.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_binary_writes_nothing_for_a_refused_value(org in hostile(), env in hostile()) {
        let dir = tempfile::tempdir().unwrap();
        let output = oidc_gen(dir.path(), &["--org", &org, "--env", &env, "--account-id", "123456789012", "--thumbprint", THUMBPRINT]);
        match output.status.code() {
            Some(2) => prop_assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none()),
            Some(0) => {
                let read = |file: &str| std::fs::read_to_string(dir.path().join("out").join(file)).unwrap();
                let files: Vec<String> = Format::all()[..4].iter().map(|f| read(f.path())).collect();
                let parsed = parse(&files);
                let expected = env_subjects(&org, &env);
                prop_assert!(parsed.subjects().iter().all(|s| *s == expected));
            }
            other => prop_assert!(false, "exit {other:?}: {}", text(&output).1),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::proptest_cases(CASES * 4)))]

    /// The escapers themselves, on any string at all: each language's parser reads back exactly
    /// the input (in Pulumi YAML and ESC, once `$$` is read as `$`).
    #[test]
    fn every_string_survives_each_escaper(value in prop_oneof![any::<String>(), hostile()]) {
        use oidc_gen::escape::Language;

        let hcl = format!("value = {}\n", Language::Hcl.quote(&value));
        let body: hcl::Body = hcl::parse(&hcl).map_err(|e| TestCaseError::fail(format!("{hcl}: {e}")))?;
        let evaluated: hcl::Body = hcl::eval::Evaluate::evaluate(&body, &hcl::eval::Context::new())
            .map_err(|e| TestCaseError::fail(format!("{hcl}: {e}")))?;
        let attribute = evaluated.attributes().next().unwrap();
        prop_assert_eq!(attribute.expr(), &hcl::Expression::String(value.clone()));

        let json: String = serde_json::from_str(&Language::Json.quote(&value)).unwrap();
        prop_assert_eq!(&json, &value);

        let yaml: String = serde_yaml::from_str(&Language::InterpolatedYaml.quote(&value)).unwrap();
        prop_assert!(!yaml.replace("$$", "").contains('$'), "a lone $ in {:?}", yaml);
        prop_assert_eq!(yaml.replace("$$", "$"), value);
    }
}
