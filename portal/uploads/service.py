"""Checking, cleaning and storing residents' uploads.

`prepare_upload()` decides what a file is from its first bytes (never from its name or the
browser's Content-Type), enforces the size limit, has the original bytes scanned for malware, and
re-encodes images: EXIF orientation applied, every piece of metadata dropped (a phone photo's EXIF
carries the GPS position of the resident's home), HEIC converted to JPEG so staff can open it
anywhere, and large photos scaled down. PDFs are stored as received. Every refusal is an
`UploadRejected` whose text is the Japanese message shown to the resident.

`FileStore` keeps the files in the database under random names (never in the web root); the
original name is kept only for display.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import struct
import unicodedata
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageOps
from sqlalchemy import delete
from sqlalchemy.orm import Session

from portal.uploads.models import UploadBlob
from portal.uploads.scanners import Scanner, ScannerUnavailable

# Teaches Pillow to open HEIC/HEIF (iPhone photos); registered once, for the whole process.
pillow_heif.register_heif_opener()

ALLOWED = {"image/jpeg", "image/png", "application/pdf"}
HEIC = "image/heic"  # accepted on input, stored as JPEG
MIB = 1024 * 1024
MAX_UPLOAD_BYTES = 10 * MIB
MAX_IMAGE_SIDE = 2000
# Refuse to decode larger images (decompression bombs): a 10 MB file can declare a billion
# pixels. 50 megapixels still admits the 48-megapixel photos of recent phones.
MAX_IMAGE_PIXELS = 50_000_000
JPEG_QUALITY = 85
MAX_FILENAME_CHARS = 100
DEFAULT_STEM = "添付ファイル"

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
# The Pillow decoder for each sniffed type: a file is never handed to any other parser.
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", HEIC: "HEIF"}

HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
# AVIF files also list "mif1"; they are not accepted, so they must not pass as HEIC.
AVIF_BRANDS = {b"avif", b"avis"}

MESSAGE_EMPTY = "ファイルが空です"
# Message ids: the resident reads them translated (submissions/forms.py, decision 0096).
MESSAGE_TOO_LARGE = "ファイルの大きさは%(limit)sMB以下にしてください"
MESSAGE_TYPE = "JPEG、PNG、PDF、HEIC（iPhoneの写真）のいずれかのファイルを選んでください"
MESSAGE_UNREADABLE = "画像を読み取れませんでした。別のファイルを選んでください"
MESSAGE_INFECTED = (
    "このファイルからウイルスが見つかったため、受け付けられません。別のファイルを選んでください"
)
MESSAGE_SCANNER_UNAVAILABLE = (
    "ファイルの安全確認ができませんでした。時間をおいてもう一度お試しください"
)

STORAGE_NAME = re.compile(r"[0-9a-f]{2}/[0-9a-f]{32}")
# Characters Windows refuses in file names; staff download these files on Windows PCs.
_WINDOWS_RESERVED = set('<>:"/\\|?*')


class UploadRejected(ValueError):
    """The file is refused. str() is the message in Japanese; `text` and `values` are its message
    id and values, for `translate(text, **values)` on the resident's page (decision 0096);
    `reason` is for code and logs (empty, too_large, type, unreadable, infected,
    scanner_unavailable)."""

    def __init__(self, reason: str, text: str, signature: str | None = None, **values: str) -> None:
        message = text % values if values else text
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.text = text
        self.values = values
        self.signature = signature  # the malware found, for the log (reason "infected")


@dataclass(frozen=True)
class PreparedFile:
    """What is stored: the (possibly re-encoded) bytes and their description."""

    data: bytes
    content_type: str
    filename: str  # for display and downloads only; never a path
    sha256: str
    size: int
    width: int | None
    height: int | None


def sniff_type(data: bytes) -> str | None:
    """The file's type from its magic bytes: one of ALLOWED, "image/heic", or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if _is_heif(data):
        return HEIC
    return None


def _is_heif(data: bytes) -> bool:
    """An ISO BMFF file starting with an `ftyp` box that names a HEIF brand."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    (box_size,) = struct.unpack(">I", data[:4])
    if box_size < 16 or box_size > min(len(data), 1024) or box_size % 4:
        return False
    major = data[8:12]
    compatible = {data[i : i + 4] for i in range(16, box_size, 4)}
    if major in AVIF_BRANDS:
        return False
    return major in HEIF_BRANDS or bool(compatible & HEIF_BRANDS)


def prepare_upload(
    data: bytes, original_filename: str, *, scanner: Scanner, max_bytes: int = MAX_UPLOAD_BYTES
) -> PreparedFile:
    """Check, scan and clean one upload; raise UploadRejected with the resident's message."""
    if not data:
        raise UploadRejected("empty", MESSAGE_EMPTY)
    if len(data) > max_bytes:
        raise UploadRejected("too_large", MESSAGE_TOO_LARGE, limit=f"{max_bytes / MIB:g}")
    # The original bytes are scanned: re-encoding would strip a payload hidden in an image, but
    # the scanner must see (and the log must record) what the resident actually sent.
    try:
        result = scanner.scan(data)
    except ScannerUnavailable as exc:
        raise UploadRejected("scanner_unavailable", MESSAGE_SCANNER_UNAVAILABLE) from exc
    if not result.clean:
        raise UploadRejected("infected", MESSAGE_INFECTED, signature=result.signature)

    # After the scan, so that malware is reported as malware whatever it pretends to be.
    sniffed = sniff_type(data)
    if sniffed is None:
        raise UploadRejected("type", MESSAGE_TYPE)

    width: int | None = None
    height: int | None = None
    if sniffed == "application/pdf":
        content_type, stored = sniffed, data
    else:
        content_type, stored, width, height = _clean_image(data, sniffed)

    return PreparedFile(
        data=stored,
        content_type=content_type,
        filename=display_filename(original_filename, content_type),
        sha256=hashlib.sha256(stored).hexdigest(),
        size=len(stored),
        width=width,
        height=height,
    )


