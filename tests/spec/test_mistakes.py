"""Realistic mistakes in stack files, read the way `launchplan plan` reads them (the file through
StackConfig.from_file, then load_spec): each is refused naming its key path and the fix, and no
value that could be a secret (nor the offending value itself) is ever echoed back.

These are new cases beyond tests/spec/test_load.py's table. Credential-shaped strings are built at
run time so that no scanner mistakes this file for one holding credentials.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from infra.spec.load import load_spec
from infra.spec.problems import SpecError
from infra.spec.stack_config import StackConfig

CANARY_CIPHERTEXT = "v1:CANARYSALT:ciphertext-canary-never-shown"
GITHUB = "gh" + "p_" + "Zq8rT2mW9xKc4LbN7vYh1DfGj3PsQa6EuR0o"
STRIPE = "sk" + "_live_" + "51Hx9QwErTyUiOp4AsDfGhJk"
SLACK = "xo" + "xb-" + "1234567890-0987654321-AbCdEfGhIjKlMnOp"
AWS = "AK" + "IA" + "QW3RTY7UIOP4ASDF"
JWT = "ey" + "JhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIiwiaWF0IjoxNzAwMDAwMDAwfQ.c2lnbmF0dXJlLWNhbmFyeQ"
HEROKU = "HR" + "KU-" + "aa11bb22cc33dd44ee55ff66"
HEX32 = "8f3a9c2e4b1d7f6a" + "0c5e2b9d4a7f1e3c"
PEM = "-----BEGIN " + "RSA PRIVATE KEY-----"

APP = "launchplan:heroku.apps.shop-web"
WEB = "launchplan:vercel.projects.shop-front"


def stack(body: str, *, secure: tuple[str, ...] = ()) -> str:
    """A production stack file: the heroku credential set (as a canary ciphertext) plus `body`."""
    lines = ["config:", f"  heroku:apiKey: {{secure: {CANARY_CIPHERTEXT}}}"]
    lines += [f"  {key}: {{secure: {CANARY_CIPHERTEXT}}}" for key in secure]
    return "\n".join(lines) + "\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "  ") + "\n"


def app(env_block: str = "env: {RAILS_ENV: production}", **parts: str) -> str:
    """launchplan:heroku with one app `shop-web`; parts are extra YAML lines under the app."""
    lines = ["launchplan:heroku:", "  apps:", "    shop-web:", f"      {env_block}"]
    lines += [f"      {line}" for line in parts.values()]
    lines.append("      postgres: {plan: standard-0, backups: {hour: 2, timezone: UTC}}")
    return "\n".join(lines)


def vercel(env_item: str, **extra: str) -> str:
    lines = [
        "launchplan:vercel:",
        "  projects:",
        "    shop-front:",
        "      framework: nextjs",
        "      env:",
        f"        - {env_item}",
    ]
    lines += [f"      {line}" for line in extra.values()]
    return "\n".join(lines)


def calendly(
    name: str, url: str = "https://shop.example.com/hooks/calendly", env: str = "CALENDLY_SIGNING_KEY", **more: str
) -> str:
    org = more.get("org", "https://api.calendly.com/organizations/ORG1")
    return (
        f"  {name}:\n    provider: calendly\n    url: {url}\n    events: [invitee.created]\n"
        f"    organization: {org}\n    receiver: {{herokuApp: shop-web, env: {env}}}"
    )


CREDS = ("vercel:apiToken", "launchplan:calendlyToken")

# (id, stack file text, key path, fragment of the fix, text that must never be echoed)
CASES: list[tuple[str, str, str, str, str]] = [
    # --- secrets given as plain values: new names, and values that are credentials whatever their name
    (
        "plain _PASS",
        stack(app("env: {SMTP_PASS: mailpass-canary-1}")),
        f"{APP}.env.SMTP_PASS",
        "secretEnv: {SMTP_PASS: smtpPass}",
        "mailpass-canary-1",
    ),
    ("plain _PWD", stack(app("env: {DB_PWD: dbpwd-canary-2}")), f"{APP}.env.DB_PWD", "launchplan:dbPwd", "dbpwd-canary-2"),
    (
        "plain _DSN",
        stack(app("env: {SENTRY_DSN: 'https://abc@o1.ingest.sentry.io/42'}")),
        f"{APP}.env.SENTRY_DSN",
        "secretEnv: {SENTRY_DSN: sentryDsn}",
        "o1.ingest.sentry.io",
    ),
    (
        "URL with a password under a plain name",
        stack(app("env: {CACHE_ENDPOINT: 'redis://:hunter2canary@cache.example.com:6379'}")),
        f"{APP}.env.CACHE_ENDPOINT",
        "secretEnv: {CACHE_ENDPOINT: cacheEndpoint}",
        "hunter2canary",
    ),
    (
        "a _URI with a password",
        stack(app("env: {MONGO_URI: 'mongodb://app:pw-canary-3@db.example.com/app'}")),
        f"{APP}.env.MONGO_URI",
        "secretEnv: {MONGO_URI: mongoUri}",
        "pw-canary-3",
    ),
    (
        "GitHub token under a plain name",
        stack(app(f"env: {{GH_USER: {GITHUB}}}")),
        f"{APP}.env.GH_USER",
        "secretEnv: {GH_USER: ghUser}",
        GITHUB,
    ),
    (
        "AWS access key id",
        stack(app(f"env: {{AWS_ACCESS_KEY_ID: {AWS}}}")),
        f"{APP}.env.AWS_ACCESS_KEY_ID",
        "pulumi config set --secret --stack production launchplan:awsAccessKeyId",
        AWS,
    ),
    (
        "JWT under a plain name",
        stack(app(f"env: {{SESSION: {JWT}}}")),
        f"{APP}.env.SESSION",
        "secretEnv: {SESSION: session}",
        JWT,
    ),
    (
        "PEM private key in env",
        stack(app(f'env: {{SIGNING_CERT: "{PEM}\\nMIIEow\\n"}}')),
        f"{APP}.env.SIGNING_CERT",
        "secretEnv: {SIGNING_CERT: signingCert}",
        "MIIEow",
    ),
    (
        "random hex under a plain name",
        stack(app(f"env: {{PARTNER_ID: {HEX32}}}")),
        f"{APP}.env.PARTNER_ID",
        "secretEnv: {PARTNER_ID: partnerId}",
        HEX32,
    ),
    (
        "Stripe key as a Vercel value",
        stack(vercel(f"{{key: PAYMENTS, value: {STRIPE}, targets: [production]}}"), secure=CREDS),
        f"{WEB}.env[0].value",
        "fromConfig: payments",
        STRIPE,
    ),
    (
        "Slack token as a Vercel value",
        stack(vercel(f"{{key: NOTIFY_HOOK, value: {SLACK}, targets: [preview]}}"), secure=CREDS),
        f"{WEB}.env[0].value",
        "fromConfig: notifyHook",
        SLACK,
    ),
    (
        "token pasted as a Vercel key",
        stack(vercel(f"{{key: {GITHUB}, value: x, targets: [preview]}}"), secure=CREDS),
        f"{WEB}.env[0].key",
        "credentials never go in a stack file",
        GITHUB,
    ),
    ("token pasted as an env name", stack(app(f"env: {{{GITHUB}: x}}")), f"{APP}.env", "a key names a setting", GITHUB),
    # --- values pasted where a config key *name* belongs
    (
        "password pasted into secretEnv",
        stack(app(secrets="secretEnv: {SMTP_PASSWORD: 'Sup3r$ecret-canary!'}")),
        f"{APP}.secretEnv.SMTP_PASSWORD",
        "launchplan:smtpPassword",
        "Sup3r$ecret-canary!",
    ),
    (
        "token pasted into secretEnv",
        stack(app(secrets=f"secretEnv: {{GITHUB_TOKEN: {GITHUB}}}")),
        f"{APP}.secretEnv.GITHUB_TOKEN",
        "secretEnv: {GITHUB_TOKEN: githubToken}",
        GITHUB,
    ),
    (
        "token pasted into fromConfig",
        stack(vercel(f"{{key: API_TOKEN, fromConfig: {GITHUB}, targets: [production]}}"), secure=CREDS),
        f"{WEB}.env[0].fromConfig",
        "fromConfig: apiToken",
        GITHUB,
    ),
    (
        "provider credential in plain text",
        stack(app() + f"\nvercel:apiToken: {HEROKU}"),
        "vercel:apiToken",
        "pulumi config rm --stack production vercel:apiToken",
        HEROKU,
    ),
    (
        "unknown key holding a secret",
        stack(app() + f"\nlaunchplan:stripeSecret: {STRIPE}"),
        "launchplan:stripeSecret",
        "pulumi config rm --stack production launchplan:stripeSecret",
        STRIPE,
    ),
    # --- the right fix: typos named, provider credentials not handed to apps
    (
        "typo in a secretEnv reference",
        stack(app(secrets="secretEnv: {SMTP_PASSWORD: smtpPasword}"), secure=("launchplan:smtpPassword",)),
        f"{APP}.secretEnv.SMTP_PASSWORD",
        "did you mean 'smtpPassword'?",
        CANARY_CIPHERTEXT,
    ),
    (
        "typo in a fromConfig reference",
        stack(vercel("{key: API_TOKEN, fromConfig: apiTokn, targets: [production]}"), secure=(*CREDS, "launchplan:apiToken")),
        f"{WEB}.env[0].fromConfig",
        "did you mean 'apiToken'?",
        CANARY_CIPHERTEXT,
    ),
    (
        "Calendly credential reused by an app",
        stack(app(secrets="secretEnv: {CALENDLY_TOKEN: calendlyToken}"), secure=CREDS),
        f"{APP}.secretEnv.CALENDLY_TOKEN",
        "give the app its own secret",
        CANARY_CIPHERTEXT,
    ),
    (
        "Vercel credential reused by a project",
        stack(vercel("{key: VERCEL_TOKEN, fromConfig: 'vercel:apiToken', targets: [production]}"), secure=CREDS),
        f"{WEB}.env[0].fromConfig",
        "launchplan:vercelToken",
        CANARY_CIPHERTEXT,
    ),
    # --- nested unknown keys get a "did you mean"
    (
        "misspelt timezone key",
        stack(app().replace("timezone: UTC", "timzone: UTC")),
        f"{APP}.postgres.backups.timzone",
        "did you mean 'timezone'?",
        "timzone: UTC",
    ),
    (
        "expectedStatus for expectStatus",
        stack(app(hc="healthCheck: {path: /healthz, expectedStatus: 204}")),
        f"{APP}.healthCheck.expectedStatus",
        "did you mean 'expectStatus'?",
        "204",
    ),
    (
        "misspelt quantity",
        stack(app(f="formation: {web: {size: basic, quantitiy: 1}}")),
        f"{APP}.formation.web.quantitiy",
        "did you mean 'quantity'?",
        "quantitiy: 1",
    ),
    (
        "target for targets",
        stack(vercel("{key: API_BASE, value: 'https://api.example.com', target: [production]}"), secure=CREDS),
        f"{WEB}.env[0].target",
        "did you mean 'targets'?",
        "api.example.com",
    ),
    (
        "backup for backups",
        stack(app().replace("backups:", "backup:")),
        f"{APP}.postgres.backup",
        "did you mean 'backups'?",
        "backup: {",
    ),
    # --- generic fixes say what to write
    (
        "runbook-style backup schedule",
        stack(app().replace("backups: {hour: 2, timezone: UTC}", "backups: '02:00 America/Los_Angeles'")),
        f"{APP}.postgres.backups",
        "write a mapping like backups: {hour: 2, timezone: UTC}",
        "America/Los_Angeles",
    ),
    (
        "hour written as a clock time",
        stack(app().replace("hour: 2", "hour: 3:30")),
        f"{APP}.postgres.backups.hour",
        "write a whole number without quotes, e.g. hour: 2",
        "3:30",
    ),
    (
        "generated secret too short",
        stack(app(g="generatedEnv: {SECRET_KEY_BASE: {length: 16}}")),
        f"{APP}.generatedEnv.SECRET_KEY_BASE.length",
        "use a whole number from 32 to 512",
        "16",
    ),
    (
        "generated secret as a bare number",
        stack(app(g="generatedEnv: {SECRET_KEY_BASE: 96}")),
        f"{APP}.generatedEnv.SECRET_KEY_BASE",
        "write a mapping like SECRET_KEY_BASE: {length: 128}",
        "96",
    ),
    (
        "quoted dyno quantity",
        stack(app(f="formation: {web: {size: basic, quantity: '7'}}")),
        f"{APP}.formation.web.quantity",
        "write a whole number without quotes, e.g. quantity: 1",
        "'7'",
    ),
    (
        "status code out of range",
        stack(app(hc="healthCheck: {path: /healthz, expectStatus: 2000}")),
        f"{APP}.healthCheck.expectStatus",
        "use a whole number from 200 to 599",
        "2000",
    ),
    (
        "zero timeout",
        stack(app(hc="healthCheck: {path: /healthz, timeoutSeconds: 0}")),
        f"{APP}.healthCheck.timeoutSeconds",
        "use a number above 0 and up to 120",
        "timeoutSeconds: 0",
    ),
    (
        "targets as a single word",
        stack(vercel("{key: API_BASE, value: x, targets: production}"), secure=CREDS),
        f"{WEB}.env[0].targets",
        "write a list like targets: [production, preview]",
        "targets: production",
    ),
    (
        "domains as a single word",
        stack(app(d="domains: shop.example.com")),
        f"{APP}.domains",
        "write a list like domains: [app.example.com]",
        "shop.example.com",
    ),
    (
        "extension with a leading dash",
        stack(app().replace("backups: {hour: 2, timezone: UTC}", "extensions: [-uuid]")),
        f"{APP}.postgres.extensions",
        "uuid-ossp",
        CANARY_CIPHERTEXT,
    ),
    (
        "protectDatabases: yes",
        stack(app() + "\nlaunchplan:protectDatabases: yes"),
        "launchplan:protectDatabases",
        "launchplan:protectDatabases: true",
        "yes",
    ),
    # --- URLs
    (
        "https to localhost outside a sandbox",
        stack(app() + "\nlaunchplan:webhooks:\n" + calendly("cal", url="https://localhost:3443/hooks/canary"), secure=CREDS),
        "launchplan:webhooks.cal.url",
        "set launchplan:sandbox: true",
        CANARY_CIPHERTEXT,
    ),
    (
        "token in a webhook URL's query",
        stack(
            app() + "\nlaunchplan:webhooks:\n" + calendly("cal", url="https://shop.example.com/hook?token=tok-canary-123456"),
            secure=CREDS,
        ),
        "launchplan:webhooks.cal.url",
        "remove it from the URL",
        "tok-canary-123456",
    ),
    (
        "password in a webhook URL",
        stack(
            app() + "\nlaunchplan:webhooks:\n" + calendly("cal", url="https://hook:pw-canary-9@shop.example.com/hook"),
            secure=CREDS,
        ),
        "launchplan:webhooks.cal.url",
        "remove the user:password@ part",
        "pw-canary-9",
    ),
    (
        "a user URI as the organization",
        stack(app() + "\nlaunchplan:webhooks:\n" + calendly("cal", org="https://api.calendly.com/users/USER1"), secure=CREDS),
        "launchplan:webhooks.cal.organization",
        "current_organization",
        CANARY_CIPHERTEXT,
    ),
    # --- conflicts
    (
        "two webhooks into one env var",
        stack(
            app() + "\nlaunchplan:webhooks:\n" + calendly("a") + "\n" + calendly("b", url="https://shop.example.com/hooks/b"),
            secure=CREDS,
        ),
        "launchplan:webhooks.b.receiver.env",
        "give each webhook its own env var",
        CANARY_CIPHERTEXT,
    ),
    (
        "two Calendly webhooks on one URL",
        stack(app() + "\nlaunchplan:webhooks:\n" + calendly("a") + "\n" + calendly("b", env="OTHER_KEY"), secure=CREDS),
        "launchplan:webhooks.b.url",
        "merge them into one webhook",
        CANARY_CIPHERTEXT,
    ),
    (
        "one domain on Heroku and Vercel",
        stack(
            app(d="domains: [shop.example.com]")
            + "\n"
            + vercel("{key: A, value: b, targets: [preview]}", d="domains: [shop.example.com]"),
            secure=CREDS,
        ),
        f"{WEB}.domains",
        "keep it on the app or project that should serve it",
        CANARY_CIPHERTEXT,
    ),
    # --- stack files read as Pulumi reads them
    (
        "no config: wrapper",
        "launchplan:heroku:\n  apps: {shop-web: {region: us}}\n",
        "launchplan:heroku",
        "indent it under a `config:` line",
        "shop-web",
    ),
    ("misspelt config:", "confg:\n  launchplan:sandbox: true\n", "confg", "did you mean 'config'?", "sandbox: true"),
    (
        "a key defined twice",
        stack(app("env:\n        RAILS_ENV: production\n        RAILS_ENV: staging-canary")),
        f"{APP}.env.RAILS_ENV",
        "keep one of the two",
        "staging-canary",
    ),
    (
        "the same key with and without its namespace",
        stack(app() + "\nheroku: {apps: {}}"),
        "launchplan:heroku",
        "keep one of them, written as `launchplan:heroku`",
        CANARY_CIPHERTEXT,
    ),
    (
        "a key Pulumi cannot parse",
        stack(app() + "\nlaunchplan:heroku:apps: x-canary"),
        "launchplan:heroku:apps",
        "write it as launchplan:<name>",
        "x-canary",
    ),
    (
        "an infinite quantity",
        stack(app(f="formation: {web: {size: basic, quantity: .inf}}")),
        f"{APP}.formation.web.quantity",
        "write a finite number",
        CANARY_CIPHERTEXT,
    ),
    (
        "an unquoted release date",
        stack(app("env: {RELEASE_DATE: 2024-05-01}")),
        f"{APP}.env.RELEASE_DATE",
        "quote it to keep the text as written",
        CANARY_CIPHERTEXT,
    ),
]


@pytest.mark.parametrize(("text", "path", "fix", "hidden"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_realistic_mistake_names_its_key_path_and_fix_and_echoes_no_value(
    tmp_path: Path, text: str, path: str, fix: str, hidden: str
) -> None:
    file = tmp_path / "Pulumi.production.yaml"
    file.write_text(text)
    with pytest.raises(SpecError) as info:
        load_spec(StackConfig.from_file(file, "production", project="launchplan"), require_secrets=False)
    problems = info.value.problems
    matching = [p for p in problems if p.path == path]
    assert matching, f"no problem at {path}; got {[(p.path, p.message) for p in problems]}"
    assert any(fix in p.fix for p in matching), [p.fix for p in matching]
    shown = str(info.value) + repr([p.as_json() for p in problems])
    assert hidden not in shown, f"echoed: {shown}"
    assert CANARY_CIPHERTEXT not in shown
    assert all(p.fix for p in problems), "every problem says how to fix it"


def test_there_are_at_least_forty_new_mistakes() -> None:
    assert len(CASES) >= 40 and len({c[0] for c in CASES}) == len(CASES)


def test_the_valid_forms_of_these_mistakes_are_accepted(tmp_path: Path) -> None:
    """The fixes work: the same stack written as the messages say is accepted."""
    text = stack(
        app(
            "env: {SMTP_HOST: smtp.example.com, FEATURE_FLAG: yes, RELEASE_DATE: '2024-05-01'}",
            secrets="secretEnv: {SMTP_PASSWORD: smtpPassword}",
            g="generatedEnv: {SECRET_KEY_BASE: {length: 128}}",
            hc="healthCheck: {path: /healthz, expectStatus: 204, timeoutSeconds: 5}",
        ).replace(
            "backups: {hour: 2, timezone: UTC}", "backups: {hour: 2, timezone: UTC}, extensions: [uuid-ossp, pg_stat_statements]"
        )
        + "\nlaunchplan:webhooks:\n"
        + calendly("a")
        + "\n"
        + calendly("b", url="https://shop.example.com/hooks/b", env="OTHER_SIGNING_KEY"),
        secure=(*CREDS, "launchplan:smtpPassword"),
    )
    file = tmp_path / "Pulumi.production.yaml"
    file.write_text(text)
    spec = load_spec(StackConfig.from_file(file, "production", project="launchplan"))
    app_spec = spec.heroku.apps["shop-web"]
    assert app_spec.env["FEATURE_FLAG"] == "yes" and app_spec.env["RELEASE_DATE"] == "2024-05-01"
    assert app_spec.postgres is not None and app_spec.postgres.extensions == ["pg_stat_statements", "uuid-ossp"]
