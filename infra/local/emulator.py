"""The AWS emulator of the local stack: moto's server, with DynamoDB requests taken one at a time.

moto applies a TransactWriteItems by deep-copying the tables it names and, when a condition fails,
putting the copy back. Two requests at once therefore break each other: a copy taken while another
request writes fails with a 500 (which the SDK retries, half-applied), and a cancelled transaction
can restore tables from before a concurrent one that succeeded. DynamoDB itself isolates
transactions (a racing one fails with a condition or a TransactionConflict), so the local stack
serialises every DynamoDB call. That keeps races faithful (one writer wins, the other is refused),
which the concurrency tests of the handle and of promise moves rely on. Other services run freely.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from infra.local.moto_dynamodb import install as install_dynamodb_corrections

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SerialisedDynamoDB:
    """WSGI middleware: one DynamoDB request at a time (X-Amz-Target `DynamoDB_20120810.*`)."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if not target.startswith("DynamoDB_"):
            return self._app(environ, start_response)
        with self._lock:
            # Drain the body inside the lock: the backend call happens while it is produced.
            return [b"".join(self._app(environ, start_response))]


class Emulator:
    """moto's server on a loopback port, in a thread of this process."""

    def __init__(self, host: str, port: int) -> None:
        install_dynamodb_corrections()  # transactions that cost what they touch; ClientRequestToken
        app = SerialisedDynamoDB(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-emulator", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()