def _clean_image(data: bytes, sniffed: str) -> tuple[str, bytes, int, int]:
    """Decode, orient, strip, shrink and re-encode: (content type, bytes, width, height)."""
    content_type = "image/png" if sniffed == "image/png" else "image/jpeg"
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its two bomb thresholds; treat the warning as refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[sniffed]]) as image:
                # The header alone gives the size: refuse before decoding any pixel.
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise UploadRejected("unreadable", MESSAGE_UNREADABLE)
                image.load()
                oriented = ImageOps.exif_transpose(image)
                pixels = _without_metadata(oriented, content_type)
    except UploadRejected:
        raise
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        struct.error,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        # Truncated or corrupt data, an undecodable HEIC, a declared size beyond Pillow's limit.
        raise UploadRejected("unreadable", MESSAGE_UNREADABLE) from exc

    # thumbnail() keeps the aspect ratio and never enlarges.
    pixels.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if content_type == "image/jpeg":
        pixels.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        pixels.save(out, format="PNG", optimize=True)
    return content_type, out.getvalue(), pixels.width, pixels.height


def _without_metadata(image: Image.Image, content_type: str) -> Image.Image:
    """A new image holding only the pixels: no EXIF (GPS, camera, time), XMP, ICC or text chunks.

    Pillow's encoders copy some `info` entries of an opened image into the new file (a JPEG
    comment, a PNG's ICC profile), so the pixels are copied into a fresh image that has none.
    """
    if content_type == "image/jpeg":
        mode = image.mode if image.mode in {"L", "RGB"} else "RGB"  # JPEG has no alpha or palette
    elif image.mode == "P":
        mode = "RGBA" if "transparency" in image.info else "RGB"
    else:
        mode = image.mode
    converted = image if image.mode == mode else image.convert(mode)
    return Image.frombytes(mode, converted.size, converted.tobytes())


def display_filename(original: str, content_type: str) -> str:
    """The name shown to staff and used for downloads: the original stem, cleaned, with the
    extension of the stored type (a photo sent as IMG_0001.HEIC is kept as IMG_0001.jpg)."""
    name = unicodedata.normalize("NFC", original or "")  # macOS sends decomposed Japanese names
    name = re.split(r"[/\\]", name)[-1]  # browsers on Windows may send a full path
    stem = name.rpartition(".")[0] if "." in name else name
    kept: list[str] = []
    for char in stem:
        if char in "\t\n\r" or unicodedata.category(char) == "Zs":  # incl. ideographic space
            kept.append(" ")
            continue
        if unicodedata.category(char)[0] == "C":
            continue  # control, format (bidi overrides that disguise extensions), unassigned
        kept.append("_" if char in _WINDOWS_RESERVED else char)
    stem = re.sub(r" {2,}", " ", "".join(kept)).strip(" .")
    extension = EXTENSIONS[content_type]
    stem = stem[: MAX_FILENAME_CHARS - len(extension)].rstrip(" .") or DEFAULT_STEM
    return stem + extension


class FileStore:
    """Files in the database (table `upload_blobs`), under random names: every web instance and
    worker reaches them, they are written in the same transaction as the row that refers to them
    (no orphan files, no missing ones), and a database backup holds them
    (docs/decisions/0049-uploads-in-the-database.md). Nothing in a name comes from the resident.

    Each method works in the caller's session; the caller commits."""

    def save(self, session: Session, prepared: PreparedFile) -> str:
        """Add the file's bytes and return its storage name (flushed, not committed)."""
        name = secrets.token_hex(16)
        storage_name = f"{name[:2]}/{name}"
        session.add(UploadBlob(storage_name=storage_name, data=prepared.data, size=prepared.size))
        session.flush()
        return storage_name

    def read(self, session: Session, storage_name: str) -> bytes:
        """The file's bytes; FileNotFoundError when it is gone."""
        blob = session.get(UploadBlob, self._checked(storage_name))
        if blob is None:
            raise FileNotFoundError(storage_name)
        return blob.data

    def delete(self, session: Session, storage_name: str) -> None:
        """Remove the file; deleting a file already gone is not an error."""
        name = self._checked(storage_name)
        session.execute(delete(UploadBlob).where(UploadBlob.storage_name == name))

    @staticmethod
    def _checked(storage_name: str) -> str:
        # Names come from the database, but a crafted one is refused rather than looked up.
        if not isinstance(storage_name, str) or not STORAGE_NAME.fullmatch(storage_name):
            raise ValueError(f"invalid storage name {storage_name!r}")
        directory, name = storage_name.split("/")
        if not name.startswith(directory):
            raise ValueError(f"invalid storage name {storage_name!r}")
        return storage_name
