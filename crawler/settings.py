"""Scrapy settings of the news crawler. Every ``NEWS_`` setting is documented in
docs/settings.md; change them with ``-s NAME=VALUE`` or in a settings module of your own."""

from __future__ import annotations

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# Our scrapy crawl (configuration errors: one line, exit 2), shell and parse (not runs)
COMMANDS_MODULE = "crawler.commands"

# -- politeness ------------------------------------------------------------------------------
USER_AGENT = "newscrawl/0.1 (news ingestion crawler; +https://github.com/newscrawl/newscrawl)"
ROBOTSTXT_OBEY = True
ROBOTSTXT_PARSER = "crawler.middlewares.robots.RobotsTxtParser"  # Protego, and Request-rate
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0  # seconds
AUTOTHROTTLE_MAX_DELAY = 30.0  # seconds
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0  # parallel requests per site, on average
CONCURRENT_REQUESTS = 16
CONCURRENT_ITEMS = 8  # a page yields at most one item; Scrapy's 100 costs a task each (profiled)
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25  # seconds, the floor AutoThrottle starts from
DOWNLOAD_TIMEOUT = 30  # seconds
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024  # bytes; larger responses are cut off and dropped
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024  # bytes
RETRY_ENABLED = True
RETRY_TIMES = 2
NEWS_RETRY_BACKOFF = 1.0  # seconds before the first retry, doubled for each further one
NEWS_RETRY_BACKOFF_MAX = 30.0  # seconds, the longest wait before a retry
NEWS_MAX_CRAWL_DELAY = 30.0  # seconds; a longer robots.txt Crawl-delay is capped; 0: ignore it
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's code-execution HTTP server (and its job files in the home folder): not for cron
REMOTE_CONTROL_ENABLED = False
REDIRECT_MAX_TIMES = 5
# Link hops followed from an HTML page; hops through feeds and sitemaps do not count
# (crawler/middlewares/link_depth.py). 0: no limit (Scrapy's meaning).
DEPTH_LIMIT = 2
DEPTH_STATS_VERBOSE = True  # request_depth_count/<n>: requests at each depth
DNS_TIMEOUT = 20  # seconds

# -- engine ----------------------------------------------------------------------------------
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
# Fetch a URL as published, de-duplicate on its canonical form (crawler/request_identity.py).
REQUEST_FINGERPRINTER_CLASS = "crawler.request_identity.CanonicalRequestFingerprinter"
LOG_LEVEL = "INFO"

EXTENSIONS = {
    "crawler.extensions.mask_credentials.MaskCredentials": 0,
    # delays each retry RetryMiddleware schedules, out of the queue and the download slots
    "crawler.extensions.retry_backoff.RetryBackoff": 100,
    "crawler.extensions.run_record.RunRecorder": 500,
    "crawler.extensions.summary.RunSummary": 520,  # after the record: logs its outcome too
    "crawler.extensions.progress.Progress": 530,
    "scrapy.extensions.logstats.LogStats": None,  # replaced by Progress
    "crawler.extensions.archive.WarcArchive": 600,  # WARC archive of fetched pages
    "crawler.extensions.gc_tuning.CollectorTuning": 700,  # NEWS_GC_THRESHOLD
    # NEWS_MALLOC_TUNING: glibc's allocator set before the crawl's threads start
    "crawler.extensions.malloc_tuning.MallocTuning": 0,
}

