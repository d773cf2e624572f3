//! Installing oidc-gen without a Rust toolchain: the shell installer `dist` (cargo-dist) writes for
//! a release, pointed at release archives served from 127.0.0.1, installs a binary that runs; the
//! archive it fetches is the one `cargo binstall`'s metadata names.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{have_tool, text};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Python's file server on 127.0.0.1, over TLS when given a certificate chain and its key; it
/// prints its port. It ends itself after five minutes, and when the thread that started it ends
/// (Linux's parent-death signal), so that a test killed before its `Drop` leaves nothing behind.
const FILE_SERVER: &str = r#"
import ctypes, functools, http.server, os, ssl, sys, threading
ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
threading.Timer(300, os._exit, args=(0,)).start()
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
if len(sys.argv) > 2:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

/// A file server on 127.0.0.1 serving a folder, for at most five minutes, killed by its own pid
/// when dropped (the process started is the server itself, not a wrapper that would outlive it).
struct FileServer {
    child: Child,
    port: u16,
}

impl FileServer {
    /// Serves `folder`, over TLS with `tls` (chain, key).
    fn start(folder: &Path, tls: Option<(PathBuf, PathBuf)>) -> FileServer {
        let mut command = Command::new("python3");
        command.args(["-c", FILE_SERVER]).arg(folder);
        if let Some((chain, key)) = tls {
            command.arg(chain).arg(key);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the file server said: {line}"));
        FileServer { child, port }
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The target triple of this machine, as dist names its archives.
fn host_target() -> String {
    format!("{}-unknown-linux-gnu", std::env::consts::ARCH)
}

/// The shell installer of this version, written by `dist build --artifacts=global`.
fn installer(dist: &str) -> PathBuf {
    let output = Command::new(dist)
        .args(["build", "--artifacts=global", "--output-format=json"])
        .current_dir(ROOT)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "dist build: {stderr}");
    let manifest: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let path = manifest["artifacts"]["oidc-gen-installer.sh"]["path"]
        .as_str()
        .unwrap_or_else(|| panic!("no installer in dist's manifest: {stdout}"));
    PathBuf::from(path)
}

/// The archive as dist builds it, at `archive`: a folder named after it, holding the binary and
/// the docs, packed in `work`.
fn pack_release(work: &Path, archive: &Path) {
    let target = host_target();
    let inside = work.join(format!("oidc-gen-{target}"));
    std::fs::create_dir_all(&inside).unwrap();
    std::fs::create_dir_all(archive.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_oidc-gen"), inside.join("oidc-gen")).unwrap();
    for doc in ["README.md", "CHANGELOG.md", "LICENSE"] {
        std::fs::copy(Path::new(ROOT).join(doc), inside.join(doc)).unwrap();
    }
    // The test's binary is a debug build: compressing it fast keeps the test quick.
    let packed = Command::new("tar")
        .env("XZ_OPT", "-0")
        .arg("-cJf")
        .arg(archive)
        .arg("-C")
        .arg(work)
        .arg(format!("oidc-gen-{target}"))
        .output()
        .unwrap();
    assert!(packed.status.success(), "{}", text(&packed).1);
}

#[test]
fn the_shell_installer_installs_a_release_archive_that_runs() {
    let dist = std::env::var("DIST").unwrap_or_else(|_| "dist".to_owned());
    if !have_tool(&dist, "--version") {
        return;
    }
    let installer = installer(&dist);
    let script = std::fs::read_to_string(&installer).unwrap();
    let target = host_target();
    let archive = format!("oidc-gen-{target}.tar.xz");
    assert!(script.contains(&archive), "the installer knows {archive}");

    let work = tempfile::tempdir().unwrap();
    let served = work.path().join("releases");
    pack_release(work.path(), &served.join(&archive));

    // binstall's metadata names the same archive and the binary's place in it.
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap())
            .unwrap();
    let binstall = &manifest["package"]["metadata"]["binstall"];
    let fill = |template: &str| {
        template
            .replace("{ repo }", "R")
            .replace("{ version }", env!("CARGO_PKG_VERSION"))
            .replace("{ name }", "oidc-gen")
            .replace("{ target }", &target)
            .replace("{ archive-suffix }", ".tar.xz")
            .replace("{ bin }", "oidc-gen")
            .replace("{ binary-ext }", "")
    };
    assert_eq!(
        fill(binstall["pkg-url"].as_str().unwrap()),
        format!(
            "R/releases/download/v{}/{archive}",
            env!("CARGO_PKG_VERSION")
        )
    );
    assert_eq!(binstall["pkg-fmt"].as_str(), Some("txz"));
    let bin_dir = fill(binstall["bin-dir"].as_str().unwrap());
    assert!(work.path().join(&bin_dir).is_file(), "{bin_dir}");

    let server = FileServer::start(&served, None);
    let home = work.path().join("home");
    // OIDC_GEN_INSTALL_DIR is a prefix, as CARGO_HOME is: the binary goes in its bin/.
    let prefix = work.path().join("prefix");
    let bin = prefix.join("bin");
    std::fs::create_dir_all(&home).unwrap();
    let install = |url: String| {
        Command::new("sh")
            .arg(&installer)
            .env("OIDC_GEN_DOWNLOAD_URL", url)
            .env("OIDC_GEN_INSTALL_DIR", &prefix)
            .env("OIDC_GEN_NO_MODIFY_PATH", "1")
            .env("HOME", &home)
            .output()
            .unwrap()
    };
    // Where no archive is, the installer fails: the check below can fail.
    let missing = install(format!("http://127.0.0.1:{}/nothing-here", server.port));
    assert!(!missing.status.success(), "{}", text(&missing).1);
    assert!(!bin.join("oidc-gen").exists());

    let installed = install(format!("http://127.0.0.1:{}", server.port));
    let (stdout, stderr) = text(&installed);
    assert!(installed.status.success(), "{stdout}{stderr}");
    let version = Command::new(bin.join("oidc-gen"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(version.status.success());
    assert!(
        text(&version)
            .0
            .starts_with(&format!("oidc-gen {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        text(&version).0
    );
    // The installed binary does its job: it lints a policy.
    let policy = work.path().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
            "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}]}"#,
    )
    .unwrap();
    let linted = Command::new(bin.join("oidc-gen"))
        .arg("lint")
        .arg(&policy)
        .output()
        .unwrap();
    assert_eq!(linted.status.code(), Some(1));
    assert!(text(&linted).0.contains("OIDC001"));
}

/// The GitHub Action's install step, run as a runner runs it (bash, the step's environment),
/// against a release mirror served over TLS from 127.0.0.1 (`releases-url`): it installs the
/// archive whose SHA-256 is the published one, and refuses, installing nothing, one whose
/// checksum does not match or is missing.
#[test]
fn the_actions_install_step_checks_the_archive_it_unpacks() {
    let step = action_step("Install oidc-gen");
    let script = step["run"].as_str().unwrap();
    let env = step["env"].as_mapping().unwrap();
    for name in ["VERSION", "ACTION_REF", "REPOSITORY", "RELEASES_URL"] {
        assert!(env.contains_key(name), "{name}");
    }

    let work = tempfile::tempdir().unwrap();
    let served = work.path().join("mirror");
    let target = host_target();
    let archive = served.join(format!("v9.9.9/oidc-gen-{target}.tar.xz"));
    pack_release(work.path(), &archive);
    let digest: String = {
        use sha2::Digest;
        let hash = sha2::Sha256::digest(std::fs::read(&archive).unwrap());
        hash.iter().map(|b| format!("{b:02x}")).collect()
    };
    let sidecar = served.join(format!("v9.9.9/oidc-gen-{target}.tar.xz.sha256"));
    let chain = common::certs::TestChain::new(common::certs::ChainShape::RootNotSent);
    let server = FileServer::start(&served, Some(chain.write_server(work.path())));
    let root = chain.write_root(work.path());
    let runner = match std::env::consts::ARCH {
        "aarch64" => "ARM64",
        _ => "X64",
    };
    // The action's own folder at a commit: its Cargo.toml names the release.
    let action_path = work.path().join("action");
    std::fs::create_dir_all(&action_path).unwrap();
    std::fs::write(
        action_path.join("Cargo.toml"),
        "[package]\nname = \"oidc-gen\"\nversion = \"9.9.9\"\n",
    )
    .unwrap();
    let pinned = |name: &str, version: &str, action_ref: &str, action_path: &Path| {
        let temp = work.path().join(name);
        std::fs::create_dir_all(&temp).unwrap();
        let output = Command::new("bash")
            .arg("-c")
            .arg(script)
            .env("VERSION", version)
            .env("ACTION_REF", action_ref)
            .env("GITHUB_ACTION_PATH", action_path)
            .env("REPOSITORY", "oidc-gen/oidc-gen")
            .env("RELEASES_URL", format!("https://127.0.0.1:{}", server.port))
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", runner)
            .env("RUNNER_TEMP", &temp)
            .env("CURL_CA_BUNDLE", &root)
            .output()
            .unwrap();
        (output, temp.join("oidc-gen/oidc-gen"))
    };
    let run = |name: &str| pinned(name, "v9.9.9", "", &action_path);

    std::fs::write(&sidecar, format!("{digest} *oidc-gen-{target}.tar.xz\n")).unwrap();
    let (output, installed) = run("good");
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("oidc-gen {}", env!("CARGO_PKG_VERSION"))),
        "{stdout}"
    );
    assert!(installed.is_file());

    // Pinned by commit (the ref is a SHA) or used at a tag, with no version given.
    let sha = "0123456789abcdef0123456789abcdef01234567";
    for (name, action_ref) in [("by-commit", sha), ("by-tag", "v9.9.9")] {
        let (output, installed) = pinned(name, "", action_ref, &action_path);
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{name}: {stdout}{stderr}");
        assert!(installed.is_file(), "{name}");
    }
    // A commit whose version has no release, or no Cargo.toml: a clear refusal, nothing installed.
    let unreleased = work.path().join("unreleased");
    std::fs::create_dir_all(&unreleased).unwrap();
    std::fs::write(
        unreleased.join("Cargo.toml"),
        "[package]\nversion = \"9.9.10\"\n",
    )
    .unwrap();
    let nowhere = work.path().join("nowhere");
    for (name, action_path, said) in [
        ("unreleased", &unreleased, "cannot download"),
        ("no-manifest", &nowhere, "give the input version"),
    ] {
        let (output, installed) = pinned(name, "", sha, action_path);
        let (stdout, stderr) = text(&output);
        assert!(!output.status.success(), "{name}: {stdout}{stderr}");
        assert!(stderr.contains(said), "{name}: {stderr}");
        assert!(!installed.exists(), "{name}: installed anyway");
    }
    let (output, _) = pinned("injected", "v1/../../evil?", "", &action_path);
    assert!(!output.status.success());
    assert!(
        text(&output).1.contains("release tag"),
        "{}",
        text(&output).1
    );

    let flipped = if digest.starts_with('0') { "1" } else { "0" };
    let other = format!("{flipped}{}", &digest[1..]);
    for (name, published) in [
        ("tampered", format!("{other} *oidc-gen-{target}.tar.xz\n")),
        ("empty", String::new()),
    ] {
        std::fs::write(&sidecar, published).unwrap();
        let (output, installed) = run(name);
        let (stdout, stderr) = text(&output);
        assert!(!output.status.success(), "{name}: {stdout}{stderr}");
        assert!(stderr.contains("not installed"), "{name}: {stderr}");
        assert!(!installed.exists(), "{name}: unpacked anyway");
    }
}

/// A step of the action, by name; its script takes every value through `env`, none through an
/// expression GitHub would paste into it.
fn action_step(name: &str) -> serde_yaml::Value {
    let action: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(Path::new(ROOT).join("action.yml")).unwrap())
            .unwrap();
    let step = action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|step| step["name"] == name)
        .unwrap_or_else(|| panic!("the action has a step {name:?}"))
        .clone();
    let script = step["run"].as_str().unwrap();
    assert!(
        !script.contains("${{"),
        "{name}: the script takes values through env only"
    );
    step
}

/// The action's check and lint steps, run with bash as a runner runs them, in a repository that
/// holds files named like options and a glob's worth of names: the inputs are split into words,
/// never globbed, and every lint input is a path.
#[test]
fn the_actions_inputs_are_words_never_options_or_globs() {
    let repository = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let installed = temp.path().join("oidc-gen");
    std::fs::create_dir_all(&installed).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_oidc-gen"), installed.join("oidc-gen")).unwrap();
    let role = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}]}"#;
    for name in ["--help", "--version", "-h.json", "--format=json"] {
        std::fs::write(repository.path().join(name), role).unwrap();
    }
    let run = |step: &str, env: &[(&str, &str)]| {
        let step = action_step(step);
        let output_file = temp.path().join("output");
        let mut command = Command::new("bash");
        command
            .arg("-c")
            .arg(step["run"].as_str().unwrap())
            .current_dir(repository.path())
            .env("RUNNER_TEMP", temp.path())
            .env("GITHUB_OUTPUT", &output_file);
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        let outputs = std::fs::read_to_string(&output_file).unwrap_or_default();
        (output, outputs)
    };

    // A glob is a name, not the folder's files: `*` is not found, and no file became an option.
    let (output, outputs) = run(
        "oidc-gen lint",
        &[("PATHS", "-h.json *"), ("FAIL_ON", "warning")],
    );
    let (stdout, _) = text(&output);
    assert!(outputs.contains("code=2"), "{outputs}\n{stdout}");
    assert!(stdout.contains("-h.json:1: -h.json #1"), "{stdout}");
    assert!(stdout.contains("OIDC001"), "{stdout}");
    assert!(
        !stdout.contains("Usage:") && !stdout.contains("--fail-on"),
        "{stdout}"
    );
    assert!(stdout.contains("*: unreadable"), "{stdout}");
    // Files named like options, given as paths, are linted.
    let (output, outputs) = run(
        "oidc-gen lint",
        &[
            ("PATHS", "--help\n--version --format=json"),
            ("FAIL_ON", "error"),
        ],
    );
    let (stdout, _) = text(&output);
    assert!(outputs.contains("code=1"), "{outputs}\n{stdout}");
    for name in ["--help", "--version", "--format=json"] {
        assert!(stdout.contains(&format!("{name}:1: ")), "{name}: {stdout}");
    }
    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(temp.path().join("oidc-gen-lint.sarif")).unwrap(),
    )
    .unwrap();
    let mut files: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    files.dedup();
    assert_eq!(files, ["--help", "--version", "--format%3Djson"]);

    // --check's options are words too: a `*` stays a `*` (an invalid value, named), never the
    // repository's file names.
    let (output, _) = run("oidc-gen --check", &[("CHECK", "--org * --no-thumbprint")]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("invalid --org \"*\""), "{stderr}");
}
