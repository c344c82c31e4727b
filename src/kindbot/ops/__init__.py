"""User operations behind the REST API and the CLI: one implementation for both edges.

Each function here opens its own transaction on a :class:`kindbot.types.Store`,
validates input with pure functions first (raising :class:`kindbot.errors.KindbotError`
subclasses whose message names the field), and writes an audit entry in the
same transaction as the change it records.
"""
