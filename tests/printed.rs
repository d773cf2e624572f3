//! Nothing a repository or a flag holds can steer a CI log or a terminal: for arbitrary values in
//! every field oidc-gen prints (file names of arbitrary bytes, resource ids, Sids, condition keys,
//! suppression reasons, flag values, the contents of a file `--check` compares), no line of what
//! `lint`, `simulate`, `--check` and generation print starts with `::` (a runner's command), no
//! control or invisible character is left raw, and JSON and SARIF stay valid and carry the exact
//! value.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::Output;

use common::oidc_gen_command;
use oidc_gen::shown::is_hidden;
use proptest::prelude::*;

/// What a CI log must never see: a line that starts a command, or a raw control character.
fn assert_inert(output: &Output, what: &str) {
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        for line in text.split('\n') {
            assert!(
                !line.trim_start().starts_with("::"),
                "{what}: {stream} has a line starting a runner command: {line:?}"
            );
            assert!(
                !line.contains(is_hidden),
                "{what}: {stream} has a raw control character: {line:?}"
            );
        }
    }
    assert_ne!(output.status.code(), Some(101), "{what}: it panicked");
}

/// Values made of what attacks a log: commands, escapes, line ends, bidi overrides, and any
/// character at all.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("::add-mask::error".to_owned()),
        Just("x\n::error file=README.md::owned\n".to_owned()),
        Just("\u{1b}[2J\u{1b}]0;title\u{7}\r::stop-commands::t".to_owned()),
        Just("abc\u{202e}nosj.exe\u{2066}".to_owned()),
        r"[a-z:\n\r\t\u{1b}\u{7f}\u{85}\u{202e}\u{2028} ]{1,24}",
        any::<String>().prop_filter("not empty", |s| !s.is_empty()),
    ]
}

/// A file name of arbitrary bytes (no `/`, no NUL), not UTF-8 as often as not.
fn file_name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"f\n::error::x\n.json".to_vec()),
        Just(b"::add-mask::error.json".to_vec()),
        proptest::collection::vec(1u8..=255, 1..40)
            .prop_map(|bytes| bytes
                .into_iter()
                .filter(|b| *b != b'/')
                .collect::<Vec<u8>>())
            .prop_map(|mut bytes| {
                bytes.extend(b".json");
                bytes
            }),
    ]
}

