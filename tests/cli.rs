//! The command line end to end: every exit code, `--check`, `--out -`, `--templates`, and
//! byte-for-byte determinism.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{THUMBPRINT, oidc_gen, text, tree};
const ARGS: [&str; 6] = [
    "--org",
    "acme",
    "--account-id",
    "123456789012",
    "--thumbprint",
    THUMBPRINT,
];

#[test]
fn exit_0_writes_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let output = oidc_gen(dir.path(), &ARGS);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output).1);
    for file in [
        "terraform/main.tf",
        "cloudformation/template.json",
        "pulumi/Pulumi.yaml",
        "esc/environment.yaml",
    ] {
        assert!(dir.path().join("out").join(file).is_file(), "{file}");
    }
}

#[test]
fn same_inputs_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        oidc_gen(dir.path(), &[&ARGS[..], &["--out", "a"]].concat())
            .status
            .success()
    );
    assert!(
        oidc_gen(dir.path(), &[&ARGS[..], &["--out", "b"]].concat())
            .status
            .success()
    );
    let a = tree(&dir.path().join("a"));
    assert_eq!(a, tree(&dir.path().join("b")));
    // Four files and the manifest.
    assert_eq!(a.iter().filter(|(_, bytes)| !bytes.is_empty()).count(), 5);
}

#[test]
fn exit_1_when_check_finds_a_difference_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    assert!(oidc_gen(dir.path(), &ARGS).status.success());
    let clean = oidc_gen(dir.path(), &[&ARGS[..], &["--check"]].concat());
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean).1);

    let tf = dir.path().join("out/terraform/main.tf");
    let edited = fs::read_to_string(&tf)
        .unwrap()
        .replace("\"acme\"", "\"evil\"");
    fs::write(&tf, &edited).unwrap();
    fs::remove_file(dir.path().join("out/esc/environment.yaml")).unwrap();
    let before = tree(dir.path());

    let output = oidc_gen(dir.path(), &[&ARGS[..], &["--check"]].concat());
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // Each file's name, then its diff, on one stream.
    let differs = stdout
        .find("unowned: out/terraform/main.tf\n")
        .expect(&stdout);
    let diff = stdout
        .find("-  client_id_list  = [\"evil\"")
        .expect(&stdout);
    assert!(differs < diff, "{stdout}");
    assert!(
        stdout.contains("+  client_id_list  = [\"acme\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("missing: out/esc/environment.yaml\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("cloudformation"), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(tree(dir.path()), before, "--check wrote something");
}

#[test]
fn a_file_an_earlier_run_wrote_is_stale_until_pruned_and_others_are_never_touched() {
    let dir = tempfile::tempdir().unwrap();
    // With the account id the ESC file is written; without it, it is not.
    assert!(oidc_gen(dir.path(), &ARGS).status.success());
    fs::write(dir.path().join("out/esc/mine.yaml"), "mine\n").unwrap();
    let without_account = ["--org", "acme", "--thumbprint", THUMBPRINT];
    let output = oidc_gen(dir.path(), &without_account);
    let (_, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("stale: out/esc/environment.yaml was written by an earlier run"),
        "{stderr}"
    );
    assert!(dir.path().join("out/esc/environment.yaml").exists());

    let check = oidc_gen(dir.path(), &[&without_account[..], &["--check"]].concat());
    let (stdout, _) = text(&check);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        stdout.contains("stale: out/esc/environment.yaml\n"),
        "{stdout}"
    );

    let prune = oidc_gen(dir.path(), &[&without_account[..], &["--prune"]].concat());
    let (_, stderr) = text(&prune);
    assert!(prune.status.success(), "{stderr}");
    assert!(
        stderr.contains("removed out/esc/environment.yaml (stale)"),
        "{stderr}"
    );
    assert!(!dir.path().join("out/esc/environment.yaml").exists());
    assert_eq!(
        fs::read_to_string(dir.path().join("out/esc/mine.yaml")).unwrap(),
        "mine\n"
    );
    let check = oidc_gen(dir.path(), &[&without_account[..], &["--check"]].concat());
    assert_eq!(check.status.code(), Some(0), "{}", text(&check).0);
}

#[test]
fn check_against_a_missing_folder_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let output = oidc_gen(
        dir.path(),
        &[&ARGS[..], &["--check", "--out", "nowhere"]].concat(),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(!dir.path().join("nowhere").exists());
}

