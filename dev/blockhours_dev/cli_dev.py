"""`blockhours dev`: run the local stack in this terminal, say where it is, and keep its state when asked."""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from blockhours.config import CatalogError

from . import local_address
from .cli_app import app, err

if TYPE_CHECKING:
    from .local import LocalStack


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 8000,
    site: Annotated[bool, typer.Option(help="Build and serve the storefront.")] = True,
    stripe_latency_ms: Annotated[
        int, typer.Option(min=0, max=60_000, help="How long each call to the Stripe stand-in takes, in ms.")
    ] = 0,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            file_okay=False,
            help="Keep the ledger, Stripe's stand-in and the keys in this folder across restarts "
            "(without it, everything is in memory and gone at stop).",
        ),
    ] = None,
) -> None:
    """Run the whole stack on this machine: embedded AWS, the API, the shop, and Stripe's stand-in."""
    from .local import LocalStack
    from .local_data import DataInUse, KeptData

    kept = KeptData(data) if data is not None else None
    if kept is not None:
        try:
            kept.hold()
        except DataInUse as problem:
            print(f"error: {problem}", file=sys.stderr)
            raise typer.Exit(1) from None
    last_port = kept.last_port() if kept is not None else None
    if port == 0 and last_port and local_address.port_is_free(last_port):
        port = last_port  # the links it emailed before name that port
    stack = LocalStack(port=port, with_site=site, print_mail=True, stripe_latency_ms=stripe_latency_ms, data=kept)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` or a service manager stops it as Ctrl-C does, even mid-start
    announced: Path | None = None
    try:
        try:
            stack.start()
        except CatalogError as problem:
            print(f"error: {problem}", file=sys.stderr, flush=True)  # one line, as the file's owner reads it
            raise typer.Exit(1) from None
        except OSError as exc:
            err.print(f"error: cannot start on 127.0.0.1:{port}: {exc.strerror}; try --port 0 for a free port")
            raise typer.Exit(1) from exc
        try:
            announced = local_address.announce(stack.url)
        except OSError as exc:  # the stack still runs; only finding it by itself does not
            err.print(f"note: cannot write to {local_address.folder()} ({exc.strerror}): the CLI needs --api")
        print(banner(stack), flush=True)
        if kept is not None:
            actual = int(stack.url.rsplit(":", 1)[1])
            if last_port and last_port != actual:
                print(f"Links emailed before this start name port {last_port}: --port {last_port} serves them.")
            kept.remember_port(actual)
        while True:  # short sleeps: a signal the kernel hands to another thread is only seen when this wakes
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("stopping", flush=True)
        faulthandler.dump_traceback_later(20)  # a stop that hangs says where, on stderr
    finally:
        if announced is not None:
            local_address.withdraw(announced)
        stack.stop()
        faulthandler.cancel_dump_traceback_later()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def banner(stack: LocalStack) -> str:
    """Where each part of the running stack is, and what it keeps."""
    stripe_line = (
        f"local stand-in (no Stripe account needed); hosted checkout pages under {stack.url}/checkout/"
        + (f"; each call takes {stack.stripe_latency_ms} ms" if stack.stripe_latency_ms else "")
        if stack.standin
        else "Stripe test mode with your STRIPE_API_KEY"
    )
    return "\n".join(
        [
            f"Blockhours is running at {stack.url}",
            f"  shop          {stack.url}/"
            + ("" if stack.site_dir else "  (not built: --no-site)" if not stack.with_site else "  (no mkdocs.yml)"),
            f"  API           {stack.url}/api/health",
            f"  webhook       {stack.url}/api/stripe/webhook  (secret: {os.environ['STRIPE_WEBHOOK_SECRET']})",
            f"  staff         {stack.url}/api/customers/<email>  (loopback only)",
            f"  payments      {stripe_line}",
            f"  embedded AWS  {stack.aws_endpoint}  (DynamoDB table {stack.table})",
            f"  functions     {len(stack.lambdas.functions) if stack.lambdas else 0} from template.yaml, each in "
            "instances of its own with its Timeout; stream filters, batches, retries and queues as declared",
            f"  balance link  {_interpreter('blockhours')} link <email>  (signed by the API, as deployed)",
            f"  tools         POST {stack.url}/api/integrations/<source>/sessions with `Authorization: Bearer <secret>`"
            f"; secrets {os.environ.get('BLOCKHOURS_INTEGRATION_SECRETS', '{}')}",
            f"  staff CLI     {_interpreter('blockhours')} finds this stack by itself; "
            f"in another shell or tool: export BLOCKHOURS_API={stack.url}",
            f"Press Ctrl-C to stop; the ledger, Stripe's stand-in and the keys are kept in {stack.data.folder} "
            "for the next start with the same --data."
            if stack.data is not None
            else "Press Ctrl-C to stop. Everything is in memory and gone when you do: --data DIR keeps it.",
        ]
    )


def _interpreter(command: str = "python") -> str:
    """This virtualenv's command, as typed from the current directory (`.venv/bin/python` at the repo's root)."""
    path = Path(sys.executable).parent / command
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive, on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative
