"""Which files may be attached, told by their bytes (never by the name or the type the client claims)."""
import io
import os
import unicodedata
import zipfile

JPEG, PNG, WEBP, HEIC, HEIF = "image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

EXTENSIONS = {  # content type -> file name extensions, the first one the usual
    JPEG: (".jpg", ".jpeg"), PNG: (".png",), WEBP: (".webp",), HEIC: (".heic",), HEIF: (".heif",),
    PDF: (".pdf",), DOCX: (".docx",), XLSX: (".xlsx",),
}
IMAGES = (JPEG, PNG, WEBP, HEIC, HEIF)
ALLOWED = "a JPEG, PNG, WebP or HEIC photo, a PDF, or a Word (.docx) or Excel (.xlsx) document"
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx"}
HEIF_BRANDS = {b"mif1", b"msf1", b"heim", b"heis"}
UNSAFE_IN_NAMES = set('"\\/:*?<>|')
MAX_NAME = 200


def sniff(data: bytes) -> str | None:
    """The content type of `data` if it is one Gridflow accepts, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[4:8] == b"ftyp":
        return HEIC if data[8:12] in HEIC_BRANDS else HEIF if data[8:12] in HEIF_BRANDS else None
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _office_document(data)
    return None


def _office_document(data: bytes) -> str | None:
    """A Word or Excel file (Office Open XML) without macros; any other ZIP archive is refused."""
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return None
    if "[Content_Types].xml" not in names or any(n.lower().endswith("vbaproject.bin") for n in names):
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def clean_filename(name: str, content_type: str) -> str:
    """The client's file name without folders, control or invisible characters, with an extension that
    agrees with the content (`photo.html` holding a PNG becomes `photo.html.png`)."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join("_" if c in UNSAFE_IN_NAMES else c for c in name if unicodedata.category(c)[0] != "C")
    name = name.strip().strip(".").strip()
    stem, extension = os.path.splitext(name)
    if extension.lower() not in EXTENSIONS[content_type]:
        stem, extension = name, EXTENSIONS[content_type][0]
    return (stem[:MAX_NAME].strip() or "attachment") + extension.lower()
