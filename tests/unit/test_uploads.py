"""Uploads: type by content, size limit, scanning, image clean-up, storage and the clamd adapter.

Every input is made here: images with Pillow (HEIC with pillow_heif), a minimal PDF as bytes, and
the EICAR test string from two halves (so this file is not itself flagged by a virus scanner).
The model and its lookups are checked in a separate interpreter against a throw-away in-memory
database, so the check needs neither the migrations nor the shared test database.
"""

from __future__ import annotations

import io
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import unicodedata
import zlib
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image

from portal.uploads import service
from portal.uploads.scanners import (
    ClamdScanner,
    EicarTestScanner,
    ScannerUnavailable,
    ScanResult,
    scanner_from_config,
)
from portal.uploads.service import (
    MAX_IMAGE_SIDE,
    MAX_UPLOAD_BYTES,
    FileStore,
    PreparedFile,
    UploadRejected,
    display_filename,
    prepare_upload,
    sniff_type,
)

ROOT = Path(__file__).resolve().parents[2]

EICAR = (r"X5O!P%@AP[4\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-" + "TEST-FILE!$H+H*").encode()

MINIMAL_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n"
    b"0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n170\n%%EOF\n"
)

GPS_IFD = 0x8825
ORIENTATION = 0x0112

MSG_EMPTY = "ファイルが空です"
MSG_TOO_LARGE = "ファイルの大きさは10MB以下にしてください"
MSG_TYPE = "JPEG、PNG、PDF、HEIC（iPhoneの写真）のいずれかのファイルを選んでください"
MSG_UNREADABLE = "画像を読み取れませんでした。別のファイルを選んでください"
MSG_INFECTED = (
    "このファイルからウイルスが見つかったため、受け付けられません。別のファイルを選んでください"
)
MSG_SCANNER_DOWN = "ファイルの安全確認ができませんでした。時間をおいてもう一度お試しください"


# --- helpers -------------------------------------------------------------------------------------


def image_bytes(
    size: tuple[int, int] = (64, 48),
    fmt: str = "JPEG",
    color: str | tuple[int, ...] = "red",
    mode: str = "RGB",
    **save_args,
) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=fmt, **save_args)
    return buffer.getvalue()


def gps_exif() -> Image.Exif:
    """EXIF as a phone writes it: camera, time and the GPS position (here: Isumi city hall)."""
    exif = Image.Exif()
    exif[0x010F] = "Apple"  # Make
    exif[0x0110] = "iPhone 15"  # Model
    exif[0x0132] = "2026:04:01 09:30:00"  # DateTime
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (35.0, 15.0, 14.0)
    gps[3] = "E"
    gps[4] = (140.0, 23.0, 7.0)
    return exif


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares width×height pixels but carries no image data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


class RecordingScanner:
    """Clean verdicts, and a record of every byte string it was asked about."""

    id = "recording"
    is_demo = True

    def __init__(self) -> None:
        self.seen: list[bytes] = []

    def scan(self, data: bytes) -> ScanResult:
        self.seen.append(data)
        return ScanResult(clean=True)


class DownScanner:
    id = "down"
    is_demo = True

    def scan(self, data: bytes) -> ScanResult:
        raise ScannerUnavailable("no answer")


def prepare(data: bytes, name: str = "file", **kwargs) -> PreparedFile:
    kwargs.setdefault("scanner", EicarTestScanner())
    return prepare_upload(data, name, **kwargs)


def rejected(data: bytes, name: str = "file", **kwargs) -> UploadRejected:
    with pytest.raises(UploadRejected) as info:
        prepare(data, name, **kwargs)
    return info.value


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def close_to(pixel: tuple[int, ...], expected: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], expected, strict=True))


def heic_bytes(size: tuple[int, int] = (64, 48), **save_args) -> bytes:
    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", size, "blue").save(buffer, format="HEIF", **save_args)
    return buffer.getvalue()


