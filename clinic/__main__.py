"""`python -m clinic`: the same as the `clinic` command."""

from clinic.cli import main

main()
