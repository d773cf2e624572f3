#!/usr/bin/env bash
# Extracts, from the @pulumi/aws npm package (and @pulumi/pulumiservice's Environment), the TypeScript typings and JavaScript of the IAM
# resources and functions oidc-gen's Pulumi YAML uses, and of the provider resource
# (pulumi:providers:aws) with its input types. tests/pulumi_typings.rs checks the generated
# program's type tokens and property names against them (set PULUMI_AWS_TYPINGS to DEST).
#
# usage: scripts/fetch-pulumi-aws-typings.sh DEST [VERSION]
set -euo pipefail
dest=${1:?usage: $0 DEST [VERSION]}
version=${2:-7.48.0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "@pulumi/aws@$version" >/dev/null)
members=(openIdConnectProvider role rolePolicyAttachment getOpenIdConnectProvider)
files=(package/package.json package/provider.d.ts package/provider.js package/types/input.d.ts)
for member in "${members[@]}"; do
  files+=("package/iam/$member.d.ts" "package/iam/$member.js")
done
tar -xzf "$work"/pulumi-aws-*.tgz -C "$work" "${files[@]}"

mkdir -p "$dest/iam" "$dest/types"
cp "$work/package/package.json" "$work/package/provider.d.ts" "$work/package/provider.js" "$dest/"
cp "$work/package/types/input.d.ts" "$dest/types/"
for member in "${members[@]}"; do
  cp "$work/package/iam/$member.d.ts" "$work/package/iam/$member.js" "$dest/iam/"
done
# The Pulumi Cloud provider's Environment resource (the program's optional ESC environment).
(cd "$work" && npm pack --silent "@pulumi/pulumiservice@${PULUMISERVICE_VERSION:-1.3.0}" >/dev/null)
tar -xzf "$work"/pulumi-pulumiservice-*.tgz -C "$work" package/package.json package/environment.d.ts package/environment.js
mkdir -p "$dest/pulumiservice"
cp "$work/package/package.json" "$work/package/environment.d.ts" "$work/package/environment.js" "$dest/pulumiservice/"

echo "@pulumi/aws $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$dest/package.json") typings in $dest"
