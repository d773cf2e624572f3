#!/usr/bin/env python3
"""Feeds oidc-gen hostile inputs under `ulimit -v` and asserts, per case, the exit code, the time
(at most 3 s), the peak memory (at most 200 MiB) and the size of what it prints (at most 4 KiB on
stderr). Also: an update of 2,006 files under `ulimit -n 1024`, and 10,000 roles under 200 MiB.

Usage: scripts/hostile-inputs.py [BINARY]   (default target/release/oidc-gen, what users run)
Prints one line per case and exits 1 if any case fails.
"""
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

BINARY = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/oidc-gen")
SECONDS = 3.0
MEBIBYTES = 200
STDERR_BYTES = 4096
ADDRESS_SPACE = 1 << 30  # ulimit -v: an unbounded allocation fails instead of taking the machine

failures = []


def run(name, args, cwd, expect, stdin=None, seconds=SECONDS, mebibytes=MEBIBYTES, files=None,
        stderr_bytes=STDERR_BYTES, stdout_bytes=None):
    """Runs oidc-gen with `args` and checks exit code, time, peak memory, stderr size and, when
    given a bound, stdout size."""

    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
        if files:
            resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    peak_file = os.path.join(cwd, ".peak")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        # /usr/bin/time measures the peak of oidc-gen alone (a child forked from Python starts with
        # Python's peak).
        child = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", peak_file, BINARY, *args], cwd=cwd, stdin=stdin or subprocess.DEVNULL,
                                 stdout=out, stderr=err, preexec_fn=limits)
        timer = threading.Timer(seconds * 10, child.kill)
        timer.start()
        _, status, _ = os.wait4(child.pid, 0)
        timer.cancel()
        elapsed = time.perf_counter() - started
        code = child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
        printed = out.seek(0, os.SEEK_END)
    with open(peak_file) as f:
        peak = int(f.read().split()[-1]) / 1024
    problems = []
    if code not in expect:
        problems.append(f"exit {code}, wanted {expect}")
    if elapsed > seconds:
        problems.append(f"took {elapsed:.2f} s")
    if peak > mebibytes:
        problems.append(f"peak {peak:.0f} MiB")
    if stderr_bytes and len(stderr) > stderr_bytes:
        problems.append(f"{len(stderr)} bytes on stderr")
    if stdout_bytes and printed > stdout_bytes:
        problems.append(f"{printed} bytes on stdout")
    first = stderr.decode(errors="replace").strip().splitlines()[:1]
    verdict = "FAIL " + "; ".join(problems) if problems else "ok"
    shown = f"  {printed / 1e6:6.1f} MB out" if stdout_bytes else ""
    print(f"{name:<48} exit {code}  {elapsed:6.2f} s  {peak:6.1f} MiB{shown}  {verdict}")
    if first:
        print(f"    {first[0][:150]}")
    if problems:
        failures.append(name)


