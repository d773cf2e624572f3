//! A spec of many accounts rolled out for real, against moto's Organizations: an organizational
//! unit with three member accounts, one of which has the OIDC provider already. The StackSet's
//! member template is deployed to the unit with the StackSet's own settings; the Terraform root
//! module is applied across the accounts. In each account, what was created is read back through
//! `sts:AssumeRole` and must be what was generated.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::aws::{Moto, Terraform, normalized_policy};
use common::{artifacts, oidc_gen, text};
use serde_json::{Value, json};

const SPEC: &str = include_str!("fixtures/organization.yaml");
const ISSUER: &str = "api.pulumi.com/oidc";
/// The thumbprint of the provider the `prod` account has before the rollout.
const EXISTING_THUMBPRINT: &str = "0123456789abcdef0123456789abcdef01234567";

/// An organization in moto: one unit and its member accounts, by name.
struct Organization {
    unit: String,
    accounts: Vec<(&'static str, String)>,
}

impl Organization {
    /// Creates the organization, the unit and the accounts `dev`, `staging` and `prod`, and gives
    /// `prod` an OIDC provider for the issuer.
    fn create(moto: &Moto) -> Self {
        moto.aws(&[
            "organizations",
            "create-organization",
            "--feature-set",
            "ALL",
        ]);
        let root = moto.aws(&["organizations", "list-roots"])["Roots"][0]["Id"]
            .as_str()
            .unwrap()
            .to_owned();
        let unit = moto.aws(&[
            "organizations",
            "create-organizational-unit",
            "--parent-id",
            &root,
            "--name",
            "pulumi",
        ])["OrganizationalUnit"]["Id"]
            .as_str()
            .unwrap()
            .to_owned();
        let accounts = ["dev", "staging", "prod"]
            .into_iter()
            .map(|name| {
                let email = format!("{name}@example.com");
                let created = moto.aws(&[
                    "organizations",
                    "create-account",
                    "--email",
                    &email,
                    "--account-name",
                    name,
                ]);
                let id = created["CreateAccountStatus"]["AccountId"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                moto.aws(&[
                    "organizations",
                    "move-account",
                    "--account-id",
                    &id,
                    "--source-parent-id",
                    &root,
                    "--destination-parent-id",
                    &unit,
                ]);
                (name, id)
            })
            .collect();
        let organization = Organization { unit, accounts };
        moto.aws_as(
            &moto.assume(organization.id("prod")),
            &[
                "iam",
                "create-open-id-connect-provider",
                "--url",
                &format!("https://{ISSUER}"),
                "--client-id-list",
                "acme",
                "aws:acme",
                "--thumbprint-list",
                EXISTING_THUMBPRINT,
            ],
        );
        organization
    }

    fn id(&self, name: &str) -> &str {
        &self.accounts.iter().find(|(n, _)| *n == name).unwrap().1
    }

    /// The fixture spec with this organization's account ids and unit.
    fn spec(&self) -> String {
        SPEC.replace("111111111111", self.id("dev"))
            .replace("222222222222", self.id("staging"))
            .replace("333333333333", self.id("prod"))
            .replace("ou-abcd-12345678", &self.unit)
    }
}

/// Generates the spec's files into `dir/out`.
fn generate(dir: &Path, spec: &str) {
    std::fs::write(dir.join("oidc-gen.yaml"), spec).unwrap();
    let output = oidc_gen(dir, &["--config", "oidc-gen.yaml", "--out", "out"]);
    assert!(output.status.success(), "{}", text(&output).1);
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(value: &Value) -> BTreeSet<String> {
    artifacts::strings(value).into_iter().collect()
}

/// Checks every account against the generated member template: one provider for the issuer
/// (the one `prod` had), and every role with its trust policy (naming that account's provider),
/// attachments, boundary, path, tags and longest session.
fn read_back(moto: &Moto, organization: &Organization, member: &Value) {
    let roles: Vec<&Value> = member["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::IAM::Role")
        .map(|r| &r["Properties"])
        .collect();
    assert_eq!(roles.len(), 2);
    for (name, account) in &organization.accounts {
        let credentials = moto.assume(account);
        let aws = |args: &[&str]| moto.aws_as(&credentials, args);
        let providers = aws(&["iam", "list-open-id-connect-providers"]);
        let arns: Vec<&str> = providers["OpenIDConnectProviderList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["Arn"].as_str().unwrap())
            .collect();
        let provider_arn = format!("arn:aws:iam::{account}:oidc-provider/{ISSUER}");
        assert_eq!(arns, [provider_arn.as_str()], "{name}: one provider");
        let provider = aws(&[
            "iam",
            "get-open-id-connect-provider",
            "--open-id-connect-provider-arn",
            &provider_arn,
        ]);
        assert_eq!(provider["Url"], ISSUER, "{name}");
        assert_eq!(
            strings(&provider["ClientIDList"]),
            ["acme", "aws:acme"].map(String::from).into(),
            "{name}"
        );
        let kept = provider["ThumbprintList"] == json!([EXISTING_THUMBPRINT]);
        assert_eq!(
            kept,
            *name == "prod",
            "{name}: the existing provider is kept"
        );

        for generated in &roles {
            let role_name = generated["RoleName"].as_str().unwrap();
            let role = aws(&["iam", "get-role", "--role-name", role_name])["Role"].clone();
            let mut policy = generated["AssumeRolePolicyDocument"].clone();
            for statement in policy["Statement"].as_array_mut().unwrap() {
                statement["Principal"]["Federated"] = json!(provider_arn);
            }
            assert_eq!(
                normalized_policy(&role["AssumeRolePolicyDocument"]),
                normalized_policy(&policy),
                "{name}/{role_name}: the trust policy"
            );
            let path = generated["Path"].as_str().unwrap_or("/");
            assert_eq!(role["Path"], path, "{name}/{role_name}");
            assert_eq!(
                role["Arn"],
                format!("arn:aws:iam::{account}:role{path}{role_name}")
            );
            assert_eq!(
                role["MaxSessionDuration"], generated["MaxSessionDuration"],
                "{name}/{role_name}"
            );
            assert_eq!(
                role["PermissionsBoundary"]["PermissionsBoundaryArn"],
                generated["PermissionsBoundary"],
                "{name}/{role_name}"
            );
            let tags = |tags: &Value| -> BTreeSet<(String, String)> {
                tags.as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| {
                        (
                            t["Key"].as_str().unwrap().into(),
                            t["Value"].as_str().unwrap().into(),
                        )
                    })
                    .collect()
            };
            assert_eq!(
                tags(&role["Tags"]),
                tags(&generated["Tags"]),
                "{name}/{role_name}"
            );
            let attached = aws(&[
                "iam",
                "list-attached-role-policies",
                "--role-name",
                role_name,
            ]);
            let attached: BTreeSet<String> = attached["AttachedPolicies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["PolicyArn"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(
                attached,
                strings(&generated["ManagedPolicyArns"]),
                "{name}/{role_name}"
            );
        }
    }
    // What the spec says, checked once against the spec itself rather than the template.
    let admin = moto.aws_as(
        &moto.assume(organization.id("staging")),
        &["iam", "get-role", "--role-name", "pulumi-admin"],
    )["Role"]
        .clone();
    assert_eq!(admin["Path"], "/pulumi/");
    assert_eq!(admin["MaxSessionDuration"], 7200);
    assert_eq!(
        admin["PermissionsBoundary"]["PermissionsBoundaryArn"],
        "arn:aws:iam::aws:policy/PowerUserAccess"
    );
}

#[test]
fn the_stack_set_deploys_the_member_template_to_every_account_of_the_unit() {
    let Some(moto) = Moto::start_with_cloudformation() else {
        return;
    };
    let organization = Organization::create(&moto);
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), &organization.spec());
    let stack_set = read_json(&dir.path().join("out/cloudformation/stackset.json"));
    let member = read_json(&dir.path().join("out/cloudformation/template.json"));
    let resource = &stack_set["Resources"]["PulumiOidcStackSet"];
    assert_eq!(resource["Type"], "AWS::CloudFormation::StackSet");
    let properties = &resource["Properties"];
    assert_eq!(properties["PermissionModel"], "SERVICE_MANAGED");
    assert_eq!(properties["AutoDeployment"]["Enabled"], true);
    assert_eq!(properties["Capabilities"], json!(["CAPABILITY_NAMED_IAM"]));
    let body: Value = serde_json::from_str(properties["TemplateBody"].as_str().unwrap()).unwrap();
    assert_eq!(body, member, "the StackSet carries the member template");

