"""The running bot: the parts wired together, the scheduler's jobs, start and stop."""
