// The independent IAM evaluator: @cloud-copilot/iam-simulate's core engine, given a trust policy
// and many web-identity requests. Reads one JSON object on stdin:
//   { "policy": {...}, "role": "arn:...", "requests": [{ "principal": "arn:...", "context": {...} }] }
// and prints one JSON array of answers ("Allowed", "ImplicitlyDenied", "ExplicitlyDenied").
// The validating entry point drops custom OIDC context keys, so the core engine is called directly.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const modules = process.env.IAM_SIMULATE_MODULES;
if (!modules) {
  console.error('set IAM_SIMULATE_MODULES to the node_modules folder that holds @cloud-copilot/iam-simulate');
  process.exit(2);
}
const simulate = join(modules, '@cloud-copilot/iam-simulate/dist/esm');
const require = createRequire(join(modules, 'index.js'));
const { loadPolicy } = await import(require.resolve('@cloud-copilot/iam-policy'));
const { authorize } = await import(join(simulate, 'core_engine/CoreSimulatorEngine.js'));
const { AwsRequestImpl } = await import(join(simulate, 'request/request.js'));
const { RequestContextImpl } = await import(join(simulate, 'requestContext.js'));

const input = JSON.parse(readFileSync(0, 'utf8'));
const policy = loadPolicy(input.policy, { name: 'TrustPolicy' });
const roleAccount = input.role.split(':')[4];
const answers = input.requests.map(({ principal, action, context }) => {
  const request = new AwsRequestImpl(
    principal,
    { resource: input.role, accountId: roleAccount },
    action ?? 'sts:AssumeRoleWithWebIdentity',
    new RequestContextImpl(context),
  );
  const analysis = authorize({
    request,
    sessionPolicy: undefined,
    identityPolicies: [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: policy,
    permissionBoundaries: undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: { simulationMode: 'Strict', discoveryContextKeyConstraints: {} },
  });
  return analysis.result;
});
process.stdout.write(JSON.stringify(answers));
