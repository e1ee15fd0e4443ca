"""What a file really is, read from its bytes: the only type the service believes.

An upload comes with a name and a declared type, both chosen by whoever sends it; a program named
`photo.png`, or an HTML page declared `image/png`, would run in a customer's browser if it were
served as what it claims. So the type is sniffed here from the content's magic numbers (and, for
the ZIP and OLE containers of office documents, from the names inside), and only that type is
checked against the allow-list, stored and served. `sniff` is a pure function of the bytes and
costs linear time at most.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

# The types an attendant may send unless the operator says otherwise (HANDOFF_ATTACHMENT_TYPES).
DEFAULT_ALLOWED_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "audio/ogg",
    "audio/mpeg",
    "audio/mp4",
    "audio/webm",
    "audio/wav",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "text/plain",
)

# Shown in the browser (an image in the thread, a voice note's player, a PDF viewer); every other
# type is served as a download (`Content-Disposition: attachment`).
INLINE_TYPES = ("image/", "audio/", "application/pdf")

# What a refused file turned out to be, for the error message ("a Windows program").
DESCRIPTIONS = {
    "application/x-msdownload": "a Windows program",
    "application/x-executable": "a Linux program (ELF)",
    "application/x-mach-binary": "a macOS program",
    "application/x-sh": "a shell script",
    "text/html": "an HTML page",
    "image/svg+xml": "an SVG image (it can carry scripts)",
    "application/xml": "an XML document",
    "application/zip": "a ZIP archive",
    "application/x-ole-storage": "an OLE compound file that is no Word, Excel or PowerPoint file",
    "application/octet-stream": "binary data of no known type",
    "video/mp4": "an MP4 video",
}

_OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_OLE_STREAMS = {
    "WordDocument": "application/msword",
    "Workbook": "application/vnd.ms-excel",
    "Book": "application/vnd.ms-excel",
    "PowerPoint Document": "application/vnd.ms-powerpoint",
}
_MP4_AUDIO_BRANDS = (b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ")
# Control characters plain text does not have (tab, line feed, form feed, carriage return it has).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Sniffed:
    """The type the bytes show, and a few words for a person when it is not an allowed one."""

    mime_type: str

    @property
    def description(self) -> str:
        return DESCRIPTIONS.get(self.mime_type, self.mime_type)


def sniff(content: bytes) -> Sniffed:
    """The real type of `content`, from its leading bytes (and a container's entries)."""
    head = content[:64]
    for magic, mime_type in (
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"OggS", "audio/ogg"),
        (b"ID3", "audio/mpeg"),
        (b"MZ", "application/x-msdownload"),
        (b"\x7fELF", "application/x-executable"),
        (b"\xcf\xfa\xed\xfe", "application/x-mach-binary"),
        (b"\xfe\xed\xfa\xcf", "application/x-mach-binary"),
        (b"#!", "application/x-sh"),
    ):
        if head.startswith(magic):
            return Sniffed(mime_type)
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return Sniffed("image/webp" if head[8:12] == b"WEBP" else "audio/wav")
    if head[4:8] == b"ftyp":
        return Sniffed("audio/mp4" if head[8:12] in _MP4_AUDIO_BRANDS else "video/mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # Matroska's EBML header; its DocType says WebM (audio or video: both play inline).
        return Sniffed("audio/webm" if b"webm" in head else "application/octet-stream")
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return Sniffed("audio/mpeg")  # an MPEG audio frame without an ID3 tag
    if head.startswith(b"PK\x03\x04"):
        return Sniffed(_zip_type(content))
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return Sniffed(_ole_type(content))
    return Sniffed(_text_type(content))


def _zip_type(content: bytes) -> str:
    """An office document is a ZIP whose entries say which: OpenDocument names its type in the
    `mimetype` entry, Office Open XML has `[Content_Types].xml` and a `word/`, `xl/` or `ppt/`
    folder. Any other ZIP is a ZIP."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            if names and names[0] == "mimetype":
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                if declared.startswith("application/vnd.oasis.opendocument."):
                    return declared
            if "[Content_Types].xml" in names:
                for prefix, mime_type in _OOXML.items():
                    if any(name.startswith(prefix) for name in names):
                        return mime_type
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError):
        return "application/octet-stream"
    return "application/zip"


def _ole_type(content: bytes) -> str:
    """A Word, Excel or PowerPoint 97-2003 file is an OLE compound file holding a stream of a
    known name (stored in UTF-16); an installer (.msi) or anything else in that container is not
    one of them."""
    for stream, mime_type in _OLE_STREAMS.items():
        if stream.encode("utf-16-le") + b"\x00\x00" in content:
            return mime_type
    return "application/x-ole-storage"


def _text_type(content: bytes) -> str:
    """Plain text is UTF-8 without control characters; text that opens with markup is HTML, SVG
    or XML, which a browser would run or render, so it is not plain text."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "application/octet-stream"
    if _CONTROL.search(text):
        return "application/octet-stream"
    start = text.lstrip()[:200].lower()
    if start.startswith("<"):
        if "<svg" in start:
            return "image/svg+xml"
        if start.startswith("<?xml") and "<html" not in start:
            return "application/xml"
        return "text/html"
    return "text/plain"


def shown_inline(mime_type: str) -> bool:
    return mime_type.startswith(INLINE_TYPES)
