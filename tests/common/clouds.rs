//! The same trust in Google Cloud and Azure, judged over the tokens the AWS tests evaluate: for
//! a set of flags, the files `--cloud gcp` and `--cloud azure` write are read back (the GCP
//! condition, mapping, audiences and members from the Pulumi program, checked against the
//! Terraform file's condition; the Azure credentials from the Terraform file) and handed to
//! `tests/clouds/judge.py`, which evaluates the condition with cel-python and matches the
//! credentials by its own reading of Entra's expression language. Every token must get into
//! each cloud exactly when it gets into AWS (with its audience replaced by what the cloud's
//! tokens carry), or the cloud must have refused the flags and said why. A sample is also put
//! to `oidc-gen simulate --cloud`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::{oidc_gen, skip, text};

/// The GCP project number every test uses.
pub const PROJECT: &str = "123456789012";
/// The Entra tenant every test uses.
pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";

/// A token as a cloud sees it.
#[derive(Debug, Clone)]
pub struct CloudToken {
    /// The issuer URL.
    pub iss: String,
    /// The audience the AWS test gives it.
    pub aud: String,
    /// The subject.
    pub sub: String,
    /// Its other claims.
    pub claims: Vec<(String, String)>,
}

/// What one cloud made of one set of flags.
#[derive(Debug)]
pub struct Agreement {
    /// `gcp` or `azure`.
    pub cloud: &'static str,
    /// Tokens judged.
    pub judged: usize,
    /// Of which admitted.
    pub admitted: usize,
    /// Admitted in AWS, refused in GCP because the subject is longer than `google.subject` holds.
    pub too_long: usize,
    /// The refusal, when the cloud cannot express the trust.
    pub refused: Option<String>,
}

/// The flags each cloud needs besides the role's.
fn cloud_flags(cloud: &str) -> Vec<&'static str> {
    match cloud {
        "gcp" => vec![
            "--cloud",
            "gcp",
            "--gcp-project-number",
            PROJECT,
            "--gcp-role",
            "roles/viewer",
        ],
        _ => vec!["--cloud", "azure", "--azure-tenant-id", TENANT],
    }
}

/// The file the flags write for `cloud` in `format`, or the refusal.
fn written(dir: &Path, args: &[&str], cloud: &str, format: &str) -> Result<String, String> {
    let args = [
        args,
        &cloud_flags(cloud),
        &["--no-thumbprint", "--format", format, "--out", "-"],
    ]
    .concat();
    let output = oidc_gen(dir, &args);
    match output.status.success() {
        true => Ok(String::from_utf8(output.stdout).unwrap()),
        false => Err(text(&output).1),
    }
}

/// An HCL string literal's value (the generated files escape only as JSON does, plus `$${`).
fn hcl_string(literal: &str) -> String {
    let json: String = serde_json::from_str(literal.trim())
        .unwrap_or_else(|e| panic!("{literal} is not a plain HCL string: {e}"));
    json.replace("$${", "${").replace("%%{", "%{")
}

/// What `judge.py` needs of the GCP files.
fn gcp_spec(dir: &Path, args: &[&str]) -> Result<Value, String> {
    let program = written(dir, args, "gcp", "pulumi")?;
    let terraform = written(dir, args, "gcp", "terraform")?;
    let yaml: Value = serde_yaml::from_str(&program).unwrap();
    let unescape = |v: &Value| v.as_str().unwrap().replace("$$", "$");
    let resources = &yaml["resources"];
    let provider = &resources["poolProvider"]["properties"];
    let condition = unescape(&provider["attributeCondition"]);
    let in_terraform = terraform
        .lines()
        .find_map(|l| l.trim().strip_prefix("attribute_condition = "))
        .map(hcl_string)
        .expect("the Terraform file has a condition");
    assert_eq!(
        condition, in_terraform,
        "the Pulumi program and the Terraform file differ"
    );
    let mapping: serde_json::Map<String, Value> = provider["attributeMapping"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), unescape(v).into()))
        .collect();
    let members: Vec<String> = resources
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["type"] == "gcp:projects:IAMMember")
        .map(|r| unescape(&r["properties"]["member"]))
        .collect();
    assert!(!members.is_empty(), "no member in {program}");
    let pool = format!(
        "projects/{PROJECT}/locations/global/workloadIdentityPools/{}",
        unescape(&resources["pool"]["properties"]["workloadIdentityPoolId"])
    );
    Ok(json!({
        "issuer": unescape(&provider["oidc"]["issuerUri"]),
        "audiences": provider["oidc"]["allowedAudiences"].as_array().unwrap().iter().map(unescape).collect::<Vec<_>>(),
        "condition": condition,
        "mapping": mapping,
        "pool": pool,
        "members": members,
    }))
}