DOWNLOADER_MIDDLEWARES = {
    # first: counts each request taken from the queue, for the progress lines
    "crawler.middlewares.dequeued.ProgressMiddleware": 50,
    # before robots.txt (100): a refused host gets no request at all, not even robots.txt
    "crawler.middlewares.url_guard.UrlGuardMiddleware": 75,
    # Scrapy's, with a robots.txt that cannot be fetched in one line, not a traceback
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.robots.RobotsTxtMiddleware": 100,
    # applies each site's robots.txt Crawl-delay, parsed by RobotsTxtMiddleware (100), to the
    # site's download slot, and keeps AutoThrottle from going below it
    "crawler.middlewares.crawl_delay.CrawlDelayMiddleware": 110,
    # holds requests back while the pages downloaded and not yet extracted reach
    # NEWS_EXTRACTION_BACKLOG (crawler/extraction_backlog.py)
    "crawler.middlewares.backpressure.ExtractionBacklogMiddleware": 120,
    # Scrapy's meta refresh, reading each page's head only: a held article's response does
    # not keep its whole decoded text (crawler/middlewares/meta_refresh.py)
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.meta_refresh.MetaRefreshMiddleware": 580,
    # before it on the way back: each text response carries its encoding, so that a page that
    # declares none keeps no decoded copy (crawler/middlewares/response_encoding.py)
    "crawler.middlewares.response_encoding.ResponseEncodingMiddleware": 590,
}

# With NEWS_REDIS_URL (or env REDIS_URL) set: the shared Redis queue (docs/distributed.md).
ADDONS = {
    "crawler.distributed.addon.DistributedAddon": 0,
    # With NEWS_BROWSER on: scrapy-playwright's handler for http(s), which hands every request
    # not meant for the browser to Scrapy's own; chromium starts at the first page needing it
    "crawler.browser.BrowserAddon": 0,
}

SPIDER_MIDDLEWARES = {
    # the outermost: the template hold, which sees when the spider is done with a response
    # (crawler/template_hold.py)
    "crawler.template_hold.TemplateHold": 10,
    # Scrapy's depth middleware, but a request found in a feed or sitemap is no hop
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "crawler.middlewares.link_depth.LinkDepthMiddleware": 900,
    # drops listed entries and links that are not new, changed or due, makes the others
    # conditional, and keeps the URL state of each fetch (only when articles are stored)
    "crawler.middlewares.incremental.IncrementalStateMiddleware": 930,
    # an article item gets the place of its page's WARC record (``archive``)
    "crawler.middlewares.archive_locations.ArchiveLocations": 950,
}

# Waiting requests kept pickled, about 500 bytes each instead of 2 kB (crawler/request_queue.py)
SCHEDULER_MEMORY_QUEUE = "crawler.request_queue.PickledLifoMemoryQueue"

# The scraper's memory bound. Articles held for their site's template keep their responses
# counted by the scraper; past this size Scrapy stops downloading. Held responses take at most
# NEWS_TEMPLATE_HOLD_MAX_BYTES, and two thirds of it (crawler/template_hold.py; Scrapy's
# default, 5 MB, is ten real pages).
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 96 * 1024 * 1024  # bytes

ITEM_PIPELINES = {
    "pipelines.template_strip.TemplateStripPipeline": 100,
    "pipelines.mongo.MongoPipeline": 900,  # the item becomes its document here
    "pipelines.normalize.NormalizePipeline": 950,  # ... or here, when nothing is stored
}

