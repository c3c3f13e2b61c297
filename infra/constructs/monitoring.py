"""Alarms: a message in any dead-letter queue, and any function's errors or throttles, to one SNS topic."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import names

PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, construct_id)
        # A customer key: the AWS-managed SNS key does not let CloudWatch publish encrypted messages.
        key = kms.Key(self, "AlarmTopicKey", description="Speed-run alarm topic", enable_key_rotation=True)
        key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(
            self,
            names.ALARM_TOPIC,
            display_name="Speed-run alarms",
            master_key=key,
            enforce_ssl=True,
        )
        action = cloudwatch_actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []
        for queue_name, dlq in dead_letter_queues.items():
            self._alarm(
                f"{names.pascal(queue_name)}DeadLetters",
                dlq.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                f"{queue_name}: messages in the dead-letter queue (a job failed every retry)",
                action,
            )
        for function_name, function in functions.items():
            prefix = names.pascal(function_name)
            self._alarm(
                f"{prefix}Errors",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                f"{function_name}: invocation errors",
                action,
            )
            self._alarm(
                f"{prefix}Throttles",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                f"{function_name}: throttled invocations",
                action,
            )

    def _alarm(
        self, construct_id: str, metric: cloudwatch.IMetric, description: str, action: cloudwatch.IAlarmAction
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            alarm_description=description,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(action)
        self.alarms.append(alarm)