/// A CloudFormation template whose role, statement, condition key and suppression reason are
/// `value`.
fn template(value: &str) -> String {
    serde_json::json!({
        "Resources": {
            value: {
                "Type": "AWS::IAM::Role",
                "Metadata": {"oidc-gen": {"suppress": [{"rule": "OIDC103", "reason": value}]}},
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Statement": [{
                            "Sid": value,
                            "Effect": "Allow",
                            "Action": "sts:AssumeRoleWithWebIdentity",
                            "Principal": {"Federated": format!("arn:aws:iam::1:oidc-provider/{value}")},
                            "Condition": {
                                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                                "StringLike": {
                                    "token.actions.githubusercontent.com:sub": value,
                                    format!("{value}:sub"): "*",
                                },
                            },
                        }],
                    },
                },
            },
        },
    })
    .to_string()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(24),
        ..ProptestConfig::default()
    })]

    /// lint in every format, on a file with an arbitrary name whose every printed field is
    /// `value`; JSON and SARIF keep the exact value and a lossy file name, and never panic.
    #[test]
    fn lint_prints_nothing_that_steers_a_log(value in hostile(), name in file_name()) {
        let dir = tempfile::tempdir().unwrap();
        let name = OsStr::from_bytes(&name);
        std::fs::write(dir.path().join(name), template(&value)).unwrap();
        for format in ["text", "json", "sarif"] {
            let output = oidc_gen_command(dir.path(), &["lint", "--format", format, "--"])
                .arg(name)
                .arg("missing\u{1b}[31m.json")
                .output()
                .unwrap();
            assert_inert(&output, &format!("lint --format {format}"));
            // Every value was escaped where the report composed it: the last door had nothing
            // to neutralize, so no value broke a line of its own.
            let printed = String::from_utf8_lossy(&output.stdout);
            prop_assert!(
                !printed.lines().any(|line| line.trim_start().starts_with("\\x3a")),
                "a value broke a line: {}", printed
            );
            prop_assert_eq!(output.status.code(), Some(2), "the missing file is named");
            if format != "text" {
                let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
                let text = report.to_string();
                prop_assert!(text.contains(&serde_json::to_string(&value).unwrap()[1..]) || value.is_empty());
                if format == "json" {
                    let path = report["statements"][0]["path"].as_str().unwrap();
                    prop_assert_eq!(path, name.to_string_lossy());
                    prop_assert_eq!(report["statements"][0]["resource"].as_str(), Some(value.as_str()));
                }
            }
        }
    }

    /// simulate, with the token's claims and a policy file's Sid arbitrary.
    #[test]
    fn simulate_prints_nothing_that_steers_a_log(value in hostile()) {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.json");
        std::fs::write(&policy, serde_json::json!({"Statement": [{
            "Sid": value, "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/api.pulumi.com/oidc"},
            "Condition": {"StringEquals": {"api.pulumi.com/oidc:aud": value, "api.pulumi.com/oidc:sub": value}}}]})
            .to_string()).unwrap();
        let runs: [&[&str]; 3] = [
            &["simulate", "--aud", &value, "--sub", &value, "--org", "acme"],
            &["simulate", "--aud", &value, "--sub", "x", "--issuer", "https://api.pulumi.com/oidc", "--policy", "policy.json"],
            &["simulate", "--aud", "acme", "--sub", &value, "--claim", &format!("{value}={value}"), "--org", &value],
        ];
        for args in runs {
            let output = common::oidc_gen(dir.path(), args);
            assert_inert(&output, "simulate");
            let printed = String::from_utf8_lossy(&output.stdout);
            prop_assert!(
                !printed.lines().any(|line| line.trim_start().starts_with("\\x3a")),
                "a value broke a line: {}", printed
            );
        }
    }

    /// Generation, its errors and `--check`'s diff of a committed file whose contents and name
    /// are arbitrary.
    #[test]
    fn generation_and_check_print_nothing_that_steers_a_log(value in hostile()) {
        let dir = tempfile::tempdir().unwrap();
        let base = ["--org", "acme", "--account-id", "123456789012", "--no-thumbprint"];
        for flag in ["--org", "--env", "--github", "--tag", "--name", "--format", "--issuer", "--out", "--config"] {
            let mut args = base.to_vec();
            if flag == "--org" {
                args.drain(..2);
            }
            let tag = format!("{value}={value}");
            args.extend([flag, if flag == "--tag" { &tag } else { &value }]);
            if flag != "--out" {
                args.extend(["--out", "-"]);
            }
            let output = common::oidc_gen(dir.path(), &args);
            assert_inert(&output, flag);
        }
        // --check compares a committed file that holds anything.
        let out = dir.path().join("out");
        let generated = common::oidc_gen(dir.path(), &[&base[..], &["--out", "out"]].concat());
        prop_assert!(generated.status.success());
        std::fs::write(out.join("terraform/main.tf"), format!("{value}\n::error::x\n{value}")).unwrap();
        std::fs::write(out.join("cloudformation").join(format!("x{}.json", value.replace(['/', '\0'], ""))), &value).unwrap();
        let output = common::oidc_gen(dir.path(), &[&base[..], &["--out", "out", "--check"]].concat());
        prop_assert_eq!(output.status.code(), Some(1));
        assert_inert(&output, "--check");
    }
}

/// A file name that is not UTF-8 is reported lossily in every format, never a panic.
#[test]
fn a_file_name_that_is_not_utf8_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let name = OsStr::from_bytes(b"bad\xff\xfe.json");
    std::fs::write(dir.path().join(name), template("role")).unwrap();
    for format in ["text", "json", "sarif"] {
        let output = oidc_gen_command(dir.path(), &["lint", "--format", format, "--"])
            .arg(name)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "{format}: {}",
            common::text(&output).1
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("bad\u{fffd}\u{fffd}.json")
                || String::from_utf8_lossy(&output.stdout).contains("bad%FF%FE.json"),
            "{format}"
        );
    }
}
