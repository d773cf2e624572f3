//! Property-based tests for every user value that reaches a template: for thousands of generated
//! values, either validation rejects it (exit code 2, nothing rendered), or every rendered file
//! parses with its language's real parser, the parsed value equals the input exactly, and no
//! interpolation or template sequence survives.

mod common;

use std::collections::BTreeSet;

use common::artifacts::{self, Provider};
use common::{THUMBPRINT, oidc_gen, text};
use oidc_gen::model::{self, Request, ThumbprintChoice};
use oidc_gen::render::{Format, Renderer};
use proptest::prelude::*;

/// Generated values per field; `PROPTEST_CASES` overrides it.
const CASES: u32 = 600;

/// `default` cases, or as many as `PROPTEST_CASES` asks for.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

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
        issuer: model::DEFAULT_ISSUER.into(),
        org: "acme".into(),
        role_name: model::DEFAULT_ROLE_NAME.into(),
        account_id: Some("123456789012".into()),
        policy_arns: Vec::new(),
        envs: Vec::new(),
        duration: model::DEFAULT_DURATION.into(),
        session_name: model::DEFAULT_SESSION_NAME.into(),
        thumbprints: ThumbprintChoice::Given(vec![THUMBPRINT.into()]),
        existing_provider: false,
        trust_policy_quota: model::DEFAULT_TRUST_POLICY_QUOTA,
        templates: None,
    }
}

/// The four files for `request`, or the exit code validation gives.
fn render(request: Request) -> Result<Vec<String>, u8> {
    let inputs = request.validate().map_err(|e| e.exit_code())?;
    let model = inputs.model(&[THUMBPRINT.to_owned()]);
    let renderer = Renderer::new(inputs.templates());
    Ok(Format::ALL
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
        terraform_esc,
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
            .map(|iam| {
                let condition = &iam.trust_policy["Statement"][0]["Condition"];
                let key = "api.pulumi.com/oidc:sub";
                let values = condition["StringEquals"][key]
                    .as_array()
                    .or(condition["StringLike"][key].as_array());
                artifacts::strings(&serde_json::Value::Array(values.unwrap().clone()))
                    .into_iter()
                    .collect()
            })
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
    #![proptest_config(ProptestConfig::with_cases(cases(CASES)))]

    #[test]
    fn org(value in hostile()) {
        either_refused_or(Request { org: value.clone(), ..request() }, |parsed| {
            let audiences = vec![value.clone(), format!("aws:{value}")];
            for iam in parsed.iam() {
                let Provider::Created { client_ids, .. } = &iam.provider else { panic!("no provider") };
                assert_eq!(client_ids, &audiences);
                let aud = &iam.trust_policy["Statement"][0]["Condition"]["StringEquals"]["api.pulumi.com/oidc:aud"];
                assert_eq!(artifacts::strings(aud), audiences);
            }
            let expected = BTreeSet::from([format!("pulumi:environments:org:{value}:env:*")]);
            assert!(parsed.subjects().iter().all(|s| *s == expected));
        })?;
    }

    #[test]
    fn env(value in hostile()) {
        either_refused_or(Request { envs: vec![value.clone()], ..request() }, |parsed| {
            let expected = BTreeSet::from([format!("pulumi:environments:org:acme:env:{value}")]);
            assert!(parsed.subjects().iter().all(|s| *s == expected));
        })?;
    }

    #[test]
    fn role_name(value in hostile()) {
        either_refused_or(Request { role_name: value.clone(), ..request() }, |parsed| {
            assert!(parsed.iam().iter().all(|iam| iam.role_name == value));
            assert_eq!(parsed.esc.role_arn, format!("arn:aws:iam::123456789012:role/{value}"));
        })?;
    }

    #[test]
    fn session_name(value in hostile()) {
        either_refused_or(Request { session_name: value.clone(), ..request() }, |parsed| {
            assert_eq!(parsed.esc.session_name, value);
            assert_eq!(parsed.terraform_esc.session_name, value);
        })?;
    }

    #[test]
    fn duration(value in prop_oneof!["([0-9]{1,3}[hms]){1,3}", hostile()]) {
        either_refused_or(Request { duration: value.clone(), ..request() }, |parsed| {
            assert_eq!(parsed.esc.duration, value.clone());
            assert_eq!(parsed.terraform_esc.duration, value);
        })?;
    }

    #[test]
    fn policy_arn(value in hostile()) {
        let arn = format!("arn:aws:iam::aws:policy/{value}");
        either_refused_or(Request { policy_arns: vec![arn.clone()], ..request() }, |parsed| {
            assert!(parsed.iam().iter().all(|iam| iam.policies == BTreeSet::from([arn.clone()])));
        })?;
    }

    #[test]
    fn issuer(value in hostile()) {
        let url = format!("https://{value}");
        either_refused_or(Request { issuer: url.clone(), ..request() }, |parsed| {
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
            assert_eq!(parsed.esc.session_name, model::DEFAULT_SESSION_NAME);
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
                let files: Vec<String> = Format::ALL.iter().map(|f| read(f.path())).collect();
                let parsed = parse(&files);
                let expected = BTreeSet::from([format!("pulumi:environments:org:{org}:env:{env}")]);
                prop_assert!(parsed.subjects().iter().all(|s| *s == expected));
            }
            other => prop_assert!(false, "exit {other:?}: {}", text(&output).1),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(CASES * 4)))]

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
