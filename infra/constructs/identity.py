"""The Cognito user pool hosts and players sign in with, and the web client's app client."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra import names
from infra.nag import acknowledge
from speedrun import manifest


class Identity(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, self_sign_up: bool, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        policy = manifest.PASSWORD_POLICY
        self.user_pool = cognito.UserPool(
            self,
            names.USER_POOL,
            self_sign_up_enabled=self_sign_up,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=policy.min_length,
                require_lowercase=policy.require_lowercase,
                require_uppercase=policy.require_uppercase,
                require_digits=policy.require_digits,
                require_symbols=policy.require_symbols,
                temp_password_validity=Duration.days(policy.temporary_password_validity_days),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            removal_policy=removal_policy,
        )
        self.client = self.user_pool.add_client(
            names.USER_POOL_CLIENT,
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            generate_secret=False,
            # Sign-in is InitiateAuth from the web client; no hosted UI, so no OAuth flows or callback URLs.
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )
        acknowledge(
            self.user_pool,
            {
                "AwsSolutions-COG2": "MFA is optional (TOTP offered): quiz hosts and players hold no sensitive "
                "data, and required MFA would block the demo accounts the local stack mirrors.",
                "AwsSolutions-COG8": "Threat protection needs the paid Plus feature plan; revisit for production "
                "with real users.",
            },
        )
