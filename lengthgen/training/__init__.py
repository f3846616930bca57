"""Training: batches for language modelling, schedules, checkpoints, the loop."""
