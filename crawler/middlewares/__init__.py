"""Scrapy downloader and spider middlewares of the news crawler, one per module."""
