//! The generated files parsed back with each language's own parser into one description, so that
//! tests can compare what the four formats say and check values against the inputs.

use std::collections::{BTreeMap, BTreeSet};

use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use serde_json::{Value, json};

pub const PROVIDER_ARN: &str = "PROVIDER-ARN";
pub const ROLE_ARN: &str = "ROLE-ARN";

/// The OIDC provider an artifact creates, or the existing one it looks up.
#[derive(Debug, PartialEq)]
pub enum Provider {
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
pub struct Iam {
    pub provider: Provider,
    pub role_name: String,
    /// The role's path, `/` when the artifact sets none.
    pub path: String,
    pub permissions_boundary: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub max_session_duration: u64,
    pub trust_policy: Value,
    pub policies: BTreeSet<String>,
}

impl Iam {
    /// The role's ARN in the test account.
    pub fn role_arn(&self) -> String {
        format!(
            "arn:aws:iam::123456789012:role{}{}",
            self.path, self.role_name
        )
    }
}

/// A role's path, boundary and tags as an artifact writes them (tags as a map, or as CloudFormation's
/// list of `Key`/`Value`).
fn role_settings(
    path: &Value,
    boundary: &Value,
    tags: &Value,
) -> (String, Option<String>, BTreeMap<String, String>) {
    let tags = match tags {
        Value::Null => BTreeMap::new(),
        Value::Array(list) => list
            .iter()
            .map(|tag| {
                (
                    tag["Key"].as_str().unwrap().to_owned(),
                    tag["Value"].as_str().unwrap().to_owned(),
                )
            })
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| (key.clone(), value.as_str().unwrap().to_owned()))
            .collect(),
        other => panic!("tags as {other}"),
    };
    (
        path.as_str().unwrap_or("/").to_owned(),
        boundary.as_str().map(str::to_owned),
        tags,
    )
}

/// What an ESC definition says.
#[derive(Debug, PartialEq)]
pub struct Esc {
    pub role_arn: String,
    pub session_name: String,
    pub duration: String,
    pub policy_arns: Vec<String>,
    pub subject_attributes: Vec<String>,
    pub environment_variables: Value,
}

/// Replaces the federated principal of every statement by `PROVIDER`, after checking that each
/// names `expected` (the reference to the provider in the artifact's own language).
pub fn with_placeholder_provider(mut policy: Value, expected: &Value) -> Value {
    let statements = policy["Statement"]
        .as_array_mut()
        .expect("a list of statements");
    assert!(!statements.is_empty(), "the trust policy has no statement");
    for statement in statements {
        assert_eq!(&statement["Principal"]["Federated"], expected);
        statement["Principal"]["Federated"] = json!("PROVIDER");
    }
    policy
}

/// Every `sub` value a trust policy admits (`StringEquals` and `StringLike`), over all statements.
pub fn admitted_subjects(policy: &Value, key: &str) -> BTreeSet<String> {
    let mut subjects = BTreeSet::new();
    for statement in policy["Statement"].as_array().unwrap() {
        for operator in ["StringEquals", "StringLike"] {
            subjects.extend(strings(&statement["Condition"][operator][key]));
        }
    }
    subjects
}

