"""Secrets the stack owns (app secret keys, signing secrets, role passwords).

Made once by pulumi-random and stored encrypted in state; they change only if
their own settings change, never because something unrelated did.
"""

from __future__ import annotations

import pulumi
import pulumi_random as random


def generated_secret(name: str, length: int, parent: pulumi.Resource) -> pulumi.Output[str]:
    password = random.RandomPassword(
        name,
        length=length,
        special=False,  # safe in URLs, headers and shell exports
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return pulumi.Output.secret(password.result)
