"""Evaluation across lengths: greedy decoding and accuracy with intervals."""