#[test]
fn exit_2_for_invalid_input_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        vec![
            "--org",
            "acme",
            "--role-name",
            &"r".repeat(65),
            "--no-thumbprint",
        ],
        vec!["--org", "ac me", "--no-thumbprint"],
        vec![
            "--org",
            "acme",
            "--policy-arn",
            "ReadOnlyAccess",
            "--no-thumbprint",
        ],
        vec!["--org", "acme", "--session-name", "a b", "--no-thumbprint"],
        vec!["--org", "acme", "--issuer", "http://api.pulumi.com/oidc"],
        vec![
            "--org",
            "acme",
            "--thumbprint",
            THUMBPRINT,
            "--no-thumbprint",
        ],
        vec!["--org", "acme", "--format", "yaml"],
        vec![
            "--org",
            "acme",
            "--no-thumbprint",
            "--out",
            "-",
            "--check",
            "--format",
            "pulumi",
        ],
        vec![
            "--org",
            "acme",
            "--no-thumbprint",
            "--ca-file",
            "missing.pem",
        ],
    ] {
        let output = oidc_gen(dir.path(), &bad);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{bad:?}: {}",
            text(&output).1
        );
    }
    // Six thumbprints: IAM's limit is five.
    let six: Vec<String> = (0..6).map(|i| format!("{i:040x}")).collect();
    let mut args = vec!["--org", "acme"];
    for t in &six {
        args.extend(["--thumbprint", t]);
    }
    assert_eq!(oidc_gen(dir.path(), &args).status.code(), Some(2));
    assert!(
        fs::read_dir(dir.path()).unwrap().next().is_none(),
        "something was written"
    );
}

#[test]
fn exit_2_for_a_ca_file_without_certificates() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("empty.pem"), "not a certificate\n").unwrap();
    let output = oidc_gen(dir.path(), &["thumbprint", "--ca-file", "empty.pem"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).1.contains("empty.pem"));
}

#[test]
fn exit_3_when_the_issuer_cannot_be_reached() {
    // A port nobody listens on: bind, note it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let issuer = format!("https://127.0.0.1:{port}/oidc");
    let output = oidc_gen(
        dir.path(),
        &["--org", "acme", "--issuer", &issuer, "--timeout", "5"],
    );
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&issuer), "{stderr}");
    assert!(fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn exit_4_when_the_output_folder_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("blocker"), "a file, not a folder").unwrap();
    let output = oidc_gen(dir.path(), &[&ARGS[..], &["--out", "blocker/out"]].concat());
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("blocker"), "{stderr}");
    assert_eq!(
        fs::read_to_string(dir.path().join("blocker")).unwrap(),
        "a file, not a folder"
    );
}

#[test]
fn out_dash_prints_one_format() {
    let dir = tempfile::tempdir().unwrap();
    let output = oidc_gen(
        dir.path(),
        &[&ARGS[..], &["--out", "-", "--format", "esc"]].concat(),
    );
    assert!(output.status.success());
    let (stdout, _) = text(&output);
    let parsed: serde_yaml::Value = serde_yaml::from_str(&stdout).unwrap();
    assert_eq!(
        parsed["values"]["aws"]["login"]["fn::open::aws-login"]["oidc"]["roleArn"],
        "arn:aws:iam::123456789012:role/pulumi-esc-oidc"
    );
    assert!(fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn all_without_account_id_leaves_an_existing_esc_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("out/esc")).unwrap();
    fs::write(dir.path().join("out/esc/environment.yaml"), "mine\n").unwrap();
    let output = oidc_gen(dir.path(), &["--org", "acme", "--no-thumbprint"]);
    let (_, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("--account-id"), "{stderr}");
    assert_eq!(
        fs::read_to_string(dir.path().join("out/esc/environment.yaml")).unwrap(),
        "mine\n"
    );
    assert!(dir.path().join("out/terraform/main.tf").is_file());
}

#[test]
fn user_templates_are_tried_first_and_still_escaped() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("tpl/esc")).unwrap();
    fs::write(
        dir.path().join("tpl/esc/environment.yaml.j2"),
        "values:\n  org: {{ org }}\n  role: {{ esc.role_arn }}\n",
    )
    .unwrap();
    let output = oidc_gen(dir.path(), &[&ARGS[..], &["--templates", "tpl"]].concat());
    assert!(output.status.success(), "{}", text(&output).1);
    assert_eq!(
        fs::read_to_string(dir.path().join("out/esc/environment.yaml")).unwrap(),
        "values:\n  org: \"acme\"\n  role: \"arn:aws:iam::123456789012:role/pulumi-esc-oidc\"\n"
    );
    // The other formats still come from the built-in templates.
    assert!(
        fs::read_to_string(dir.path().join("out/terraform/main.tf"))
            .unwrap()
            .contains("aws_iam_role")
    );
}

