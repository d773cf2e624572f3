#!/usr/bin/env python3
"""Times `oidc-gen lint` on the two sizes its goals name, median of 5 runs each:
- a 10,000-role `aws iam get-account-authorization-details` dump, against Python's bare
  `json.load` of the same file (the goal: at most 1.5 times as long);
- a Terraform module of 500 files with 200 calls of a local module that makes a GitHub role (the
  goal: under 2 s).

Usage: scripts/bench-lint.py [BINARY]   (default target/release/oidc-gen)
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BINARY = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/oidc-gen")
RUNS = 5


def median(command, cwd):
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def dump(roles):
    gh = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    details = []
    for i in range(roles):
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": gh}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                          "StringLike": {"token.actions.githubusercontent.com:sub": f"repo:acme/app-{i}:*"}}}]}
        details.append({"Path": "/", "RoleName": f"role-{i}", "RoleId": f"AROA{i:016d}",
                        "Arn": f"arn:aws:iam::123456789012:role/role-{i}",
                        "AssumeRolePolicyDocument": policy, "RolePolicyList": [],
                        "AttachedManagedPolicies": [], "Tags": []})
    return json.dumps({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": details,
                       "Policies": []}, indent=2)


def module(work, files, calls):
    os.makedirs(os.path.join(work, "modules/role"))
    with open(os.path.join(work, "modules/role/main.tf"), "w") as f:
        f.write('variable "repository" {}\nresource "aws_iam_role" "this" {\n'
                '  assume_role_policy = jsonencode({ Statement = [{ Effect = "Allow",'
                ' Action = "sts:AssumeRoleWithWebIdentity", Principal = { Federated = '
                '"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com" }, Condition = {'
                ' StringEquals = { "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" },'
                ' StringLike = { "token.actions.githubusercontent.com:sub" = "repo:acme/${var.repository}:*" } } }] })\n}\n')
    for i in range(files):
        lines = [f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "bucket-{i}"\n}}\n',
                 f'locals {{\n  name_{i} = "app-{i}"\n}}\n']
        if i < calls:
            lines.append(f'module "role_{i}" {{\n  source = "./modules/role"\n  repository = local.name_{i}\n}}\n')
        with open(os.path.join(work, f"file_{i:03}.tf"), "w") as f:
            f.write("".join(lines))


def main():
    work = tempfile.mkdtemp(prefix="bench-lint-")
    path = os.path.join(work, "dump.json")
    with open(path, "w") as f:
        f.write(dump(10_000))
    python = median([sys.executable, "-c", f"import json; json.load(open({path!r}))"], work)
    lint = median([BINARY, "lint", "--format", "json", path], work)
    print(f"10,000-role dump ({os.path.getsize(path) // 1_000_000} MB): lint {lint:.3f} s, "
          f"python json.load {python:.3f} s, ratio {lint / python:.2f} (goal: at most 1.5)")
    tree = os.path.join(work, "module")
    module(tree, 500, 200)
    lint = median([BINARY, "lint", "--format", "json", "."], tree)
    print(f"module of 500 files with 200 module calls: lint {lint:.3f} s (goal: under 2 s)")
    subprocess.run(["rm", "-rf", work])


main()
