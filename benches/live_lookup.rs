//! The live look-up against a local issuer, side by side with AWS's documented procedure
//! (`scripts/aws-thumbprint-procedure.sh`: curl and openssl), alternating the two in one loop so
//! that the machine's drift hits both alike. Prints each side's median time, the median of the
//! per-round ratios, and how many TLS connections the issuer accepted per run.
//!
//! Run with `scripts/bench-live-lookup.sh` (or `cargo bench --bench live_lookup`). Needs curl and
//! openssl.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{ChainShape, TestChain, TestIssuer, oidc_gen_command};

const ROUNDS: usize = 41;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

/// Runs `command`, checks it printed `expected`, and returns how long it took and how many
/// connections the issuer accepted meanwhile.
fn timed(mut command: Command, issuer: &TestIssuer, expected: &str) -> (Duration, usize) {
    let before = issuer.accepted();
    let started = Instant::now();
    let output = command.output().expect("the command runs");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.trim() == expected,
        "{command:?} printed {stdout:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (elapsed, issuer.accepted() - before)
}

fn main() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let issuer = TestIssuer::start(&chain);
    let dir = tempfile::tempdir().unwrap();
    let root = chain.write_root(dir.path());
    let root = root.to_str().unwrap();
    let expected = oidc_gen::thumbprint::sha1_hex(chain.sent.last().unwrap());
    let procedure =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/aws-thumbprint-procedure.sh");

    let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut start_only = Vec::new();
    let (mut our_connections, mut their_connections) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let command = oidc_gen_command(
            dir.path(),
            &["thumbprint", "--issuer", &issuer.url, "--ca-file", root],
        );
        let (our_time, connections) = timed(command, &issuer, &expected);
        our_connections.push(connections);
        let mut command = Command::new("bash");
        command.arg(&procedure).args([&issuer.url, root]);
        let (their_time, connections) = timed(command, &issuer, &expected);
        their_connections.push(connections);
        ours.push(our_time.as_secs_f64() * 1000.0);
        theirs.push(their_time.as_secs_f64() * 1000.0);
        ratios.push(our_time.as_secs_f64() / their_time.as_secs_f64());
        let started = Instant::now();
        oidc_gen_command(dir.path(), &["--version"])
            .output()
            .unwrap();
        start_only.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    our_connections.sort();
    our_connections.dedup();
    their_connections.sort();
    their_connections.dedup();
    println!(
        "live look-up of {} ({ROUNDS} rounds, alternating)",
        issuer.url
    );
    println!(
        "oidc-gen thumbprint:                  median {:7.1} ms, TLS connections per run: {our_connections:?}",
        median(&mut ours)
    );
    println!(
        "AWS's procedure (curl + openssl):     median {:7.1} ms, TLS connections per run: {their_connections:?}",
        median(&mut theirs)
    );
    println!(
        "oidc-gen --version (starting the process): median {:7.1} ms",
        median(&mut start_only)
    );
    println!(
        "median ratio (oidc-gen / AWS's procedure): {:.3}",
        median(&mut ratios)
    );
}
