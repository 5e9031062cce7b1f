"""The README's screenshots of the explorer: `nextword serve` over the given models, the page in
Debian's chromium (Playwright, headless), a prefix typed, one token of the last model hovered.

    python benchmarks/serve_screenshots.py /work/models/ptb-kn5 /work/models/ptb-lstm \
        --text "the students opened their" --out docs/img

Writes explorer.png (desktop width, the page down to the coloured tokens) and
explorer-phone.png (a phone-sized screen), both small PNGs.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--text", default="the students opened their")
    parser.add_argument("--hover", type=int, default=2, help="index of the token hovered")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "nextword", "serve", *args.models,
                               "--port", str(port)],
                              env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(base + "api/models").close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.5)
        args.out.mkdir(parents=True, exist_ok=True)
        words = len(args.text.split())
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=FLAGS)
            for name, viewport, scale in [("explorer.png", {"width": 1100, "height": 900}, 1),
                                          ("explorer-phone.png", {"width": 390, "height": 844}, 1)]:
                page = browser.new_page(viewport=viewport, device_scale_factor=scale)
                page.goto(base)
                page.wait_for_selector(".card .bar")
                page.type("#text", args.text, delay=60)       # keystroke by keystroke
                page.wait_for_function(
                    f"() => document.querySelector('#tokens-line').textContent"
                    f".startsWith('{words} tokens')")
                page.hover(f".scored:last-child .tok >> nth={args.hover}")   # the last model
                page.wait_for_selector("#tip:not([hidden])")
                bottom = page.evaluate(
                    "() => Math.max("
                    "document.querySelector('#score').getBoundingClientRect().bottom,"
                    " document.querySelector('#tip').getBoundingClientRect().bottom)"
                    " + window.scrollY + 16")
                clip = {"x": 0, "y": 0, "width": viewport["width"], "height": bottom}
                page.screenshot(path=str(args.out / name), clip=clip, full_page=True)
                page.close()
                print(f"wrote {args.out / name}")
            browser.close()
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
