//! All four artifacts describe the same provider, audiences, subjects, role and policies: each is
//! parsed back with its language's parser into one normalised description, and they must be equal.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::artifacts::{
    Esc, Provider, ROLE_ARN, cloudformation, esc, pulumi, strings, terraform, terraform_module,
    yaml,
};
use common::{fixtures, oidc_gen, text};
use regex::Regex;
use serde_json::{Value, json};

/// A generated file's text.
fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn all_artifacts_say_the_same() {
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

        if name == "role_options" {
            assert_eq!(tf.path, "/pulumi/esc/");
            assert_eq!(
                tf.permissions_boundary.as_deref(),
                Some("arn:aws:iam::aws:policy/PowerUserAccess")
            );
            assert_eq!(
                tf.tags,
                [("cost center", "4 2"), ("team", "platform")]
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .into()
            );
            assert_eq!(tf.max_session_duration, 4 * 3600);
        }

        let esc_file = dir.path().join("esc/environment.yaml");
        match (tf_esc, esc_file.exists()) {
            (Some(tf_esc), true) => {
                let esc = esc(&read(dir.path(), "esc/environment.yaml"));
                assert_eq!(esc.role_arn, tf.role_arn(), "{name}");
                assert_eq!(
                    Esc {
                        role_arn: ROLE_ARN.into(),
                        ..esc
                    },
                    tf_esc,
                    "{name}: esc file vs terraform output"
                );
            }
            (None, false) => {}
            (tf_esc, file) => panic!("{name}: terraform's ESC output {tf_esc:?}, ESC file {file}"),
        }
        let settings_file = dir.path().join("deployments/settings.json");
        let tf_settings = terraform_output(
            &read(dir.path(), "terraform/main.tf"),
            "deployment_settings",
        );
        match (tf_settings, settings_file.exists()) {
            (Some(mut tf_settings), true) => {
                let settings: Value =
                    serde_json::from_str(&read(dir.path(), "deployments/settings.json")).unwrap();
                let aws = &settings["operationContext"]["oidc"]["aws"];
                assert_eq!(aws["roleArn"], tf.role_arn());
                assert_eq!(
                    tf_settings["operationContext"]["oidc"]["aws"]["roleArn"],
                    ROLE_ARN
                );
                tf_settings["operationContext"]["oidc"]["aws"]["roleArn"] = aws["roleArn"].clone();
                assert_eq!(
                    tf_settings, settings,
                    "{name}: settings file vs terraform output"
                );
            }
            (None, false) => {}
            (tf_settings, file) => {
                panic!("{name}: terraform's settings {tf_settings:?}, file {file}")
            }
        }

        // Each statement admits one token shape: its own Sid, the provider, the web-identity
        // action, one exact audience list and a scoped subject.
        let statements = tf.trust_policy["Statement"].as_array().unwrap();
        let sids: BTreeSet<&str> = statements
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(sids.len(), statements.len(), "{name}: Sids repeat");
        let client_ids: BTreeSet<String> = match &tf.provider {
            Provider::Created { client_ids, .. } => client_ids.iter().cloned().collect(),
            Provider::Existing { .. } => BTreeSet::new(),
        };
        for statement in statements {
            assert_eq!(statement["Effect"], "Allow", "{name}");
            assert_eq!(
                statement["Action"], "sts:AssumeRoleWithWebIdentity",
                "{name}"
            );
            let condition = statement["Condition"].as_object().unwrap();
            let (aud_key, sub_key) = condition["StringEquals"].as_object().unwrap().keys().fold(
                (None, None),
                |(aud, sub), key| {
                    if key.ends_with(":aud") {
                        (Some(key.clone()), sub)
                    } else if key.ends_with(":sub") {
                        (aud, Some(key.clone()))
                    } else {
                        (aud, sub)
                    }
                },
            );
            let aud_key =
                aud_key.unwrap_or_else(|| panic!("{name}: a statement without an exact aud"));
            let audiences = strings(&condition["StringEquals"][&aud_key]);
            assert!(!audiences.is_empty());
            if !client_ids.is_empty() {
                assert!(
                    audiences.iter().all(|a| client_ids.contains(a)),
                    "{name}: aud outside the client IDs"
                );
            }
            let sub_key = sub_key.unwrap_or_else(|| aud_key.replace(":aud", ":sub"));
            let subjects: Vec<String> = ["StringEquals", "StringLike"]
                .iter()
                .flat_map(|op| strings(&condition.get(*op).cloned().unwrap_or_default()[&sub_key]))
                .collect();
            assert!(!subjects.is_empty(), "{name}: sub is not scoped");
            assert!(
                subjects.iter().all(|s| s.trim_matches('*').len() > 8),
                "{name}: {subjects:?}"
            );
        }
        assert!(tf.max_session_duration >= 3600);
    }
}

/// A Terraform output's value, with the role's ARN as `ROLE-ARN`.
fn terraform_output(source: &str, output: &str) -> Option<Value> {
    let module = terraform_module(source);
    let value = &module["output"][output]["value"];
    (!value.is_null()).then(|| value.clone())
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
        let Ok(source) = std::fs::read_to_string(dir.path().join("esc/environment.yaml")) else {
            continue; // The role admits no ESC tokens.
        };
        let definition = yaml(&source);
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

/// The ESC environment the Pulumi program creates is the one esc/environment.yaml defines: the
/// program's text, once Pulumi has interpolated the role's ARN and unescaped `$$`, parses to the
/// same definition.
#[test]
fn the_pulumi_programs_esc_environment_is_the_esc_file() {
    let (_, args) = fixtures()
        .into_iter()
        .find(|(name, _)| *name == "pulumi_creates_esc")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--out", "."]);
    let output = oidc_gen(dir.path(), &args);
    assert!(output.status.success(), "{}", text(&output).1);
    let program: serde_yaml::Value =
        serde_yaml::from_str(&read(dir.path(), "pulumi/Pulumi.yaml")).unwrap();
    let environment = &program["resources"]["escEnvironment"];
    assert_eq!(environment["type"], "pulumiservice:index:Environment");
    assert_eq!(environment["properties"]["organization"], "acme");
    assert_eq!(environment["properties"]["project"], "platform");
    assert_eq!(environment["properties"]["name"], "prod");
    let text = environment["properties"]["yaml"]["fn::stringAsset"]
        .as_str()
        .unwrap();
    let arn = "arn:aws:iam::123456789012:role/pulumi-esc-oidc";
    assert!(
        !text.replace("$${", "").contains("${aws."),
        "ESC's own references are escaped"
    );
    let interpolated = text.replace("${escRole.arn}", arn).replace("$$", "$");
    let created: serde_yaml::Value = serde_yaml::from_str(&interpolated).unwrap();
    let file: serde_yaml::Value =
        serde_yaml::from_str(&read(dir.path(), "esc/environment.yaml")).unwrap();
    assert_eq!(created, file);
}