# --- sniff_type ----------------------------------------------------------------------------------


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = b"ftyp" + major + b"\0\0\0\0" + b"".join(compatible)
    return struct.pack(">I", len(body) + 4) + body + b"\0" * 32


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0" + b"\0" * 20, "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "image/png"),
        (b"%PDF-1.7\n", "application/pdf"),
        (ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
        (ftyp(b"mif1", b"heic"), "image/heic"),
        (ftyp(b"abcd", b"msf1"), "image/heic"),  # a HEIF brand among the compatible ones
        (ftyp(b"hevx"), "image/heic"),
        (ftyp(b"avif", b"mif1", b"miaf"), None),  # AVIF also lists mif1, but is not accepted
        (ftyp(b"isom", b"iso2", b"mp41"), None),  # an MP4 video
        (b"GIF89a" + b"\0" * 20, None),
        (b"hello, this is text", None),
        (b" %PDF-1.4", None),  # the magic must be at offset 0
        (b"\xff\xd8", None),
        (b"\x89PNG\r\n\x1a", None),
        (b"", None),
    ],
)
def test_sniff_type_by_magic_bytes_only(data, expected):
    assert sniff_type(data) == expected


def test_sniff_type_recognises_real_files():
    assert sniff_type(image_bytes(fmt="JPEG")) == "image/jpeg"
    assert sniff_type(image_bytes(fmt="PNG")) == "image/png"
    assert sniff_type(MINIMAL_PDF) == "application/pdf"
    assert sniff_type(heic_bytes()) == "image/heic"


# --- accepted types ------------------------------------------------------------------------------


def test_jpeg_is_accepted_and_re_encoded():
    original = image_bytes((64, 48), "JPEG", quality=100)
    prepared = prepare(original, "住民票の写し.jpeg")
    assert prepared.content_type == "image/jpeg"
    assert prepared.filename == "住民票の写し.jpg"
    assert (prepared.width, prepared.height) == (64, 48)
    assert prepared.data[:3] == b"\xff\xd8\xff"
    assert prepared.data != original  # re-encoded at quality 85
    assert prepared.size == len(prepared.data)
    assert prepared.sha256 == __import__("hashlib").sha256(prepared.data).hexdigest()
    assert opened(prepared.data).size == (64, 48)


def test_png_is_accepted_and_stays_png():
    prepared = prepare(image_bytes((30, 20), "PNG", color=(0, 128, 255)), "map.PNG")
    assert prepared.content_type == "image/png"
    assert prepared.filename == "map.png"
    assert (prepared.width, prepared.height) == (30, 20)
    image = opened(prepared.data)
    assert image.format == "PNG"
    assert image.getpixel((5, 5)) == (0, 128, 255)  # PNG is lossless: exact pixels


def test_png_with_transparency_keeps_alpha():
    prepared = prepare(image_bytes((10, 10), "PNG", color=(255, 0, 0, 0), mode="RGBA"), "a.png")
    image = opened(prepared.data)
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0


def test_pdf_is_accepted_unchanged():
    prepared = prepare(MINIMAL_PDF, "申請書.pdf")
    assert prepared.content_type == "application/pdf"
    assert prepared.data == MINIMAL_PDF
    assert prepared.filename == "申請書.pdf"
    assert prepared.size == len(MINIMAL_PDF)
    assert (prepared.width, prepared.height) == (None, None)


def test_heic_is_converted_to_jpeg():
    original = heic_bytes((80, 60))
    assert original[4:12] == b"ftypheic"
    prepared = prepare(original, "IMG_0001.HEIC")
    assert prepared.content_type == "image/jpeg"
    assert prepared.filename == "IMG_0001.jpg"
    assert prepared.data[:3] == b"\xff\xd8\xff"
    assert (prepared.width, prepared.height) == (80, 60)
    image = opened(prepared.data)
    assert image.format == "JPEG"
    assert close_to(image.getpixel((40, 30)), (0, 0, 255))


