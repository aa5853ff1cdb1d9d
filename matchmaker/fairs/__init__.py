"""fairs."""
