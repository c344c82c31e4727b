"""The contracts every layer shares: events, errors, records, ports, text utilities.

Nothing here imports any other part of kindbot.
"""
