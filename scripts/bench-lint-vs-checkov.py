#!/usr/bin/env python3
"""Times `oidc-gen lint` against checkov's GitHub OIDC checks on the same Terraform corpus, in one
run: 100 files of 10 GitHub roles each (every tenth trusting any repository), each tool run three
times, alternating, and prints both medians, the ratio, and what each found.

Usage: scripts/bench-lint-vs-checkov.py [OIDC_GEN] [CHECKOV]
       (default target/release/oidc-gen, and $CHECKOV or checkov)
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

OIDC_GEN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/oidc-gen")
CHECKOV = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("CHECKOV", "checkov")
FILES, ROLES, RUNS = 100, 10, 3

ROLE = """resource "aws_iam_role" "r{index}" {{
  name = "r{index}"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = {{ Federated = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" }}
      Condition = {{
        StringEquals = {{ "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" }}
        StringLike   = {{ "token.actions.githubusercontent.com:sub" = "{sub}" }}
      }}
    }}]
  }})
}}
"""


def corpus(folder):
    for file in range(FILES):
        roles = []
        for role in range(ROLES):
            index = file * ROLES + role
            sub = "repo:*" if index % 10 == 0 else f"repo:acme/app{index}:*"
            roles.append(ROLE.format(index=index, sub=sub))
        with open(os.path.join(folder, f"iam{file:03}.tf"), "w") as f:
            f.write("\n".join(roles))


def timed(command):
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    return time.monotonic() - started, result


def main():
    with tempfile.TemporaryDirectory() as folder:
        corpus(folder)
        lint = [OIDC_GEN, "lint", folder, "--format", "json"]
        checkov = [CHECKOV, "--directory", folder, "--framework", "terraform", "--check",
                   "CKV_AWS_358,CKV_AWS_393", "--skip-download", "--output", "json", "--quiet"]
        lint_times, checkov_times = [], []
        for _ in range(RUNS):
            seconds, lint_result = timed(lint)
            lint_times.append(seconds)
            seconds, checkov_result = timed(checkov)
            checkov_times.append(seconds)
        summary = json.loads(lint_result.stdout)["summary"]
        reports = json.loads(checkov_result.stdout)
        reports = reports if isinstance(reports, list) else [reports]
        failed = sum(r["summary"]["failed"] for r in reports)
        lint_median, checkov_median = statistics.median(lint_times), statistics.median(checkov_times)
        print(f"corpus: {FILES} Terraform files, {FILES * ROLES} GitHub roles, {FILES * ROLES // 10} trusting any repository")
        print(f"oidc-gen lint: median {lint_median:.3f} s of {RUNS} ({summary['roles']} roles, {summary['errors']} errors)")
        print(f"checkov CKV_AWS_358/393: median {checkov_median:.3f} s of {RUNS} ({failed} failed checks)")
        print(f"ratio lint/checkov: {lint_median / checkov_median:.4f}")


main()