def alias_bomb(megabytes):
    """A billion-laughs document of about `megabytes` MB: a wide anchor, then lists of aliases."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * 50) + "]"]
    level = 1
    size = len(lines[0])
    while size < megabytes * 1_000_000:
        line = f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 50) + "]"
        lines.append(line)
        size += len(line)
        level += 1 if level < 20 else 0
        if level == 20:
            lines.append("b: [" + ", ".join(["*a19"] * 20000) + "]")
            size += 20000 * 6
    return "\n".join(lines) + "\n"


def account_dump(roles):
    """`aws iam get-account-authorization-details` output with `roles` GitHub roles, every other
    one admitting any repository; the policies URL-encoded as the CLI prints them."""
    import json
    import urllib.parse
    details = []
    for i in range(roles):
        sub = "repo:*" if i % 2 else f"repo:acme/app-{i}:ref:refs/heads/main"
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                          "StringLike": {"token.actions.githubusercontent.com:sub": sub}}}]}
        details.append({"Path": "/", "RoleName": f"role-{i}", "RoleId": f"AROA{i:016d}",
                        "Arn": f"arn:aws:iam::123456789012:role/role-{i}",
                        "AssumeRolePolicyDocument": urllib.parse.quote(json.dumps(policy)),
                        "RolePolicyList": [], "AttachedManagedPolicies": [], "Tags": []})
    return json.dumps({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": details,
                       "Policies": []}, indent=4)


def aliases_of_one_string(megabytes, aliases):
    """`aliases` aliases of one string of `megabytes` MiB: a file of that size that expands to
    `aliases` times it."""
    return ("# Statement\nbig: &big " + "x" * int(megabytes * (1 << 20)) + "\nmany: ["
            + ", ".join(["*big"] * aliases) + "]\n")


def fanning_locals(levels, width):
    """About a kilobyte of Terraform whose locals refer to the one before `width` times each,
    `levels` deep: width ** levels strings."""
    lines = ["locals {", '  l0 = "' + "x" * 100 + '"']
    for level in range(1, levels + 1):
        lines.append(f"  l{level} = [" + ", ".join([f"local.l{level - 1}"] * width) + "]")
    lines.append("}")
    lines.append('resource "aws_iam_role" "r" {\n  assume_role_policy = jsonencode({ Statement = local.l'
                 + str(levels) + " })\n}")
    return "\n".join(lines) + "\n"


def for_each_beside_blocks(entries, blocks):
    """A role with `for_each` over a map of `entries`, beside `blocks` other resources."""
    items = "".join(f'    "role-{i}" = "repo:acme/app-{i}:*"\n' for i in range(entries))
    others = "".join(f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "b{i}"\n}}\n' for i in range(blocks))
    role = ('resource "aws_iam_role" "r" {\n  for_each = local.subjects\n  name = each.key\n'
            '  assume_role_policy = jsonencode({\n    Statement = [{\n      Effect = "Allow"\n'
            '      Action = "sts:AssumeRoleWithWebIdentity"\n'
            '      Principal = { Federated = "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com" }\n'
            '      Condition = {\n        StringEquals = { "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" }\n'
            '        StringLike = { "token.actions.githubusercontent.com:sub" = each.value }\n      }\n    }]\n  })\n}\n')
    return "locals {\n  subjects = {\n" + items + "  }\n}\n" + others + role


def self_calling_module(count):
    """A module that calls itself `count` times, with a role trusting GitHub: count ** depth
    instances unless bounded."""
    return ('variable "subject" {\n  default = "repo:acme/app:*"\n}\n'
            f'module "again" {{\n  source = "./"\n  count = {count}\n  subject = var.subject\n}}\n'
            'resource "aws_iam_role" "r" {\n  assume_role_policy = jsonencode({ Statement = [{ Effect = "Allow",'
            ' Action = "sts:AssumeRoleWithWebIdentity", Principal = { Federated = '
            '"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com" }, Condition = { StringLike = {'
            ' "token.actions.githubusercontent.com:sub" = var.subject } } }] })\n}\n')


def template_loop():
    """A role whose policy is a template that renders itself twice, which renders itself ..."""
    return 'resource "aws_iam_role" "r" {\n  assume_role_policy = templatefile("loop.tpl", {})\n}\n'


def nested_for(size):
    """A for expression over a list of `size` lists of `size` strings."""
    return ("locals {\n  rows = [for i in range(" + str(size) + ") : [for j in range(" + str(size) + ') : "x"]]\n'
            "  big = " + str([["x"] * 50] * size).replace("'", '"') + "\n"
            '  all = flatten([for row in local.big : [for x in row : "repo:${x}:*"]])\n}\n'
            'resource "aws_iam_role" "r" {\n  assume_role_policy = jsonencode({ Statement = [{ Effect = "Allow",'
            ' Action = "sts:AssumeRoleWithWebIdentity", Principal = { Federated = '
            '"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com" }, Condition = { StringLike = {'
            ' "token.actions.githubusercontent.com:sub" = local.all } } }] })\n}\n')


def deep_condition(levels):
    """A GCP provider whose condition is brackets nested 30 deep, repeated 4 times a level of locals."""
    lines = ['locals {', '  l0 = "' + "(" * 30 + '"']
    lines += [f'  l{i} = "${{local.l{i - 1}}}${{local.l{i - 1}}}${{local.l{i - 1}}}${{local.l{i - 1}}}"'
              for i in range(1, levels)]
    lines += ['}', 'resource "google_iam_workload_identity_pool_provider" "p" {',
              f'  attribute_condition = "${{local.l{levels - 1}}}assertion.sub == \'x\'"',
              '  oidc {', '    issuer_uri = "https://token.actions.githubusercontent.com"', '  }', '}']
    return "\n".join(lines) + "\n"


def statements(count, sub):
    import json
    statement = {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                 "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
                 "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": sub}}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement] * count})


def many_statements(roles, per_role):
    """`get-account-authorization-details` output of `roles` roles of `per_role` statements each,
    every one admitting any repository."""
    import json
    import urllib.parse
    policy = urllib.parse.quote(statements(per_role, "repo:*"))
    details = [{"RoleName": f"role-{i}", "Arn": f"arn:aws:iam::1:role/role-{i}",
                "AssumeRolePolicyDocument": policy} for i in range(roles)]
    return json.dumps({"RoleDetailList": details})


def spec(roles, accounts, org="acme"):
    lines = [f"org: {org}", "thumbprint: none", "roles:"]
    for i in range(roles):
        lines += [f"  - name: role-{i}", f"    envs: [project-{i}/prod]",
                  "    policy_arns: [arn:aws:iam::aws:policy/ReadOnlyAccess]"]
    lines.append("accounts:")
    lines += [f'  - {{id: "{100000000000 + i}", name: account-{i}}}' for i in range(accounts)]
    return "\n".join(lines) + "\n"


def terraform_roles(count):
    """A Terraform file of one GitHub provider and `count` roles, every tenth trusting any repository."""
    provider = ('resource "aws_iam_openid_connect_provider" "github" {\n'
                '  url            = "https://token.actions.githubusercontent.com"\n'
                '  client_id_list = ["sts.amazonaws.com"]\n}\n')
    role = ('resource "aws_iam_role" "r{i}" {{\n  name = "r{i}"\n  assume_role_policy = jsonencode({{\n'
            '    Version = "2012-10-17"\n    Statement = [{{\n      Effect    = "Allow"\n'
            '      Action    = "sts:AssumeRoleWithWebIdentity"\n'
            '      Principal = {{ Federated = aws_iam_openid_connect_provider.github.arn }}\n'
            '      Condition = {{\n        StringEquals = {{ "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" }}\n'
            '        StringLike   = {{ "token.actions.githubusercontent.com:sub" = "{sub}" }}\n      }}\n    }}]\n  }})\n}}\n')
    return provider + "".join(role.format(i=i, sub="repo:*" if i % 10 == 0 else f"repo:acme/app{i}:*")
                              for i in range(count))


def main():
    work = tempfile.mkdtemp(prefix="hostile-")
    path = lambda name: os.path.join(work, name)

    def write(name, text):
        # A Terraform file is a module of its own folder, as lint reads it.
        if name.endswith(".tf"):
            os.makedirs(path(name[:-3]), exist_ok=True)
            name = os.path.join(name[:-3], "main.tf")
        with open(path(name), "w") as f:
            f.write(text)

    write("bomb.yaml", alias_bomb(1))
    write("deep-flow.yaml", "roles: " + "[" * 100_000 + "]" * 100_000 + "\n")
    write("deep-block.yaml", "".join(" " * (2 * d) + "-\n" for d in range(1000)))
    write("deep.json", "[" * 100_000 + "]" * 100_000)
    # lint passes over a file that mentions no policy: its hostile files mention one.
    write("lint-bomb.yaml", "# Statement\n" + alias_bomb(1))
    write("lint-deep.json", '{"Statement": ' + "[" * 100_000 + "]" * 100_000 + "}")
    write("deep.tf", 'resource "aws_iam_role" "r" {\n  assume_role_policy = ' + "[" * 100_000 + "]" * 100_000 + "\n}\n")
    write("huge.tf", "# assume_role_policy\n" + "#" * 5_000_000 + "\n")
    write("huge.yaml", "org: " + "a" * 50_000_000 + "\n")
    write("long-value.yaml", 'org: acme\nroles:\n  - name: "' + "x" * 3_000_000 + '"\n')
    write("long-thumbprint.yaml", "org: acme\nthumbprint: " + "z" * 3_000_000 + "\nroles: []\naccounts: []\n")
    os.mkfifo(path("fifo.yaml"))
    patterns = ["*a" * 5000 + "*b"] * 20
    write("star-policy.json", '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRoleWithWebIdentity", '
          '"Condition": {"StringLike": {"api.pulumi.com/oidc:sub": ' + str(patterns).replace("'", '"') + "}}}]}")
    small = ["*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"] * 80
    write("star-small.json", '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRoleWithWebIdentity", '
          '"Condition": {"StringLike": {"api.pulumi.com/oidc:sub": ' + str(small).replace("'", '"') + "}}}]}")
    write("misspelled.json", '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRoleWithWebIdentity", '
          '"Conditions": {"StringEquals": {"api.pulumi.com/oidc:aud": "acme"}}}]}')
    sim = ["simulate", "--aud", "acme", "--sub", "a" * 19_000, "--issuer", "https://api.pulumi.com/oidc", "--policy"]
    os.makedirs(path("templates/terraform"))
    write("templates/terraform/main.tf.j2", "#" * 2_000_000)
    gen = ["--org", "acme", "--no-thumbprint"]

    write("aliases-1m.yaml", aliases_of_one_string(1, 1_000))
    write("aliases-1.1m.yaml", aliases_of_one_string(1.1, 1_000))
    write("fanout.tf", fanning_locals(9, 10))
    write("for-each.tf", for_each_beside_blocks(20_000, 20_000))
    write("for-each-5k.tf", for_each_beside_blocks(5_000, 20_000))
    write("big-policy.json", statements(20_000, "repo:acme/app:*"))
    write("many-statements.json", many_statements(200, 250))
    write("self-calls.tf", self_calling_module(100))
    write("template-loop.tf", template_loop())
    write("deep-condition.tf", deep_condition(8))
    with open(path("template-loop/loop.tpl"), "w") as f:
        f.write('${templatefile("loop.tpl", {})}${templatefile("loop.tpl", {})}')
    write("nested-for.tf", nested_for(3000))

    print(f"{'case':<48} exit    time     peak")
    for size in ["1m", "1.1m"]:
        run(f"spec: 1,000 aliases of one {size} string", ["--config", f"aliases-{size}.yaml"], work, [2])
        run(f"lint: 1,000 aliases of one {size} string", ["lint", f"aliases-{size}.yaml"], work, [2])
        run(f"policy: 1,000 aliases of one {size} string", [*sim, f"aliases-{size}.yaml"], work, [2])
    run(f"lint: locals fanning out ({os.path.getsize(path('fanout/main.tf'))} bytes)", ["lint", "fanout"], work, [2])
    run("lint: a module calling itself 100 times a level", ["lint", "self-calls"], work, [1])
    run("lint: a template rendering itself twice", ["lint", "template-loop"], work, [2])
    run("lint: a GCP condition of 500,000 nested brackets", ["lint", "deep-condition"], work, [1])
    run("lint: for over 3,000 lists of 3,000", ["lint", "nested-for"], work, [1, 2])
    run("lint: for_each of 20,000 beside 20,000 blocks", ["lint", "for-each"], work, [2])
    run("lint: for_each of 5,000 beside 20,000 blocks", ["lint", "for-each-5k", "--format", "json"], work, [0],
        stderr_bytes=None, stdout_bytes=64 << 20)
    run(f"lint: one policy of {os.path.getsize(path('big-policy.json')) // 1_000_000} MB", ["lint", "big-policy.json"],
        work, [2])
    run(f"lint: {os.path.getsize(path('many-statements.json')) // 1_000_000} MB of statements, SARIF",
        ["lint", "many-statements.json", "--format", "sarif"], work, [1], stderr_bytes=None, stdout_bytes=64 << 20)
    run("spec: 1 MB YAML alias bomb", ["--config", "bomb.yaml"], work, [2])
    run("lint: 1 MB YAML alias bomb", ["lint", "lint-bomb.yaml"], work, [2])
    run("lint: 100,000-deep JSON nesting", ["lint", "lint-deep.json"], work, [2])
    run("lint: 100,000-deep Terraform brackets", ["lint", "deep"], work, [2])
    run("lint: 5 MB Terraform file", ["lint", "huge"], work, [2])
    run("lint: /dev/zero", ["lint", "/dev/zero"], work, [2])
    run("lint: a FIFO nobody writes to", ["lint", "fifo.yaml"], work, [2])
    run("policy: 1 MB YAML alias bomb", [*sim, "bomb.yaml"], work, [2])
    run("spec: 100,000-deep flow nesting", ["--config", "deep-flow.yaml"], work, [2])
    run("spec: 1,000-deep block nesting", ["--config", "deep-block.yaml"], work, [2])
    run("policy: 100,000-deep JSON nesting", [*sim, "deep.json"], work, [2])
    run("spec: /dev/zero", ["--config", "/dev/zero"], work, [2])
    run("policy: /dev/zero", [*sim, "/dev/zero"], work, [2])
    run("spec: a FIFO nobody writes to", ["--config", "fifo.yaml"], work, [2])
    run("spec: 50 MB value", ["--config", "huge.yaml"], work, [2])
    run("spec: 3 MB role name", ["--config", "long-value.yaml"], work, [2])
    run("spec: 3 MB thumbprint, quoted in the error", ["--config", "long-thumbprint.yaml"], work, [2])
    with open("/dev/zero", "rb") as zero:
        run("token: endless standard input", ["simulate", "--token", "-"], work, [2], stdin=zero)
    run("policy: 20 StringLike patterns of 10k characters", [*sim, "star-policy.json"], work, [2])
    run("policy: 80 patterns of 21 stars against 19k sub", [*sim, "star-small.json"], work, [1])
    run("policy: 'Conditions' misspelled", ["simulate", "--aud", "x", "--sub", "y", "--issuer",
                                            "https://api.pulumi.com/oidc", "--policy", "misspelled.json"], work, [2])
    run("sub of 120k characters", ["simulate", "--aud", "acme", "--sub", "a" * 120_000, "--org", "acme"], work, [2])
    run("template of 2 MB", [*gen, "--templates", "templates", "--out", "t"], work, [2])
    run("--env of 100k characters", [*gen, "--env", "a" * 100_000, "--out", "e"], work, [2])
    os.makedirs(path("m"))
    with open(path("m/.oidc-gen-files"), "w") as f:
        f.write("x" * 100_000_000)
    run("manifest of 100 MB", [*gen, "--out", "m"], work, [0])

    # 500 accounts x 4 files: an update of every file with 1,024 descriptors.
    write("many-a.yaml", spec(1, 500, "acme"))
    write("many-b.yaml", spec(1, 500, "umbrella"))
    run("500 accounts, written", ["--config", "many-a.yaml", "--out", "many"], work, [0], seconds=60, stderr_bytes=None)
    run("500 accounts, all replaced at ulimit -n 1024", ["--config", "many-b.yaml", "--out", "many"], work, [0],
        seconds=60, files=1024, stderr_bytes=None)
    write("dump.json", account_dump(10_000))
    run(f"lint: 10,000-role account dump ({os.path.getsize(os.path.join(work, 'dump.json')) // 1_000_000} MB)",
        ["lint", "dump.json", "--format", "json"], work, [1], seconds=1.0, stderr_bytes=None)
    write("tf-roles.tf", terraform_roles(5_000))
    run(f"lint: 5,000 Terraform roles ({os.path.getsize(os.path.join(work, 'tf-roles/main.tf')) // 1_000_000} MB)",
        ["lint", "tf-roles", "--format", "json"], work, [1], seconds=1.0, stderr_bytes=None)
    write("roles.yaml", spec(10_000, 1))
    run("10,000 roles in one account", ["--config", "roles.yaml", "--out", "roles"], work, [0], seconds=120, stderr_bytes=None)

    subprocess.run(["rm", "-rf", work])
    if failures:
        print(f"hostile inputs: {len(failures)} failed: {', '.join(failures)}")
        sys.exit(1)
    print("hostile inputs: every case within bounds")


main()
