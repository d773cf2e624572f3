//! The Pulumi YAML program against the @pulumi/aws package itself (no Pulumi CLI can run here):
//! every type token and function exists, every property name is an input of that resource, every
//! required input is set, and every `${resource.property}` reference names an output. The typings
//! come from scripts/fetch-pulumi-aws-typings.sh, in the folder PULUMI_AWS_TYPINGS names.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{fixtures, oidc_gen, skip, text};
use regex::Regex;
use serde_yaml::Value;

/// Properties of one TypeScript interface or class: name and whether it is optional.
fn members(source: &str, header: &str) -> Option<Vec<(String, bool)>> {
    let start = source.find(header)?;
    let body = &source[start + header.len()..];
    let end = body.find("\n}").unwrap_or(body.len());
    let property = Regex::new(r"(?m)^    (?:readonly )?(\w+)(\??): ").unwrap();
    Some(
        property
            .captures_iter(&body[..end])
            .map(|c| (c[1].to_owned(), &c[2] == "?"))
            .collect(),
    )
}

/// The typings folder, or `None` (test skipped) when it was not fetched.
fn typings() -> Option<PathBuf> {
    let dir = std::env::var_os("PULUMI_AWS_TYPINGS").map(PathBuf::from);
    match dir {
        Some(dir) if dir.join("package.json").is_file() => Some(dir),
        _ => {
            skip(
                "the @pulumi/aws typings are not fetched (PULUMI_AWS_TYPINGS, scripts/fetch-pulumi-aws-typings.sh)",
            );
            None
        }
    }
}

/// A Pulumi YAML token (`aws:iam:Role`, `gcp:serviceaccount:IAMMember`, `azuread:index:Application`)
/// as the file of its typings (without `.d.ts`/`.js`, below the typings folder), its class name,
/// and the full token the JavaScript declares.
fn member_of(token: &str, typings: &Path) -> (String, String, String) {
    let mut parts = token.split(':');
    let (package, module, name) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let member = format!("{}{}", name[..1].to_lowercase(), &name[1..]);
    let folder = match (package, module) {
        ("aws", module) => module.to_owned(),
        ("pulumiservice", _) => "pulumiservice".to_owned(),
        (package, "index") => package.to_owned(),
        (package, module) => format!("{package}/{module}"),
    };
    // @pulumi/gcp names some files in lowercase (serviceaccount/iammember.d.ts).
    let file = [member.clone(), member.to_lowercase()]
        .into_iter()
        .map(|file| format!("{folder}/{file}"))
        .find(|file| typings.join(format!("{file}.d.ts")).is_file())
        .unwrap_or_else(|| format!("{folder}/{member}"));
    let full = match package {
        "pulumiservice" | "azure-native" => token.to_owned(),
        _ => format!("{package}:{module}/{member}:{name}"),
    };
    (file, name.to_owned(), full)
}

