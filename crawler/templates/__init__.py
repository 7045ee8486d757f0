"""Template learning: the lines a site repeats in its articles, learned from its own pages.

- :mod:`~crawler.templates.model`: a site's line counts and the template they make
  (:class:`SiteTemplate`); plain code, no I/O.
- :mod:`~crawler.templates.local_store`: a site's counts kept in MongoDB between runs.
- :mod:`~crawler.templates.counts`: the count store a crawl strips with (this process's).
- :mod:`~crawler.templates.shared_store` and :mod:`~crawler.templates.shared_counts`: the
  counts of a distributed crawl, counted live in MongoDB by every worker.

The item pipeline that holds, counts and strips is :mod:`pipelines.template_strip`.
"""
