"""The MongoDB connection, and the embedded nx-27017 server used when ``MONGO_URI`` is unset.

The embedded server is a MongoDB wire-protocol server that stores data in SQLite under
``NEWS_DATA_DIR``. It binds 127.0.0.1 only. A process that starts it writes its address to
``<data dir>/nx-27017.json``, so a second process on the same data directory (a crawl while
``newscrawl db`` or another crawl runs, say) reuses it instead of opening the same files twice.
It runs while any process uses it: each holds a lease (:mod:`crawler.leases`), the last one
to leave stops it, and when the last ones die instead (even by SIGKILL) the server stops itself
(:mod:`crawler.dbserver`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pymongo
from pymongo.database import Database as MongoDatabase
from pymongo.errors import PyMongoError

from crawler.crawler_scope import crawler_scoped, crawler_scoped_if_built
from crawler.defaults import news_float, news_get
from crawler.leases import Lease, Leases, alive
from crawler.malloc import child_environment

logger = logging.getLogger(__name__)

ENV_URI = "MONGO_URI"
# Runs crawler.dbserver of this very checkout, whatever the working directory holds.
_SERVER_CODE = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r}); "
                "from crawler.dbserver import main; main()")


class DatabaseUnavailable(RuntimeError):
    """MongoDB cannot be reached; the message names the (masked) URI."""


def mask_uri(uri: str) -> str:
    """The URI with any password replaced by ``***``."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparseable MongoDB URI>"
    if parts.password is None and "@" not in parts.netloc:
        return uri
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit((parts.scheme, f"{user}:***@{hostinfo}", parts.path, parts.query, ""))


STORAGE_PIPELINE = "pipelines.mongo.MongoPipeline"


def stores_articles(settings: Any) -> bool:
    """Whether a crawl with these settings stores its articles: the storage pipeline
    (``pipelines.mongo.MongoPipeline``, or a subclass of it) is enabled in ``ITEM_PIPELINES``.
    Without it a crawl needs no database at all (``-s ITEM_PIPELINES={} -o out.jsonl``): no
    URL state, no run record, nothing opened or started. Each pipeline list is judged once
    (the components that ask share the answer)."""
    enabled = tuple(sorted((component if isinstance(component, str) else
                            f"{component.__module__}.{component.__qualname__}")
                           for component, order in
                           settings.getwithbase("ITEM_PIPELINES").items()
                           if order is not None))
    return _stores(enabled)


@functools.lru_cache(maxsize=64)
def _stores(components: tuple[str, ...]) -> bool:
    from scrapy.utils.misc import load_object

    for component in components:
        if component == STORAGE_PIPELINE:
            return True
        try:
            cls = load_object(component)
        except (ImportError, NameError, ValueError):
            continue  # Scrapy itself says so when it builds the pipelines
        if isinstance(cls, type) and any(
                f"{base.__module__}.{base.__qualname__}" == STORAGE_PIPELINE
                for base in cls.__mro__):
            return True
    return False


