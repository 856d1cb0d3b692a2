"""The background worker: runs the job queue's jobs (db/jobs.py) — the purge of deleted
projects — inside `vesper serve` (unless VESPER_WORKER=0), or alone as `vesper worker`."""
