"""Bytes kept in Redis (or Valkey) for every web worker at once: rendered public pages and their JSON.

Which server: ``CIVICDESK_CACHE_URL``; empty means the broker when it speaks the Redis protocol (the
embedded Valkey, a ``redis://`` broker), ``off`` means none. The cache is never needed for an answer: when
its server does not answer, ``get`` finds nothing and ``put`` keeps nothing for a few seconds (logged once
per outage), and the pages are rendered as if there were no cache. A waiting request costs at most the
socket timeout once per outage, not once per request.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache

import redis

from kernel.settings import get_settings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 0.25  # a cache slower than a fresh render is worse than none
RETRY_SECONDS = 5.0  # after a failure, how long the cache is left alone before it is tried again
PREFIX = "civicdesk:"


def redis_url(cache_url: str, broker_url: str) -> str | None:
    """The server to keep pages in, as redis-py names it, or None when there is none to use."""
    url = cache_url or broker_url
    if cache_url == "off" or not url:
        return None
    if url.startswith("redis+socket://"):  # kombu's name for a unix socket
        return "unix://" + url.removeprefix("redis+socket://")
    return url if url.startswith(("redis://", "rediss://", "unix://")) else None


class SharedCache:
    """Get and put bytes by key; any failure of the server reads as a miss."""

    def __init__(self, url: str | None) -> None:
        self._client = (
            redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)
            if url
            else None
        )
        self._resting_until = 0.0
        self._down = False  # since the last failure, nothing has worked: its warning is logged already
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        client = self._usable()
        if client is None:
            return None
        try:
            found = client.get(PREFIX + key)
        except redis.RedisError as problem:
            self._failed(problem)
            return None
        self._down = False
        return found if isinstance(found, bytes) else None

    def put(self, key: str, value: bytes, seconds: int) -> bool:
        """Keep ``value``; whether the server took it."""
        client = self._usable()
        if client is None:
            return False
        try:
            client.set(PREFIX + key, value, ex=seconds)
        except redis.RedisError as problem:
            self._failed(problem)
            return False
        self._down = False
        return True

    def claim(self, key: str, seconds: int) -> bool:
        """Whether this caller is the one to renew ``key`` (for ``seconds``): the others keep serving the
        old copy meanwhile instead of all rendering it at once. No server: nobody waits on anybody."""
        client = self._usable()
        if client is None:
            return True
        try:
            claimed = client.set(PREFIX + "claim:" + key, b"1", ex=seconds, nx=True)
        except redis.RedisError as problem:
            self._failed(problem)
            return True
        return bool(claimed)

    def _usable(self) -> redis.Redis | None:
        """The client, unless there is none or it failed a moment ago."""
        return self._client if time.monotonic() >= self._resting_until else None

    def _failed(self, problem: Exception) -> None:
        with self._lock:
            first, self._down = not self._down, True
            self._resting_until = time.monotonic() + RETRY_SECONDS
        if first:
            log.warning("shared page cache unavailable, rendering without it: %s", problem)


@lru_cache
def shared_cache() -> SharedCache:
    """The process's one client (a pool of connections shared by its threads)."""
    settings = get_settings()
    return SharedCache(redis_url(settings.cache_url, settings.broker_url))
