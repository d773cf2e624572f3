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
/// prints its port.
const FILE_SERVER: &str = r#"
import functools, http.server, ssl, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
if len(sys.argv) > 2:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

/// A file server on 127.0.0.1 serving a folder, for at most five minutes, stopped by its pid when
/// dropped.
struct FileServer {
    child: Child,
    port: u16,
}

impl FileServer {
    /// Serves `folder`, over TLS with `tls` (chain, key).
    fn start(folder: &Path, tls: Option<(PathBuf, PathBuf)>) -> FileServer {
        let mut command = Command::new("timeout");
        command
            .args(["300", "python3", "-c", FILE_SERVER])
            .arg(folder);
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
    let action: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(Path::new(ROOT).join("action.yml")).unwrap())
            .unwrap();
    let step = action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|step| step["name"] == "Install oidc-gen")
        .expect("the action installs oidc-gen");
    let script = step["run"].as_str().unwrap();
    assert!(
        !script.contains("${{"),
        "the script takes values through env only"
    );
    let env = step["env"].as_mapping().unwrap();
    for name in ["VERSION", "REPOSITORY", "RELEASES_URL"] {
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
    let run = |name: &str| {
        let temp = work.path().join(name);
        std::fs::create_dir_all(&temp).unwrap();
        let output = Command::new("bash")
            .arg("-c")
            .arg(script)
            .env("VERSION", "v9.9.9")
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

    std::fs::write(&sidecar, format!("{digest} *oidc-gen-{target}.tar.xz\n")).unwrap();
    let (output, installed) = run("good");
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("oidc-gen {}", env!("CARGO_PKG_VERSION"))),
        "{stdout}"
    );
    assert!(installed.is_file());

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