/// What `judge.py` needs of the Azure Terraform file: its credentials.
fn azure_spec(dir: &Path, args: &[&str]) -> Result<Value, String> {
    let terraform = written(dir, args, "azure", "terraform")?;
    let mut credentials: Vec<serde_json::Map<String, Value>> = Vec::new();
    let mut issuer = String::new();
    for line in terraform.lines() {
        if line.starts_with("resource \"azuread_application_federated_identity_credential\"")
            || line.starts_with(
                "resource \"azuread_application_flexible_federated_identity_credential\"",
            )
        {
            credentials.push(serde_json::Map::new());
            continue;
        }
        let Some((key, value)) = line.trim().split_once(" = ") else {
            continue;
        };
        let Some(credential) = credentials.last_mut() else {
            continue;
        };
        match key.trim() {
            "issuer" => issuer = hcl_string(value),
            "subject" => {
                credential.insert("subject".into(), hcl_string(value).into());
            }
            "claims_matching_expression" => {
                credential.insert("expression".into(), hcl_string(value).into());
            }
            "audience" => {
                credential.insert("audience".into(), hcl_string(value).into());
            }
            "audiences" => {
                let inner = value.trim().trim_start_matches('[').trim_end_matches(']');
                credential.insert("audience".into(), hcl_string(inner).into());
            }
            _ => {}
        }
    }
    assert!(!credentials.is_empty(), "no credential in {terraform}");
    Ok(json!({ "issuer": issuer, "credentials": credentials }))
}

/// The audiences an AWS policy admits.
fn aws_audiences(policy: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for statement in policy["Statement"].as_array().into_iter().flatten() {
        for keys in statement["Condition"]
            .as_object()
            .into_iter()
            .flat_map(|c| c.values())
        {
            for (key, values) in keys.as_object().into_iter().flatten() {
                if key.ends_with(":aud") {
                    let values = match values {
                        Value::Array(list) => list.clone(),
                        one => vec![one.clone()],
                    };
                    found.extend(values.iter().filter_map(|v| v.as_str().map(str::to_owned)));
                }
            }
        }
    }
    found
}

/// The audience a token carries for `cloud` in place of `aud`: a cloud's one audience, or
/// Pulumi's `aws:<org>` as `<cloud>:<org>`; an audience AWS would refuse stays as it is.
fn translate(aud: &str, aws: &[String], cloud: &str, audiences: &[String]) -> String {
    if !aws.iter().any(|a| a == aud) {
        return aud.to_owned();
    }
    if let [one] = audiences {
        return one.clone();
    }
    match aud.strip_prefix("aws:") {
        Some(org) => format!("{cloud}:{org}"),
        None => aud.to_owned(),
    }
}

