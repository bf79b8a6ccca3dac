#!/usr/bin/env python3
"""HTTP scoring app for the model this folder deploys: `GET /health` and `POST /predict`.

Request:  POST /predict with `Content-Type: application/json` and the body
          {"records": [{"<column>": <value>, ...}, ...]}, or the list of records alone: [{...}, ...].
          Values are strings, numbers (integers within 64 bits), booleans or null.
Response: 200 [{"prediction": <value>}, ...]: a JSON list with one self-describing result per record, in order,
          so `len(response.json())` is the number of records sent (the seed guide's endpoint test).
Errors:   400 malformed JSON or records, 413 body too large, 404/405 unknown route or method, 500 prediction failed,
          503 model not loaded; always {"error": "<message>"}, never a traceback. A 400 says what is wrong and
          where (records[3]), never the values sent nor the model's schema (those go to the server log only).

The app is a plain WSGI callable (standard library only), so one implementation runs everywhere:
- in the container, gunicorn serves it: `gunicorn "serving.app:create_app()"` (pre-fork workers, timeouts,
  graceful shutdown); gunicorn is one small pure-Python dependency, and the scoring code needs no web framework;
- locally (`python src/serving/app.py --model-uri ...`), gunicorn too when it is installed, else a standard-library
  server with the same limits (SERVER_THREADS request threads, SERVER_TIMEOUT seconds per read, SERVER_BACKLOG).

The model comes from MLflow: `MODEL_URI` (or `--model-uri`) is a registry URI such as
`models:/<model>@<alias>` or `models:/<model>/3` (the names are in config/pipeline.yaml), or a local MLflow
model directory (the serving image bakes one in at /app/model).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # src/, for serving.collection

from serving import access_log
from serving.collection import ProductionData, production_data

LOG = logging.getLogger("serving")
DEFAULT_MAX_BODY_BYTES = 1_048_576
DEFAULT_MAX_RECORDS = 1000
INT64 = 2**63  # integers must fit a 64-bit column: pandas/numpy refuse larger ones

StartResponse = Callable[..., Any]


class Model(Protocol):
    def predict(self, records: list[dict[str, Any]]) -> list[Any]: ...


class RequestError(Exception):
    """A client error: answered with its status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 411: "Length Required",
            413: "Payload Too Large", 415: "Unsupported Media Type", 500: "Internal Server Error",
            503: "Service Unavailable"}


