"""The run-token signing keys (sign-on signs `host_token`/`participant_token`; the authorizer verifies).

The keyring secret's value is `{"current": "<kid>", "keys": {"<kid>": "<key>", ...}}`, the shape
`speedrun.adapters.tokens.Keyring` reads: `current` names the key that signs new tokens, every kid in `keys`
still verifies. CloudFormation can only generate a top-level JSON member, so a seed secret holds the
generated first key (64 letters and digits, read as base64: 48 bytes) and the keyring embeds it with
a `{{resolve:secretsmanager:...}}` dynamic reference; the key never appears in the template. Only
the keyring is granted to functions.
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy, SecretValue
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import names
from infra.nag import acknowledge

KEY_LENGTH = 64
NO_ROTATION_YET = (
    "Key rotation (add a kid to `keys`, make it `current`, drop it once its tokens expired) is a later "
    "issue; tokens carry their kid, so rotating will not break live runs."
)


class TokenSecret(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        seed = secretsmanager.Secret(
            self,
            "FirstKey",
            description="Generated first run-token signing key (embedded in the keyring secret)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=KEY_LENGTH, exclude_punctuation=True
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        keyring = {
            names.TOKEN_SECRET_CURRENT_FIELD: names.TOKEN_SECRET_FIRST_KID,
            names.TOKEN_SECRET_KEYS_FIELD: {names.TOKEN_SECRET_FIRST_KID: seed.secret_value.unsafe_unwrap()},
        }
        self.secret = secretsmanager.Secret(
            self,
            "Keyring",
            description='Run-token signing keys: {"current": kid, "keys": {kid: key}}',
            # Plain text only in form: the template holds a dynamic reference, resolved by CloudFormation.
            secret_string_value=SecretValue.unsafe_plain_text(json.dumps(keyring)),
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(seed, {"AwsSolutions-SMG4": NO_ROTATION_YET})
        acknowledge(self.secret, {"AwsSolutions-SMG4": NO_ROTATION_YET})
