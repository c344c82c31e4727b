"""User operations behind the REST API and the CLI: one implementation for both edges.

Each function here opens its own transaction on a :class:`kindbot.core.ports.seams.Store`,
validates input with pure functions first (raising :class:`kindbot.core.errors.KindbotError`
subclasses whose message names the field), and writes an audit entry in the
same transaction as the change it records.
"""
