"""`align serve`: the web service (and, with the memory queue, the workers) under uvicorn."""

from __future__ import annotations

import logging
import sys

import uvicorn

from align.service.app import create_app
from align.service.logging_setup import configure_logging
from align.service.settings import Settings, SettingsError

log = logging.getLogger("align.server")


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Blocks until the server stops (SIGINT/SIGTERM let running reviews finish first)."""
    try:
        app = create_app(settings)
    except SettingsError as error:  # e.g. no App id or key: refuse to start, saying which setting
        raise SystemExit(f"align serve: {error}") from None
    configure_logging(settings.log_level)
    if settings.queue == "memory":  # reviews share this process (on worker threads, never the event loop's)
        sys.setswitchinterval(settings.switch_interval_ms / 1000)
    log.info("Align listening on %s:%d (queue: %s, GitHub API: %s)", host, port, settings.queue,
             settings.api_url)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, proxy_headers=True,
                timeout_graceful_shutdown=30)


class BackgroundServer:
    """The real service on a free 127.0.0.1 port in a thread: for `align demo` and end-to-end tests."""

    def __init__(self, app: object, host: str = "127.0.0.1") -> None:
        import socket
        import threading

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")  # type: ignore[arg-type]
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name="align-service", daemon=True)

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        import time

        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Align service did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