/// A spec's files are overridden under spec/: the tree of templates is the tree of files.
#[test]
fn a_specs_templates_are_overridden_by_folder() {
    let dir = tempfile::tempdir().unwrap();
    let spec = include_str!("fixtures/organization.yaml");
    fs::write(
        dir.path().join("spec.yaml"),
        format!("{spec}\ntemplates: tpl\n"),
    )
    .unwrap();
    fs::create_dir_all(dir.path().join("tpl/spec/terraform/modules/pulumi-oidc")).unwrap();
    fs::write(
        dir.path()
            .join("tpl/spec/terraform/modules/pulumi-oidc/main.tf.j2"),
        "# {{ module | comment }} for {{ accounts | length }} accounts\n",
    )
    .unwrap();
    let output = oidc_gen(dir.path(), &["--config", "spec.yaml", "--out", "out"]);
    assert!(output.status.success(), "{}", text(&output).1);
    assert_eq!(
        fs::read_to_string(dir.path().join("out/terraform/modules/pulumi-oidc/main.tf")).unwrap(),
        "# pulumi-oidc for 3 accounts\n"
    );
    // The root module still comes from the built-in template.
    assert!(
        fs::read_to_string(dir.path().join("out/terraform/main.tf"))
            .unwrap()
            .contains("module \"")
    );
}

/// A template folder from a repository cannot read outside itself: a partial or a folder that is
/// a link (to `/proc/self/environ`, to a file outside) is refused, so `--check` never prints the
/// CI's environment in its diff; a spec's `templates:` stays inside the spec's folder.
#[test]
fn templates_are_read_without_following_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    fs::write(&secret, "AWS_SECRET=hunter2\n").unwrap();
    fs::create_dir_all(dir.path().join("out")).unwrap();
    type Plant<'a> = &'a dyn Fn(&Path);
    let cases: [(&str, Plant); 4] = [
        ("partial", &|tpl: &Path| {
            fs::create_dir_all(tpl.join("cloudformation")).unwrap();
            std::os::unix::fs::symlink(
                "/proc/self/environ",
                tpl.join("cloudformation/_provider_arn.json.j2"),
            )
            .unwrap();
        }),
        ("template", &|tpl: &Path| {
            fs::create_dir_all(tpl.join("esc")).unwrap();
            std::os::unix::fs::symlink(&secret, tpl.join("esc/environment.yaml.j2")).unwrap();
        }),
        ("folder", &|tpl: &Path| {
            let outside = tpl.parent().unwrap().join("outside-esc");
            fs::create_dir_all(&outside).unwrap();
            fs::write(outside.join("environment.yaml.j2"), "x: {{ org }}\n").unwrap();
            fs::create_dir_all(tpl).unwrap();
            std::os::unix::fs::symlink(&outside, tpl.join("esc")).unwrap();
        }),
        ("fifo", &|tpl: &Path| {
            fs::create_dir_all(tpl.join("esc")).unwrap();
            let fifo = tpl.join("esc/environment.yaml.j2");
            assert!(
                Command::new("mkfifo")
                    .arg(&fifo)
                    .status()
                    .unwrap()
                    .success()
            );
        }),
    ];
    for (name, plant) in cases {
        let tpl = dir.path().join(format!("tpl-{name}"));
        plant(&tpl);
        let templates = tpl.to_str().unwrap();
        for mode in [&["--check"][..], &[]] {
            let output = oidc_gen(
                dir.path(),
                &[&ARGS[..], &["--templates", templates], mode].concat(),
            );
            let (stdout, stderr) = text(&output);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{name} {mode:?}: {stdout}{stderr}"
            );
            assert!(
                stderr.contains("symbolic link")
                    || stderr.contains("not a regular file")
                    || stderr.contains("not a folder"),
                "{name}: {stderr}"
            );
            for leaked in ["hunter2", "PATH=", "HOME="] {
                assert!(
                    !stdout.contains(leaked) && !stderr.contains(leaked),
                    "{name}: {stdout}{stderr}"
                );
            }
        }
    }
    assert_eq!(
        fs::read_dir(dir.path().join("out")).unwrap().count(),
        0,
        "nothing written"
    );

    // A spec's templates: must be a folder inside the spec's folder.
    let spec = include_str!("fixtures/organization.yaml");
    for outside in ["../elsewhere", "/etc", "tpl/../../x"] {
        fs::write(
            dir.path().join("spec.yaml"),
            format!("{spec}\ntemplates: {outside}\n"),
        )
        .unwrap();
        let output = oidc_gen(dir.path(), &["--config", "spec.yaml", "--out", "out"]);
        let stderr = text(&output).1;
        assert_eq!(output.status.code(), Some(2), "{outside}: {stderr}");
        assert!(
            stderr.contains("inside the spec's folder"),
            "{outside}: {stderr}"
        );
    }
    // ... and is not reached through a link there either.
    std::os::unix::fs::symlink(dir.path().join("tpl-folder"), dir.path().join("linked")).unwrap();
    fs::write(
        dir.path().join("spec.yaml"),
        format!("{spec}\ntemplates: linked\n"),
    )
    .unwrap();
    let output = oidc_gen(dir.path(), &["--config", "spec.yaml", "--out", "out"]);
    let stderr = text(&output).1;
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a folder"), "{stderr}");
}

