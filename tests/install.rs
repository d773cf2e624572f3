//! Installing oidc-gen without a Rust toolchain: the shell installer `dist` (cargo-dist) writes for
//! a release, pointed at release archives served from 127.0.0.1, installs a binary that runs; the
//! archive it fetches is the one `cargo binstall`'s metadata names.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{have_tool, text};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `python3 -m http.server` on 127.0.0.1 serving a folder, for at most five minutes, stopped by
/// its pid when dropped.
struct FileServer {
    child: Child,
    port: u16,
}

impl FileServer {
    fn start(folder: &Path) -> FileServer {
        let mut child = Command::new("timeout")
            .args([
                "300",
                "python3",
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
            ])
            .arg("--directory")
            .arg(folder)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        let port = line
            .split_whitespace()
            .skip_while(|word| *word != "port")
            .nth(1)
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("http.server said: {line}"));
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

    // The archive as dist builds it: a folder named after it, holding the binary and the docs.
    let work = tempfile::tempdir().unwrap();
    let served = work.path().join("releases");
    let inside = work.path().join(format!("oidc-gen-{target}"));
    std::fs::create_dir_all(&served).unwrap();
    std::fs::create_dir_all(&inside).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_oidc-gen"), inside.join("oidc-gen")).unwrap();
    for doc in ["README.md", "CHANGELOG.md", "LICENSE"] {
        std::fs::copy(Path::new(ROOT).join(doc), inside.join(doc)).unwrap();
    }
    // The test's binary is a debug build: compressing it fast keeps the test quick.
    let packed = Command::new("tar")
        .env("XZ_OPT", "-0")
        .arg("-cJf")
        .arg(served.join(&archive))
        .arg("-C")
        .arg(work.path())
        .arg(format!("oidc-gen-{target}"))
        .output()
        .unwrap();
    assert!(packed.status.success(), "{}", text(&packed).1);

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

    let server = FileServer::start(&served);
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
