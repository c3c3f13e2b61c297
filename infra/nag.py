"""cdk-nag (v3) acknowledgments: every finding we accept is named with the reason, next to its cause."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, reasons: Mapping[str, str]) -> None:
    """Accept findings (`AwsSolutions-XXX`, or `AwsSolutions-IAM5[Resource::...]` for one finding)."""
    Validations.of(scope).acknowledge(*(Acknowledgment(id=rule, reason=reason) for rule, reason in reasons.items()))


def logical_id(resource: IConstruct) -> str:
    """The CloudFormation logical id of an L1 or of an L2's default child, as cdk-nag writes it in finding ids."""
    element = resource if isinstance(resource, CfnElement) else resource.node.default_child
    if not isinstance(element, CfnElement):
        raise TypeError(f"{resource.node.path} has no CloudFormation element")
    return Stack.of(resource).get_logical_id(element)