def test_heic_gps_is_stripped():
    original = heic_bytes((64, 48), exif=gps_exif().tobytes())
    pillow_heif.register_heif_opener()
    assert opened(original).getexif().get_ifd(GPS_IFD)[1] == "N"  # the input really has GPS
    prepared = prepare(original, "IMG_0002.heic")
    assert len(opened(prepared.data).getexif()) == 0
    assert b"Exif\0\0" not in prepared.data


# --- type by content, not by name ----------------------------------------------------------------


def test_pdf_named_jpg_is_stored_as_pdf():
    prepared = prepare(MINIMAL_PDF, "scan.jpg")
    assert prepared.content_type == "application/pdf"
    assert prepared.filename == "scan.pdf"
    assert prepared.data == MINIMAL_PDF


def test_jpeg_named_pdf_is_stored_as_jpeg():
    prepared = prepare(image_bytes(), "document.pdf")
    assert prepared.content_type == "image/jpeg"
    assert prepared.filename == "document.jpg"


def test_text_named_png_is_rejected():
    error = rejected(b"just some text, not an image\n", "photo.png")
    assert error.reason == "type"
    assert str(error) == MSG_TYPE


@pytest.mark.parametrize(
    "data",
    [image_bytes(fmt="GIF"), image_bytes(fmt="BMP"), b"PK\x03\x04zipfile", b"MZ\x90\x00exe"],
)
def test_other_types_are_rejected(data):
    error = rejected(data, "file.jpg")
    assert (error.reason, str(error)) == ("type", MSG_TYPE)


# --- empty and size limit ------------------------------------------------------------------------


def test_empty_file_is_rejected():
    error = rejected(b"", "empty.pdf")
    assert (error.reason, str(error)) == ("empty", MSG_EMPTY)


def test_too_large_file_is_rejected_with_the_default_limit():
    assert MAX_UPLOAD_BYTES == 10 * 1024 * 1024
    scanner = RecordingScanner()
    error = rejected(MINIMAL_PDF + b"\0" * MAX_UPLOAD_BYTES, "big.pdf", scanner=scanner)
    assert (error.reason, str(error)) == ("too_large", MSG_TOO_LARGE)
    assert scanner.seen == []  # refused before scanning


def test_size_limit_boundary():
    exactly = MINIMAL_PDF + b"\n" * (1000 - len(MINIMAL_PDF))
    assert prepare(exactly, "a.pdf", max_bytes=1000).size == 1000
    error = rejected(exactly + b"\n", "a.pdf", max_bytes=1000)
    assert error.reason == "too_large"


def test_too_large_message_follows_the_limit():
    error = rejected(MINIMAL_PDF * 100_000, "a.pdf", max_bytes=5 * 1024 * 1024)
    assert str(error) == "ファイルの大きさは5MB以下にしてください"


# --- scanning ------------------------------------------------------------------------------------


def test_eicar_in_a_pdf_is_rejected():
    error = rejected(b"%PDF-1.4\n" + EICAR + b"\n%%EOF\n", "virus.pdf")
    assert error.reason == "infected"
    assert str(error) == MSG_INFECTED
    assert error.signature == "Eicar-Test-Signature"


def test_eicar_hidden_after_a_jpeg_is_rejected_before_re_encoding():
    # Re-encoding would silently drop the trailing payload; the original bytes are scanned.
    error = rejected(image_bytes() + EICAR, "photo.jpg")
    assert (error.reason, str(error)) == ("infected", MSG_INFECTED)


def test_scanner_sees_the_original_bytes():
    original = heic_bytes()
    scanner = RecordingScanner()
    prepared = prepare(original, "IMG.heic", scanner=scanner)
    assert scanner.seen == [original]
    assert prepared.data != original


