//! All four artifacts describe the same provider, audiences, subjects, role and policies: each is
//! parsed back with its language's parser into one normalised description, and they must be equal.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{fixtures, oidc_gen, text};
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use regex::Regex;
use serde_json::{Value, json};

const PROVIDER_ARN: &str = "PROVIDER-ARN";
const ROLE_ARN: &str = "ROLE-ARN";

/// The OIDC provider an artifact creates, or the existing one it looks up.
#[derive(Debug, PartialEq)]
enum Provider {
    Created {
        url: String,
        client_ids: Vec<String>,
        thumbprints: Vec<String>,
    },
    Existing {
        url: String,
    },
}

/// What a generated IAM artifact says, whatever its language.
#[derive(Debug, PartialEq)]
struct Iam {
    provider: Provider,
    role_name: String,
    max_session_duration: u64,
    trust_policy: Value,
    policies: BTreeSet<String>,
}

/// What an ESC definition says.
#[derive(Debug, PartialEq)]
struct Esc {
    role_arn: String,
    session_name: String,
    duration: String,
    environment_variables: Value,
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
        other => panic!("not a list: {other}"),
    }
}

/// Terraform: evaluate the whole module with hcl-rs, with references to resources replaced by
/// placeholders and jsonencode/yamlencode/toset returning their argument's structure.
fn terraform(dir: &Path) -> (Iam, Esc) {
    let source = std::fs::read_to_string(dir.join("terraform/main.tf")).unwrap();
    let body: hcl::Body = hcl::parse(&source).unwrap();
    let mut ctx = Context::new();
    let identity = FuncDef::new(|args: FuncArgs| Ok(args[0].clone()), [ParamType::Any]);
    for name in ["jsonencode", "yamlencode", "toset"] {
        ctx.declare_func(name, identity.clone());
    }
    ctx.declare_var(
        "aws_iam_openid_connect_provider",
        hcl::value!({ pulumi = { arn = (PROVIDER_ARN) } }),
    );
    ctx.declare_var(
        "aws_iam_role",
        hcl::value!({ pulumi_esc = { arn = (ROLE_ARN), name = "ROLE-NAME" } }),
    );
    // What the existing provider's precondition uses.
    ctx.declare_func(
        "setsubtract",
        FuncDef::new(
            |args: FuncArgs| {
                let (all, some) = (args[0].as_array().unwrap(), args[1].as_array().unwrap());
                let rest = all.iter().filter(|v| !some.contains(v)).cloned();
                Ok(hcl::Value::Array(rest.collect()))
            },
            [ParamType::Any, ParamType::Any],
        ),
    );
    ctx.declare_func(
        "length",
        FuncDef::new(
            |args: FuncArgs| Ok(args[0].as_array().unwrap().len().into()),
            [ParamType::Any],
        ),
    );
    ctx.declare_func(
        "join",
        FuncDef::new(
            |args: FuncArgs| {
                let items = args[1].as_array().unwrap().iter();
                let items: Vec<&str> = items.map(|v| v.as_str().unwrap()).collect();
                Ok(items.join(args[0].as_str().unwrap()).into())
            },
            [ParamType::String, ParamType::Any],
        ),
    );
    let existing = hcl::value!({ arn = (PROVIDER_ARN), client_id_list = ["acme", "aws:acme"] });
    ctx.declare_var(
        "data",
        hcl::value!({ aws_iam_openid_connect_provider = { pulumi = (existing) } }),
    );
    ctx.declare_var("var", hcl::value!({ region = "us-east-1" }));
    ctx.declare_var("each", hcl::value!({ value = "EACH" }));
    ctx.declare_var("string", "string"); // The bare type keyword in `variable` blocks.
    let evaluated = body.evaluate(&ctx).unwrap();
    let module: Value = hcl::from_body(evaluated).unwrap();

    let created = &module["resource"]["aws_iam_openid_connect_provider"]["pulumi"];
    let looked_up = &module["data"]["aws_iam_openid_connect_provider"]["pulumi"];
    let provider = match (created, looked_up) {
        (Value::Null, looked_up) => Provider::Existing {
            url: looked_up["url"].as_str().unwrap().to_owned(),
        },
        (created, Value::Null) => Provider::Created {
            url: created["url"].as_str().unwrap().to_owned(),
            client_ids: strings(&created["client_id_list"]),
            thumbprints: strings(&created["thumbprint_list"]),
        },
        _ => panic!("terraform both creates and looks up the provider"),
    };
    let role = &module["resource"]["aws_iam_role"]["pulumi_esc"];
    if matches!(provider, Provider::Existing { .. }) {
        let precondition = &role["lifecycle"]["precondition"];
        assert_eq!(
            precondition["condition"], true,
            "both client IDs are on the provider"
        );
    }
    let attachments = &module["resource"]["aws_iam_role_policy_attachment"]["pulumi_esc"];
    let mut trust_policy = role["assume_role_policy"].clone();
    trust_policy["Statement"][0]["Principal"]["Federated"] = json!("PROVIDER");
    let iam = Iam {
        provider,
        role_name: role["name"].as_str().unwrap().to_owned(),
        max_session_duration: role["max_session_duration"].as_u64().unwrap(),
        trust_policy,
        policies: strings(&attachments["for_each"]).into_iter().collect(),
    };
    assert_eq!(
        role["assume_role_policy"]["Statement"][0]["Principal"]["Federated"],
        PROVIDER_ARN
    );
    if !iam.policies.is_empty() {
        assert_eq!(attachments["policy_arn"], "EACH");
        assert_eq!(attachments["role"], "ROLE-NAME");
    }
    let esc = esc_values(&module["output"]["esc_environment"]["value"]);
    assert_eq!(module["output"]["role_arn"]["value"], ROLE_ARN);
    assert_eq!(module["output"]["oidc_provider_arn"]["value"], PROVIDER_ARN);
    (iam, esc)
}

