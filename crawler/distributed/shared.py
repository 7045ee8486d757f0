"""The Redis state of one shared crawl and its atomic operations.

Keys (``P`` is ``NEWS_REDIS_PREFIX``, ``W`` a worker id ``host:pid:random``); docs/distributed.md
describes them:

- ``P:requests``: sorted set, the pending requests (scrapy-redis ``PriorityQueue``);
- ``P:inflight:W``: hash, what worker W popped and has not acknowledged (id: score, request);
- ``P:settled:W``: set, ids of W's in-flight requests that will produce nothing more;
- ``P:worker:W``: W's heartbeat, with a TTL; ``P:workers``: set of the worker ids;
- ``P:seq``: in-flight ids; ``P:dupefilter``: fingerprints of the current run;
- ``P:run``: the current run (JSON); ``P:seeders``: sorted set of seeding processes.

Every operation that reads and writes several keys is one Lua script, so it is atomic with
respect to every other worker. One Redis server (not Redis Cluster): the scripts touch keys
they compute.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import redis

from crawler.crawler_scope import crawler_scoped
from crawler.defaults import news_float
from crawler.distributed import redis_url

logger = logging.getLogger(__name__)

# Lua helpers: the server's clock in ms, so that expiries do not depend on the workers' clocks.
_NOW = ("local t = redis.call('TIME') "
        "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) ")

_POP = """
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then return false end
redis.call('ZREM', KEYS[1], top[1])
local id = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], id, top[2] .. '\\n' .. top[1])
return {id, top[1]}
"""

# Move the in-flight entries of one worker (ARGV[2]) or of every dead worker back to pending.
_REQUEUE = """
local function requeue(w)
  local inflight = ARGV[1] .. ':inflight:' .. w
  local entries = redis.call('HGETALL', inflight)
  local moved = 0
  for i = 2, #entries, 2 do
    local v = entries[i]
    local nl = string.find(v, '\\n', 1, true)
    redis.call('ZADD', KEYS[1], string.sub(v, 1, nl - 1), string.sub(v, nl + 1))
    moved = moved + 1
  end
  redis.call('DEL', inflight, ARGV[1] .. ':settled:' .. w)
  redis.call('SREM', KEYS[2], w)
  return moved
end
if ARGV[2] ~= '' then return {requeue(ARGV[2]), 0} end
local moved, dead = 0, 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[1] .. ':worker:' .. w) == 0 then
    moved = moved + requeue(w)
    dead = dead + 1
  end
end
return {moved, dead}
"""

_STATUS = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local inflight, unsettled, workers = 0, 0, 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local n = redis.call('HLEN', ARGV[1] .. ':inflight:' .. w)
  inflight = inflight + n
  unsettled = unsettled + math.max(0, n - redis.call('SCARD', ARGV[1] .. ':settled:' .. w))
  workers = workers + 1
end
return {redis.call('ZCARD', KEYS[1]), inflight, unsettled, redis.call('ZCARD', KEYS[2]), workers}
"""

# Begin a new run when nothing is pending, in flight or being seeded; else join the current one.
_BEGIN = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local busy = redis.call('ZCARD', KEYS[1]) > 0 or redis.call('ZCARD', KEYS[2]) > 0
if not busy then
  for _, w in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    if redis.call('HLEN', ARGV[1] .. ':inflight:' .. w) > 0 then busy = true break end
  end