/// Judges `tokens` in both clouds: each must be admitted exactly when `expected` says (its
/// verdict in AWS), or the cloud must refuse the flags. `None` when cel-python is missing.
pub fn agree(
    dir: &Path,
    args: &[&str],
    aws_policy: &Value,
    tokens: &[CloudToken],
    expected: &[bool],
    label: &str,
) -> Option<Vec<Agreement>> {
    let Ok(python) = std::env::var("CEL_PYTHON") else {
        skip("cel-python is not installed (CEL_PYTHON, see .ci/run)");
        return None;
    };
    let aws = aws_audiences(aws_policy);
    let mut agreements = Vec::new();
    for &cloud in oidc_gen::clouds::CLOUDS {
        let spec = match cloud {
            "gcp" => gcp_spec(dir, args),
            _ => azure_spec(dir, args),
        };
        let spec = match spec {
            Ok(spec) => spec,
            Err(refusal) => {
                assert!(
                    refusal.contains(&format!("--cloud {cloud} cannot admit exactly"))
                        && refusal.contains("; "),
                    "{label}: {cloud} failed without saying which clause and why: {refusal}"
                );
                agreements.push(Agreement {
                    cloud,
                    judged: 0,
                    admitted: 0,
                    too_long: 0,
                    refused: Some(refusal.trim().to_owned()),
                });
                continue;
            }
        };
        let audiences: Vec<String> = match cloud {
            "gcp" => spec["audiences"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect(),
            _ => {
                let mut list: Vec<String> = spec["credentials"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["audience"].as_str().unwrap().to_owned())
                    .collect();
                list.sort();
                list.dedup();
                list
            }
        };
        let seen: Vec<CloudToken> = tokens
            .iter()
            .map(|t| CloudToken {
                aud: translate(&t.aud, &aws, cloud, &audiences),
                ..t.clone()
            })
            .collect();
        let request = json!({
            cloud: spec,
            "tokens": seen.iter().map(|t| json!({
                "iss": t.iss, "aud": t.aud, "sub": t.sub, "claims": t.claims,
            })).collect::<Vec<_>>(),
        });
        let answers = run_judge(&python, &request);
        let mut admitted = 0;
        let mut too_long = 0;
        for ((token, answer), aws) in seen.iter().zip(&answers).zip(expected) {
            let got = answer[cloud].as_bool().unwrap();
            // Google maps sub to google.subject, which holds at most 127 bytes: a longer one
            // is refused there (the files say so), whatever the condition.
            let long = cloud == "gcp" && token.sub.len() > 127;
            too_long += usize::from(*aws && long);
            let expected = &(*aws && !long);
            assert_eq!(
                got,
                *expected,
                "{label}: {cloud} (judged by tests/clouds/judge.py) {} {token:?}, which AWS {}\nspec: {:#}",
                if got { "admits" } else { "refuses" },
                if *expected { "admits" } else { "refuses" },
                request[cloud]
            );
            admitted += usize::from(got);
        }
        simulate_sample(dir, args, cloud, &spec, &seen, expected, label);
        agreements.push(Agreement {
            cloud,
            judged: seen.len(),
            admitted,
            too_long,
            refused: None,
        });
    }
    for agreement in &agreements {
        eprintln!("{label}: {agreement:?}");
    }
    Some(agreements)
}

fn run_judge(python: &str, request: &Value) -> Vec<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clouds/judge.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "judge.py failed: {}",
        text(&output).1
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `oidc-gen simulate --cloud` on a few admitted and refused tokens of the flags' own issuer.
fn simulate_sample(
    dir: &Path,
    args: &[&str],
    cloud: &str,
    spec: &Value,
    tokens: &[CloudToken],
    expected: &[bool],
    label: &str,
) {
    let issuer = spec["issuer"].as_str().unwrap().trim_end_matches('/');
    let ours = |t: &&(usize, &CloudToken)| t.1.iss.trim_end_matches('/') == issuer;
    let indexed: Vec<(usize, &CloudToken)> = tokens.iter().enumerate().collect();
    let fits = |t: &&(usize, &CloudToken)| cloud != "gcp" || t.1.sub.len() <= 127;
    let admitted = indexed
        .iter()
        .filter(ours)
        .filter(fits)
        .filter(|(i, _)| expected[*i])
        .take(4);
    let refused = indexed
        .iter()
        .filter(ours)
        .filter(|(i, _)| !expected[*i])
        .step_by(97)
        .take(4);
    for (index, token) in admitted.chain(refused) {
        let mut command: Vec<String> = ["simulate"].iter().map(|s| s.to_string()).collect();
        command.extend(args.iter().map(|s| s.to_string()));
        command.extend(cloud_flags(cloud).iter().map(|s| s.to_string()));
        command.extend([
            "--aud".into(),
            token.aud.clone(),
            "--sub".into(),
            token.sub.clone(),
        ]);
        for (name, value) in &token.claims {
            command.extend(["--claim".into(), format!("{name}={value}")]);
        }
        let command: Vec<&str> = command.iter().map(String::as_str).collect();
        let output = oidc_gen(dir, &command);
        assert_eq!(
            output.status.code(),
            Some(if expected[*index] { 0 } else { 1 }),
            "{label}: simulate --cloud {cloud} on {token:?}: {}",
            text(&output).0
        );
    }
}