fn cloudformation(dir: &Path) -> Iam {
    let text = std::fs::read_to_string(dir.join("cloudformation/template.json")).unwrap();
    let template: Value = serde_json::from_str(&text).unwrap();
    let created = &template["Resources"]["PulumiOidcProvider"];
    let role = &template["Resources"]["PulumiEscRole"];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let mut trust_policy = role["Properties"]["AssumeRolePolicyDocument"].clone();
    let principal = trust_policy["Statement"][0]["Principal"]["Federated"].clone();
    let provider = if created.is_null() {
        // The existing provider's ARN: the parameter, or one built from the partition and account.
        assert_eq!(template["Parameters"]["OidcProviderArn"]["Default"], "");
        assert_eq!(principal["Fn::If"][0], "OidcProviderArnIsDefault");
        assert_eq!(principal["Fn::If"][2], json!({"Ref": "OidcProviderArn"}));
        let parts = principal["Fn::If"][1]["Fn::Join"][1].as_array().unwrap();
        assert_eq!(parts[1], json!({"Ref": "AWS::Partition"}));
        assert_eq!(parts[3], json!({"Ref": "AWS::AccountId"}));
        assert_eq!(parts[4], ":oidc-provider/");
        Provider::Existing {
            url: format!("https://{}", parts[5].as_str().unwrap()),
        }
    } else {
        assert_eq!(created["Type"], "AWS::IAM::OIDCProvider");
        assert_eq!(principal, json!({"Ref": "PulumiOidcProvider"}));
        Provider::Created {
            url: created["Properties"]["Url"].as_str().unwrap().to_owned(),
            client_ids: strings(&created["Properties"]["ClientIdList"]),
            thumbprints: strings(&created["Properties"]["ThumbprintList"]),
        }
    };
    trust_policy["Statement"][0]["Principal"]["Federated"] = json!("PROVIDER");
    assert_eq!(
        template["Outputs"]["RoleArn"]["Value"],
        json!({"Fn::GetAtt": ["PulumiEscRole", "Arn"]})
    );
    assert_eq!(template["Outputs"]["OidcProviderArn"]["Value"], principal);
    Iam {
        provider,
        role_name: role["Properties"]["RoleName"].as_str().unwrap().to_owned(),
        max_session_duration: role["Properties"]["MaxSessionDuration"].as_u64().unwrap(),
        trust_policy,
        policies: strings(&role["Properties"]["ManagedPolicyArns"])
            .into_iter()
            .collect(),
    }
}

