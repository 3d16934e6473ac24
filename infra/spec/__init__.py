"""The stack spec: pure models and platform facts. Imports no Pulumi, so the offline
plan, the CLI and the tests can validate a stack file without the engine."""