def test_every_file_is_scanned_before_its_type_is_judged():
    scanner = RecordingScanner()
    assert rejected(b"plain text", "a.txt", scanner=scanner).reason == "type"
    assert scanner.seen == [b"plain text"]
    # Malware is reported as malware, whatever type it pretends to be.
    assert rejected(EICAR, "invoice.pdf", scanner=EicarTestScanner()).reason == "infected"


def test_scanner_down_rejects_the_file():
    error = rejected(MINIMAL_PDF, "a.pdf", scanner=DownScanner())
    assert (error.reason, str(error)) == ("scanner_unavailable", MSG_SCANNER_DOWN)


def test_eicar_test_scanner():
    scanner = EicarTestScanner()
    assert (scanner.id, scanner.is_demo) == ("eicar-test", True)
    assert scanner.scan(EICAR) == ScanResult(clean=False, signature="Eicar-Test-Signature")
    assert scanner.scan(b"prefix " + EICAR + b" suffix").clean is False
    assert scanner.scan(MINIMAL_PDF) == ScanResult(clean=True, signature=None)
    assert scanner.scan(EICAR[:-1]).clean is True


# --- image clean-up ------------------------------------------------------------------------------


def test_exif_gps_is_stripped_from_jpeg():
    original = image_bytes((64, 48), "JPEG", exif=gps_exif())
    source_exif = opened(original).getexif()
    assert source_exif[0x010F] == "Apple"
    assert source_exif.get_ifd(GPS_IFD)[1] == "N"  # the input really carries a position
    prepared = prepare(original, "IMG_1234.JPG")
    image = opened(prepared.data)
    assert len(image.getexif()) == 0
    assert image.getexif().get_ifd(GPS_IFD) == {}
    assert "exif" not in image.info
    assert b"Exif\0\0" not in prepared.data
    assert b"iPhone" not in prepared.data and b"Apple" not in prepared.data


def test_jpeg_comment_is_stripped():
    original = image_bytes((32, 32), "JPEG", comment="自宅 いすみ市大原".encode())
    assert "自宅".encode() in opened(original).info["comment"]
    prepared = prepare(original, "photo.jpg")
    assert "comment" not in opened(prepared.data).info
    assert "自宅".encode() not in prepared.data


def test_png_icc_profile_is_dropped():
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = image_bytes((16, 16), "PNG", icc_profile=icc)
    assert opened(original).info["icc_profile"] == icc
    prepared = prepare(original, "scan.png")
    assert "icc_profile" not in opened(prepared.data).info


def test_png_metadata_is_stripped():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "自宅 35.25N 140.38E")
    original = image_bytes((20, 20), "PNG", pnginfo=info, exif=gps_exif())
    assert opened(original).info["Comment"] == "自宅 35.25N 140.38E"
    prepared = prepare(original, "map.png")
    image = opened(prepared.data)
    assert "Comment" not in image.info
    assert "exif" not in image.info
    assert len(image.getexif()) == 0


def test_large_image_is_downscaled():
    assert MAX_IMAGE_SIDE == 2000
    prepared = prepare(image_bytes((4000, 3000), "JPEG"), "big.jpg")
    assert (prepared.width, prepared.height) == (2000, 1500)
    assert opened(prepared.data).size == (2000, 1500)


def test_large_portrait_png_is_downscaled():
    prepared = prepare(image_bytes((1500, 4000), "PNG"), "tall.png")
    assert (prepared.width, prepared.height) == (750, 2000)
    assert prepared.content_type == "image/png"


def test_small_image_is_not_enlarged():
    prepared = prepare(image_bytes((640, 480), "JPEG"), "small.jpg")
    assert (prepared.width, prepared.height) == (640, 480)


