"""Resident records the procedures read: household (世帯), children, address history, health
insurance and nursing care, tax status.

`base` defines what a procedure may read (`ResidentRecords`, a Protocol, and plain dataclasses);
`mock.MockResidentRecords` answers from the demo's fictional people (portal.demo_data, which
the mock card service reads too; the records package never imports a mock). Every read names
who reads and why, and is written to `models.RecordRead` (ids only, never the data), so that the
city can show a resident who looked at their records.
"""