end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
local run = redis.call('GET', KEYS[4])
if busy and run then return {0, run} end
redis.call('DEL', KEYS[5])
redis.call('SET', KEYS[4], ARGV[2])
return {1, ARGV[2]}
"""

_REFRESH_SEEDER = _NOW + "redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])"


@dataclass(frozen=True)
class QueueStatus:
    pending: int  # requests waiting in the shared queue
    inflight: int  # requests popped by a worker and not acknowledged
    unsettled: int  # in-flight requests that may still produce requests or pages
    seeding: int  # processes pushing seeds
    workers: int

    @property
    def idle(self) -> bool:
        """Nothing left to do in the shared crawl."""
        return self.pending == 0 and self.inflight == 0 and self.seeding == 0

    @property
    def quiet(self) -> bool:
        """No page left to fetch: what is in flight only waits (held articles, writes)."""
        return self.pending == 0 and self.unsettled == 0 and self.seeding == 0


@dataclass(frozen=True)
class Keys:
    prefix: str

    @property
    def pending(self) -> str:
        return f"{self.prefix}:requests"

    def inflight(self, worker: str) -> str:
        return f"{self.prefix}:inflight:{worker}"

    def settled(self, worker: str) -> str:
        return f"{self.prefix}:settled:{worker}"

    def heartbeat(self, worker: str) -> str:
        return f"{self.prefix}:worker:{worker}"

    @property
    def workers(self) -> str:
        return f"{self.prefix}:workers"

    @property
    def seq(self) -> str:
        return f"{self.prefix}:seq"

    @property
    def dupefilter(self) -> str:
        return f"{self.prefix}:dupefilter"

    @property
    def run(self) -> str:
        return f"{self.prefix}:run"

    @property
    def seeders(self) -> str:
        return f"{self.prefix}:seeders"


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class SharedCrawl:
    """One process's handle on the shared crawl: its worker id and the atomic operations."""

    def __init__(self, server: redis.Redis, prefix: str = "newscrawl", worker: str | None = None,
                 heartbeat_ttl: float = 30.0, dupefilter_ttl: float = 86400.0,
                 seeding_ttl: float = 60.0) -> None:
        self.server = server
        self.keys = Keys(prefix)
        self.worker = worker or new_worker_id()
        self.heartbeat_ttl = heartbeat_ttl
        self.dupefilter_ttl = dupefilter_ttl
        self.seeding_ttl = seeding_ttl
        self.seeding = False
        self._pop = server.register_script(_POP)
        self._requeue = server.register_script(_REQUEUE)
        self._status = server.register_script(_STATUS)
        self._begin = server.register_script(_BEGIN)
        self._refresh_seeder = server.register_script(_REFRESH_SEEDER)

    @classmethod
    def from_settings(cls, settings: Any, worker: str | None = None) -> SharedCrawl:
        url = redis_url(settings)
        if not url:
            raise ValueError("NEWS_REDIS_URL (or REDIS_URL) is not set")
        server = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10,
                                      health_check_interval=30)
        return cls(server, prefix=settings.get("NEWS_REDIS_PREFIX") or "newscrawl",
                   worker=worker,
                   heartbeat_ttl=news_float(settings, "NEWS_REDIS_HEARTBEAT_TTL"),
                   dupefilter_ttl=news_float(settings, "NEWS_REDIS_DUPEFILTER_TTL"))

    @classmethod
    def for_crawler(cls, crawler: Any) -> SharedCrawl:
        """One handle per crawler, shared by the scheduler, the extensions and the pipelines
        (crawler/crawler_scope.py)."""
        return crawler_scoped(crawler, SharedCrawl, lambda: cls.from_settings(crawler.settings))

    # -- the queue ---------------------------------------------------------------------------

    def pop(self) -> tuple[int, bytes] | None:
        """Move the first pending request to this worker's in-flight hash: (id, data)."""
        result = self._pop(keys=[self.keys.pending, self.keys.inflight(self.worker),
                                 self.keys.seq])
        if not result:
            return None
        return int(result[0]), bytes(result[1])

    def ack(self, ids: list[int]) -> None:
        """The requests are done: forget them."""
        if not ids:
            return
        pipe = self.server.pipeline(transaction=False)
        fields = [str(i) for i in ids]
        pipe.hdel(self.keys.inflight(self.worker), *fields)
        pipe.srem(self.keys.settled(self.worker), *fields)
        pipe.execute()

    def settle(self, ids: list[int]) -> None:
        """The requests will produce no more requests or pages (see :attr:`QueueStatus.quiet`)."""
        if ids:
            self.server.sadd(self.keys.settled(self.worker), *ids)

    def requeue_dead(self) -> tuple[int, int]:
        """Requeue the in-flight requests of every worker whose heartbeat expired:
        (requests requeued, dead workers)."""
        moved, dead = self._requeue(keys=[self.keys.pending, self.keys.workers],
                                    args=[self.keys.prefix, ""])
        return int(moved), int(dead)

    def requeue_own(self) -> int:
        """Give this worker's unacknowledged requests back to the queue (at close)."""
        moved, _ = self._requeue(keys=[self.keys.pending, self.keys.workers],
                                 args=[self.keys.prefix, self.worker])
        return int(moved)

    def status(self) -> QueueStatus:
        values = self._status(keys=[self.keys.pending, self.keys.seeders, self.keys.workers],
                              args=[self.keys.prefix])
        return QueueStatus(*(int(v) for v in values))

    # -- workers -----------------------------------------------------------------------------

    def heartbeat(self) -> bool:
        """Say this worker is alive; False when its heartbeat had expired (it was presumed
        dead and its in-flight requests were requeued)."""
        info = json.dumps({"host": socket.gethostname(), "pid": os.getpid(),
                           "at": datetime.now(UTC).isoformat()})
        pipe = self.server.pipeline(transaction=False)
        pipe.set(self.keys.heartbeat(self.worker), info, px=int(self.heartbeat_ttl * 1000),
                 get=True)
        pipe.sadd(self.keys.workers, self.worker)
        pipe.expire(self.keys.dupefilter, int(self.dupefilter_ttl))
        if self.seeding:
            self._refresh_seeder(keys=[self.keys.seeders],
                                 args=[self.worker, int(self.seeding_ttl * 1000)], client=pipe)
        previous = pipe.execute()[0]
        return previous is not None

    def leave(self) -> None:
        pipe = self.server.pipeline(transaction=False)
        pipe.delete(self.keys.heartbeat(self.worker))
        pipe.srem(self.keys.workers, self.worker)
        pipe.zrem(self.keys.seeders, self.worker)
        pipe.execute()

    def alive(self, worker: str) -> bool:
        return bool(self.server.exists(self.keys.heartbeat(worker)))

    # -- runs --------------------------------------------------------------------------------

    def begin_or_join(self, sources: list[str]) -> tuple[bool, dict[str, Any]]:
        """Start seeding: begin a new run (new run id, fingerprints of the previous run
        dropped) when the previous one is over, else join it. Returns (began, run)."""
        run = {"id": uuid.uuid4().hex, "started_at": datetime.now(UTC).isoformat(),
               "sources": sources, "host": socket.gethostname(), "pid": os.getpid()}
        began, value = self._begin(
            keys=[self.keys.pending, self.keys.seeders, self.keys.workers, self.keys.run,
                  self.keys.dupefilter],
            args=[self.keys.prefix, json.dumps(run), self.worker, int(self.seeding_ttl * 1000)])
        self.seeding = True
        return bool(began), dict(json.loads(value))

    def end_seeding(self) -> None:
        self.seeding = False
        pipe = self.server.pipeline(transaction=False)
        pipe.zrem(self.keys.seeders, self.worker)
        pipe.expire(self.keys.dupefilter, int(self.dupefilter_ttl))
        pipe.execute()

    def current_run(self) -> dict[str, Any] | None:
        value = cast(bytes | None, self.server.get(self.keys.run))
        return dict(json.loads(value)) if value else None
