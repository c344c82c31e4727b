"""Storage contract tests: run against every backend through the Protocols only."""
