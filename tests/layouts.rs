//! `oidc-gen lint` on code as people write it: the layouts under `tests/layouts/` (modules over
//! many files, tfvars, functions, module calls, CloudFormation with parameters, conditions and
//! StackSets, CDK output, account dumps, Pulumi YAML, state and plans), written from patterns
//! found in public repositories. Each layout's `expected.json` gives, for every role, the rules
//! it must trip (exactly: a safe role gets no error), words lint must say, and tokens: one a
//! dangerous role admits (proven by `simulate` and by the independent IAM evaluator), one a safe
//! role refuses.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::evaluator::{ACCOUNT, evaluate};
use common::{oidc_gen, text};
use oidc_gen::lint::{self, unknown};
use oidc_gen::simulate::{self, Token, Verdict};
use serde_json::{Value, json};

fn layouts() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layouts");
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    found.sort();
    found
}

/// A token of `expected.json`: `{"iss", "aud", "sub", "claims"}`.
fn token(value: &Value) -> (String, Token) {
    let field = |name: &str| value[name].as_str().unwrap().to_owned();
    let claims: BTreeMap<String, String> = value["claims"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    (
        field("iss"),
        Token {
            iss: None,
            aud: field("aud"),
            sub: field("sub"),
            claims,
        },
    )
}

/// A role's policy as deployed in the evaluator's account: a provider ARN lint could not know
/// names the token's issuer, any other unknown part is written as the file spells it. A public
/// issuer AWS has built in (`accounts.google.com`) is written as a provider of its own: neither
/// evaluator models the built-in ones, and the conditions are what decides.
fn deployed(policy: &Value, issuer: &str) -> Value {
    match policy {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let provider = |arn: &Value| match arn {
                        Value::String(arn) if unknown::in_text(arn) || !arn.starts_with("arn:") => {
                            json!(format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}"))
                        }
                        other => deployed(other, issuer),
                    };
                    let value = match (key.as_str(), value) {
                        ("Federated", Value::Array(arns)) => {
                            Value::Array(arns.iter().map(provider).collect())
                        }
                        ("Federated", arn) => provider(arn),
                        _ => deployed(value, issuer),
                    };
                    (unknown::display(key), value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|i| deployed(i, issuer)).collect()),
        Value::String(s) => Value::String(unknown::display(s)),
        other => other.clone(),
    }
}

/// The request the independent evaluator judges for a token, from the issuer's OIDC provider.
fn request(issuer: &str, token: &Token) -> Value {
    let mut context = serde_json::Map::new();
    context.insert(format!("{issuer}:aud"), token.aud.clone().into());
    context.insert(format!("{issuer}:sub"), token.sub.clone().into());
    for (name, value) in &token.claims {
        context.insert(format!("{issuer}:{name}"), value.clone().into());
    }
    json!({
        "principal": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}"),
        "context": context,
    })
}

