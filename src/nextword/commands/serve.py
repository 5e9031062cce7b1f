"""`nextword serve MODEL [MODEL ...]`: the next-word explorer, a local web page and JSON API."""
from __future__ import annotations

import errno
import socket
import sys

import click

from nextword.errors import NextwordError


@click.command()
@click.argument("model_paths", nargs=-1, required=True, metavar="MODEL [MODEL ...]")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the default answers this machine only.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port to listen on (0: any free port).")
@click.option("--tokenizer", default="whitespace", show_default=True,
              type=click.Choice(["whitespace", "word", "word-lower"]),
              help="How typed text is split into tokens (whitespace: as PTB and WikiText are).")
@click.option("--rate-limit", default=60.0, show_default=True, type=click.FloatRange(0),
              help="API requests per second per client (bursts of twice that); 0: no limit.")
def serve(model_paths, host, port, tokenizer, rate_limit):
    """Serve the next-word explorer over the saved models MODEL ... (folders or ARPA files),
    side by side: http://HOST:PORT/ (API documented in docs/serve.md)."""
    from nextword.model import load_model
    from nextword.text.tokenize import get_tokenizer

    try:
        import uvicorn

        from nextword.serve.app import create_app
        from nextword.serve.explorer import Explorer, unique_names
    except ModuleNotFoundError as error:
        raise NextwordError(f"serving needs {error.name}, which is not installed: "
                            "pip install 'nextword[serve]'") from None
    sock = listening_socket(host, port)         # before loading: a taken port fails at once
    names = unique_names(model_paths)
    models = {}
    for name, path in zip(names, model_paths):
        click.echo(f"loading {path} ...", err=True)
        models[name] = load_model(path)
    if "torch" in sys.modules:
        import torch

        # one request, one thread: concurrency comes from the server's threadpool, and two
        # OpenMP pools per request would only contend for this machine's cores
        torch.set_num_threads(1)
    app = create_app(Explorer.from_models(models, get_tokenizer(tokenizer)), tokenizer,
                     rate=rate_limit, burst=max(1, int(2 * rate_limit)))
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"serving {', '.join(names)} on http://{shown}:{sock.getsockname()[1]}/ "
               "(Ctrl-C stops)", err=True)
    config = uvicorn.Config(app, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening socket, or a one-line error when the address cannot be had."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as error:
        raise NextwordError(f"--host {host}: cannot resolve ({error.strerror})") from None
    # IPPROTO_TCP named, not 0: the connections accepted from it inherit the protocol number,
    # and asyncio sets TCP_NODELAY only on sockets that carry it. Without that, a response's
    # second write waited for the client's delayed ACK: 40 ms on every request but a
    # connection's first (keep-alive, as browsers use it)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise NextwordError(f"port {port} on {host} is already in use: stop what holds it "
                                "or pick another with --port") from None
        raise NextwordError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
