"""The ``request.meta`` / ``response.meta`` keys of ours, in one place.

Each is written in one component and read in others; all use these names, never the string.
"""

from __future__ import annotations

# What discovery knows of a request
SOURCE = "news_source"  # the source (sources file entry) a request crawls for
VIA = "news_via"  # "feed", "sitemap" or "recrawl": how the URL was found
HINTED = "news_hinted"  # a feed or news sitemap listed the URL as an article
HINT = "news_hint"  # what a feed or sitemap entry says of the URL (title, dates)
LINK = "news_link"  # a link found on a page
# What a fetch gave
FETCHED = "news_fetched"  # response: the kind of a fetch that yields no article (url_state)
FETCH = "news_fetch"  # the template hold's fetch a request belongs to (crawler/template_hold.py)
ARCHIVE = "news_archive"  # the Future of the response's archive Location (WARC)
ARCHIVE_REFERS = "news_archive_refers"  # the archive record of the page as fetched (browser)
# The browser (crawler/browser.py)
BROWSER = "news_browser"  # fetched through the browser (at most once a page)
BROWSER_AGAIN = "news_browser_again"  # a page fetched already, now through the browser
RENDER_REQUESTED = "news_render_requested"  # response: its page was requested again to render
# Re-extraction from the archive (crawler/reextract.py)
REPLAY = "news_replay"  # the Location of the record to answer with
REPLAY_DATE = "news_replay_date"  # the record's WARC-Date
REPLAY_OUTCOME = "news_replay_outcome"  # response: refused or not, for the checkpoint
REPLAYED = "news_replayed"  # answered from the archive, not fetched
# Retries and the distributed queue
RETRY_DELAYED = "news_retry_delayed"  # the retry (retry_times) already delayed
QUEUE_ID = "news_queue_id"  # the id of the request's in-flight queue entry (Redis)
READY = "news_ready"  # popped by the distributed scheduler's tick, for the engine
