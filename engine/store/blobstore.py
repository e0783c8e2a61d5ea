"""Files outside the database, named by the sha256 of their bytes: the same bytes are stored once.

A file is written to a temporary name in its final folder, flushed to disk and renamed into place, so a
reader never sees half a file and a crash leaves at most a stray temporary file. Files are never changed
or removed once stored (rows in several cases may share one); reading checks the bytes against their name.
"""
import hashlib
import os
import re
import tempfile
from pathlib import Path

SHA256 = re.compile(r"[0-9a-f]{64}")


class BlobCorrupted(Exception):
    """A stored file is missing or its bytes no longer match its hash: storage lost or changed it."""


class BlobStore:
    """A folder of content-addressed files: <root>/ab/cd/abcd…(64 hex digits)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the bytes with this hash are (or would be) kept."""
        if not SHA256.fullmatch(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store `data` unless the same bytes are already stored; returns their sha256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists() and _digest(target) == digest:
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _sync_folder(target.parent)
        return digest

    def read(self, sha256: str) -> bytes:
        """The stored bytes, checked against their hash."""
        try:
            data = self.path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise BlobCorrupted(f"stored file {sha256} is missing") from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BlobCorrupted(f"stored file {sha256} does not match its hash")
        return data

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()


def _digest(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
