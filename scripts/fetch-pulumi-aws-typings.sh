#!/usr/bin/env bash
# Extracts, from the @pulumi/aws npm package (and @pulumi/pulumiservice's Environment, and the
# workload identity resources of @pulumi/gcp, @pulumi/azuread and @pulumi/azure-native), the
# TypeScript typings and JavaScript of the IAM
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

# The other clouds' programs: @pulumi/gcp, @pulumi/azuread and @pulumi/azure-native, each the
# files of the resources and functions the gcp/ and azure/ programs use, under DEST/<package>/.
extract() {
  local package=$1 version=$2
  shift 2
  (cd "$work" && rm -rf package && npm pack --silent "@pulumi/$package@$version" >/dev/null)
  local wanted=(package/package.json)
  for member in "$@"; do
    wanted+=("package/$member.d.ts" "package/$member.js")
  done
  tar -xzf "$work/pulumi-$package-$version.tgz" -C "$work" "${wanted[@]}"
  for file in "${wanted[@]}"; do
    mkdir -p "$dest/$package/$(dirname "${file#package/}")"
    cp "$work/$file" "$dest/$package/${file#package/}"
  done
  rm -f "$work/pulumi-$package-$version.tgz"
}
extract gcp "${PULUMI_GCP_VERSION:-9.37.0}" iam/workloadIdentityPool iam/workloadIdentityPoolProvider \
  serviceaccount/iammember projects/iammember
extract azuread "${PULUMI_AZUREAD_VERSION:-6.9.1}" application servicePrincipal getApplication \
  applicationFederatedIdentityCredential applicationFlexibleFederatedIdentityCredential
extract azure-native "${PULUMI_AZURE_NATIVE_VERSION:-3.28.0}" managedidentity/userAssignedIdentity \
  managedidentity/federatedIdentityCredential

echo "@pulumi/aws $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$dest/package.json") typings in $dest"
