"""The launchplan policy pack: `pulumi preview --policy-pack policy`. The rules live in
rules.py beside this file (tested in tests/policy); this file only wires them into pulumi-policy."""

import rules
from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)


def _res(r) -> rules.Res:  # PolicyResource or ResourceValidationArgs
    return rules.Res(r.resource_type, r.urn, r.props, bool(r.opts.protect), r.opts.parent)


def _resource_rule(rule):
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        for problem in rule(_res(args)):
            report(problem, None)

    return validate


def _stack_backups(args: StackValidationArgs, report: ReportViolation) -> None:
    for problem in rules.production_databases_backed_up(_res(r) for r in args.resources):
        report(problem, None)


PolicyPack(
    name="launchplan",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        StackValidationPolicy(
            name="production-databases-backed-up",
            description="Production databases are on a plan with scheduled backups, and have backups declared.",
            validate=_stack_backups,
        ),
        ResourceValidationPolicy(
            name="secret-env-vars-sensitive",
            description="Secret-looking env vars are sensitive, never plain config.",
            validate=_resource_rule(rules.secret_env_vars_sensitive),
        ),
        ResourceValidationPolicy(
            name="webhooks-https",
            description="Webhook URLs are https.",
            validate=_resource_rule(rules.webhooks_https),
        ),
    ],
)
