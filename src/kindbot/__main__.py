"""``python -m kindbot`` is the same as the ``kindbot`` command."""

from kindbot.cli.main import main

main()
