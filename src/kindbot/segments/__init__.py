"""Segments (issue 16 §3): saved, named filters on a tenant's contacts.

Pure: :mod:`~kindbot.segments.definition` (the conditions and what they mean),
:mod:`~kindbot.segments.codec` (the JSON form's validator and canonical text),
:mod:`~kindbot.segments.rfm` (the RFM scores' fixed thresholds) and
:mod:`~kindbot.segments.resolve` (a definition at one instant → the absolute
filters ``storage/repos_segments.py`` compiles to SQL). Saving, previewing and
listing members are :mod:`kindbot.ops.segments`.
"""
