"""moto's server, with what its CloudFormation lacks for oidc-gen's templates.

moto skips AWS::IAM::OIDCProvider, ignores a role's ManagedPolicyArns, and ignores a StackSet
deployment target's AccountFilterType. This launcher adds the three, as AWS documents them, then
starts the server: python3 launcher.py -H 127.0.0.1 -p PORT
"""

import sys

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.iam.models import Role, iam_backends
from moto.utilities.utils import get_partition
from moto.server import main


class OIDCProvider(CloudFormationModel):
    """AWS::IAM::OIDCProvider: Ref and Fn::GetAtt Arn are the provider's ARN."""

    # moto's model metaclass derives the service from the module path.
    __module__ = "moto.iam.models"

    def __init__(self, provider):
        self.provider = provider

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::IAM::OIDCProvider"

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr == "Arn"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        backend = iam_backends[account_id][get_partition(region_name)]
        provider = backend.create_open_id_connect_provider(
            url=properties["Url"],
            thumbprint_list=properties.get("ThumbprintList", []),
            client_id_list=properties.get("ClientIdList", []),
            tags=properties.get("Tags", []),
        )
        return cls(provider)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        backend = iam_backends[account_id][get_partition(region_name)]
        url = cloudformation_json["Properties"]["Url"].removeprefix("https://")
        for arn in list(backend.open_id_providers):
            if arn.endswith(":oidc-provider/" + url):
                backend.delete_open_id_connect_provider(arn)

    @property
    def physical_resource_id(self):
        return self.provider.arn

    def get_cfn_attribute(self, attribute_name):
        return self.provider.arn


_create_role = Role.create_from_cloudformation_json.__func__


def create_role(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    role = _create_role(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    backend = iam_backends[account_id][get_partition(region_name)]
    for arn in cloudformation_json["Properties"].get("ManagedPolicyArns", []):
        backend.attach_role_policy(arn, role.name)
    return role


Role.create_from_cloudformation_json = classmethod(create_role)

_create_instances = cfn_models.StackInstances.create_instances


def create_instances(self, accounts, regions, parameters, deployment_targets, permission_model):
    kind = deployment_targets.get("AccountFilterType", "NONE")
    listed = set(deployment_targets.get("Accounts", []))
    if kind not in ("DIFFERENCE", "INTERSECTION"):
        return _create_instances(self, accounts, regions, parameters, deployment_targets, permission_model)
    organization = self.org_backend
    every_account = organization.accounts
    organization.accounts = [a for a in every_account if (a.id in listed) == (kind == "INTERSECTION")]
    try:
        return _create_instances(self, accounts, regions, parameters, deployment_targets, permission_model)
    finally:
        organization.accounts = every_account


cfn_models.StackInstances.create_instances = create_instances

for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
    cached.cache_clear()

if __name__ == "__main__":
    main(sys.argv[1:])