#[test]
fn a_broken_user_template_is_exit_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("tpl/pulumi")).unwrap();
    fs::write(
        dir.path().join("tpl/pulumi/Pulumi.yaml.j2"),
        "name: {{ no_such_value }}\n",
    )
    .unwrap();
    let output = oidc_gen(dir.path(), &[&ARGS[..], &["--templates", "tpl"]].concat());
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pulumi/Pulumi.yaml.j2"), "{stderr}");
    assert!(!dir.path().join("out").exists());

    fs::write(
        dir.path().join("tpl/pulumi/Pulumi.yaml.j2"),
        "name: [unclosed\n",
    )
    .unwrap();
    let output = oidc_gen(dir.path(), &[&ARGS[..], &["--templates", "tpl"]].concat());
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).1.contains("invalid YAML"));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn a_trust_policy_over_iams_limit_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let envs: Vec<String> = (0..60)
        .map(|i| format!("project-{i:02}/environment"))
        .collect();
    let mut args = vec!["--org", "acme", "--no-thumbprint"];
    for env in &envs {
        args.extend(["--env", env]);
    }
    let output = oidc_gen(dir.path(), &args);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("over the limit of 2048") && stderr.contains("--trust-policy-quota 4096"),
        "{stderr}"
    );
    assert!(fs::read_dir(dir.path()).unwrap().next().is_none());

    args.extend(["--trust-policy-quota", "4096"]);
    let raised = oidc_gen(dir.path(), &args);
    assert!(raised.status.success(), "{}", text(&raised).1);
}

