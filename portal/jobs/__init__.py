"""The one job mechanism: a lease over tables of work (portal/jobs/lease.py) used by the typed
jobs table (queue.py), the periodic duties (schedule.py), the outbox and the mock provider's
webhooks; and `flask portal worker` (worker.py), which drives them all.
See docs/decisions/0040-one-job-mechanism.md.

Import the modules themselves (`from portal.jobs import lease`): this package imports nothing,
so the outbox and the mocks can use the lease without an import circle.
"""
