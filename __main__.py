"""launchplan: load this stack's spec, build it, export its outputs."""

from infra.program import run

run()
