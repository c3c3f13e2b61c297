"""The CloudFront WAF: a WAFv2 web ACL in its own small stack, `SpeedRun-<stage>-WebAcl`, in us-east-1.

A web ACL of scope CLOUDFRONT can only be created in us-east-1, while the main stack stays
environment-agnostic (it deploys to the region of your credentials). CloudFormation cannot refer
across regions, so this stack writes the ACL's ARN to an SSM parameter in us-east-1 and the main
stack reads it at deploy time (`WebAclReference`); the app makes the main stack depend on this one so
`cdk deploy --all` creates the ACL first.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_wafv2 as wafv2
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra import names
from infra.nag import acknowledge

WEB_ACL_REGION = "us-east-1"
"""CloudFront web ACLs live in us-east-1, whatever region the distribution's origins are in."""
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
RATE_WINDOW_S = 300
BODY_SIZE_RULE = "SizeRestrictions_BODY"
"""The common rule set blocks bodies over 8 KB; question-set uploads are larger and are limited by the
function itself (speedrun.question_sets.upload_guard: 4 MiB files), so this one rule only counts."""


def web_acl_parameter_name(stage: str) -> str:
    return f"/{names.APP_NAME}/{stage}/cloudfront-web-acl-arn"


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


def _managed_rule(priority: int, name: str) -> wafv2.CfnWebACL.RuleProperty:
    overrides = (
        [wafv2.CfnWebACL.RuleActionOverrideProperty(name=BODY_SIZE_RULE, action_to_use={"count": {}})]
        if name == "AWSManagedRulesCommonRuleSet"
        else None
    )
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=name, rule_action_overrides=overrides
            )
        ),
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        visibility_config=_visibility(name),
    )


def _rate_rule(priority: int, limit: int) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=names.WAF_RATE_RULE,
        priority=priority,
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                aggregate_key_type="IP", limit=limit, evaluation_window_sec=RATE_WINDOW_S
            )
        ),
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        visibility_config=_visibility(names.WAF_RATE_RULE),
    )


class WebAclStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: str, rate_limit: int, logging: bool, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        rules = [_managed_rule(priority, name) for priority, name in enumerate(MANAGED_RULE_GROUPS)]
        rules.append(_rate_rule(len(rules), rate_limit))
        self.web_acl = wafv2.CfnWebACL(
            self,
            names.WEB_ACL,
            scope="CLOUDFRONT",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            description=f"Speed-run {stage}: AWS managed rules and a rate limit per IP",
            rules=rules,
            visibility_config=_visibility(f"{names.APP_NAME}-{stage}-web-acl"),
        )
        if logging:
            self._log_to_cloudwatch(stage)
        self.parameter = ssm.StringParameter(
            self,
            names.WEB_ACL_PARAMETER,
            parameter_name=web_acl_parameter_name(stage),
            string_value=self.web_acl.attr_arn,
            description="ARN of the CloudFront web ACL (read by the main stack at deploy time)",
        )

    def _log_to_cloudwatch(self, stage: str) -> None:
        # WAF requires the `aws-waf-logs-` prefix and creates the log group's resource policy itself.
        log_group_name = f"aws-waf-logs-{names.APP_NAME}-{stage}"
        log_group = logs.LogGroup(
            self, names.WEB_ACL_LOGS, log_group_name=log_group_name, retention=logs.RetentionDays.ONE_MONTH
        )
        logging_configuration = wafv2.CfnLoggingConfiguration(
            self,
            names.WEB_ACL_LOGGING,
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[
                self.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=log_group_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            # Run tokens travel in the WebSocket query string, Cognito tokens in this header.
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(query_string={}),
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "authorization"}),
            ],
        )
        logging_configuration.node.add_dependency(log_group)


class WebAclReference(Construct):
    """The web ACL's ARN in the main stack: SSM GetParameter in us-east-1, at deploy time."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        parameter_name = web_acl_parameter_name(stage)
        parameter_arn = Stack.of(self).format_arn(
            service="ssm",
            region=WEB_ACL_REGION,
            resource="parameter",
            resource_name=parameter_name.lstrip("/"),
        )
        get_parameter = cr.AwsSdkCall(
            service="SSM",
            action="getParameter",
            parameters={"Name": parameter_name},
            region=WEB_ACL_REGION,
            # Read on create and whenever the call changes; the ACL's ARN is stable (nothing here
            # replaces it), so an unchanged stage needs no re-read.
            physical_resource_id=cr.PhysicalResourceId.of(parameter_name),
        )
        self._reader = cr.AwsCustomResource(
            self,
            names.WEB_ACL_READER,
            on_create=get_parameter,
            on_update=get_parameter,
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=[parameter_arn]),
            install_latest_aws_sdk=False,
        )
        acknowledge(
            Stack.of(self).node.find_child(f"AWS{cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace('-', '')}"),
            {
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]": "CDK's AwsCustomResource provider role (logs only).",
            },
        )

    @property
    def arn(self) -> str:
        return self._reader.get_response_field("Parameter.Value")
