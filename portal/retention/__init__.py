"""Retention of residents' applications: `flask retention purge [--dry-run]` and the worker's
daily job anonymise submitted applications past their procedure's retention period and delete
drafts nobody touched for 90 days, with their files, recording each run in the audit log.
See portal/retention/service.py and docs/decisions/0033-exports-and-retention.md.
"""