/// Pulumi YAML reads `$$` as `$`; apply that to every string so values compare as Pulumi sees them.
fn pulumi_unescape(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace("$$", "$")),
        Value::Array(items) => Value::Array(items.into_iter().map(pulumi_unescape).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, pulumi_unescape(v)))
                .collect(),
        ),
        other => other,
    }
}

fn yaml_file(path: &Path) -> Value {
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    serde_json::to_value(yaml).unwrap()
}

fn pulumi(dir: &Path) -> Iam {
    let program = yaml_file(&dir.join("pulumi/Pulumi.yaml"));
    assert_eq!(program["runtime"], "yaml");
    let resources = program["resources"].as_object().unwrap();
    let role = &resources["escRole"];
    assert_eq!(role["type"], "aws:iam:Role");
    let provider = match (
        resources.get("oidcProvider"),
        &program["variables"]["oidcProvider"],
    ) {
        (Some(created), Value::Null) => {
            assert_eq!(created["type"], "aws:iam:OpenIdConnectProvider");
            let properties = pulumi_unescape(created["properties"].clone());
            Provider::Created {
                url: properties["url"].as_str().unwrap().to_owned(),
                client_ids: strings(&properties["clientIdLists"]),
                thumbprints: strings(&properties["thumbprintLists"]),
            }
        }
        (None, looked_up) => {
            let invoke = pulumi_unescape(looked_up["fn::invoke"].clone());
            assert_eq!(invoke["function"], "aws:iam:getOpenIdConnectProvider");
            Provider::Existing {
                url: invoke["arguments"]["url"].as_str().unwrap().to_owned(),
            }
        }
        _ => panic!("the program both creates and looks up the provider"),
    };
    let mut policies = BTreeSet::new();
    for (name, resource) in resources {
        if resource["type"] == "aws:iam:RolePolicyAttachment" {
            assert_eq!(resource["properties"]["role"], "${escRole.name}", "{name}");
            policies.insert(
                pulumi_unescape(resource["properties"]["policyArn"].clone())
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    let mut trust_policy = role["properties"]["assumeRolePolicy"]["fn::toJSON"].clone();
    assert_eq!(
        trust_policy["Statement"][0]["Principal"]["Federated"],
        "${oidcProvider.arn}"
    );
    trust_policy["Statement"][0]["Principal"]["Federated"] = json!("PROVIDER");
    let role_properties = pulumi_unescape(role["properties"].clone());
    assert_eq!(program["outputs"]["roleArn"], "${escRole.arn}");
    assert_eq!(program["outputs"]["oidcProviderArn"], "${oidcProvider.arn}");
    Iam {
        provider,
        role_name: role_properties["name"].as_str().unwrap().to_owned(),
        max_session_duration: role_properties["maxSessionDuration"].as_u64().unwrap(),
        trust_policy: pulumi_unescape(trust_policy),
        policies,
    }
}

fn esc_values(definition: &Value) -> Esc {
    let oidc = &definition["values"]["aws"]["login"]["fn::open::aws-login"]["oidc"];
    Esc {
        role_arn: oidc["roleArn"].as_str().unwrap().to_owned(),
        session_name: oidc["sessionName"].as_str().unwrap().to_owned(),
        duration: oidc["duration"].as_str().unwrap().to_owned(),
        environment_variables: definition["values"]["environmentVariables"].clone(),
    }
}

fn esc(dir: &Path) -> Esc {
    let definition = pulumi_unescape(yaml_file(&dir.join("esc/environment.yaml")));
    esc_values(&definition)
}

#[test]
fn all_four_artifacts_say_the_same() {
    for (name, args) in fixtures() {
        let dir = tempfile::tempdir().unwrap();
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.extend(["--out", "."]);
        let output = oidc_gen(dir.path(), &args);
        assert!(output.status.success(), "{name}: {}", text(&output).1);

        let (tf, tf_esc) = terraform(dir.path());
        assert_eq!(
            tf,
            cloudformation(dir.path()),
            "{name}: terraform vs cloudformation"
        );
        assert_eq!(tf, pulumi(dir.path()), "{name}: terraform vs pulumi");

        let esc = esc(dir.path());
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
        let definition = yaml_file(&dir.path().join("esc/environment.yaml"));
        let max = cloudformation(dir.path()).max_session_duration;
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
