"""The staff command line: `blockhours dev` runs the local stack."""

from __future__ import annotations

import time
from typing import Annotated

import typer

app = typer.Typer(help="Blockhours: prepaid remote-support time.", no_args_is_help=True, add_completion=False)


@app.callback()
def _root() -> None:
    """Blockhours: prepaid remote-support time."""


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 8000,
    site: Annotated[bool, typer.Option(help="Build and serve the storefront.")] = True,
) -> None:
    """Run the whole stack on this machine: embedded AWS, the API, the shop, and Stripe's stand-in."""
    from .local import LocalStack

    stack = LocalStack(port=port, with_site=site)
    try:
        stack.start()
    except OSError as exc:
        typer.echo(f"cannot start on 127.0.0.1:{port}: {exc.strerror}; try --port 0 for a free port", err=True)
        raise typer.Exit(1) from exc
    typer.echo(stack.describe(), err=False)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        typer.echo("stopping")
    finally:
        stack.stop()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
