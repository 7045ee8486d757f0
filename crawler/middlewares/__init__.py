"""Scrapy downloader middlewares of the news crawler, one per module."""