    // The StackSet as the StackSet resource would create it, from its own values.
    let name = properties["StackSetName"].as_str().unwrap();
    let auto = properties["AutoDeployment"].to_string();
    let parameters = properties["Parameters"].to_string();
    let capabilities: Vec<&str> = properties["Capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let mut create = vec![
        "cloudformation",
        "create-stack-set",
        "--stack-set-name",
        name,
        "--template-body",
        properties["TemplateBody"].as_str().unwrap(),
        "--permission-model",
        properties["PermissionModel"].as_str().unwrap(),
        "--auto-deployment",
        &auto,
        "--parameters",
        &parameters,
        "--capabilities",
    ];
    create.extend(capabilities);
    moto.aws(&create);
    let groups = properties["StackInstancesGroup"].as_array().unwrap();
    for group in groups {
        let targets = group["DeploymentTargets"].to_string();
        let overrides = group["ParameterOverrides"].to_string();
        let mut args = vec![
            "cloudformation",
            "create-stack-instances",
            "--stack-set-name",
            name,
            "--deployment-targets",
            &targets,
            "--regions",
        ];
        let regions: Vec<&str> = group["Regions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(regions, ["us-east-1"], "IAM is global: one region");
        args.extend(regions);
        if !group["ParameterOverrides"].is_null() {
            args.extend(["--parameter-overrides", &overrides]);
        }
        moto.aws(&args);
    }
    let instances = moto.aws(&[
        "cloudformation",
        "list-stack-instances",
        "--stack-set-name",
        name,
    ]);
    let mut deployed: Vec<&str> = instances["Summaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert_eq!(
                i["StackInstanceStatus"]["DetailedStatus"], "SUCCEEDED",
                "{i}"
            );
            i["Account"].as_str().unwrap()
        })
        .collect();
    deployed.sort();
    let mut expected: Vec<&str> = organization
        .accounts
        .iter()
        .map(|(_, id)| id.as_str())
        .collect();
    expected.sort();
    assert_eq!(
        deployed, expected,
        "one stack instance per account of the unit"
    );

