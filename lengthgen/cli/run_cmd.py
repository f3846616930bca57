"""``lengthgen models list`` (filled in with the models)."""


def add_parser(sub) -> None:
    pass