def _jsonable(value: Any) -> Any:
    """numpy/pandas scalars and arrays to plain JSON values; NaN becomes null."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise RequestError(400, "body is not valid JSON: it is not UTF-8 text") from None
    except json.JSONDecodeError as exc:  # its message gives a position, never the text
        raise RequestError(400, f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                           ) from None
    except RecursionError:
        raise RequestError(400, "body is nested too deeply; records are flat objects") from None
    except ValueError:  # an integer of thousands of digits (Python's int conversion limit)
        raise RequestError(400, "body holds a number too large; integers must fit in 64 bits") from None


def _value_problem(value: Any) -> str | None:
    if value is None or isinstance(value, (str, bool, float)):
        return None
    if isinstance(value, int):
        return None if -INT64 <= value < INT64 else "holds an integer beyond 64 bits"
    return "holds a nested object or list; values are strings, numbers, booleans or null"


def parse_records(body: bytes, max_records: int) -> list[dict[str, Any]]:
    """The records of a /predict body, or a RequestError saying what is wrong with it (never echoing the data)."""
    payload = _decode(body)
    records = payload.get("records") if isinstance(payload, dict) else payload
    if not isinstance(records, list):
        raise RequestError(400, 'body must be {"records": [{...}, ...]} or a JSON list of record objects')
    if not records:
        raise RequestError(400, "records must be a non-empty list of objects")
    if len(records) > max_records:
        raise RequestError(413, f"at most {max_records} records per request (got {len(records)})")
    for index, record in enumerate(records):
        if not isinstance(record, dict) or not record:
            raise RequestError(400, f"records[{index}] must be a non-empty JSON object")
        for value in record.values():
            problem = _value_problem(value)
            if problem:
                raise RequestError(400, f"records[{index}] {problem}")
    return records


class ScoringApp:
    """The WSGI application: routes, size limits, JSON in and out, error mapping."""

    def __init__(self, model: Model | None, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 max_records: int = DEFAULT_MAX_RECORDS, model_info: dict[str, str] | None = None,
                 production_data: ProductionData | None = None) -> None:
        self.model = model
        self.max_body_bytes = max_body_bytes
        self.max_records = max_records
        self.model_info = model_info or {}
        self.production_data = production_data  # the deployment's data collector, where it has one

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        try:
            status, payload = self.route(method, path, environ)
        except RequestError as exc:
            status, payload = exc.status, {"error": exc.message}
        except Exception:  # a model failure must answer 500, not drop the connection
            LOG.exception("prediction failed")
            status, payload = 500, {"error": "prediction failed; see the server log"}
        data = json.dumps(payload).encode("utf-8")
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                   ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]
        if status == 405:
            headers.append(("Allow", "POST" if path == "/predict" else "GET"))
        start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
        LOG.info("%s", access_log.format_line(method, path, status, (time.perf_counter() - started) * 1000))
        return [data]

    def route(self, method: str, path: str, environ: dict[str, Any]) -> tuple[int, Any]:
        if path == "/health":
            if method not in ("GET", "HEAD"):
                raise RequestError(405, "use GET /health")
            if self.model is None:
                return 503, {"status": "unavailable", "error": "model not loaded"}
            return 200, {"status": "ok", **self.model_info}
        if path == "/predict":
            if method != "POST":
                raise RequestError(405, "use POST /predict")
            if self.model is None:
                raise RequestError(503, "model not loaded")
            records = parse_records(self._body(environ), self.max_records)
            try:
                predictions = self.model.predict(records)
            except (KeyError, ValueError, TypeError, OverflowError) as exc:
                # Schema enforcement and pandas conversion errors describe the input, not the server. Their text
                # quotes the model's schema and the values sent: it goes to the log, not back to the caller.
                LOG.warning("records rejected by the model: %s", exc)
                raise RequestError(400, "records do not match the model's input (missing, extra or mistyped "
                                        "columns); the model's signature lists the columns it expects") from None
            answered = _jsonable(list(predictions))
            if self.production_data is not None:
                self.production_data.record(records, answered)
            return 200, [{"prediction": value} for value in answered]
        raise RequestError(404, f"no route {path}; use GET /health or POST /predict")

    def _body(self, environ: dict[str, Any]) -> bytes:
        content_type = environ.get("CONTENT_TYPE", "")
        if content_type and not content_type.split(";")[0].strip().lower().endswith("json"):
            raise RequestError(415, "send Content-Type: application/json")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise RequestError(400, "invalid Content-Length") from None
        if length <= 0:
            raise RequestError(411, "a JSON body with Content-Length is required")
        if length > self.max_body_bytes:
            raise RequestError(413, f"body larger than {self.max_body_bytes} bytes")
        body: bytes = environ["wsgi.input"].read(length)
        return body


class MlflowModel:
    """An MLflow pyfunc model behind the `Model` protocol: records -> DataFrame -> predictions."""

    def __init__(self, uri: str) -> None:
        import mlflow.pyfunc

        self.uri = uri
        self._model = mlflow.pyfunc.load_model(uri)

    def predict(self, records: list[dict[str, Any]]) -> list[Any]:
        import pandas as pd
        from mlflow.exceptions import MlflowException

        frame = pd.DataFrame.from_records(records)
        try:
            result = self._model.predict(frame)
        except MlflowException as exc:  # input schema enforcement
            raise ValueError(exc.message) from None
        if hasattr(result, "iloc") and getattr(result, "ndim", 1) == 2 and result.shape[1] == 1:
            result = result.iloc[:, 0]
        converted: list[Any] = _jsonable(result)
        return converted


def find_model_dir(root: str) -> str | None:
    """The first directory under `root` holding an MLmodel file (Azure ML mounts models a few levels deep)."""
    for current, dirs, files in os.walk(root):
        dirs.sort()
        if "MLmodel" in files:
            return current
    return None


def resolve_model_uri(explicit: str | None = None) -> str:
    uri = explicit or os.environ.get("MODEL_URI", "")
    if not uri and os.environ.get("AZUREML_MODEL_DIR"):
        uri = find_model_dir(os.environ["AZUREML_MODEL_DIR"]) or ""
    if not uri:
        raise SystemExit("no model: set MODEL_URI (or --model-uri) to models:/<name>@<alias>, "
                         "models:/<name>/<version> or an MLflow model directory")
    return uri


def _limits() -> dict[str, int]:
    return {"max_body_bytes": int(os.environ.get("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)),
            "max_records": int(os.environ.get("MAX_RECORDS", DEFAULT_MAX_RECORDS))}


def create_app(model_uri: str | None = None) -> ScoringApp:
    """The application with its model loaded: gunicorn's entry point ("serving.app:create_app()")."""
    # LOG_LEVEL above INFO drops the access lines the rollout monitor reads on AKS.
    access_log.configure(os.environ.get("LOG_LEVEL", "INFO"))
    uri = resolve_model_uri(model_uri)
    LOG.info("loading model %s", uri)
    model = MlflowModel(uri)
    info = {"model_uri": uri}
    if os.environ.get("MODEL_VERSION"):
        info["model_version"] = os.environ["MODEL_VERSION"]
    return ScoringApp(model, model_info=info, production_data=production_data(), **_limits())


