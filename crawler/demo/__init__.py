"""Bundled demo: three realistic news sites served on loopback, with their ground truth.

``crawler.demo.server.DemoServer`` serves the sites, ``crawler.demo.truth`` says what a
perfect crawl of them stores. Nothing here is imported eagerly, so that
``python -m crawler.demo.server`` runs cleanly.
"""