#[test]
fn concurrent_runs_never_interleave_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let variants: Vec<Vec<&str>> = ["first-role", "second-role"]
        .iter()
        .map(|role| [&ARGS[..], &["--role-name", role]].concat())
        .collect();
    // What each run writes on its own.
    let expected: Vec<_> = variants
        .iter()
        .enumerate()
        .map(|(i, args)| {
            let out = format!("alone-{i}");
            assert!(
                oidc_gen(dir.path(), &[&args[..], &["--out", &out]].concat())
                    .status
                    .success()
            );
            tree(&dir.path().join(out))
        })
        .collect();
    for round in 0..20 {
        let out = format!("shared-{round}");
        let children: Vec<_> = variants
            .iter()
            .map(|args| {
                common::oidc_gen_command(dir.path(), &[&args[..], &["--out", &out]].concat())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
        let written = tree(&dir.path().join(&out));
        assert_eq!(
            written.len(),
            expected[0].len(),
            "round {round}: no stray files: {written:?}"
        );
        for (index, (path, bytes)) in written.iter().enumerate() {
            assert!(
                expected
                    .iter()
                    .any(|whole| whole[index] == (path.clone(), bytes.clone())),
                "round {round}: {} is a mix of both runs",
                path.display()
            );
        }
    }
}

#[test]
fn simulate_reads_a_committed_template_a_policy_document_and_a_token() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let template = root.join("out/cloudformation/template.json");
    let template = template.to_str().unwrap();
    let simulate = |args: &[&str]| {
        let output = oidc_gen(root, &[&["simulate"], args].concat());
        let (stdout, stderr) = text(&output);
        (output.status.code(), format!("{stdout}{stderr}"))
    };
    // The committed role admits the legacy project's `legacy` environment and infra/prod's
    // deployments, and nothing near them.
    let legacy = "pulumi:environments:org:acme:env:legacy";
    let (code, said) = simulate(&["--policy", template, "--aud", "acme", "--sub", legacy]);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.starts_with("ALLOW: statement EscDefaultProject"),
        "{said}"
    );
    let (code, said) = simulate(&["--policy", template, "--aud", "aws:acme", "--sub", legacy]);
    assert_eq!(code, Some(1), "{said}");
    let deploy = "pulumi:deploy:org:acme:project:infra:stack:prod:operation:update:scope:write";
    let (code, said) = simulate(&["--policy", template, "--aud", "acme", "--sub", deploy]);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("PulumiDeployments"), "{said}");

    // A bare policy document with an explicit Deny.
    let dir = tempfile::tempdir().unwrap();
    let document = dir.path().join("policy.json");
    fs::write(
        &document,
        serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/api.pulumi.com/oidc"},
             "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringLike": {"api.pulumi.com/oidc:sub": "pulumi:*"}, "StringEquals": {"api.pulumi.com/oidc:aud": "acme"}}},
            {"Sid": "NoDestroy", "Effect": "Deny", "Principal": "*", "Action": "sts:*",
             "Condition": {"StringLike": {"api.pulumi.com/oidc:sub": "*:operation:destroy:*"}}}
        ]})
        .to_string(),
    )
    .unwrap();
    let document = document.to_str().unwrap();
    let (code, said) = simulate(&["--policy", document, "--aud", "acme", "--sub", deploy]);
    assert_eq!(code, Some(0), "{said}");
    let destroy = deploy.replace(":update:", ":destroy:");
    let (code, said) = simulate(&["--policy", document, "--aud", "acme", "--sub", &destroy]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("statement NoDestroy denies"), "{said}");

    // Flags that describe a policy to generate do not go with --policy; a file that is no policy
    // is named.
    let (code, said) = simulate(&[
        "--policy", document, "--org", "acme", "--aud", "a", "--sub", "b",
    ]);
    assert_eq!(code, Some(2), "{said}");
    let (code, said) = simulate(&["--policy", "Cargo.toml", "--aud", "a", "--sub", "b"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("--policy Cargo.toml"), "{said}");
    let (code, said) = simulate(&["--org", "acme", "--token", "not-a-jwt"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("invalid --token"), "{said}");
}

#[test]
fn completions_and_the_man_page_install_as_the_readme_says() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = oidc_gen(dir.path(), &["completions", shell]);
        assert!(output.status.success(), "{shell}");
        assert!(text(&output).0.contains("--org"), "{shell}");
    }
    // bash loads the script and completes oidc-gen with it.
    let script = dir.path().join("oidc-gen.bash");
    fs::write(
        &script,
        oidc_gen(dir.path(), &["completions", "bash"]).stdout,
    )
    .unwrap();
    let loaded = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p oidc-gen",
            script.display()
        ))
        .output()
        .unwrap();
    assert!(loaded.status.success(), "{}", text(&loaded).1);
    assert!(text(&loaded).0.contains("oidc-gen"), "{}", text(&loaded).0);

    // man renders the page.
    let page = dir.path().join("oidc-gen.1");
    let man = oidc_gen(dir.path(), &["man"]);
    assert!(man.status.success());
    fs::write(&page, &man.stdout).unwrap();
    assert!(text(&man).0.contains(".TH oidc-gen 1"));
    let Ok(rendered) = std::process::Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
    else {
        return common::skip("man is not installed");
    };
    let (shown, _) = text(&rendered);
    assert!(
        shown.contains("--org") && shown.contains("--subject-attribute"),
        "{shown}"
    );

    // --version names the crate version (and the commit when built from git).
    let version = oidc_gen(dir.path(), &["--version"]);
    assert!(
        text(&version)
            .0
            .starts_with(&format!("oidc-gen {}", env!("CARGO_PKG_VERSION")))
    );
}

#[test]
fn the_partition_goes_into_every_arn_oidc_gen_builds() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--org",
        "acme",
        "--account-id",
        "123456789012",
        "--env",
        "platform/prod",
        "--partition",
        "aws-us-gov",
        "--role-path",
        "/pulumi/",
        "--policy-arn",
        "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess",
        "--no-thumbprint",
        "--out",
        "out",
    ];
    let output = oidc_gen(dir.path(), &args);
    assert!(output.status.success(), "{}", text(&output).1);
    let esc = std::fs::read_to_string(dir.path().join("out/esc/environment.yaml")).unwrap();
    assert!(
        esc.contains(r#"roleArn: "arn:aws-us-gov:iam::123456789012:role/pulumi/pulumi-esc-oidc""#),
        "{esc}"
    );
    let template =
        std::fs::read_to_string(dir.path().join("out/cloudformation/template.json")).unwrap();
    assert!(
        template.contains("--partition aws-us-gov"),
        "the command reproduces it"
    );

    // A policy ARN of another partition is refused, naming it.
    let wrong = [
        &args[..10],
        &["--policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
        &args[12..],
    ]
    .concat();
    let refused = oidc_gen(tempfile::tempdir().unwrap().path(), &wrong);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused)
            .1
            .contains("it is in the aws partition, but the role is in aws-us-gov"),
        "{}",
        text(&refused).1
    );
}

