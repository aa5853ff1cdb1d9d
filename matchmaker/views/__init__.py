"""Web pages, one blueprint per feature."""
