//! The committed example under `out/` is exactly what the command in `out/README.md` writes today.

mod common;

use std::path::Path;

use common::{oidc_gen, text};

#[test]
fn committed_example_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("out/README.md")).unwrap();
    let command = readme
        .lines()
        .find(|line| line.starts_with("oidc-gen "))
        .expect("out/README.md gives the oidc-gen command");
    let mut args = shell_words::split(command).unwrap();
    assert_eq!(args.remove(0), "oidc-gen");
    assert!(
        !args.iter().any(|a| a == "--out"),
        "the command writes to the default folder, out/"
    );
    args.push("--check".to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = oidc_gen(root, &args);
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "out/ is stale; run the command in out/README.md\n{stderr}{stdout}"
    );
    assert!(
        stderr.contains("5 file(s) under out are up to date"),
        "{stderr}"
    );
}
