"""Training: the shared loop (run folder, checkpoints, resume) and the tasks behind ``minigen train``."""
