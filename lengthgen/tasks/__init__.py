"""Task generators and their registry.

Every built-in task module is imported here, so its ``@register_task``
decorator runs whenever the package is imported.
"""

from lengthgen.tasks import (  # noqa: F401  (imported for registration)
    addition,
    context_free,
    context_sensitive,
    lists,
    parity,
    pvr,
    regular,
    symbolic,
)
from lengthgen.tasks.base import (
    EOS,
    PAD,
    SEP,
    SPECIALS,
    TASKS,
    Batch,
    Param,
    Task,
    concat_batches,
    make_task,
    register_task,
)

__all__ = [
    "EOS",
    "PAD",
    "SEP",
    "SPECIALS",
    "TASKS",
    "Batch",
    "Param",
    "Task",
    "concat_batches",
    "make_task",
    "register_task",
]