def configured_uri(setting: str | None) -> str | None:
    """The environment variable MONGO_URI wins over the setting; empty means none."""
    return os.environ.get(ENV_URI) or setting or None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _orphaned(pid: int) -> bool:
    """Whether ``pid`` is an nx-27017 server without a watchdog (started by an earlier version)
    whose parent is gone (re-parented to init). Linux only; elsewhere: False."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return False
    return b"nx_27017" in cmdline and b"crawler.dbserver" not in cmdline and ppid == 1


def _stop_pid(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds."""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.1)
    if alive(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _ping(uri: str, timeout_ms: int = 1000) -> bool:
    client: pymongo.MongoClient[Any] = pymongo.MongoClient(
        uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


class EmbeddedMongo:
    """Start (or reuse) an nx-27017 server on 127.0.0.1 with its data in ``data_dir``, holding
    a lease on it until :meth:`stop` (:mod:`crawler.leases`)."""

    def __init__(self, data_dir: str | Path, start_timeout: float = 30.0,
                 port: int | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.start_timeout = start_timeout
        self.port = port  # None: a free port
        self.process: subprocess.Popen[bytes] | None = None  # the server, when we started it
        self.uri: str | None = None
        self.leases = Leases(self.data_dir)
        self.lease: Lease | None = None

    @property
    def state_file(self) -> Path:
        return self.data_dir / "nx-27017.json"

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.leases.exclusive():
            # The lease first: a server that sees it does not stop.
            self.lease = self.leases.take()
            try:
                return self._start()
            except BaseException:
                self.lease.release()
                self.lease = None
                raise

    def _start(self) -> str:
        running = self._running_uri()
        if running:
            logger.info("Using the embedded database already running at %s", running)
            self.uri = running
            return running
        if self.port is not None and not _port_free(self.port):
            raise DatabaseUnavailable(f"cannot serve the embedded database on 127.0.0.1:"
                                      f"{self.port}: the port is in use")
        for _attempt in range(3):
            port = self.port or _free_port()
            uri = f"mongodb://127.0.0.1:{port}"
            log_path = self.data_dir / "nx-27017.log"
            log_start = log_path.stat().st_size if log_path.exists() else 0
            log = open(self.data_dir / "nx-27017.log", "ab")  # noqa: SIM115 - owned by process
            try:
                self.process = subprocess.Popen(
                    # crawler.dbserver: nx-27017 that stops when no process uses it any more
                    [sys.executable, "-c", _SERVER_CODE, "--parent", str(os.getpid()),
                     "--home", str(self.data_dir),
                     "--data-dir", str(self.data_dir / "db"), "--host", "127.0.0.1",
                     "--port", str(port), "--pid-file", str(self.data_dir / "nx-27017.pid"),
                     "--log-file", str(self.data_dir / "nx-27017.log")],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    # two malloc arenas for the server's threads (crawler/malloc.py): they
                    # kept 119-144 MB of freed memory where it now peaks at 84-88
                    env=child_environment(os.environ),
                )
            finally:
                log.close()
            if self._wait_ready(uri, log_path, log_start, port):
                self.uri = uri
                self.state_file.write_text(json.dumps({"pid": self.process.pid, "uri": uri}))
                logger.info("Started the embedded database (nx-27017) at %s, data in %s",
                            uri, self.data_dir)
                return uri
            self._terminate()
        raise DatabaseUnavailable(
            f"could not start the embedded database in {self.data_dir}; "
            f"see {self.data_dir / 'nx-27017.log'}")

    def _running_state(self) -> tuple[int, str] | None:
        try:
            state = json.loads(self.state_file.read_text())
            return int(state["pid"]), str(state["uri"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _running_uri(self) -> str | None:
        state = self._running_state()
        if state is None:
            return None
        pid, uri = state
        try:
            os.kill(pid, 0)
        except OSError:
            return None
        if _orphaned(pid):
            logger.warning("Stopping the embedded database at %s (pid %d): an orphan left "
                           "running by an earlier version, which nobody would stop", uri, pid)
            _stop_pid(pid)
            with contextlib.suppress(OSError):
                self.state_file.unlink()
            return None
        return uri if _ping(uri) else None

    def _wait_ready(self, uri: str, log_path: Path, log_start: int, port: int) -> bool:
        """Ready when *our* process says it listens on the port and answers a ping (another
        process may have taken the port between our probe and the server's bind)."""
        listening = f"Listening on 127.0.0.1:{port}".encode()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                with open(log_path, "rb") as handle:
                    handle.seek(log_start)
                    ours = listening in handle.read()
            except OSError:
                ours = False
            if ours and _ping(uri, timeout_ms=500):
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Leave the server: give up this lease; the last process to leave stops it (whoever
        started it), the others leave it running."""
        if self.lease is None:
            return
        with self.leases.exclusive():
            self.lease.release()
            self.lease = None
            others = self.leases.holders()
            if others:
                logger.info("Left the embedded database at %s running: %d other process(es) "
                            "use it (pid %s)", self.uri, len(others),
                            ", ".join(str(pid) for pid in sorted(set(others))))
                self.process = None  # it outlives us; whoever leaves last stops it
                return
            if self.process is not None:
                self._terminate()
            else:
                state = self._running_state()
                if state is None or state[1] != self.uri:
                    return  # stopped already (by its watchdog), or another server now
                _stop_pid(state[0])
            with contextlib.suppress(OSError):
                self.state_file.unlink()
        logger.info("Stopped the embedded database")

    def _terminate(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> EmbeddedMongo:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Database:
    """A MongoDB database handle: the configured server, or the embedded one."""

    def __init__(self, uri: str | None, name: str = "news", data_dir: str | Path = "data",
                 timeout_ms: int = 5000) -> None:
        self.name = name
        self.embedded: EmbeddedMongo | None = None
        if uri is None:
            self.embedded = EmbeddedMongo(data_dir)
            uri = self.embedded.start()
        self.uri = uri
        self.client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, tz_aware=True)
        self.db: MongoDatabase[dict[str, Any]] = self.client[name]

    @classmethod
    def from_settings(cls, settings: Any) -> Database:
        return cls(configured_uri(settings.get("MONGO_URI")),
                   name=settings.get("MONGO_DATABASE", "news"),
                   data_dir=news_get(settings, "NEWS_DATA_DIR"),
                   timeout_ms=int(news_float(settings, "NEWS_MONGO_TIMEOUT") * 1000))

    @classmethod
    def for_crawler(cls, crawler: Any) -> Database:
        """One shared handle per crawler (crawler/crawler_scope.py), opened by the first
        component that asks for it and closed when the engine stops."""

        def _open() -> Database:
            from scrapy import signals

            database = cls.from_settings(crawler.settings)
            crawler.signals.connect(database.close, signal=signals.engine_stopped)
            return database

        return crawler_scoped(crawler, Database, _open)

    @staticmethod
    def opened_for(crawler: Any) -> Database | None:
        """The crawler's handle if a component opened one (a crawl that failed to start, or
        was stopped at once, has its database closed through it)."""
        return crawler_scoped_if_built(crawler, Database)

    def check(self, consequence: str = "nothing was crawled") -> None:
        """Raise DatabaseUnavailable, naming the masked URI, when the server does not answer
        (the caller logs it: one line, no traceback)."""
        try:
            self.client.admin.command("ping")
        except PyMongoError as exc:
            todo = (f"see {self.embedded.data_dir / 'nx-27017.log'}" if self.embedded is not None
                    else "start it, or set MONGO_URI to a MongoDB that answers")
            raise DatabaseUnavailable(
                f"MongoDB at {mask_uri(self.uri)} is not reachable ({type(exc).__name__}); "
                f"{consequence}: {todo}") from None

    def close(self) -> None:
        self.client.close()
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None