/// Every problem the typings find in a Pulumi YAML program.
fn problems(program: &str, typings: &Path) -> Vec<String> {
    let program: Value = serde_yaml::from_str(program).unwrap();
    let mut problems = Vec::new();
    // Outputs each name in the program can be referenced by: resource class or invoke result.
    let mut outputs: Vec<(String, BTreeSet<String>)> = Vec::new();

    if let Some(variables) = program["variables"].as_mapping() {
        for (name, variable) in variables {
            let invoke = &variable["fn::invoke"];
            let function = invoke["function"].as_str().unwrap_or_default();
            let (member, class, full) = member_of(function, typings);
            let Ok(dts) = std::fs::read_to_string(typings.join(format!("{member}.d.ts"))) else {
                problems.push(format!("no function {function} in the package"));
                continue;
            };
            let js = std::fs::read_to_string(typings.join(format!("{member}.js"))).unwrap();
            let full = format!("\"{full}\"");
            if !js.contains(&full) {
                problems.push(format!("{function} is not the short form of {full}"));
            }
            let upper = format!("{}{}", class[..1].to_uppercase(), &class[1..]);
            let args =
                members(&dts, &format!("export interface {upper}Args {{")).unwrap_or_default();
            for (arg, _) in invoke["arguments"].as_mapping().into_iter().flatten() {
                let arg = arg.as_str().unwrap();
                if !args.iter().any(|(known, _)| known == arg) {
                    problems.push(format!("{function} has no argument {arg}"));
                }
            }
            let result =
                members(&dts, &format!("export interface {upper}Result {{")).unwrap_or_default();
            outputs.push((
                name.as_str().unwrap().to_owned(),
                result.into_iter().map(|(n, _)| n).collect(),
            ));
        }
    }

    let resources = program["resources"].as_mapping().unwrap();
    let providers: BTreeSet<String> = resources
        .iter()
        .filter(|(_, r)| r["type"] == "pulumi:providers:aws")
        .map(|(name, _)| format!("${{{}}}", name.as_str().unwrap()))
        .collect();
    let invokes = program["variables"]
        .as_mapping()
        .into_iter()
        .flatten()
        .map(|(_, v)| &v["fn::invoke"]);
    for options in resources
        .values()
        .map(|r| &r["options"])
        .chain(invokes.map(|i| &i["options"]))
    {
        if let Some(provider) = options["provider"].as_str() {
            if !providers.contains(provider) {
                problems.push(format!(
                    "provider {provider} is no pulumi:providers:aws resource"
                ));
            }
        }
    }

    for (name, resource) in resources {
        let token = resource["type"].as_str().unwrap();
        if token == "pulumi:providers:aws" {
            provider_problems(resource, typings, &mut problems);
            let dts = std::fs::read_to_string(typings.join("provider.d.ts")).unwrap();
            let class_members = members(
                &dts,
                "export declare class Provider extends pulumi.ProviderResource {",
            )
            .unwrap_or_default();
            outputs.push((
                name.as_str().unwrap().to_owned(),
                class_members.into_iter().map(|(n, _)| n).collect(),
            ));
            continue;
        }
        let (member, class, full) = member_of(token, typings);
        let Ok(dts) = std::fs::read_to_string(typings.join(format!("{member}.d.ts"))) else {
            problems.push(format!("no resource {token} in the package"));
            continue;
        };
        let js = std::fs::read_to_string(typings.join(format!("{member}.js"))).unwrap();
        if !js.contains(&format!("__pulumiType = '{full}'")) {
            problems.push(format!("{token} is not the type token {full}"));
        }
        let inputs = members(&dts, &format!("export interface {class}Args {{")).unwrap_or_default();
        let given: BTreeSet<String> = resource["properties"]
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        for property in &given {
            if !inputs.iter().any(|(known, _)| known == property) {
                problems.push(format!("{token} has no input {property}"));
            }
        }
        for (input, optional) in &inputs {
            if !optional && !given.contains(input) {
                problems.push(format!("{token} needs {input}"));
            }
        }
        let class_members = members(
            &dts,
            &format!("export declare class {class} extends pulumi.CustomResource {{"),
        )
        .unwrap_or_default();
        // Every custom resource also has the id and urn pulumi.CustomResource declares.
        let inherited = ["id", "urn"].map(str::to_owned);
        outputs.push((
            name.as_str().unwrap().to_owned(),
            class_members
                .into_iter()
                .map(|(n, _)| n)
                .chain(inherited)
                .collect(),
        ));
    }

    let reference = Regex::new(r"\$\{([\w-]+)\.(\w+)\}").unwrap();
    let text = serde_yaml::to_string(&program).unwrap();
    for capture in reference.captures_iter(&text) {
        let (name, property) = (&capture[1], &capture[2]);
        match outputs.iter().find(|(known, _)| known == name) {
            Some((_, properties)) if properties.contains(property) => {}
            Some(_) => problems.push(format!(
                "${{{name}.{property}}}: {name} has no output {property}"
            )),
            None => problems.push(format!(
                "${{{name}.{property}}}: no resource or variable {name}"
            )),
        }
    }
    problems
}

