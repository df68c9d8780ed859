"""Residents' file attachments: content checks, image clean-up, malware scanning and storage.

`service.prepare_upload()` turns the bytes of an upload into a `PreparedFile` (type decided by
magic bytes, scanned, images re-encoded without metadata) or raises `UploadRejected` with a
message for the resident; `service.FileStore` keeps the files outside the web root under random
names; `models.Upload` records which submission a file belongs to. `scanners` holds the
malware-scanning interface (a test scanner and a clamd adapter). No blueprint yet: the view that
serves a file checks who may see the submission, then uses `models.find_upload()` and
`FileStore.read()`.
"""
