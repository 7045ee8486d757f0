"""Writing articles: the idempotent article store (revisions, story links) and the local spool
that keeps a batch when the database does not answer. Used by :mod:`pipelines.mongo`."""
