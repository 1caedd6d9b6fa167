"""The desk's commands, registered on `pipeline.cli.app.app` when `pipeline.cli.main` imports this module.

    gongwen serve [--db FILE] [--host 127.0.0.1] [--port 8000]   the web desk (pipeline.web)
    gongwen user add NAME [--db FILE]                             a user who may sign in to it

On 127.0.0.1 (the default) the desk serves this machine only and nobody signs in; on any
other address every page needs a signed-in user, so `serve` refuses to start until one exists.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.app import VerboseOption, app, err, handles_errors
from pipeline.cli.store import DEFAULT_DB, DbOption
from pipeline.errors import GongwenError, InputError

user_app = typer.Typer(help="Users who may sign in to the web desk (`gongwen serve` beyond this machine).", no_args_is_help=True)
app.add_typer(user_app, name="user")


@app.command()
@handles_errors
def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; anything but 127.0.0.1 / ::1 requires sign-in.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    max_upload_mb: Annotated[int, typer.Option("--max-upload-mb", min=1, max=4096, help="Largest upload (one request), MiB.")] = 200,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option("--allowed-host", help="A name the desk is reached by beyond this machine (repeatable); other Host headers get 400."),
    ] = None,
    certfile: Annotated[Path | None, typer.Option("--certfile", help="Serve over TLS with this certificate (PEM); cookies are then Secure.")] = None,
    keyfile: Annotated[Path | None, typer.Option("--keyfile", help="The certificate's private key (PEM).")] = None,
    verbose: VerboseOption = False,
) -> None:
    """Serve the clerk's desk in the browser: the register, each document on its scan,
    corrections, uploads, deadlines with an .ics feed, the forwarding chain and its audit."""
    import uvicorn

    from pipeline.web.app import create_app

    if (certfile is None) != (keyfile is None):
        raise InputError("--certfile and --keyfile go together")
    web = create_app(db, host=host, allowed_hosts=allowed_host or (), max_upload_mb=max_upload_mb)
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if certfile else "http"
    err.print(f"gongwen desk on {scheme}://{shown}:{port}/  (database {db}; Ctrl-C stops it)", highlight=False)
    # proxy_headers off: the client address decides whether sign-in is needed, so it must not
    # come from a header the client writes
    uvicorn.run(
        web, host=host, port=port, proxy_headers=False, server_header=False, log_level="warning",
        ssl_certfile=str(certfile) if certfile else None, ssl_keyfile=str(keyfile) if keyfile else None,
    )  # fmt: skip


@user_app.command("add")
@handles_errors
def user_add(
    name: Annotated[str, typer.Argument(help="The user name (letters, digits, Chinese, . - _ @).")],
    db: DbOption = DEFAULT_DB,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")] = False,
    verbose: VerboseOption = False,
) -> None:
    """Create a user of the web desk, or set a new password for an existing one (asked twice, not echoed)."""
    from pipeline import store
    from pipeline.store import users
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        users.check_name(name)
        users.check_password(password)
    except ValueError as e:
        raise InputError(str(e)) from None
    conn = store.connect(Path(db), create=True)
    try:
        users.add(conn, name, password)
    except ValueError as e:
        raise GongwenError(str(e)) from None
    finally:
        conn.close()
    err.print(f"user {name} can now sign in to `gongwen serve --db {db}`", highlight=False)
