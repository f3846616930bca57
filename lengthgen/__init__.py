"""lengthgen: a benchmark suite for length generalization on algorithmic tasks."""

__version__ = "0.1.0"
