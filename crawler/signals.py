"""Signals of our own, sent through ``crawler.signals``."""

from __future__ import annotations

# A batch of article documents was written to MongoDB, or to the local spool when the database
# was down (durable either way): handlers get ``docs`` and ``spooled`` (True: in the spool).
# Read by the distributed queue (its acknowledgements); the URL state is told directly.
articles_stored = object()

# A request failed for good (the spider's errback ran; retries are over): handlers get
# ``request``. Read by the template hold's ledger
# (crawler/template_hold.py): it ends the request's fetch.
request_failed = object()

# Sent by ProgressMiddleware (crawler/middlewares/dequeued.py) for each request that leaves the
# scheduler for the downloader (before any downloader middleware may refuse it: robots.txt, the
# URL guard); crawler/extensions/progress.py counts it.
request_dequeued = object()
