"""The one place that decides "could this be a secret", for names and for values, and the
redaction every message passes through before a person or a log sees it.

Names: an env var or config key whose name says it holds a credential (`…PASSWORD`, `…_PASS`,
`…TOKEN`, `…_KEY`, `…_DSN`, `DATABASE_URL`, …); public-by-design names (`NEXT_PUBLIC_*`,
`*_PUBLISHABLE_KEY`) are not.

Values: text that carries a credential whatever its name: a URL with a password in its userinfo
(`postgres://user:pass@host`) or a credential in its query (`?token=…`), a token of a well-known
shape (GitHub, Stripe, Slack, AWS, Heroku, Google, SendGrid, npm, GitLab, OpenAI, Pulumi, JWTs, PEM
private keys, …), and, where a plain value is expected, a long high-entropy string.

Used by the spec (Heroku env and Vercel env alike), `plan`, `clone`, `gate`, `drift`, `verify` and
every error path: `shown()` quotes a value in a message only when it cannot be a secret, and
`redact()` is the last step of every message (`scripts.console.fail`, `SpecError`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

# --- names ----------------------------------------------------------------------------------

# A name that holds a credential. Words are matched between `_` (or the ends) where a bare
# substring would catch ordinary names (PASSENGER_MAX_POOL_SIZE, BYPASS_CACHE, COMPASS_URL).
_SECRET_NAME = re.compile(
    r"(SECRET|PASSWORD|PASSWD|PASSPHRASE|TOKEN|PRIVATE|CREDENTIAL|APIKEY|API_KEY|_KEY$|_KEY_BASE$"
    r"|(^|_)(PASS|PWD|PW|DSN|SALT|PAT|PEPPER|SIGNATURE|COOKIE_SIGNING)(_|$)"
    r"|(^|_)(DATABASE|REDIS|REDISCLOUD|REDISTOGO|POSTGRES(QL)?|PG|MONGO(DB)?|MONGOLAB|AMQP|RABBITMQ|CLOUDAMQP"
    r"|MYSQL|CLEARDB|JAWSDB|MEMCACHEDCLOUD|ELASTICSEARCH|BONSAI|SEARCHBOX|SENTRY)_(URL|URI|DSN)$)"
)
_PUBLIC_NAME = re.compile(r"(^NEXT_PUBLIC_|^VITE_PUBLIC_|^PUBLIC_|^EXPO_PUBLIC_|PUBLISHABLE|PUBLIC_KEY$)")


def looks_secret(name: str) -> bool:
    """Whether an env var or config key name says it holds a credential."""
    upper = name.upper().replace("-", "_")
    return bool(_SECRET_NAME.search(upper)) and not _PUBLIC_NAME.search(upper)


# A config key name (the part after `namespace:`) follows camelCase; `smtpPassword` looks secret too.
def looks_secret_key(key: str) -> bool:
    """Whether a config key (`launchplan:smtpPassword`, `vercel:apiToken`) names a credential."""
    name = key.rsplit(":", 1)[-1]
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return looks_secret(snake) or looks_secret(name)


# --- values ---------------------------------------------------------------------------------

# Well-known credential shapes, each with what people call it.
_TOKEN_SHAPES: list[tuple[str, re.Pattern[str]]] = [
    (
        "a PEM private key",
        re.compile(r"-----BEGIN ((RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----"),
    ),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{16,}")),
    ("a Stripe secret key", re.compile(r"\b(sk|rk)_(live|test)_[A-Za-z0-9]{10,}")),
    ("a Stripe webhook secret", re.compile(r"\bwhsec_[A-Za-z0-9+/=]{16,}")),
    ("a Slack token", re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,}")),
    ("a Slack webhook URL", re.compile(r"hooks\.slack\.com/(services|workflows)/[A-Za-z0-9/_-]{8,}")),
    ("a Discord webhook URL", re.compile(r"discord(app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]{10,}")),
    ("an AWS access key", re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b")),
    ("a Heroku API key", re.compile(r"\bHRKU-[A-Za-z0-9_-]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("a SendGrid API key", re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{30,}")),
    ("an OpenAI or Anthropic key", re.compile(r"\bsk-(ant-|proj-|svcacct-)?[A-Za-z0-9_-]{20,}")),
    ("a Pulumi access token", re.compile(r"\bpul-[a-f0-9]{32,}")),
    ("a Mailgun key", re.compile(r"\bkey-[a-f0-9]{32}\b")),
    ("a Shopify token", re.compile(r"\bshp(at|ca|pa|ss)_[a-fA-F0-9]{20,}")),
    ("a DigitalOcean token", re.compile(r"\bdo[por]_v1_[a-f0-9]{40,}")),
    ("a Twilio API key", re.compile(r"\bSK[0-9a-f]{32}\b")),
    ("a Vercel token", re.compile(r"\b(vercel_|vc[pkia]_)[A-Za-z0-9]{20,}")),
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")),
    ("an encrypted Pulumi secret", re.compile(r"\bv1:[A-Za-z0-9+/=]{8,}:[A-Za-z0-9+/=]{16,}")),
]

# `scheme://user:password@host`: the password part (which may be empty-user `redis://:pw@host`).
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@'\"]*:)(?P<password>[^\s/@'\"]+)(?=@)")
# A credential in a query string: `?token=…`, `&api_key=…`, `&sig=…`.
_QUERY_CREDENTIAL = re.compile(
    r"(?P<head>[?&](?:[A-Za-z0-9_.-]*(?:token|secret|password|passwd|pwd|api[_-]?key|apikey|access[_-]?key|auth|sig|signature"
    r"|credential|private[_-]?key|client[_-]?secret|code))=)(?P<value>[^&#\s'\"]+)",
    re.IGNORECASE,
)

# Candidate runs for the entropy test: base64/hex alphabets (separators split words apart).
_RUN = re.compile(r"[A-Za-z0-9+/=]{20,}")
_ENTROPY_BITS = 3.5  # bits per character; random base64/hex of 20+ characters sits well above


def shannon_entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _high_entropy(run: str) -> bool:
    """A random-looking run: letters mixed with digits (or base64's + and /), no word structure,
    and high entropy. Single-case runs (hex keys, lower-case tokens) count from 24 characters."""
    if "/" in run and not ("+" in run or run.endswith("=")):
        return any(_high_entropy(part) for part in run.split("/"))  # a path: judge each segment
    if len(run) < 20 or not any(c.isalpha() for c in run):
        return False
    if not any(c.isdigit() or c in "+/" for c in run):
        return False
    letters = "".join(c for c in run if c.isalpha())
    if (letters.isupper() or letters.islower()) and len(run) < 24:
        return False
    return shannon_entropy(run) >= _ENTROPY_BITS


def secret_value(value: str, *, plain_expected: bool = True) -> str | None:
    """What credential `value` looks like ("a GitHub token", "a URL with a password", …), or None.

    plain_expected: the value stands where a plain setting belongs (an env var's value, a key
    name), so a long high-entropy string counts too; elsewhere only unmistakable shapes count.
    """
    if not isinstance(value, str) or len(value) < 8:
        return None
    for kind, shape in _TOKEN_SHAPES:
        if shape.search(value):
            return kind
    for match in _URL_PASSWORD.finditer(value):
        if match.group("password"):
            return "a URL with a password"
    if "?" in value:
        for match in _QUERY_CREDENTIAL.finditer(value):
            if len(match.group("value")) >= 8:
                return "a URL with a credential in its query"
    url = value.startswith(("http://", "https://"))
    if plain_expected and not url and any(_high_entropy(run) for run in _RUN.findall(value)):
        return "a long random-looking string"
    return None


def could_be_secret(value: object) -> bool:
    return isinstance(value, str) and secret_value(value) is not None


def url_password(url: str) -> bool:
    """Whether a URL carries a password in its userinfo (`postgres://user:pass@host`)."""
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return bool(_URL_PASSWORD.search(url))


def query_credentials(url: str) -> list[str]:
    """Names of query parameters that look like credentials (`token`, `api_key`, …)."""
    try:
        pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    except ValueError:
        return []
    return [k for k, v in pairs if v and _QUERY_CREDENTIAL.search(f"?{k}=x")]


# --- messages -------------------------------------------------------------------------------

HIDDEN = "[hidden]"


def shown(value: object, width: int = 60) -> str:
    """A value quoted for a message, unless it could be a secret (then it is never shown)."""
    text = value if isinstance(value, str) else repr(value)
    if could_be_secret(text):
        return "the value given (not shown: it could be a secret)"
    return f"'{text}'" if len(text) <= width else f"'{text[: width - 1]}…'"


def redact(text: str) -> str:
    """Every message's last step: anything that could be a credential becomes [hidden]."""
    if not text:
        return text
    for _, shape in _TOKEN_SHAPES:
        text = shape.sub(HIDDEN, text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{HIDDEN}", text)
    text = _QUERY_CREDENTIAL.sub(lambda m: f"{m.group('head')}{HIDDEN}" if len(m.group("value")) >= 8 else m.group(0), text)
    return _RUN.sub(lambda m: HIDDEN if _high_entropy(m.group(0)) else m.group(0), text)
