//! Runs last (cargo runs test targets in name order; keep this name the last): says which tests
//! of this `cargo test` did not do their real-tool part, and why. A test that skips passes, and
//! cargo hides a passing test's output, so without this line nobody would see it.

#[path = "common/mod.rs"]
mod common;

fn main() {
    let folder = common::skipped_folder(std::os::unix::process::parent_id());
    let mut skipped: Vec<(String, String)> = std::fs::read_dir(&folder)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| {
            let name = entry.file_name().to_string_lossy().replace("--", "::");
            let reason = std::fs::read_to_string(entry.path()).unwrap_or_default();
            (name, reason)
        })
        .collect();
    let _ = std::fs::remove_dir_all(&folder);
    skipped.sort();
    if skipped.is_empty() {
        println!("skipped: 0 tests; every real-tool check ran");
        return;
    }
    println!();
    for (test, reason) in &skipped {
        println!("  {test}: {reason}");
    }
    let mut reasons: Vec<&str> = skipped.iter().map(|(_, r)| r.as_str()).collect();
    reasons.sort();
    reasons.dedup();
    println!(
        "skipped: {} tests did not run their real-tool checks ({}); .ci/run installs every tool",
        skipped.len(),
        reasons.join("; ")
    );
}