/// The problems of a `pulumi:providers:aws` resource: its token, its inputs, and the fields of
/// each `assumeRoles` item.
fn provider_problems(resource: &Value, typings: &Path, problems: &mut Vec<String>) {
    let Ok(dts) = std::fs::read_to_string(typings.join("provider.d.ts")) else {
        problems
            .push("no provider.d.ts in the typings (scripts/fetch-pulumi-aws-typings.sh)".into());
        return;
    };
    let js = std::fs::read_to_string(typings.join("provider.js")).unwrap();
    if !(js.contains("static __pulumiType = 'aws';")
        && js.contains("\"pulumi:providers:\" + Provider.__pulumiType"))
    {
        problems.push("pulumi:providers:aws is not the provider's type".into());
    }
    let inputs = members(&dts, "export interface ProviderArgs {").unwrap_or_default();
    let input_types = std::fs::read_to_string(typings.join("types/input.d.ts")).unwrap();
    let assume_role =
        members(&input_types, "export interface ProviderAssumeRole {").unwrap_or_default();
    for (property, value) in resource["properties"].as_mapping().unwrap() {
        let property = property.as_str().unwrap();
        if !inputs.iter().any(|(known, _)| known == property) {
            problems.push(format!("pulumi:providers:aws has no input {property}"));
        }
        if property == "assumeRoles" {
            for item in value.as_sequence().into_iter().flatten() {
                for (field, _) in item.as_mapping().into_iter().flatten() {
                    let field = field.as_str().unwrap();
                    if !assume_role.iter().any(|(known, _)| known == field) {
                        problems.push(format!("ProviderAssumeRole has no field {field}"));
                    }
                }
            }
        }
    }
}

fn generated_programs() -> Vec<(&'static str, String)> {
    fixtures()
        .into_iter()
        .map(|(name, args)| {
            let dir = tempfile::tempdir().unwrap();
            let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
            args.extend(["--format", "pulumi", "--out", "-"]);
            let output = oidc_gen(dir.path(), &args);
            assert!(output.status.success(), "{name}: {}", text(&output).1);
            (name, text(&output).0)
        })
        .chain([
            ("organization", spec_program("organization.yaml")),
            ("every_issuer", spec_program("every-issuer.yaml")),
        ])
        .chain(cloud_programs())
        .collect()
}

/// The programs of `--cloud gcp` and `--cloud azure`: a service account or direct roles, a new
/// or an existing app registration or a managed identity, standard and flexible credentials.
fn cloud_programs() -> Vec<(&'static str, String)> {
    const TENANT: &str = "11111111-2222-3333-4444-555555555555";
    let cases: [(&str, &[&str]); 7] = [
        (
            "gcp_service_account",
            &[
                "--org",
                "acme",
                "--env",
                "platform/prod",
                "--cloud",
                "gcp",
                "--gcp-project-number",
                "123",
                "--gcp-service-account",
                "esc@p.iam.gserviceaccount.com",
            ],
        ),
        (
            "gcp_direct_roles",
            &[
                "--github",
                "acme/app",
                "--cloud",
                "gcp",
                "--gcp-project-number",
                "123",
                "--gcp-role",
                "roles/viewer",
                "--gcp-role",
                "roles/storage.objectViewer",
            ],
        ),
        (
            "azure_new_application",
            &[
                "--github",
                "acme/app",
                "--github-ref",
                "refs/heads/main",
                "--cloud",
                "azure",
                "--azure-tenant-id",
                TENANT,
            ],
        ),
        (
            "azure_flexible",
            &[
                "--github",
                "acme@42/app@7",
                "--github",
                "acme@42/lib@8",
                "--cloud",
                "azure",
                "--azure-tenant-id",
                TENANT,
            ],
        ),
        (
            "azure_existing_application",
            &[
                "--gitlab",
                "acme/app",
                "--gitlab-ref",
                "main",
                "--gitlab-ref-type",
                "branch",
                "--cloud",
                "azure",
                "--azure-tenant-id",
                TENANT,
                "--azure-application",
                TENANT,
            ],
        ),
        (
            "azure_managed_identity",
            &[
                "--org",
                "acme",
                "--env",
                "platform/prod",
                "--env",
                "platform/dev",
                "--cloud",
                "azure",
                "--azure-tenant-id",
                TENANT,
                "--azure-identity",
                "esc-identity",
            ],
        ),
        (
            "azure_one_credential",
            &[
                "--hcp-terraform",
                "acme/infra/prod",
                "--hcp-run-phase",
                "apply",
                "--cloud",
                "azure",
                "--azure-tenant-id",
                TENANT,
                "--azure-identity",
                "tfc",
            ],
        ),
    ];
    cases
        .into_iter()
        .map(|(name, args)| {
            let dir = tempfile::tempdir().unwrap();
            let args = [
                args,
                &["--no-thumbprint", "--format", "pulumi", "--out", "-"],
            ]
            .concat();
            let output = oidc_gen(dir.path(), &args);
            assert!(output.status.success(), "{name}: {}", text(&output).1);
            (name, text(&output).0)
        })
        .collect()
}

