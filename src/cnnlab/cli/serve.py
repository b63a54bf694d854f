"""cnnlab serve: the web app on this machine (FastAPI + uvicorn)."""

from __future__ import annotations

from typing import Any

from cnnlab.cli.common import console, parser_for
from cnnlab.core.errors import ConfigError

LOCAL = ("127.0.0.1", "localhost", "::1")


def register(sub: Any) -> dict:
    p = parser_for(help="the web app: the convolution explainer and your runs, in the browser")
    p.add_argument("--runs_dir", type=str, default="runs", help="folder that holds run folders")
    p.add_argument("--lecture", type=str, default="lecture",
                   help="the book's folder for the Lecture tab (cnnlab lecture --out)")  # fmt: skip
    p.add_argument("--port", type=int, default=8765, help="port to listen on")
    p.add_argument("--host", type=str, default="127.0.0.1",
                   help="address to bind (not 127.0.0.1: reachable from the network)")  # fmt: skip
    sub.add_subcommand("serve", p, help="the web app (lecture, explainer, runs) on 127.0.0.1:8765")
    return {"serve": serve}


def serve(ns: Any) -> int:
    if not 1 <= ns.port <= 65535:
        raise ConfigError(f"--port must be 1 to 65535, got {ns.port}")
    try:
        import uvicorn

        from cnnlab.app.server import create_app
    except ImportError:
        hint = "the web app needs FastAPI and uvicorn: pip install 'cnnlab[app]'"
        raise ConfigError(hint) from None
    if ns.host not in LOCAL:
        console.print(f"warning: binding {ns.host}: anyone who can reach this machine can open "
                      "the app and read your runs", style="yellow", highlight=False)  # fmt: skip
    url = f"http://{'127.0.0.1' if ns.host in ('0.0.0.0', '::') else ns.host}:{ns.port}/"
    console.print(f"cnnlab app: {url}  (runs from {ns.runs_dir}, the lecture from {ns.lecture}; "
                  "Ctrl+C stops it)", highlight=False)  # fmt: skip
    uvicorn.run(
        create_app(ns.runs_dir, ns.lecture), host=ns.host, port=ns.port, log_level="warning"
    )
    return 0
