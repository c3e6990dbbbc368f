"""Adapters at the edges: event stores, bank feeds, exports. They import the domain, never the
reverse."""
