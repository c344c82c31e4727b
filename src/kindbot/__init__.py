"""kindbot."""
