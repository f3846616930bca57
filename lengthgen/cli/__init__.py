"""The ``lengthgen`` command line."""