#[test]
fn every_layout_lints_as_iam_judges_it() {
    let mut roles = 0;
    let mut proven = 0;
    let layouts = layouts();
    for layout in &layouts {
        let name = layout.file_name().unwrap().to_string_lossy().into_owned();
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(layout.join("expected.json")).unwrap())
                .unwrap();
        let args: Vec<String> = expected["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        let mut command: Vec<&str> = vec!["lint", "--format", "json"];
        command.extend(args.iter().map(String::as_str));
        command.push(".");
        let output = oidc_gen(layout, &command);
        let (stdout, stderr) = text(&output);
        let report: Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{name}: {e}: {stderr}"));
        assert_eq!(report["unreadable"], json!([]), "{name}");

        // Every role lint read, with its rules and its words.
        let mut found: BTreeMap<String, (BTreeSet<String>, Vec<String>)> = BTreeMap::new();
        for statement in report["statements"].as_array().unwrap() {
            let entry = found
                .entry(statement["resource"].as_str().unwrap().to_owned())
                .or_default();
            entry
                .1
                .push(statement["admits"].as_str().unwrap().to_owned());
        }
        for finding in report["findings"].as_array().unwrap() {
            let entry = found
                .entry(finding["resource"].as_str().unwrap().to_owned())
                .or_default();
            entry.0.insert(finding["rule"].as_str().unwrap().to_owned());
            entry
                .1
                .push(finding["message"].as_str().unwrap().to_owned());
        }
        let wanted = expected["roles"].as_object().unwrap();
        assert_eq!(
            found.keys().collect::<BTreeSet<_>>(),
            wanted.keys().collect::<BTreeSet<_>>(),
            "{name}: the roles read"
        );
        let severity = |rule: &str| lint::RULES.iter().find(|r| r.id == rule).unwrap().severity;
        let mut fails = false;
        for (resource, verdict) in wanted {
            roles += 1;
            let (rules, words) = &found[resource];
            let rules_wanted: BTreeSet<String> = verdict["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_owned())
                .collect();
            assert_eq!(rules, &rules_wanted, "{name}: {resource}: {words:#?}");
            let says = verdict["says"].as_str().unwrap();
            assert!(
                words.iter().any(|w| w.contains(says)),
                "{name}: {resource} does not say {says:?}: {words:#?}"
            );
            fails |= rules.iter().any(|r| severity(r) >= lint::Severity::Warning);
            // A dangerous role is an error; a role with no finding above a note is safe and
            // must refuse what it is not meant to admit.
            let dangerous = rules.iter().any(|r| severity(r) == lint::Severity::Error);
            assert_eq!(
                dangerous,
                verdict.get("escape").is_some() || rules.contains("OIDC005"),
                "{name}: {resource}: an error must be proven by a token it admits"
            );
        }
        assert_eq!(
            output.status.code(),
            Some(if fails { 1 } else { 0 }),
            "{name}: {stderr}"
        );

        // The tokens, against the policies as lint read them.
        let paths = [layout.join(".")];
        let options = lint::Options {
            terraform: lint::Inputs {
                vars: args
                    .chunks(2)
                    .filter(|pair| pair[0] == "--var")
                    .map(|pair| {
                        let (k, v) = pair[1].split_once('=').unwrap();
                        (k.to_owned(), v.to_owned())
                    })
                    .collect(),
                var_files: args
                    .chunks(2)
                    .filter(|pair| pair[0] == "--var-file")
                    .map(|pair| layout.join(&pair[1]))
                    .collect(),
            },
            parameters: Vec::new(),
        };
        let policies: BTreeMap<String, Value> = lint::find(&paths, &options)
            .files
            .into_iter()
            .flat_map(|(_, contents)| contents.unwrap().roles)
            .map(|role| (role.resource, role.policy))
            .collect();
        for (resource, verdict) in wanted {
            for (key, admitted) in [("escape", true), ("refuses", false)] {
                let Some(wanted_token) = verdict.get(key) else {
                    continue;
                };
                let (issuer, token) = token(wanted_token);
                let policy = deployed(&policies[resource], &issuer);
                // simulate knows a Federated principal, not Principal *.
                if policy.pointer("/Statement/0/Principal/Federated").is_some() {
                    let verdict = simulate::evaluate(&policy, &issuer, &token).unwrap();
                    assert_eq!(
                        matches!(verdict, Verdict::Allow { .. }),
                        admitted,
                        "{name}: {resource}: simulate says {verdict:?} for {token:?}"
                    );
                }
                if let Some(answers) = evaluate(&policy, "aws", &[request(&issuer, &token)]) {
                    assert_eq!(
                        answers[0] == "Allowed",
                        admitted,
                        "{name}: {resource}: the independent evaluator says {} for {token:?}\n{policy:#}",
                        answers[0]
                    );
                    proven += 1;
                }
            }
        }
    }
    assert!(
        layouts.len() >= 15 && roles >= 60,
        "{} layouts, {roles} roles",
        layouts.len()
    );
    eprintln!(
        "{} layouts, {roles} roles, {proven} tokens judged by the evaluator",
        layouts.len()
    );
}
