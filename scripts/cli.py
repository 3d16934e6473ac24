"""The `launchplan` operator command: one thin typer app; each command lives in its own module.

Every command runs inside `guarded`: bad input (a refused spec or stack file, an unknown stack,
a missing engine or `pulumi` CLI) ends as one clear, redacted message with exit 2; anything
unexpected is reported as a launchplan bug with exit 4, never as a traceback unless `--debug`
(or LAUNCHPLAN_DEBUG=1) asks for one. With `--json`, the error is also one JSON object on stdout.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from importlib import metadata
from typing import Annotated, Any, TypeVar

import typer

from infra.providers.http import PlatformApiError
from infra.spec.problems import SpecError
from infra.spec.secrecy import redact
from scripts import clone, drift, gate, plan, repair, sandbox_cmd, schema, state, verify
from scripts.console import EXIT_INTERNAL, err, fail, fail_spec, settings
from scripts.gate import GateInputError
from scripts.pulumi_cli import EngineMissingError
from scripts.stacks import StackError

F = TypeVar("F", bound=Callable[..., Any])


def guarded(command: F) -> F:
    """Run a command so that every failure is a clear message and a documented exit code."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        settings.json = bool(kwargs.get("as_json"))
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except SpecError as exc:
            fail_spec(exc)
        except (StackError, GateInputError, EngineMissingError, PlatformApiError) as exc:
            fail(str(exc))
        except ValueError as exc:
            fail(str(exc))
        except FileNotFoundError as exc:
            fail(f"{exc.strerror}: {exc.filename} (is the `pulumi` CLI installed? run `make engine`, or set LAUNCHPLAN_PULUMI)")
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except Exception as exc:
            if settings.debug:
                err.print(redact(traceback.format_exc()), highlight=False, markup=False, soft_wrap=True)
            fail(
                f"internal error ({type(exc).__name__}): {exc}. This is a bug in launchplan, not in your input; "
                "rerun with --debug for the traceback and report it",
                EXIT_INTERNAL,
            )

    return run  # type: ignore[return-value]


app = typer.Typer(
    help="launchplan: Heroku, Vercel and Postgres declared per stack, previewed before every change.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help, as `pulumi --help` reads: no <bool> type noise beside flags
)


def _version() -> str:
    try:
        mine = metadata.version("launchplan")
    except metadata.PackageNotFoundError:
        mine = "unknown"
    try:
        sdk = metadata.version("pulumi")
    except metadata.PackageNotFoundError:
        sdk = "not installed"
    return f"launchplan {mine} (Pulumi SDK {sdk})"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(_version())
        raise typer.Exit(0)


@app.callback()
def options(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", envvar="LAUNCHPLAN_DEBUG", help="Show a traceback when launchplan itself fails.")
    ] = False,
) -> None:
    """launchplan: Heroku, Vercel and Postgres declared per stack, previewed before every change."""
    settings.debug = debug


app.command("plan")(guarded(plan.plan_command))
app.command("schema")(guarded(schema.schema_command))
app.command("gate")(guarded(gate.gate_command))
app.command("verify")(guarded(verify.verify_command))
app.command("clone")(guarded(clone.clone_command))
app.command("drift")(guarded(drift.drift_command))
app.command("repair")(guarded(repair.repair_command))
for _group in (sandbox_cmd.sandbox_app, state.state_app):
    for _info in _group.registered_commands:
        if _info.callback is not None and not hasattr(_info.callback, "__wrapped__"):
            _info.callback = guarded(_info.callback)
app.add_typer(sandbox_cmd.sandbox_app, name="sandbox")
app.add_typer(state.state_app, name="state")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