def test_exif_orientation_is_applied():
    # Stored 40×20, left half red and right half blue, with "rotate 90° clockwise to display"
    # (orientation 6). Displayed: 20×40, red on top and blue below.
    image = Image.new("RGB", (40, 20), "blue")
    image.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, quality=95)
    assert opened(buffer.getvalue()).getexif()[ORIENTATION] == 6

    prepared = prepare(buffer.getvalue(), "rotated.jpg")
    assert (prepared.width, prepared.height) == (20, 40)
    result = opened(prepared.data)
    assert result.size == (20, 40)
    assert close_to(result.getpixel((10, 5)), (255, 0, 0))
    assert close_to(result.getpixel((10, 35)), (0, 0, 255))
    assert ORIENTATION not in result.getexif()  # a viewer must not rotate it a second time


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff\xe0" + os.urandom(2000),  # JPEG magic, garbage body
        image_bytes((200, 200), "JPEG", color="green")[:300],  # truncated JPEG
        b"\x89PNG\r\n\x1a\n" + b"\0" * 100,  # PNG magic, garbage body
        image_bytes((200, 200), "PNG")[:60],  # truncated PNG
        ftyp(b"heic", b"mif1") + b"\0" * 200,  # HEIC header, nothing decodable
    ],
    ids=["jpeg-garbage", "jpeg-truncated", "png-garbage", "png-truncated", "heic-garbage"],
)
def test_corrupt_image_is_rejected(data):
    error = rejected(data, "broken.jpg")
    assert (error.reason, str(error)) == ("unreadable", MSG_UNREADABLE)


def test_decompression_bomb_is_rejected():
    # 8000×8000 pixels (64 megapixels) in a file of a few kilobytes.
    bomb = image_bytes((8000, 8000), "PNG", color=0, mode="1")
    assert len(bomb) < 100_000
    error = rejected(bomb, "bomb.png")
    assert (error.reason, str(error)) == ("unreadable", MSG_UNREADABLE)


@pytest.mark.parametrize("side", [9_000, 20_000, 60_000])
def test_declared_huge_size_is_rejected_without_decoding(side):
    # 9000² is over the portal's limit but under Pillow's; 20000² and 60000² trip Pillow's too.
    error = rejected(png_header(side, side), "bomb.png")
    assert (error.reason, str(error)) == ("unreadable", MSG_UNREADABLE)


def test_pixel_limit_is_the_module_setting(monkeypatch):
    monkeypatch.setattr(service, "MAX_IMAGE_PIXELS", 100 * 100)
    assert prepare(image_bytes((100, 100), "PNG"), "ok.png").width == 100
    assert rejected(image_bytes((101, 100), "PNG"), "big.png").reason == "unreadable"


# --- display file names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "content_type", "expected"),
    [
        ("住民票.pdf", "application/pdf", "住民票.pdf"),
        ("C:\\Users\\山田\\Desktop\\保険証.JPG", "image/jpeg", "保険証.jpg"),
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("IMG_0001.HEIC", "image/jpeg", "IMG_0001.jpg"),
        ("report.final.v2.png", "image/png", "report.final.v2.png"),
        ("no-extension", "application/pdf", "no-extension.pdf"),
        ("申請書\u202egpj.exe", "application/pdf", "申請書gpj.pdf"),  # bidi override removed
        ("a\x00b\x1fc\x7fd.pdf", "application/pdf", "abcd.pdf"),
        ("tab\there  and\u3000space.pdf", "application/pdf", "tab here and space.pdf"),
        ('what?<is>:"this"|*.pdf', "application/pdf", "what__is___this___.pdf"),
        ("", "application/pdf", "添付ファイル.pdf"),
        (".jpg", "image/jpeg", "添付ファイル.jpg"),
        ("...", "image/png", "添付ファイル.png"),
        ("\u202e\x00.pdf", "application/pdf", "添付ファイル.pdf"),
    ],
)
def test_display_filename(original, content_type, expected):
    assert display_filename(original, content_type) == expected


def test_display_filename_is_nfc_and_at_most_100_characters():
    decomposed = unicodedata.normalize("NFD", "ダウンロード.pdf")
    assert display_filename(decomposed, "application/pdf") == "ダウンロード.pdf"
    long_name = display_filename("あ" * 300 + ".pdf", "application/pdf")
    assert len(long_name) == 100
    assert long_name == "あ" * 96 + ".pdf"


