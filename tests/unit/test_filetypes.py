"""Files are told by their bytes; names are cleaned and agree with the content."""
import io
import zipfile

import pytest

from engine.store import filetypes


def ooxml(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


@pytest.mark.parametrize("data, content_type", [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", filetypes.JPEG),
    (b"\x89PNG\r\n\x1a\n\x00\x00", filetypes.PNG),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", filetypes.WEBP),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", filetypes.HEIC),
    (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", filetypes.HEIF),
    (b"%PDF-1.7\n", filetypes.PDF),
    (ooxml("[Content_Types].xml", "word/document.xml"), filetypes.DOCX),
    (ooxml("[Content_Types].xml", "xl/workbook.xml"), filetypes.XLSX),
])
def test_accepted_types_are_told_by_their_first_bytes(data, content_type):
    assert filetypes.sniff(data) == content_type


@pytest.mark.parametrize("data", [
    b"", b"MZ\x90\x00", b"<html><script>alert(1)</script>", b"GIF89a", b"\x00\x00\x00\x18ftypisom",
    b"PK\x03\x04 not really a zip", ooxml("a.txt"), ooxml("[Content_Types].xml", "xl/workbook.xml",
                                                           "xl/vbaProject.bin"),
])
def test_anything_else_is_refused(data):
    assert filetypes.sniff(data) is None


@pytest.mark.parametrize("name, content_type, cleaned", [
    ("现场照片.JPG", filetypes.JPEG, "现场照片.jpg"),
    ("C:\\Users\\张三\\photo.jpeg", filetypes.JPEG, "photo.jpeg"),
    ("../../etc/passwd", filetypes.PDF, "passwd.pdf"),
    ("report.html", filetypes.PNG, "report.html.png"),
    ("\u202egpj.exe", filetypes.PNG, "gpj.exe.png"),
    ('a"b<c>.png\x00', filetypes.PNG, "a_b_c_.png"),
    ("", filetypes.PDF, "attachment.pdf"),
    ("...", filetypes.PDF, "attachment.pdf"),
    ("x" * 300 + ".pdf", filetypes.PDF, "x" * filetypes.MAX_NAME + ".pdf"),
])
def test_file_names_are_cleaned_and_agree_with_the_content(name, content_type, cleaned):
    assert filetypes.clean_filename(name, content_type) == cleaned
