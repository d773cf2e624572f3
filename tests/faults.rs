//! oidc-gen in a hostile folder: symbolic links, tampered manifests, files it did not write,
//! twenty runs at once, SIGKILL at random moments, a full disk. Each case proves that nothing
//! outside the output folder changed, that no file is ever empty or half-written, and that nothing
//! of a file outside leaked to the output.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{oidc_gen, oidc_gen_command, run_bounded, text, tree};
use sha2::{Digest, Sha256};

const ARGS: [&str; 9] = [
    "--org",
    "acme",
    "--env",
    "platform/prod",
    "--deploy",
    "infra/prod",
    "--account-id",
    "123456789012",
    "--no-thumbprint",
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A secret that must never appear in what oidc-gen prints.
const SECRET: &str = "SECRET-7f3c1e-do-not-print";

/// A work folder with `out/` to be written and, beside it, a victim folder of precious files.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::create_dir_all(victim.join("notes")).unwrap();
        fs::write(victim.join("main.tf"), format!("# {SECRET}\n")).unwrap();
        fs::write(victim.join("precious.txt"), format!("{SECRET}\n")).unwrap();
        fs::write(victim.join("notes/todo.txt"), "todo\n").unwrap();
        fs::write(dir.path().join("precious.txt"), format!("{SECRET}\n")).unwrap();
        Scene { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn out(&self) -> PathBuf {
        self.path().join("out")
    }

    fn victim(&self) -> PathBuf {
        self.path().join("victim")
    }

    /// Everything outside `out/`.
    fn outside(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = tree(&self.victim());
        files.push((
            "precious.txt".into(),
            fs::read(self.path().join("precious.txt")).unwrap(),
        ));
        files
    }

    fn run(&self, extra: &[&str]) -> (Option<i32>, String, String) {
        let args: Vec<&str> = ARGS.iter().chain(extra).copied().collect();
        let output = oidc_gen(self.path(), &args);
        let (stdout, stderr) = text(&output);
        assert!(
            !stdout.contains(SECRET) && !stderr.contains(SECRET),
            "a file outside out/ leaked:\n{stdout}{stderr}"
        );
        (output.status.code(), stdout, stderr)
    }
}

#[test]
fn a_linked_folder_below_out_is_never_written_through() {
    let scene = Scene::new();
    fs::create_dir(scene.out()).unwrap();
    symlink("../victim", scene.out().join("terraform")).unwrap();
    let outside = scene.outside();
    let (code, _, stderr) = scene.run(&[]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("out/terraform: a generated path passes through this symbolic link"),
        "{stderr}"
    );
    assert_eq!(scene.outside(), outside);
    // Nothing was written: the link is all there is.
    let names: Vec<_> = fs::read_dir(scene.out())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["terraform"]);
    // --check reports it without reading through it.
    let (code, stdout, stderr) = scene.run(&["--check"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stdout.contains("unowned: out/terraform/main.tf"),
        "{stdout}"
    );
    // --force does not follow it either.
    let (code, _, stderr) = scene.run(&["--force"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert_eq!(scene.outside(), outside);
}

#[test]
fn a_linked_file_is_neither_read_nor_written_through() {
    let scene = Scene::new();
    assert_eq!(scene.run(&[]).0, Some(0));
    let main_tf = scene.out().join("terraform/main.tf");
    fs::remove_file(&main_tf).unwrap();
    symlink(scene.victim().join("main.tf"), &main_tf).unwrap();
    let outside = scene.outside();
    let (code, stdout, _) = scene.run(&["--check"]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains("unowned: out/terraform/main.tf\n  it is a symbolic link"),
        "{stdout}"
    );
    let (code, _, stderr) = scene.run(&[]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("out/terraform/main.tf: it is a symbolic link"),
        "{stderr}"
    );
    assert_eq!(scene.outside(), outside);
    // --force replaces the link itself with the file.
    assert_eq!(scene.run(&["--force"]).0, Some(0));
    assert!(!fs::symlink_metadata(&main_tf).unwrap().is_symlink());
    assert_eq!(scene.outside(), outside);

    // A link to an endless device is not read: reading it would never end (run_bounded fails the
    // test after 20 s) or fill stdout with its diff.
    fs::remove_file(&main_tf).unwrap();
    symlink("/dev/zero", &main_tf).unwrap();
    let args: Vec<&str> = ARGS.iter().chain(&["--check"]).copied().collect();
    let (output, _) = run_bounded(
        oidc_gen_command(scene.path(), &args),
        Duration::from_secs(20),
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output).1);
    assert!(output.stdout.len() < 10_000);
}

#[test]
fn a_tampered_manifest_deletes_nothing_outside_and_nothing_it_did_not_write() {
    let scene = Scene::new();
    assert_eq!(scene.run(&[]).0, Some(0));
    let out = scene.out();
    symlink("..", out.join("up")).unwrap();
    fs::create_dir(out.join("notes")).unwrap();
    fs::write(out.join("notes/todo.txt"), "mine\n").unwrap();
    fs::write(out.join("README.md"), "mine\n").unwrap();
    let sha = |bytes: &[u8]| hex(&Sha256::digest(bytes));
    let precious = fs::read(scene.path().join("precious.txt")).unwrap();
    let mut manifest = fs::read_to_string(out.join(".oidc-gen-files")).unwrap();
    manifest.push_str(&format!(
        "up/precious.txt\n{}  up/precious.txt\n{}  up/victim/precious.txt\n../precious.txt\n{}/precious.txt\n\
         README.md\nnotes/todo.txt\n{}  notes/todo.txt\n",
        sha(&precious),
        sha(&precious),
        scene.path().display(),
        sha(b"something else\n"),
    ));
    fs::write(out.join(".oidc-gen-files"), manifest).unwrap();
    let outside = scene.outside();
    let (code, _, stderr) = scene.run(&["--prune"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(scene.outside(), outside);
    assert_eq!(fs::read_to_string(out.join("README.md")).unwrap(), "mine\n");
    assert_eq!(
        fs::read_to_string(out.join("notes/todo.txt")).unwrap(),
        "mine\n"
    );
    assert!(
        stderr.contains("ignored the entry \"../precious.txt\""),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "ignored the manifest entry up/precious.txt: its path passes through a symbolic link"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("out/README.md is listed without a hash"),
        "{stderr}"
    );
    assert!(
        stderr.contains("out/notes/todo.txt was edited since"),
        "{stderr}"
    );
    // The manifest is left listing only what is oidc-gen's.
    let manifest = fs::read_to_string(out.join(".oidc-gen-files")).unwrap();
    assert!(
        !manifest.contains("precious") && !manifest.contains("todo"),
        "{manifest}"
    );
}

#[test]
fn a_linked_manifest_lock_or_temporary_file_reaches_nothing_outside() {
    let scene = Scene::new();
    assert_eq!(scene.run(&[]).0, Some(0));
    let out = scene.out();
    // A manifest that is a link is not read (nothing counts as written), and is replaced.
    fs::remove_file(out.join(".oidc-gen-files")).unwrap();
    symlink(
        scene.victim().join("precious.txt"),
        out.join(".oidc-gen-files"),
    )
    .unwrap();
    let outside = scene.outside();
    let (code, _, stderr) = scene.run(&["--force"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        !fs::symlink_metadata(out.join(".oidc-gen-files"))
            .unwrap()
            .is_symlink()
    );
    // A temporary file's name planted as a link: removed as a leftover, its target kept.
    symlink(
        scene.victim().join("main.tf"),
        out.join("terraform/.oidc-gen-tmp-1-1"),
    )
    .unwrap();
    let (code, _, stderr) = scene.run(&["--check"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(scene.run(&[]).0, Some(0));
    assert!(fs::symlink_metadata(out.join("terraform/.oidc-gen-tmp-1-1")).is_err());
    // A lock file that is a link stops the run.
    symlink(
        scene.victim().join("notes/todo.txt"),
        out.join(".oidc-gen.lock"),
    )
    .unwrap();
    let (code, _, stderr) = scene.run(&[]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains(".oidc-gen.lock: oidc-gen's lock file is not a regular file"),
        "{stderr}"
    );
    assert_eq!(scene.outside(), outside);
}

#[test]
fn a_file_oidc_gen_did_not_write_is_refused_until_forced() {
    let scene = Scene::new();
    fs::create_dir_all(scene.out().join("terraform")).unwrap();
    fs::write(scene.out().join("terraform/main.tf"), "# mine\n").unwrap();
    let before = tree(&scene.out());
    let (code, _, stderr) = scene.run(&[]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("out/terraform/main.tf: it is not as oidc-gen wrote it"),
        "{stderr}"
    );
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(tree(&scene.out()), before, "a refused run wrote something");
    let (code, stdout, _) = scene.run(&["--check"]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains("unowned: out/terraform/main.tf"),
        "{stdout}"
    );
    assert_eq!(scene.run(&["--force"]).0, Some(0));
    assert_eq!(scene.run(&["--check"]).0, Some(0));
}

/// The files under `out`, relative, without oidc-gen's bookkeeping.
fn generated_files(out: &Path) -> Vec<(String, Vec<u8>)> {
    tree(out)
        .into_iter()
        .filter(|(path, _)| out.join(path).is_file())
        .map(|(path, bytes)| (path.display().to_string(), bytes))
        .filter(|(path, _)| !path.ends_with(".oidc-gen-files"))
        .collect()
}

/// The manifest's entries as (path, hash).
fn manifest(out: &Path) -> Vec<(String, String)> {
    let mut entries: Vec<(String, String)> = fs::read_to_string(out.join(".oidc-gen-files"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (sha, path) = l.split_once("  ").expect("every entry has a hash");
            (path.to_owned(), sha.to_owned())
        })
        .collect();
    entries.sort();
    entries
}

/// The manifest lists exactly the files present, each with its hash.
fn assert_manifest_matches(out: &Path) {
    let present: Vec<(String, String)> = generated_files(out)
        .into_iter()
        .map(|(path, bytes)| (path, hex(&Sha256::digest(&bytes))))
        .collect();
    assert_eq!(manifest(out), present);
}

#[test]
fn twenty_runs_at_once_take_turns() {
    let dir = tempfile::tempdir().unwrap();
    let with_account: Vec<&str> = ARGS.iter().copied().chain(["--prune"]).collect();
    let without_account: Vec<&str> = ARGS[..6]
        .iter()
        .copied()
        .chain(["--no-thumbprint", "--prune"])
        .collect();
    for round in 0..4 {
        let children: Vec<Child> = (0..20)
            .map(|i| {
                let args = if (i + round) % 2 == 0 {
                    &with_account
                } else {
                    &without_account
                };
                oidc_gen_command(dir.path(), args)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "round {round}: {}",
                text(&output).1
            );
        }
        let out = dir.path().join("out");
        assert_manifest_matches(&out);
        let names: Vec<String> = generated_files(&out).into_iter().map(|(p, _)| p).collect();
        assert!(names.len() == 3 || names.len() == 5, "{names:?}");
    }
}

/// A spec of `accounts` accounts for the organization `org`.
fn spec(org: &str, accounts: usize) -> String {
    let mut text = format!(
        "org: {org}\nthumbprint: none\nroles:\n  - name: reader\n    envs: [\"*/dev\"]\n  - name: deployer\n    \
         envs: [platform/prod]\n    deploy: [infra/prod]\naccounts:\n"
    );
    for i in 0..accounts {
        text.push_str(&format!(
            "  - {{id: \"{}\", name: account-{i}}}\n",
            100_000_000_000u64 + i as u64
        ));
    }
    text
}

/// A small random number generator, seeded from the clock and printed so a failure can be rerun.
struct Random(u64);

impl Random {
    fn new() -> Self {
        let seed = std::env::var("FAULTS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("FAULTS_SEED={seed}");
        Random(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[test]
fn sigkill_at_any_moment_leaves_every_file_old_or_new() {
    let dir = tempfile::tempdir().unwrap();
    let specs = [
        ("a.yaml", spec("acme", 60)),
        ("b.yaml", spec("umbrella", 50)),
    ];
    // What each spec writes, whole.
    let mut versions: std::collections::HashMap<String, Vec<Vec<u8>>> = Default::default();
    let mut slowest = Duration::ZERO;
    for (name, contents) in &specs {
        fs::write(dir.path().join(name), contents).unwrap();
        let reference = format!("ref-{name}");
        let started = Instant::now();
        let output = oidc_gen(dir.path(), &["--config", name, "--out", &reference]);
        slowest = slowest.max(started.elapsed());
        assert!(output.status.success(), "{}", text(&output).1);
        for (path, bytes) in generated_files(&dir.path().join(&reference)) {
            versions.entry(path).or_default().push(bytes);
        }
    }
    // Start from a complete run: from then on, every file both specs write is always there.
    let output = oidc_gen(dir.path(), &["--config", "a.yaml", "--out", "out"]);
    assert!(output.status.success(), "{}", text(&output).1);
    let common: Vec<&String> = versions
        .iter()
        .filter(|(_, v)| v.len() == 2)
        .map(|(p, _)| p)
        .collect();
    assert!(common.len() > 150, "{}", common.len());
    let mut random = Random::new();
    let window = slowest.as_micros() as u64 * 3 / 2;
    let out = dir.path().join("out");
    for kill in 0..120 {
        let (name, _) = &specs[random.below(2) as usize];
        let mut child =
            oidc_gen_command(dir.path(), &["--config", name, "--out", "out", "--prune"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
        std::thread::sleep(Duration::from_micros(random.below(window)));
        child.kill().unwrap();
        child.wait().unwrap();
        // Every file is whole: one of the versions a run writes, never empty or partial.
        for (path, bytes) in generated_files(&out) {
            let file = path.rsplit('/').next().unwrap();
            if file.starts_with(".oidc-gen") {
                continue; // A leftover: the next run removes it.
            }
            let known = versions
                .get(&path)
                .unwrap_or_else(|| panic!("kill {kill}: unknown file {path}"));
            assert!(
                known.contains(&bytes),
                "kill {kill}: {path} is neither old nor new ({} bytes)",
                bytes.len()
            );
        }
        for path in &common {
            assert!(out.join(path).is_file(), "kill {kill}: {path} is missing");
        }
    }
    // One run after the last kill: every leftover gone, the folder clean.
    let output = oidc_gen(
        dir.path(),
        &["--config", "a.yaml", "--out", "out", "--prune"],
    );
    assert!(output.status.success(), "{}", text(&output).1);
    for (path, bytes) in tree(&out) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.starts_with(".oidc-gen-tmp") && !name.starts_with(".oidc-gen-old"),
            "{path:?}"
        );
        assert!(
            name != ".oidc-gen-files.pending" && name != ".oidc-gen.lock",
            "{path:?}"
        );
        assert!(
            !bytes.is_empty() || out.join(&path).is_dir(),
            "empty: {path:?}"
        );
    }
    assert_manifest_matches(&out);
    let check = oidc_gen(
        dir.path(),
        &["--config", "a.yaml", "--out", "out", "--check"],
    );
    assert_eq!(check.status.code(), Some(0), "{}", text(&check).0);
}

/// A small tmpfs mounted for the test, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        fs::create_dir_all(at).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .is_ok_and(|o| o.status.success());
        mounted.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_leaves_every_old_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::mount(&dir.path().join("disk"), "2m") else {
        common::skip_without_root("mounting a small tmpfs needs root");
        return;
    };
    let work = disk.0.clone();
    fs::write(work.join("a.yaml"), spec("acme", 40)).unwrap();
    fs::write(work.join("b.yaml"), spec("umbrella", 40)).unwrap();
    let output = oidc_gen(&work, &["--config", "a.yaml", "--out", "out"]);
    assert!(output.status.success(), "{}", text(&output).1);
    let before = tree(&work.join("out"));
    // Hold every old file open, so its space stays taken even once it is replaced.
    let held: Vec<fs::File> = before
        .iter()
        .filter(|(p, _)| work.join("out").join(p).is_file())
        .map(|(p, _)| fs::File::open(work.join("out").join(p)).unwrap())
        .collect();
    // Fill the disk, then free room for part of the new files only.
    let filler = work.join("filler");
    let mut file = fs::File::create(&filler).unwrap();
    let block = vec![b'x'; 4096];
    while std::io::Write::write_all(&mut file, &block).is_ok() {}
    let size = file.metadata().unwrap().len();
    file.set_len(size.saturating_sub(96 * 1024)).unwrap();
    drop(file);

    let output = oidc_gen(&work, &["--config", "b.yaml", "--out", "out", "--prune"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert_eq!(
        tree(&work.join("out")),
        before,
        "the failed update changed the folder"
    );
    drop(held);
    fs::remove_file(&filler).unwrap();
    let output = oidc_gen(&work, &["--config", "b.yaml", "--out", "out", "--prune"]);
    assert!(output.status.success(), "{}", text(&output).1);
    let check = oidc_gen(&work, &["--config", "b.yaml", "--out", "out", "--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check).0);
}
