//! Property tests for every parser of what a user hands oidc-gen: random and mutated specs,
//! policies, tokens and manifests never make it panic, and are either used or refused with exit
//! code 2 (the binary: 0, 1 or 2).

mod common;

use base64::Engine;
use common::{oidc_gen, text};
use oidc_gen::output::{self, Options};
use oidc_gen::render::{Format, RenderedFile};
use oidc_gen::simulate::{self, Token};
use proptest::prelude::*;

const SPEC: &str = include_str!("fixtures/organization.yaml");

const POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "EscNamedProjects", "Effect": "Allow",
  "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"},
  "Action": "sts:AssumeRoleWithWebIdentity",
  "Condition": {"StringEquals": {"api.pulumi.com/oidc:aud": ["aws:acme"]},
    "StringLike": {"api.pulumi.com/oidc:sub": ["pulumi:environments:org:acme:env:*/*"]}}}]}"#;

const CLAIMS: &str = r#"{"iss": "https://api.pulumi.com/oidc", "aud": "aws:acme",
  "sub": "pulumi:environments:org:acme:env:platform/prod", "exp": 1}"#;

/// Pieces that YAML and JSON parsers treat specially.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("[".repeat(200)),
        Just("{".to_owned()),
        Just("- ".to_owned()),
        Just(": ".to_owned()),
        Just("\n  ".to_owned()),
        Just("\t".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("\0".to_owned()),
        Just("!!binary ".to_owned()),
        Just("<<: *a\n".to_owned()),
        Just("\"".to_owned()),
        Just("\\u0000".to_owned()),
        Just("1e999".to_owned()),
        Just("-1".to_owned()),
        any::<String>(),
    ]
}

/// `text` with up to four random edits: a piece inserted, a range deleted, a range repeated.
fn mutated(text: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(
        (0usize..3, any::<prop::sample::Index>(), 0usize..40, token()),
        0..4,
    )
    .prop_map(move |edits| {
        let mut text = text.to_owned();
        for (kind, at, len, piece) in edits {
            let mut at = at.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + len).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            match kind {
                0 => text.insert_str(at, &piece),
                1 => text.replace_range(at..end, ""),
                _ => {
                    let copy = text[at..end].to_owned();
                    text.insert_str(end, &copy);
                }
            }
        }
        text
    })
}

fn refused_with_2(error: oidc_gen::Error) -> Result<(), TestCaseError> {
    prop_assert_eq!(error.exit_code(), 2, "{}", error);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::proptest_cases(400)))]

    #[test]
    fn a_mutated_spec_is_used_or_refused(text in prop_oneof![mutated(SPEC), any::<String>()]) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oidc-gen.yaml");
        std::fs::write(&path, &text).unwrap();
        if let Err(error) = oidc_gen::spec::load(&path) {
            refused_with_2(error)?;
        }
    }

    #[test]
    fn a_mutated_policy_is_evaluated_or_refused(
        text in prop_oneof![mutated(POLICY), any::<String>()],
        sub in prop_oneof![Just("pulumi:environments:org:acme:env:a/b".to_owned()), any::<String>()],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.json");
        std::fs::write(&path, &text).unwrap();
        let policy = match simulate::load_policy(&path) {
            Ok(policy) => policy,
            Err(error) => return refused_with_2(error),
        };
        let token = Token { iss: None, aud: "aws:acme".into(), sub, claims: Default::default() };
        if let Err(error) = simulate::evaluate(&policy, "api.pulumi.com/oidc", &token) {
            refused_with_2(error)?;
        }
    }

    #[test]
    fn a_mutated_token_is_decoded_or_refused(
        claims in prop_oneof![mutated(CLAIMS), any::<String>()],
        header in prop_oneof![Just("eyJhbGciOiJSUzI1NiJ9".to_owned()), "[A-Za-z0-9_.=-]{0,12}"],
        raw in any::<bool>(),
    ) {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&claims);
        let jwt = if raw { claims.clone() } else { format!("{header}.{payload}.c2ln") };
        if let Err(error) = Token::from_jwt(&jwt) {
            refused_with_2(error)?;
        }
    }

    #[test]
    fn a_mutated_manifest_never_stops_a_run_or_reaches_outside(
        manifest in prop_oneof![
            mutated("# x\n0000000000000000000000000000000000000000000000000000000000000000  esc/a.yaml\nterraform/main.tf\n"),
            prop::collection::vec(prop_oneof!["[a-z./]{1,12}", "\\.\\./[a-z]{1,4}", "/[a-z]{1,8}", any::<String>()], 0..6)
                .prop_map(|lines| lines.join("\n")),
        ],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(dir.path().join("outside"), "mine\n").unwrap();
        std::fs::write(out.join(".oidc-gen-files"), &manifest).unwrap();
        let files = [RenderedFile {
            format: Format::Terraform,
            path: Format::Terraform.path().into(),
            contents: "x\n".into(),
        }];
        let options = Options { prune: true, force: false, wait: std::time::Duration::from_secs(5) };
        let checked = output::check(&out, &files, options.wait, &mut |_| {});
        prop_assert!(checked.is_ok(), "{:?}", checked.err());
        let written = output::write_all(&out, &files, &options, &mut |_| {});
        prop_assert!(written.is_ok(), "{:?}", written.err());
        prop_assert_eq!(std::fs::read_to_string(dir.path().join("outside")).unwrap(), "mine\n");
        let checked = output::check(&out, &files, options.wait, &mut |_| {}).unwrap();
        prop_assert!(checked.differences.is_empty(), "{:?}", checked.differences);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::proptest_cases(24)))]

    /// The binary itself: exit 0, 1 or 2, never a panic (101) or a signal.
    #[test]
    fn the_binary_answers_0_1_or_2(spec in mutated(SPEC), policy in mutated(POLICY), claims in mutated(CLAIMS)) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("oidc-gen.yaml"), &spec).unwrap();
        std::fs::write(dir.path().join("policy.json"), &policy).unwrap();
        let jwt = format!("e30.{}.c2ln", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&claims));
        for args in [
            vec!["--config", "oidc-gen.yaml", "--check"],
            vec!["simulate", "--policy", "policy.json", "--token", &jwt],
        ] {
            let output = oidc_gen(dir.path(), &args);
            let code = output.status.code();
            prop_assert!(matches!(code, Some(0..=2)), "{:?} {:?}: {}", args, code, text(&output).1);
        }
        prop_assert!(!dir.path().join("out").exists(), "--check wrote a folder");
    }
}
