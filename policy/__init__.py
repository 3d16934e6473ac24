"""The launchplan policy pack (pulumi-policy); run by the engine as `python policy`."""
