"""Learned site layouts: the fast path for known sites (docs/layouts.md)."""
