"""Reading a synthesized stack in tests.

Helpers read the synthesized template as plain JSON: resources by type, a function by its manifest
name (its `speedrun:function` tag), and the IAM statements attached to a function's role.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, assertions

from app import build_app
from infra import names
from infra.stack import SpeedRunStack
from speedrun import manifest


@dataclass
class Synth:
    app: App
    stack: SpeedRunStack
    template: assertions.Template
    outdir: Path
    json: dict[str, Any]
    """The template, read once (every `Template.to_json()` is a round trip to the jsii kernel)."""
    web_acl: dict[str, Any]
    """The web ACL stack's template (us-east-1)."""

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.json["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {key: value for key, value in self.resources.items() if value["Type"] == resource_type}

    def logical_id(self, construct: Any) -> str:
        element = construct if hasattr(construct, "logical_id") else construct.node.default_child
        return self.stack.resolve(element.logical_id)

    def function(self, name: str) -> tuple[str, dict[str, Any]]:
        """(logical id, properties) of the manifest function `name`."""
        manifest.function(name)
        tag = {"Key": names.FUNCTION_TAG, "Value": name}
        found = [
            (key, value["Properties"])
            for key, value in self.of_type("AWS::Lambda::Function").items()
            if tag in value["Properties"].get("Tags", [])
        ]
        assert len(found) == 1, f"expected one function tagged {tag}, found {len(found)}"
        return found[0]

    def role_statements(self, name: str) -> list[dict[str, Any]]:
        """Every IAM statement of the function's role: inline policies and attached AWS::IAM::Policy."""
        _, function = self.function(name)
        role_id = function["Role"]["Fn::GetAtt"][0]
        role = self.resources[role_id]["Properties"]
        statements = [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
        for policy in self.of_type("AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"]["Roles"]:
                statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
        return statements

    def role(self, name: str) -> dict[str, Any]:
        _, function = self.function(name)
        return self.resources[function["Role"]["Fn::GetAtt"][0]]["Properties"]


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    actions: set[str] = set()
    for statement in statements:
        value = statement["Action"]
        actions.update([value] if isinstance(value, str) else value)
    return actions


def synthesize(outdir: Path, context: dict[str, Any] | None = None) -> Synth:
    app, stack = build_app(outdir=str(outdir), context=context)
    app.synth()
    template = assertions.Template.from_stack(stack)
    web_acl = dict(assertions.Template.from_stack(stack.web_acl_stack).to_json())
    return Synth(app=app, stack=stack, template=template, outdir=outdir, json=dict(template.to_json()), web_acl=web_acl)


def referenced_ids(value: Any) -> set[str]:
    """Logical ids a template fragment refers to (Ref / Fn::GetAtt), pseudo parameters excluded."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and not str(value["Ref"]).startswith("AWS::"):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for item in value.values():
            found |= referenced_ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= referenced_ids(item)
    return found
