"""`nextword serve`: loopback by default, a one-line error for a taken port or a bad model, and a
real server answering its API."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from nextword.cli import main

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_a_taken_port_is_a_one_line_error(capsys, model_dirs):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        code = main(["serve", str(model_dirs["kn3"]), "--port", str(port)])
    finally:
        holder.close()
    err = capsys.readouterr().err
    assert code == 1
    assert err == (f"nextword: error: port {port} on 127.0.0.1 is already in use: stop what "
                   "holds it or pick another with --port\n")


def test_a_missing_model_is_a_one_line_error(capsys, tmp_path):
    code = main(["serve", str(tmp_path / "nothing"), "--port", "0"])
    err = capsys.readouterr().err
    assert code == 1 and err.splitlines()[-1] == \
        f"nextword: error: {tmp_path / 'nothing'}: no such model directory or file"


def test_serve_answers_on_loopback(model_dirs):
    """Two models (an n-gram folder and its ARPA file) served by the real command."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen(
        [sys.executable, "-m", "nextword", "serve", str(model_dirs["kn3"]),
         str(model_dirs["kn3.arpa"]), "--port", str(port)],
        env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/models") as response:
                    data = json.load(response)
                break
            except OSError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        assert [m["name"] for m in data["models"]] == ["kn3", "kn3.arpa"]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/next", data=b'{"text": "the cat", "k": 3}',
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            answer = json.load(response)
        folder, arpa = answer["models"]
        assert [c["word"] for c in folder["top"]] == [c["word"] for c in arpa["top"]]
    finally:
        process.terminate()
        process.wait(20)
    assert f"on http://127.0.0.1:{port}/" in process.stderr.read()


def test_without_the_serve_extra_the_error_names_it(capsys, monkeypatch, model_dirs):
    monkeypatch.setitem(sys.modules, "uvicorn", None)      # as if not installed
    code = main(["serve", str(model_dirs["kn3"])])
    assert code == 1
    assert capsys.readouterr().err == ("nextword: error: serving needs uvicorn, which is not "
                                       "installed: pip install 'nextword[serve]'\n")


def test_served_connections_send_without_waiting_for_acks():
    """The listening socket names IPPROTO_TCP, so asyncio (uvicorn's loop) sets TCP_NODELAY on
    every connection accepted from it; with protocol 0 it did not, and a response's second
    write waited 40 ms for the client's delayed ACK on every keep-alive request."""
    import asyncio

    from nextword.commands.serve import listening_socket

    async def accept_one() -> int:
        seen = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport):
                sock = transport.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(
            Probe, sock=listening_socket("127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(seen, 10)
        finally:
            writer.close()
            server.close()

    assert asyncio.run(accept_one()) != 0
