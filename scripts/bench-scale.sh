#!/usr/bin/env bash
# Generates a spec of N accounts with 3 roles each (N = 1, 50, 500) with the release build and
# prints per N: the files and bytes written; the median of 5 runs of `--check` against an empty
# folder (everything but writing), of a run into a fresh folder on this disk, and of one into a
# fresh folder in memory (/dev/shm, when there is one); the peak memory (max RSS); and the StackSet
# template's size, which must not grow with N. The last line is what the disk alone needs to create
# the same folders and files (Python, no oidc-gen), for scale.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
work=target/bench-scale
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
python3 - "$PWD/target/release/oidc-gen" "$PWD/$work" <<'PYTHON'
import os, shutil, statistics, subprocess, sys, time

binary, work = sys.argv[1], sys.argv[2]
ROLES = """roles:
  - name: pulumi-esc-readonly
    policy_arns: [arn:aws:iam::aws:policy/ReadOnlyAccess]
    envs: ["*/dev", "*/staging"]
  - name: pulumi-admin
    policy_arns: [arn:aws:iam::aws:policy/AdministratorAccess]
    envs: [platform/prod]
    deploy: [infra/prod]
    max_session_duration: 2h
    path: /pulumi/
    permissions_boundary: arn:aws:iam::aws:policy/PowerUserAccess
    tags: {team: platform}
  - name: pulumi-deploy
    policy_arns: [arn:aws:iam::aws:policy/PowerUserAccess]
    deploy: ["*/prod"]
"""

def spec(accounts):
    lines = ["org: acme", "thumbprint: none", ROLES.rstrip(), "accounts:"]
    lines += [f'  - {{id: "{100000000000 + i}", name: account-{i}}}' for i in range(accounts)]
    lines += ["organization:", "  ou_ids: [ou-abcd-12345678]", ""]
    return "\n".join(lines)

MEMORY = "/dev/shm" if os.path.isdir("/dev/shm") else None

def run(folder, *extra, out="out"):
    """Wall time in seconds and max RSS in KiB of one run."""
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", binary, "--config", "oidc-gen.yaml", "--out", out, *extra],
        cwd=folder, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(done.stderr)
    return elapsed, int(done.stderr.strip().splitlines()[-1])

def floor(files, folders):
    """The time the disk takes to create the same folders and files, without oidc-gen."""
    root = os.path.join(work, "floor")
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    for folder in folders:
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    for path, size in files:
        with open(os.path.join(root, path), "wb") as f:
            f.write(b"x" * size)
    elapsed = time.perf_counter() - started
    shutil.rmtree(root)
    return elapsed

print(f"{'accounts':>8} {'files':>6} {'bytes':>9} {'bytes/account':>13} {'--check':>9} "
      f"{'write':>9} {'in memory':>9} {'max RSS':>9} {'stackset.json':>13}")
sizes = {}
for accounts in (1, 50, 500):
    folder = os.path.join(work, str(accounts))
    os.makedirs(folder)
    with open(os.path.join(folder, "oidc-gen.yaml"), "w") as f:
        f.write(spec(accounts))
    checks, writes, in_memory, memory = [], [], [], []
    for _ in range(5):
        shutil.rmtree(os.path.join(folder, "out"), ignore_errors=True)
        elapsed, rss = run(folder, "--check")
        checks.append(elapsed)
        memory.append(rss)
        elapsed, rss = run(folder)
        writes.append(elapsed)
        memory.append(rss)
        if MEMORY:
            target = os.path.join(MEMORY, f"oidc-gen-bench-{os.getpid()}")
            shutil.rmtree(target, ignore_errors=True)
            elapsed, rss = run(folder, out=target)
            in_memory.append(elapsed)
            shutil.rmtree(target)
    out = os.path.join(folder, "out")
    written = [(os.path.relpath(os.path.join(d, f), out), os.path.getsize(os.path.join(d, f)))
               for d, _, fs in os.walk(out) for f in fs]
    folders = [os.path.relpath(d, out) for d, _, _ in os.walk(out)]
    total = sum(size for _, size in written)
    stackset = os.path.getsize(os.path.join(out, "cloudformation", "stackset.json"))
    sizes[accounts] = total
    print(f"{accounts:>8} {len(written):>6} {total:>9} {total // accounts:>13} "
          f"{statistics.median(checks) * 1000:>7.0f}ms {statistics.median(writes) * 1000:>7.0f}ms "
          f"{statistics.median(in_memory) * 1000 if in_memory else float('nan'):>7.0f}ms "
          f"{max(memory) / 1024:>6.1f}MiB {stackset:>13}")
growth = (sizes[500] - sizes[50]) / (sizes[50] - sizes[1])
print(f"bytes added from 50 to 500 accounts / from 1 to 50: {growth:.2f} (linear: {450 / 49:.2f})")
floors = [floor(written, folders) for _ in range(5)]
print(f"the disk alone, creating the same {len(folders)} folders and {len(written)} files: "
      f"median {statistics.median(floors) * 1000:.0f}ms")
PYTHON
