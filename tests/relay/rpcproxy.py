"""A JSON-RPC proxy in front of the test chain that a test can cut and restore: the relayer
sees its chain go away (connection refused) without the session's anvil being stopped."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from somstack.core.chain import free_port


class RpcProxy:
    def __init__(self, target: str, port: int | None = None):
        self.target = target
        self.port = port or free_port()
        self.server: ThreadingHTTPServer | None = None
        self.session = requests.Session()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "RpcProxy":
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                reply = proxy.session.post(proxy.target, data=body, headers={"Content-Type": "application/json"}, timeout=30)
                self.send_response(reply.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Connections refused from now on (the chain is 'down')."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> "RpcProxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