pub fn strings(value: &Value) -> Vec<String> {
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
pub fn terraform(source: &str) -> (Iam, Option<Esc>) {
    let module = terraform_module(source);
    terraform_iam(&module)
}

/// Terraform: the whole module evaluated into JSON, with the placeholders described above.
pub fn terraform_module(source: &str) -> Value {
    let body: hcl::Body = hcl::parse(source).unwrap();
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
    hcl::from_body(evaluated).unwrap()
}

fn terraform_iam(module: &Value) -> (Iam, Option<Esc>) {
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
    let trust_policy =
        with_placeholder_provider(role["assume_role_policy"].clone(), &json!(PROVIDER_ARN));
    let (path, permissions_boundary, tags) =
        role_settings(&role["path"], &role["permissions_boundary"], &role["tags"]);
    let iam = Iam {
        provider,
        role_name: role["name"].as_str().unwrap().to_owned(),
        path,
        permissions_boundary,
        tags,
        max_session_duration: role["max_session_duration"].as_u64().unwrap(),
        trust_policy,
        policies: strings(&attachments["for_each"]).into_iter().collect(),
    };
    if !iam.policies.is_empty() {
        assert_eq!(attachments["policy_arn"], "EACH");
        assert_eq!(attachments["role"], "ROLE-NAME");
    }
    let esc = match &module["output"]["esc_environment"]["value"] {
        Value::Null => None,
        definition => Some(esc_values(definition)),
    };
    assert_eq!(module["output"]["role_arn"]["value"], ROLE_ARN);
    assert_eq!(module["output"]["oidc_provider_arn"]["value"], PROVIDER_ARN);
    (iam, esc)
}

/// CloudFormation: the template as JSON.
pub fn cloudformation(source: &str) -> Iam {
    let template: Value = serde_json::from_str(source).unwrap();
    let created = &template["Resources"]["PulumiOidcProvider"];
    let role = &template["Resources"]["PulumiEscRole"];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let trust_policy = role["Properties"]["AssumeRolePolicyDocument"].clone();
    let principal = trust_policy["Statement"][0]["Principal"]["Federated"].clone();
    let trust_policy = with_placeholder_provider(trust_policy, &principal);
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
    assert_eq!(
        template["Outputs"]["RoleArn"]["Value"],
        json!({"Fn::GetAtt": ["PulumiEscRole", "Arn"]})
    );
    assert_eq!(template["Outputs"]["OidcProviderArn"]["Value"], principal);
    let properties = &role["Properties"];
    let (path, permissions_boundary, tags) = role_settings(
        &properties["Path"],
        &properties["PermissionsBoundary"],
        &properties["Tags"],
    );
    Iam {
        provider,
        role_name: role["Properties"]["RoleName"].as_str().unwrap().to_owned(),
        path,
        permissions_boundary,
        tags,
        max_session_duration: role["Properties"]["MaxSessionDuration"].as_u64().unwrap(),
        trust_policy,
        policies: strings(&role["Properties"]["ManagedPolicyArns"])
            .into_iter()
            .collect(),
    }
}

/// Pulumi YAML reads `$$` as `$`; apply that to every string so values compare as Pulumi sees them.
pub fn pulumi_unescape(value: Value) -> Value {
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

/// YAML text as a JSON value, strings exactly as the YAML parser reads them.
pub fn yaml(source: &str) -> Value {
    let yaml: serde_yaml::Value = serde_yaml::from_str(source).unwrap();
    serde_json::to_value(yaml).unwrap()
}

/// Pulumi YAML: the program, with its strings as Pulumi reads them (`$$` is `$`).
pub fn pulumi(source: &str) -> Iam {
    let program = yaml(source);
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
    let trust_policy = with_placeholder_provider(
        role["properties"]["assumeRolePolicy"]["fn::toJSON"].clone(),
        &json!("${oidcProvider.arn}"),
    );
    let role_properties = pulumi_unescape(role["properties"].clone());
    assert_eq!(program["outputs"]["roleArn"], "${escRole.arn}");
    assert_eq!(program["outputs"]["oidcProviderArn"], "${oidcProvider.arn}");
    let (path, permissions_boundary, tags) = role_settings(
        &role_properties["path"],
        &role_properties["permissionsBoundary"],
        &role_properties["tags"],
    );
    Iam {
        provider,
        role_name: role_properties["name"].as_str().unwrap().to_owned(),
        path,
        permissions_boundary,
        tags,
        max_session_duration: role_properties["maxSessionDuration"].as_u64().unwrap(),
        trust_policy: pulumi_unescape(trust_policy),
        policies,
    }
}

/// The `aws-login` settings of an ESC definition.
pub fn esc_values(definition: &Value) -> Esc {
    let oidc = &definition["values"]["aws"]["login"]["fn::open::aws-login"]["oidc"];
    Esc {
        role_arn: oidc["roleArn"].as_str().unwrap().to_owned(),
        session_name: oidc["sessionName"].as_str().unwrap().to_owned(),
        duration: oidc["duration"].as_str().unwrap().to_owned(),
        policy_arns: strings(&oidc["policyArns"]),
        subject_attributes: strings(&oidc["subjectAttributes"]),
        environment_variables: definition["values"]["environmentVariables"].clone(),
    }
}

/// ESC: the environment definition, with its strings as ESC reads them (`$$` is `$`).
pub fn esc(source: &str) -> Esc {
    esc_values(&pulumi_unescape(yaml(source)))
}