# --- FileStore -----------------------------------------------------------------------------------


@pytest.fixture
def blob_session():
    """A session on an in-memory SQLite database holding the upload_blobs table."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from portal.uploads.models import UploadBlob

    engine = create_engine("sqlite://")
    UploadBlob.__table__.create(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_file_store_round_trip(blob_session):
    from portal.uploads.models import UploadBlob

    store = FileStore()
    prepared = prepare(MINIMAL_PDF, "a.pdf")
    name = store.save(blob_session, prepared)
    assert len(name) == 35 and name[2] == "/" and name[3:5] == name[:2]
    assert set(name) <= set("0123456789abcdef/")
    blob_session.commit()
    assert store.read(blob_session, name) == MINIMAL_PDF
    row = blob_session.get(UploadBlob, name)
    assert (row.size, row.data) == (len(MINIMAL_PDF), MINIMAL_PDF)

    store.delete(blob_session, name)
    blob_session.commit()
    with pytest.raises(FileNotFoundError):
        store.read(blob_session, name)
    store.delete(blob_session, name)  # deleting again is not an error


def test_file_store_writes_in_the_callers_transaction(blob_session):
    store = FileStore()
    name = store.save(blob_session, prepare(MINIMAL_PDF, "a.pdf"))
    blob_session.rollback()  # the row that would refer to it failed: no orphan file stays
    with pytest.raises(FileNotFoundError):
        store.read(blob_session, name)


def test_file_store_names_are_random(blob_session):
    store = FileStore()
    prepared = prepare(MINIMAL_PDF, "a.pdf")
    names = {store.save(blob_session, prepared) for _ in range(20)}
    assert len(names) == 20
    assert all(store.read(blob_session, name) == MINIMAL_PDF for name in names)


@pytest.mark.parametrize(
    "name",
    [
        "../etc/passwd",
        "ab/../../../etc/passwd",
        "/etc/passwd",
        "ab/" + "a" * 30 + "..",
        "AB/AB" + "0" * 30,  # upper case
        "ab/cd" + "0" * 30,  # directory does not match the name
        "ab/ab" + "0" * 29,  # too short
        "ab/ab" + "0" * 31,  # too long
        "ab\\ab" + "0" * 30,
        "ab/ab" + "0" * 29 + "\n",
        "",
    ],
)
def test_file_store_refuses_crafted_names(blob_session, name):
    store = FileStore()
    with pytest.raises(ValueError, match="invalid storage name"):
        store.read(blob_session, name)
    with pytest.raises(ValueError, match="invalid storage name"):
        store.delete(blob_session, name)


# --- clamd ---------------------------------------------------------------------------------------


class FakeClamd:
    """A clamd stand-in on 127.0.0.1: implements INSTREAM and records what it received.

    mode "auto" answers FOUND for data containing EICAR and OK otherwise; "error" answers as clamd
    does when a stream is too long; "close" hangs up without a reply.
    """

    def __init__(self, mode: str = "auto") -> None:
        self.mode = mode
        self.commands: list[bytes] = []
        self.chunk_sizes: list[list[int]] = []
        self.received: list[bytes] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)  # accept() polls, so close() ends the thread promptly
        self.stopping = threading.Event()
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _address = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            with connection:
                connection.settimeout(5)
                self._handle(connection)

    def _handle(self, connection: socket.socket) -> None:
        command = b""
        while not command.endswith(b"\0"):
            command += connection.recv(1)
        self.commands.append(command)
        data = bytearray()
        sizes = []
        while True:
            (length,) = struct.unpack(">I", _recv_exact(connection, 4))
            sizes.append(length)
            if length == 0:
                break
            data += _recv_exact(connection, length)
        self.chunk_sizes.append(sizes)
        self.received.append(bytes(data))
        if self.mode == "close":
            return
        if self.mode == "error":
            connection.sendall(b"INSTREAM size limit exceeded. ERROR\0")
        elif EICAR in data:
            connection.sendall(b"stream: Win.Test.EICAR_HDB-1 FOUND\0")
        else:
            connection.sendall(b"stream: OK\0")

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.server.close()


def _recv_exact(connection: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        part = connection.recv(count - len(data))
        if not part:
            raise ConnectionError("client hung up")
        data += part
    return data


@pytest.fixture
def fake_clamd(request):
    server = FakeClamd(getattr(request, "param", "auto"))
    yield server
    server.close()


def test_clamd_clean_stream(fake_clamd):
    scanner = ClamdScanner("127.0.0.1", fake_clamd.port, timeout=5)
    assert (scanner.id, scanner.is_demo) == ("clamd", False)
    data = bytes(range(256)) * 800  # 204,800 bytes: four chunks
    assert scanner.scan(data) == ScanResult(clean=True, signature=None)
    assert fake_clamd.commands == [b"zINSTREAM\0"]
    assert fake_clamd.received == [data]
    assert fake_clamd.chunk_sizes == [[65536, 65536, 65536, 8192, 0]]


def test_clamd_found(fake_clamd):
    scanner = ClamdScanner("127.0.0.1", fake_clamd.port, timeout=5)
    result = scanner.scan(b"%PDF-1.4\n" + EICAR)
    assert result == ScanResult(clean=False, signature="Win.Test.EICAR_HDB-1")


def test_clamd_verdict_reaches_the_resident(fake_clamd):
    scanner = ClamdScanner("127.0.0.1", fake_clamd.port, timeout=5)
    assert prepare(MINIMAL_PDF, "a.pdf", scanner=scanner).data == MINIMAL_PDF
    error = rejected(b"%PDF-1.4\n" + EICAR, "a.pdf", scanner=scanner)
    assert (error.reason, error.signature) == ("infected", "Win.Test.EICAR_HDB-1")
    assert fake_clamd.received[1] == b"%PDF-1.4\n" + EICAR


@pytest.mark.parametrize("fake_clamd", ["error", "close"], indirect=True)
def test_clamd_without_a_verdict_is_unavailable(fake_clamd):
    scanner = ClamdScanner("127.0.0.1", fake_clamd.port, timeout=5)
    with pytest.raises(ScannerUnavailable):
        scanner.scan(b"data")
    assert fake_clamd.received == [b"data"]


def test_clamd_not_listening_is_unavailable():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    # The port is free again: nothing listens there.
    scanner = ClamdScanner("127.0.0.1", port, timeout=2)
    with pytest.raises(ScannerUnavailable, match=f"127.0.0.1:{port}"):
        scanner.scan(b"data")
    error = rejected(MINIMAL_PDF, "a.pdf", scanner=scanner)
    assert (error.reason, str(error)) == ("scanner_unavailable", MSG_SCANNER_DOWN)


def test_clamd_silent_server_times_out():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog) but never replies
        scanner = ClamdScanner("127.0.0.1", silent.getsockname()[1], timeout=0.5)
        with pytest.raises(ScannerUnavailable):
            scanner.scan(b"data")


# --- scanner_from_config -------------------------------------------------------------------------


def test_scanner_from_config_test_scanner():
    assert isinstance(scanner_from_config(None), EicarTestScanner)
    assert isinstance(scanner_from_config("eicar-test"), EicarTestScanner)


@pytest.mark.parametrize(
    ("value", "host", "port"),
    [
        ("clamd://127.0.0.1:3310", "127.0.0.1", 3310),
        ("clamd://clamav.internal:3311", "clamav.internal", 3311),
        ("clamd://[::1]:3310", "::1", 3310),
    ],
)
def test_scanner_from_config_clamd(value, host, port):
    scanner = scanner_from_config(value)
    assert isinstance(scanner, ClamdScanner)
    assert (scanner.host, scanner.port, scanner.timeout) == (host, port, 10)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "clamav",
        "EICAR-TEST",
        "clamd://",
        "clamd://host",
        "clamd://host:abc",
        "clamd://:3310",
        "clamd://host:99999",
        "clamd://host:3310/scan",
        "tcp://host:3310",
    ],
)
def test_scanner_from_config_refuses_other_values(value):
    with pytest.raises(ValueError) as info:
        scanner_from_config(value)
    assert repr(value) in str(info.value)


# --- model ---------------------------------------------------------------------------------------

MODEL_CHECK = r"""
import datetime as dt, json
from sqlalchemy import create_engine, inspect
from sqlalchemy.orm import Session
import portal.models  # every table (submissions.bundle_id names the bundles table by string)
from portal.db import Base
from portal.submissions.models import Submission
from portal.uploads.models import Upload, find_upload, record_upload, uploads_of
from portal.uploads.service import PreparedFile

