"""The contact directory's pure rules (issue 16 §2): typed custom attributes, the
contact list's filters and cursors, a contact's timeline cursors.

No I/O and no SQLAlchemy/FastAPI here (import-linter): the records are in
:mod:`kindbot.core.records.directory`, the SQL in ``storage/repos_attributes.py``,
``storage/repos_directory.py`` and ``storage/repos_timeline.py``, and
:mod:`kindbot.ops.directory` composes them for the API and the CLI.
"""