#[test]
fn stack_sets_are_refused_where_organizations_has_no_trusted_access() {
    let dir = tempfile::tempdir().unwrap();
    let spec = "org: acme\npartition: aws-cn\nthumbprint: none\nroles:\n  - name: r\n    envs: [p/e]\n\
                accounts:\n  - {id: \"111111111111\", name: a}\norganization:\n  ou_ids: [ou-abcd-12345678]\n";
    std::fs::write(dir.path().join("oidc-gen.yaml"), spec).unwrap();
    let output = oidc_gen(dir.path(), &["--config", "oidc-gen.yaml", "--out", "out"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).1.contains("China regions"),
        "{}",
        text(&output).1
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn small_refusals_name_the_value_and_exit_as_help_says() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = oidc_gen(dir.path(), args);
        let (stdout, stderr) = text(&output);
        (output.status.code(), stdout, stderr)
    };
    let expect = |args: &[&str], code: i32, says: &str| {
        let (got, stdout, stderr) = run(args);
        assert_eq!(got, Some(code), "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    };
    let issuer = ["--issuer", "https://api.pulumi.com/oidc"];
    let policy = |name: &str, text: &str| fs::write(dir.path().join(name), text).unwrap();
    // A statement element simulate does not know would be a guess: refused, named.
    for element in ["Conditions", "condition"] {
        policy(
            "p.json",
            &format!(
                r#"{{"Statement": {{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRoleWithWebIdentity", "{element}": {{"StringEquals": {{"api.pulumi.com/oidc:aud": "x"}}}}}}}}"#
            ),
        );
        let args = [
            &["simulate", "--aud", "y", "--sub", "z", "--policy", "p.json"],
            &issuer[..],
        ]
        .concat();
        expect(
            &args,
            2,
            &format!("statement #1 has the element \"{element}\""),
        );
    }
    policy("d.json", r#"{"Statment": []}"#);
    expect(
        &["simulate", "--aud", "y", "--sub", "z", "--policy", "d.json"],
        2,
        "give a policy document (with \"Statement\")",
    );
    // A key given twice: the first Condition would be lost, and every token admitted.
    policy(
        "d.json",
        r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": {"api.pulumi.com/oidc:aud": "x"}}, "Condition": {}}]}"#,
    );
    let args = [
        &["simulate", "--aud", "y", "--sub", "z", "--policy", "d.json"],
        &issuer[..],
    ]
    .concat();
    expect(&args, 2, "the key \"Condition\" is given twice");
    policy(
        "d.yaml",
        "Statement:\n  - Effect: Allow\n    Effect: Deny\n",
    );
    let args = [
        &["simulate", "--aud", "y", "--sub", "z", "--policy", "d.yaml"],
        &issuer[..],
    ]
    .concat();
    expect(&args, 2, "duplicate entry with key \"Effect\"");
    policy("d.json", r#"{"Versoin": "2012-10-17", "Statement": []}"#);
    expect(
        &["simulate", "--aud", "y", "--sub", "z", "--policy", "d.json"],
        2,
        "the policy has the element \"Versoin\", which IAM does not know",
    );
    expect(
        &[
            "simulate",
            "--aud",
            "y",
            "--sub",
            "z",
            "--policy",
            "missing.json",
        ],
        2,
        "cannot read --policy missing.json",
    );
    // A policy generation refuses as too large is not evaluated either.
    let envs: Vec<String> = (0..300)
        .map(|i| format!("--env=project-{i:03}/env"))
        .collect();
    let mut args = vec![
        "simulate", "--org", "acme", "--aud", "aws:acme", "--sub", "x",
    ];
    args.extend(envs.iter().map(String::as_str));
    expect(&args, 2, "IAM refuses a trust policy over 4096");
    // Tokens: no audience, and an http issuer, in their own words.
    let jwt = |claims: &str| {
        use base64::Engine;
        format!(
            "e30.{}.c2ln",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims)
        )
    };
    let twice = jwt(r#"{"aud": "a", "sub": "s", "aud": "b"}"#);
    expect(
        &["simulate", "--org", "acme", "--token", &twice],
        2,
        "names a claim twice",
    );
    let empty = jwt(r#"{"aud": [], "sub": "s"}"#);
    expect(
        &["simulate", "--org", "acme", "--token", &empty],
        2,
        "empty list: it names no audience",
    );
    let http = jwt(r#"{"iss": "http://example.com", "aud": "a", "sub": "s"}"#);
    let (code, stdout, stderr) = run(&["simulate", "--org", "acme", "--token", &http]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("\"http://example.com\"") && !stderr.contains("https://http"),
        "{stderr}"
    );
    // --templates that is not a folder.
    expect(
        &[&ARGS[..], &["--templates", "/missing"]].concat(),
        2,
        "invalid --templates \"/missing\"",
    );
    // A spec: a byte-order mark is fine; a duplicate tag key and a NUL byte are refused where they are.
    let spec = "org: acme\nthumbprint: none\nroles:\n  - name: r\n    envs: [a/b]\n    tags: {team: a, team: b}\naccounts:\n  - {id: \"111111111111\", name: dev}\n";
    fs::write(dir.path().join("s.yaml"), spec).unwrap();
    expect(
        &["--config", "s.yaml", "--out", "s"],
        2,
        "s.yaml:6: roles[0].tags: duplicate key \"team\"",
    );
    fs::write(dir.path().join("s.yaml"), spec.replace("a/b", "a\0b")).unwrap();
    expect(
        &["--config", "s.yaml", "--out", "s"],
        2,
        "s.yaml:5: control character U+0000",
    );
    let fine = spec.replace("team: a, team: b", "team: a");
    fs::write(dir.path().join("s.yaml"), format!("\u{feff}{fine}")).unwrap();
    expect(
        &["--config", "s.yaml", "--out", "s"],
        0,
        "created s/terraform/main.tf",
    );
}

#[test]
fn a_closed_standard_output_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec![
            "--org",
            "acme",
            "--no-thumbprint",
            "--format",
            "terraform",
            "--out",
            "-",
        ],
        vec![
            "simulate",
            "--org",
            "acme",
            "--aud",
            "acme",
            "--sub",
            "pulumi:environments:org:acme:env:a",
        ],
    ] {
        let mut command = common::oidc_gen_command(dir.path(), &args);
        // What `>&-` does: the program starts with no standard output.
        unsafe {
            use std::os::unix::process::CommandExt;
            command.pre_exec(|| {
                libc_close(1);
                Ok(())
            });
        }
        let output = command
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(4), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write to standard output: it is closed"),
            "{stderr}"
        );
    }
}

fn libc_close(fd: i32) {
    unsafe extern "C" {
        fn close(fd: i32) -> i32;
    }
    unsafe {
        close(fd);
    }
}

/// GitHub's flags refuse what would admit more than the user named, naming the value and the
/// form to write instead; nothing is written.
#[test]
fn github_refusals_name_the_value_and_the_form() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["--no-thumbprint", "--account-id", "123456789012"];
    for (args, says) in [
        (
            vec!["--github", "*"],
            "invalid --github \"*\": it admits every repository on GitHub",
        ),
        (
            vec!["--github", "*/*"],
            "it admits every repository on GitHub",
        ),
        (
            vec!["--github", "acme/app*"],
            "a partial wildcard (app*) would also admit other repositories",
        ),
        (vec!["--github", "ac*me/app"], "the owner is a GitHub login"),
        (
            vec!["--github", "acme"],
            "write the repository as OWNER/REPO",
        ),
        (
            vec!["--github", "acme@1/app"],
            "the immutable subject carries both IDs",
        ),
        (
            vec!["--github", "acme/app@2"],
            "the immutable subject carries both IDs",
        ),
        (
            vec!["--github", "acme@x/app@2"],
            "an ID after '@' is the owner's or repository's number",
        ),
        (
            vec!["--github", "acme@1/app@2", "--github", "acme@1/app@3"],
            "with other IDs",
        ),
        (
            vec!["--github", "acme/app", "--github-ref", "main"],
            "refs/heads/main for a branch, refs/tags/main for a tag",
        ),
        (
            vec!["--github-ref", "refs/heads/main"],
            "--github OWNER/REPO names the repositories",
        ),
        (
            vec![
                "--github",
                "acme/app",
                "--github-workflow",
                "acme/shared/deploy.yml@refs/heads/main",
            ],
            "OWNER/REPO/.github/workflows/FILE.yml",
        ),
        (
            vec![
                "--github",
                "acme/app",
                "--github-workflow",
                "acme/shared/.github/workflows/d.yml",
            ],
            "write it as job_workflow_ref holds it",
        ),
        (
            vec!["--github", "acme/app", "--org", "acme"],
            "--org describes another issuer's tokens than the CI system's flags",
        ),
        (
            vec![
                "--github",
                "acme/app",
                "--issuer",
                "https://api.pulumi.com/oidc",
            ],
            "it is the issuer of Pulumi Cloud, not of GitHub Actions",
        ),
        (
            vec!["--github", "acme/app", "--format", "esc"],
            "--format esc cannot be written",
        ),
    ] {
        let args = [&args[..], &base[..]].concat();
        let output = oidc_gen(dir.path(), &args);
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert!(!dir.path().join("out").exists(), "nothing is written");

    // A GitHub Enterprise Cloud issuer keys its conditions by its own URL.
    let output = oidc_gen(
        dir.path(),
        &[
            "--github",
            "acme/app",
            "--issuer",
            "https://token.actions.acme.ghe.com",
            "--no-thumbprint",
            "--format",
            "cloudformation",
            "--out",
            "-",
        ],
    );
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("\"token.actions.acme.ghe.com:sub\"")
            && !stdout.contains("token.actions.githubusercontent.com:"),
        "{stdout}"
    );
    assert!(
        stderr.contains("admits every workflow run of acme/app"),
        "{stderr}"
    );
}

/// `simulate` takes the whole generation command line (a file header's command with `simulate`
/// inserted), and a spec's role with `--config FILE --role NAME`.
#[test]
fn simulate_takes_the_generation_command_line_and_a_spec_role() {
    let dir = tempfile::tempdir().unwrap();
    let generate = [
        "--github",
        "acme/infra",
        "--github-environment",
        "prod",
        "--account-id",
        "123456789012",
        "--policy-arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "--no-thumbprint",
    ];
    let output = oidc_gen(dir.path(), &generate);
    assert!(output.status.success(), "{}", text(&output).1);
    let header = fs::read_to_string(dir.path().join("out/github/workflow.yml")).unwrap();
    let command = header.lines().nth(1).unwrap().trim_start_matches("#   ");
    let mut words = shell_words::split(command).unwrap();
    words.insert(1, "simulate".into());
    for (sub, code) in [
        ("repo:acme/infra:environment:prod", 0),
        ("repo:acme/infra:ref:refs/heads/main", 1),
    ] {
        let mut args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
        args.extend(["--aud", "sts.amazonaws.com", "--sub", sub]);
        let output = oidc_gen(dir.path(), &args);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?}: {}",
            text(&output).0
        );
    }

    fs::write(
        dir.path().join("s.yaml"),
        "roles:\n  - name: deploy\n    gitlab:\n      projects: [acme/app]\n      ref_type: branch\n  - name: plan\n    gitlab:\n      projects: [acme/*]\naccounts:\n  - {id: \"123456789012\", name: prod}\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let args = [
            &[
                "simulate",
                "--config",
                "s.yaml",
                "--aud",
                "https://gitlab.com",
                "--sub",
                "project_path:acme/app:ref_type:tag:ref:v1",
            ][..],
            extra,
        ]
        .concat();
        let output = oidc_gen(dir.path(), &args);
        (output.status.code(), text(&output).0, text(&output).1)
    };
    let (code, stdout, _) = run(&["--role", "deploy"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("the role admits branches only"), "{stdout}");
    let (code, stdout, _) = run(&["--role", "PLAN"]);
    assert_eq!(code, Some(0), "{stdout}");
    let (code, _, stderr) = run(&[]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("--role NAME; its roles: deploy, plan"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["--role", "nope"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("s.yaml has no role \"nope\"; its roles: deploy, plan"),
        "{stderr}"
    );
}

/// `--esc-environment` names one environment of a named project that the role admits.
#[test]
fn esc_environment_refusals_name_the_value() {
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in [
        (
            vec![
                "--org",
                "acme",
                "--env",
                "platform/prod",
                "--esc-environment",
                "platform/dev",
            ],
            "the role does not admit this environment's tokens",
        ),
        (
            vec![
                "--org",
                "acme",
                "--env",
                "platform/*",
                "--esc-environment",
                "platform/*",
            ],
            "without wildcards",
        ),
        (
            vec!["--org", "acme", "--esc-environment", "legacy"],
            "name one environment of a named project",
        ),
        (
            vec!["--github", "acme/app", "--esc-environment", "platform/prod"],
            "this role trusts another issuer",
        ),
        (
            vec![
                "--org",
                "acme",
                "--subject-attribute",
                "currentEnvironment.name",
                "--env",
                "platform/prod",
                "--esc-environment",
                "platform/prod",
            ],
            "create the environment from esc/environment.yaml instead",
        ),
    ] {
        let args = [&args[..], &["--no-thumbprint"]].concat();
        let output = oidc_gen(dir.path(), &args);
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert!(!dir.path().join("out").exists());
}