# Local serving limits, the same as the image's gunicorn command (Dockerfile): a read timeout so a stalled client
# cannot hold a thread, a bounded number of request threads, and a listen backlog that absorbs bursts.
SERVER_THREADS = int(os.environ.get("SERVER_THREADS", "8"))
SERVER_TIMEOUT = float(os.environ.get("SERVER_TIMEOUT", "30"))
SERVER_BACKLOG = int(os.environ.get("SERVER_BACKLOG", "128"))


def _gunicorn_app(app: ScoringApp, host: str, port: int) -> Any:
    """gunicorn serving `app` in this process (one worker, SERVER_THREADS threads), or None without gunicorn."""
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:
        return None

    class Local(BaseApplication):  # type: ignore[misc,unused-ignore]  # Any without gunicorn's types
        def load_config(self) -> None:
            settings = {"bind": f"{host}:{port}", "workers": 1, "threads": SERVER_THREADS,
                        "timeout": int(SERVER_TIMEOUT), "graceful_timeout": 10, "keepalive": 5,
                        "backlog": SERVER_BACKLOG, "worker_connections": 1000, "accesslog": None}
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> ScoringApp:
            return app

    return Local()


def bounded_server(app: ScoringApp, host: str, port: int, threads: int = SERVER_THREADS,
                   timeout: float = SERVER_TIMEOUT, backlog: int = SERVER_BACKLOG, max_connections: int = 1000,
                   clock: Callable[[], float] = time.monotonic) -> Any:
    """A standard-library WSGI server with the limits of gunicorn's threaded worker: a connection gets one of
    `threads` request threads only once it has sent data (idle and stalled ones wait in a selector, and are closed
    after `timeout` seconds), every read and write has the same timeout, at most `max_connections` are open (then
    new ones wait in a listen backlog of `backlog`)."""
    import selectors
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    read_timeout = timeout

    class Handler(WSGIRequestHandler):
        # socketserver applies it to the connection: a client that stops mid-request is dropped
        timeout = read_timeout

        def log_message(self, format: str, *args: Any) -> None:  # the app logs every request itself
            pass

    class BoundedServer(WSGIServer):
        request_queue_size = backlog

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="request")
            self.open_slots = threading.BoundedSemaphore(max_connections)
            self.selector = selectors.DefaultSelector()
            self.lock = threading.Lock()
            self.closing = threading.Event()
            super().__init__(*args, **kwargs)
            self.poller = threading.Thread(target=self._poll, name="connections", daemon=True)
            self.poller.start()

        def process_request(self, request: Any, client_address: Any) -> None:
            self.open_slots.acquire()  # too many open: stop accepting; new connections wait in the backlog
            with self.lock:
                self.selector.register(request, selectors.EVENT_READ, (client_address, clock() + timeout))

        def _poll(self) -> None:
            """Hands each connection that has data to a request thread; closes those idle past the timeout."""
            while not self.closing.is_set():
                ready = self.selector.select(timeout=min(timeout, 0.25))
                with self.lock:
                    for key, _ in ready:
                        self.selector.unregister(key.fileobj)
                        self.pool.submit(self._handle, key.fileobj, key.data[0])
                    now = clock()
                    expired = [key for key in self.selector.get_map().values() if key.data[1] <= now]
                    for key in expired:
                        self.selector.unregister(key.fileobj)
                for key in expired:
                    self._close(key.fileobj)

        def _handle(self, request: Any, client_address: Any) -> None:
            try:
                self.finish_request(request, client_address)
            except Exception:  # a client that went away or timed out: nothing to answer
                LOG.debug("connection from %s ended with an error", client_address, exc_info=True)
            finally:
                self._close(request)

        def _close(self, request: Any) -> None:
            self.shutdown_request(request)
            self.open_slots.release()

        def server_close(self) -> None:
            self.closing.set()
            self.poller.join()
            with self.lock:
                for key in list(self.selector.get_map().values()):
                    self.selector.unregister(key.fileobj)
                    self.shutdown_request(key.fileobj)  # type: ignore[arg-type]  # sockets only
            self.selector.close()
            self.pool.shutdown(wait=False, cancel_futures=True)
            super().server_close()

    return make_server(host, port, app, server_class=BoundedServer, handler_class=Handler)


def serve(app: ScoringApp, host: str, port: int) -> None:
    """Serve with gunicorn, as the image does, when it is installed (requirements-serving.txt); else with
    bounded_server, which keeps the same limits."""
    server = _gunicorn_app(app, host, port)
    if server is not None:
        LOG.info("serving on http://%s:%d (gunicorn, %d threads)", host, port, SERVER_THREADS)
        server.run()
        return
    with bounded_server(app, host, port) as httpd:
        LOG.info("serving on http://%s:%d (%d threads)", host, httpd.server_port, SERVER_THREADS)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model-uri", default=None,
                        help="models:/<name>@<alias>, models:/<name>/<version> or a model directory "
                             "(default: $MODEL_URI)")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"),
                        help="address to bind (default: $HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")),
                        help="port to bind, 0 for any free port (default: $PORT or 8080)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    app = create_app(args.model_uri)
    serve(app, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
