"""Signals of our own, sent through ``crawler.signals``."""

from __future__ import annotations

# A page was fetched and is not an article to store (304 Not Modified, or not an article):
# handlers get ``update`` (a dict for crawler.url_state.UrlStateStore.record).
url_fetched = object()

# A batch of article documents was written to MongoDB, or to the local spool when the database
# was down (durable either way): handlers get ``docs``.
articles_stored = object()

# A request failed for good (the spider's errback ran; retries are over): handlers get
# ``request``. Read by crawler.fetches.FetchTracker.
request_failed = object()