/// The program of a spec of many accounts (`tests/fixtures/<file>`): one provider per account.
fn spec_program(file: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let spec = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let spec = spec.as_str();
    let output = oidc_gen(
        dir.path(),
        &["--config", spec, "--format", "pulumi", "--out", "out"],
    );
    assert!(output.status.success(), "{}", text(&output).1);
    std::fs::read_to_string(dir.path().join("out/pulumi/Pulumi.yaml")).unwrap()
}

#[test]
fn every_token_property_and_reference_exists_in_the_package() {
    let Some(typings) = typings() else { return };
    let package: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(typings.join("package.json")).unwrap())
            .unwrap();
    eprintln!("checking against @pulumi/aws {}", package["version"]);
    for (name, program) in generated_programs() {
        assert_eq!(problems(&program, &typings), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn a_misspelled_property_or_missing_input_is_caught() {
    let Some(typings) = typings() else { return };
    let (_, program) = generated_programs()
        .into_iter()
        .find(|(name, _)| *name == "scoped")
        .unwrap();
    let misspelled = program.replace("clientIdLists:", "clientIdList:");
    let found = problems(&misspelled, &typings);
    assert!(
        found.contains(&"aws:iam:OpenIdConnectProvider has no input clientIdList".to_owned()),
        "{found:?}"
    );
    assert!(
        found.contains(&"aws:iam:OpenIdConnectProvider needs clientIdLists".to_owned()),
        "{found:?}"
    );
    let wrong_type = program.replace("type: aws:iam:Role", "type: aws:iam:IamRole");
    assert!(!problems(&wrong_type, &typings).is_empty());
    let fleet = spec_program("organization.yaml");
    let found = problems(&fleet.replace("- roleArn:", "- role_arn:"), &typings);
    assert!(
        found.contains(&"ProviderAssumeRole has no field role_arn".to_owned()),
        "{found:?}"
    );
    let found = problems(
        &fleet.replace("provider: ${dev-aws}", "provider: ${dev}"),
        &typings,
    );
    assert!(
        found.contains(&"provider ${dev} is no pulumi:providers:aws resource".to_owned()),
        "{found:?}"
    );
    let found = problems(&fleet.replace("assumeRoles:", "assumeRole:"), &typings);
    assert!(
        found.contains(&"pulumi:providers:aws has no input assumeRole".to_owned()),
        "{found:?}"
    );
    let found = problems(
        &fleet.replace("${dev-pulumi-admin.arn}", "${dev-pulumi-admin.id2}"),
        &typings,
    );
    assert!(
        found.iter().any(|p| p.contains("no output id2")),
        "{found:?}"
    );
    let (_, creates_esc) = generated_programs()
        .into_iter()
        .find(|(name, _)| *name == "pulumi_creates_esc")
        .unwrap();
    assert!(problems(&creates_esc, &typings).is_empty());
    let found = problems(&creates_esc.replace("      yaml:", "      yml:"), &typings);
    assert!(
        found.contains(&"pulumiservice:index:Environment has no input yml".to_owned())
            && found.contains(&"pulumiservice:index:Environment needs yaml".to_owned()),
        "{found:?}"
    );
    let found = problems(
        &creates_esc.replace(
            "pulumiservice:index:Environment",
            "pulumiservice:index:EscEnvironment",
        ),
        &typings,
    );
    assert!(!found.is_empty(), "{found:?}");
    let wrong_output = program.replace("${escRole.arn}", "${escRole.roleArn}");
    assert!(
        problems(&wrong_output, &typings)
            .iter()
            .any(|p| p.contains("no output roleArn"))
    );
}
