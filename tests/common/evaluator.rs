//! The independent IAM evaluator, `@cloud-copilot/iam-simulate`'s core engine, run in Node.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::{skip, text};

/// The account every evaluated role is in.
pub const ACCOUNT: &str = "123456789012";
const EVALUATOR_MISSING: &str =
    "the independent IAM evaluator is not installed (IAM_SIMULATE_MODULES, see .ci/run)";

/// The evaluator's verdicts (`Allowed`, `ImplicitlyDenied`, ...) on `requests` to assume a role
/// in `partition` with `policy`, or `None` (test skipped) when it is not installed.
pub fn evaluate(policy: &Value, partition: &str, requests: &[Value]) -> Option<Vec<String>> {
    let Ok(modules) = std::env::var("IAM_SIMULATE_MODULES") else {
        skip(EVALUATOR_MISSING);
        return None;
    };
    let role = format!("arn:{partition}:iam::{ACCOUNT}:role/r");
    let input = json!({ "policy": policy, "role": role, "requests": requests });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/evaluator/evaluate.mjs");
    let mut child = Command::new("node")
        .arg(script)
        .env("IAM_SIMULATE_MODULES", modules)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the evaluator failed: {}",
        text(&output).1
    );
    Some(serde_json::from_slice(&output.stdout).unwrap())
}
