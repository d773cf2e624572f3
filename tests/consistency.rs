//! All four artifacts describe the same provider, audiences, subjects, role and policies: each is
//! parsed back with its language's parser into one normalised description, and they must be equal.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::artifacts::{Esc, Provider, ROLE_ARN, cloudformation, esc, pulumi, terraform, yaml};
use common::{fixtures, oidc_gen, text};
use regex::Regex;
use serde_json::{Value, json};

/// A generated file's text.
fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn all_four_artifacts_say_the_same() {
    for (name, args) in fixtures() {
        let dir = tempfile::tempdir().unwrap();
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.extend(["--out", "."]);
        let output = oidc_gen(dir.path(), &args);
        assert!(output.status.success(), "{name}: {}", text(&output).1);

        let (tf, tf_esc) = terraform(&read(dir.path(), "terraform/main.tf"));
        assert_eq!(
            tf,
            cloudformation(&read(dir.path(), "cloudformation/template.json")),
            "{name}: terraform vs cloudformation"
        );
        assert_eq!(
            tf,
            pulumi(&read(dir.path(), "pulumi/Pulumi.yaml")),
            "{name}: terraform vs pulumi"
        );

        let esc = esc(&read(dir.path(), "esc/environment.yaml"));
        assert_eq!(
            esc.role_arn,
            format!("arn:aws:iam::123456789012:role/{}", tf.role_name),
            "{name}"
        );
        assert_eq!(
            Esc {
                role_arn: ROLE_ARN.into(),
                ..esc
            },
            tf_esc,
            "{name}: esc file vs terraform output"
        );

        // And the description itself is what the trust model promises.
        let condition = &tf.trust_policy["Statement"][0]["Condition"];
        let aud = condition["StringEquals"]["api.pulumi.com/oidc:aud"].clone();
        assert_eq!(aud, json!(["acme", "aws:acme"]), "{name}");
        if let Provider::Created { client_ids, .. } = &tf.provider {
            assert_eq!(client_ids, &["acme", "aws:acme"], "{name}");
        }
        assert_eq!(
            tf.trust_policy["Statement"][0]["Action"],
            "sts:AssumeRoleWithWebIdentity"
        );
        let sub = condition["StringEquals"]["api.pulumi.com/oidc:sub"]
            .as_array()
            .or(condition["StringLike"]["api.pulumi.com/oidc:sub"].as_array())
            .unwrap_or_else(|| panic!("{name}: sub is not scoped"));
        assert!(sub.iter().all(|s| {
            s.as_str()
                .unwrap()
                .starts_with("pulumi:environments:org:acme:env:")
        }));
        assert!(tf.max_session_duration >= 3600);
    }
}

/// ESC's documented `aws-login` shape, checked on the definition as ESC reads it.
fn esc_shape_problems(definition: &Value, max_session_duration: u64) -> Vec<String> {
    let mut problems = Vec::new();
    let top: BTreeSet<&str> = definition
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    if !top.is_subset(&BTreeSet::from(["imports", "values", "description"])) {
        problems.push(format!("unknown top-level keys {top:?}"));
    }
    let login = &definition["values"]["aws"]["login"];
    let opened: Vec<&String> = login
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    if opened != ["fn::open::aws-login"] {
        problems.push(format!("aws.login opens {opened:?}"));
    }
    let oidc = login["fn::open::aws-login"]["oidc"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let allowed = BTreeSet::from([
        "roleArn",
        "sessionName",
        "duration",
        "policyArns",
        "subjectAttributes",
    ]);
    for key in oidc.keys() {
        if !allowed.contains(key.as_str()) {
            problems.push(format!("oidc has unknown key {key}"));
        }
    }
    let role_arn = oidc
        .get("roleArn")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !(20..=2048).contains(&role_arn.len())
        || !Regex::new(r"^arn:aws[a-z-]*:iam::\d{12}:role/")
            .unwrap()
            .is_match(role_arn)
    {
        problems.push(format!("roleArn {role_arn:?} is not a role ARN"));
    }
    let session = oidc
        .get("sessionName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !(2..=64).contains(&session.len())
        || !Regex::new(r"^[\w+=,.@-]*$").unwrap().is_match(session)
    {
        problems.push(format!("sessionName {session:?} breaks ESC's pattern"));
    }
    let duration = oidc
        .get("duration")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let pattern = Regex::new(r"^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$").unwrap();
    match pattern.captures(duration) {
        Some(parts) if !duration.is_empty() => {
            let part = |i: usize| {
                parts
                    .get(i)
                    .map_or(0, |m| m.as_str().parse::<u64>().unwrap())
            };
            let seconds = part(1) * 3600 + part(2) * 60 + part(3);
            if seconds > max_session_duration {
                problems.push(format!("duration {duration} exceeds the role's MaxSessionDuration {max_session_duration}"));
            }
        }
        _ => problems.push(format!("duration {duration:?} breaks ESC's pattern")),
    }
    let variables = &definition["values"]["environmentVariables"];
    for (name, reference) in [
        ("AWS_ACCESS_KEY_ID", "${aws.login.accessKeyId}"),
        ("AWS_SECRET_ACCESS_KEY", "${aws.login.secretAccessKey}"),
        ("AWS_SESSION_TOKEN", "${aws.login.sessionToken}"),
    ] {
        if variables[name] != reference {
            problems.push(format!(
                "environmentVariables.{name} is {}",
                variables[name]
            ));
        }
    }
    problems
}

#[test]
fn esc_definitions_have_the_documented_shape() {
    for (name, args) in fixtures() {
        let dir = tempfile::tempdir().unwrap();
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.extend(["--out", "."]);
        assert!(oidc_gen(dir.path(), &args).status.success());
        let definition = yaml(&read(dir.path(), "esc/environment.yaml"));
        let max =
            cloudformation(&read(dir.path(), "cloudformation/template.json")).max_session_duration;
        assert_eq!(
            esc_shape_problems(&definition, max),
            Vec::<String>::new(),
            "{name}"
        );

        // The check can fail: a duration above the role's limit, and a misspelled key.
        let mut too_long = definition.clone();
        too_long["values"]["aws"]["login"]["fn::open::aws-login"]["oidc"]["duration"] =
            json!("12h");
        assert_eq!(esc_shape_problems(&too_long, max).len(), 1, "{name}");
        let text = serde_json::to_string(&definition)
            .unwrap()
            .replace("sessionName", "session");
        assert!(!esc_shape_problems(&serde_json::from_str(&text).unwrap(), max).is_empty());
    }
}