engine = create_engine("sqlite://")
Base.metadata.create_all(engine)
columns = {c["name"]: c for c in inspect(engine).get_columns("uploads")}
now = dt.datetime(2026, 4, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=9)))
prepared = PreparedFile(b"x", "application/pdf", "申請書.pdf", "0" * 64, 1, None, None)
with Session(engine) as session:
    subs = []
    for n in (1, 2):
        sub = Submission(public_id=f"p{n}", procedure_id="x", department="shimin", snapshot={}, status="draft",
                         draft_token_hash=f"h{n}", created_at=now, updated_at=now)
        session.add(sub)
        subs.append(sub)
    session.flush()
    a = record_upload(session, subs[0].id, "id_card", prepared, "ab/ab" + "0" * 30, now)
    b = record_upload(session, subs[0].id, "other", prepared, "cd/cd" + "0" * 30, now)
    first, second, token_a, token_b = subs[0].id, subs[1].id, a.token, b.token
    session.commit()
    session.expunge_all()
    found = find_upload(session, first, token_a)
    print(json.dumps({
        "tables": sorted(Base.metadata.tables),
        "nullable": {name: c["nullable"] for name, c in columns.items()},
        "fks": [(fk["constrained_columns"], fk["referred_table"])
                for fk in inspect(engine).get_foreign_keys("uploads")],
        "unique": [u["column_names"] for u in inspect(engine).get_unique_constraints("uploads")],
        "indexes": [i["column_names"] for i in inspect(engine).get_indexes("uploads")],
        "token_length": len(token_a),
        "tokens_differ": token_a != token_b,
        "found": [found.filename, found.field_name, found.storage_name],
        "created_at": found.created_at.isoformat(),
        "other_submission": find_upload(session, second, token_a) is None,
        "unknown_token": find_upload(session, first, "nope") is None,
        "all": [u.field_name for u in uploads_of(session, first)],
        "one_field": [u.field_name for u in uploads_of(session, first, "other")],
    }))
"""


def test_upload_model_and_lookups():
    completed = subprocess.run(
        [sys.executable, "-c", MODEL_CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert "uploads" in result["tables"]
    assert result["nullable"]["submission_id"] is False
    assert result["nullable"]["token"] is False
    assert result["nullable"]["width"] is True and result["nullable"]["height"] is True
    assert result["fks"] == [[["submission_id"], "submissions"]]
    assert result["unique"] == [["token"]]
    assert result["indexes"] == [["submission_id"]]
    assert result["token_length"] >= 43 and result["tokens_differ"] is True
    assert result["found"] == ["申請書.pdf", "id_card", "ab/ab" + "0" * 30]
    assert result["created_at"] == "2026-04-01T00:30:00+00:00"
    assert result["other_submission"] is True
    assert result["unknown_token"] is True
    assert result["all"] == ["id_card", "other"]
    assert result["one_field"] == ["other"]