    read_back(&moto, &organization, &member);
}

#[test]
fn terraform_applies_the_root_module_across_the_accounts() {
    let Some(moto) = Moto::start() else { return };
    let organization = Organization::create(&moto);
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), &organization.spec());
    let Some(mut terraform) = Terraform::new(&dir.path().join("out/terraform")) else {
        return;
    };
    terraform.use_moto_environment(&moto);
    terraform.ok(&["init", "-backend=false"]);
    terraform.ok(&["validate"]);
    terraform.ok(&["apply", "-auto-approve"]);
    let member = read_json(&dir.path().join("out/cloudformation/template.json"));
    read_back(&moto, &organization, &member);

    let outputs: Value = serde_json::from_str(&terraform.ok(&["output", "-json"])).unwrap();
    for (name, account) in &organization.accounts {
        assert_eq!(
            outputs["role_arns"]["value"][name]["pulumi-admin"],
            format!("arn:aws:iam::{account}:role/pulumi/pulumi-admin")
        );
        assert_eq!(
            outputs["oidc_provider_arns"]["value"][name],
            format!("arn:aws:iam::{account}:oidc-provider/{ISSUER}")
        );
        // Terraform's ESC definition is the committed ESC file, with the ARN it created.
        let esc_file = dir.path().join(format!("out/esc/{name}/pulumi-admin.yaml"));
        let file: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(esc_file).unwrap()).unwrap();
        let output: serde_yaml::Value = serde_yaml::from_str(
            outputs["esc_environments"]["value"][name]["pulumi-admin"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(file, output, "{name}");
    }

    let plan = terraform.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "a second plan changes nothing:\n{}",
        text(&plan).0
    );
    terraform.ok(&["destroy", "-auto-approve"]);
    for (name, account) in &organization.accounts {
        let credentials = moto.assume(account);
        let roles = moto.aws_as(&credentials, &["iam", "list-roles"]);
        let left: Vec<&str> = roles["Roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["RoleName"].as_str().unwrap())
            .collect();
        assert_eq!(left, ["OrganizationAccountAccessRole"], "{name}");
        let providers = moto.aws_as(&credentials, &["iam", "list-open-id-connect-providers"]);
        let count = providers["OpenIDConnectProviderList"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(
            count,
            usize::from(*name == "prod"),
            "{name}: only the existing provider is left"
        );
    }
}

/// A spec of every issuer (Pulumi Cloud and each CI system), applied with Terraform across two
/// member accounts: in each, one provider per issuer with its client IDs, and every role's stored
/// trust policy the member template's, naming that account's provider of the role's issuer.
#[test]
fn a_spec_of_every_issuer_applies_across_the_accounts() {
    let Some(moto) = Moto::start() else { return };
    let organization = Organization::create(&moto);
    let spec = include_str!("fixtures/every-issuer.yaml")
        .replace("111111111111", organization.id("dev"))
        .replace("222222222222", organization.id("staging"))
        .replace("ou-abcd-12345678", &organization.unit);
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), &spec);
    let Some(mut terraform) = Terraform::new(&dir.path().join("out/terraform")) else {
        return;
    };
    terraform.use_moto_environment(&moto);
    terraform.ok(&["init", "-backend=false"]);
    terraform.ok(&["validate"]);
    terraform.ok(&["apply", "-auto-approve"]);
    let member = read_json(&dir.path().join("out/cloudformation/template.json"));
    let resources = member["Resources"].as_object().unwrap();
    // Each provider of the template: its logical id, its URL without https:// and client IDs.
    let providers: Vec<(&str, &str, BTreeSet<String>)> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::IAM::OIDCProvider")
        .map(|(id, r)| {
            let url = r["Properties"]["Url"].as_str().unwrap();
            (
                id.as_str(),
                url.trim_start_matches("https://"),
                strings(&r["Properties"]["ClientIdList"]),
            )
        })
        .collect();
    assert_eq!(providers.len(), 6);
    let outputs: Value = serde_json::from_str(&terraform.ok(&["output", "-json"])).unwrap();
    for name in ["dev", "staging"] {
        let account = organization.id(name);
        let credentials = moto.assume(account);
        let arn = |host: &str| format!("arn:aws:iam::{account}:oidc-provider/{host}");
        let listed = moto.aws_as(&credentials, &["iam", "list-open-id-connect-providers"]);
        let listed: BTreeSet<String> = listed["OpenIDConnectProviderList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["Arn"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            listed,
            providers.iter().map(|(_, host, _)| arn(host)).collect(),
            "{name}"
        );
        for (_, host, client_ids) in &providers {
            let provider = moto.aws_as(
                &credentials,
                &[
                    "iam",
                    "get-open-id-connect-provider",
                    "--open-id-connect-provider-arn",
                    &arn(host),
                ],
            );
            assert_eq!(
                &strings(&provider["ClientIDList"]),
                client_ids,
                "{name} {host}"
            );
            assert_eq!(
                outputs["oidc_provider_arns"]["value"][name][host],
                arn(host),
                "{name}"
            );
        }
        for role in resources.values().filter(|r| r["Type"] == "AWS::IAM::Role") {
            let role_name = role["Properties"]["RoleName"].as_str().unwrap();
            let mut policy = role["Properties"]["AssumeRolePolicyDocument"].clone();
            for statement in policy["Statement"].as_array_mut().unwrap() {
                let logical_id = statement["Principal"]["Federated"]["Fn::If"][1]["Ref"].clone();
                let (_, host, _) = providers
                    .iter()
                    .find(|(id, _, _)| *id == logical_id)
                    .unwrap();
                statement["Principal"]["Federated"] = json!(arn(host));
            }
            let stored = moto.aws_as(&credentials, &["iam", "get-role", "--role-name", role_name]);
            assert_eq!(
                normalized_policy(&stored["Role"]["AssumeRolePolicyDocument"]),
                normalized_policy(&policy),
                "{name} {role_name}"
            );
        }
    }
    let plan = terraform.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "a second plan changes nothing:\n{}",
        text(&plan).0
    );
    terraform.ok(&["destroy", "-auto-approve"]);
    for name in ["dev", "staging"] {
        let credentials = moto.assume(organization.id(name));
        let providers = moto.aws_as(&credentials, &["iam", "list-open-id-connect-providers"]);
        assert_eq!(providers["OpenIDConnectProviderList"], json!([]), "{name}");
    }
}
