"""The `launchplan` operator command: one thin typer app; each command lives in its own module."""

from __future__ import annotations

import typer

from scripts import clone, drift, gate, plan, sandbox_cmd, schema, verify

app = typer.Typer(
    help="launchplan: Heroku, Vercel and Postgres declared per stack, previewed before every change.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("plan")(plan.plan_command)
app.command("schema")(schema.schema_command)
app.command("gate")(gate.gate_command)
app.command("verify")(verify.verify_command)
app.command("clone")(clone.clone_command)
app.command("drift")(drift.drift_command)
app.add_typer(sandbox_cmd.sandbox_app, name="sandbox")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