# -- our settings (docs/settings.md) ---------------------------------------------------------
NEWS_SOURCES = "sources.yaml"
NEWS_PROGRESS_INTERVAL = 60.0  # seconds between progress lines; 0: none
NEWS_MIN_WORDS = 80  # fewer words of main text: not an article
NEWS_EXTRACT_WORKERS = 0  # extraction processes; 0 means one per core
NEWS_EXTRACT_MAX_TASKS_PER_CHILD = 10_000  # pages before a worker process is recycled
NEWS_LAYOUTS = True  # learn each site's layout and extract its known pages the fast way
NEWS_LAYOUT_SAMPLE = 20  # one page in this many of a known layout is also extracted the full way
NEWS_LAYOUT_LEARN_PAGES = 1  # fully extracted pages that make a site's first layout
NEWS_LAYOUT_MAX_FAILURES = 5  # pages in a row failing a layout's checks close it
NEWS_LAYOUT_MAX_PER_SITE = 3  # open article layouts a site may have at once (docs/layouts.md)
NEWS_EXTRACTION_BACKLOG = 8_000_000  # bytes of HTML downloaded and not yet extracted; 0: no bound
NEWS_EXTRACT_TIMEOUT = 30.0  # seconds one page may take to extract; 0: no limit
NEWS_TEMPLATE_MIN_PAGES = 3  # a line on this many distinct pages of a site may be a template
NEWS_TEMPLATE_MIN_SHARE = 0.1  # ... and on at least this share of the site's pages
NEWS_TEMPLATE_WARMUP = 10  # pages a new site's articles wait for before templates are stripped
NEWS_TEMPLATE_HOLD_TIMEOUT = 60.0  # seconds held with no fetch of its site moving: released
NEWS_TEMPLATE_HOLD_MAX_BYTES = 64 * 1024 * 1024  # responses of held articles; past it, released
NEWS_MAX_AGE_DAYS = 7.0  # listed entries older than this and never fetched are skipped; 0: off
NEWS_RECRAWL_SCHEDULE = "1h,6h,24h,3d"  # recrawl an article at these ages, then never again
NEWS_PAGE_BACKOFF = "1h,1d"  # a page whose fetches found no new link waits 1h, doubling, at most 1d
NEWS_NOW = ""  # ISO 8601: the crawl's clock starts at this moment (simulations); empty: real
NEWS_ALLOWED_PRIVATE_NETWORKS: list[str] = []  # CIDRs of non-public addresses we may fetch
NEWS_DATA_DIR = "data"  # embedded database and spool live here
NEWS_MONGO_BATCH_SIZE = 100  # items per bulk write
NEWS_MONGO_FLUSH_INTERVAL = 2.0  # seconds between flushes of a partial batch
NEWS_MONGO_TIMEOUT = 5.0  # seconds to wait for the database per operation
NEWS_MONGO_RETRIES = 3  # retries of a failed batch (backoff 0.5 s, 1 s, 2 s) before spooling
NEWS_REDIS_URL = ""  # set (or env REDIS_URL): distributed crawl on this Redis; docs/distributed.md
NEWS_REDIS_PREFIX = "newscrawl"  # Redis key prefix: one shared crawl per prefix
NEWS_REDIS_SEED = True  # a crawl process seeds the shared queue (newscrawl worker: False)
NEWS_REDIS_IDLE_TIMEOUT = 60.0  # seconds the shared queue stays idle before a worker exits
NEWS_REDIS_HEARTBEAT_TTL = 30.0  # seconds without a heartbeat: the worker is dead, requeue
NEWS_REDIS_DUPEFILTER_TTL = 86400.0  # seconds a run's fingerprints outlive the last heartbeat
NEWS_REDIS_RECORD_INTERVAL = 10.0  # seconds between writes of a worker's counts to crawl_run_parts
NEWS_ARCHIVE = True  # keep every fetched HTML page in WARC files; docs/reliability.md
NEWS_ARCHIVE_DIR = ""  # empty: <NEWS_DATA_DIR>/archive
NEWS_ARCHIVE_MAX_MB = 1024  # a new WARC file once the current one is this large (MiB)
NEWS_ARCHIVE_GZIP_LEVEL = 3  # gzip level of each record: 0-3 by ISA-L, 4-9 by zlib (9 smallest)
NEWS_ARCHIVE_REQUIRED = False  # True: stop the crawl when the archive cannot be written
NEWS_GC_THRESHOLD = 10_000  # allocations between young GC passes of the crawl; 0: Python's own
NEWS_MALLOC_TUNING = True  # the crawl process: 2 malloc arenas (glibc)
NEWS_RUN_RECORD = True  # record the crawl in crawl_runs; scrapy shell and scrapy parse: False
NEWS_BROWSER = True  # render declared articles whose HTML has no text, in chromium
NEWS_BROWSER_EXECUTABLE = ""  # chromium to run; empty: chromium on the PATH, else /usr/bin/chromium
NEWS_BROWSER_PAGES = 2  # pages open in the browser at once
NEWS_BROWSER_TIMEOUT = 30.0  # seconds a page may take to load in the browser
NEWS_RUN_ID = ""  # the crawl_runs _id of this run; empty: a new random one
MONGO_URI = ""  # empty: start the embedded nx-27017 server; env MONGO_URI overrides
MONGO_DATABASE = "news"
