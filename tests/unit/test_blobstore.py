"""The blob store keeps bytes under their sha256: once, whole, and checked when read."""
import hashlib

import pytest

from engine.store.blobstore import BlobCorrupted, BlobStore


def test_bytes_are_stored_under_their_hash_and_read_back(tmp_path):
    store = BlobStore(tmp_path)
    digest = store.put(b"evidence")
    assert digest == hashlib.sha256(b"evidence").hexdigest()
    assert store.path(digest) == tmp_path / digest[:2] / digest[2:4] / digest
    assert store.read(digest) == b"evidence" and store.exists(digest)


def test_the_same_bytes_are_stored_once_and_no_temporary_file_is_left(tmp_path):
    store = BlobStore(tmp_path)
    assert store.put(b"photo") == store.put(b"photo")
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [hashlib.sha256(b"photo").hexdigest()]


def test_a_changed_or_lost_file_is_reported_and_storing_the_bytes_again_repairs_it(tmp_path):
    store = BlobStore(tmp_path)
    digest = store.put(b"before")
    store.path(digest).write_bytes(b"tampered")
    with pytest.raises(BlobCorrupted):
        store.read(digest)
    store.put(b"before")
    assert store.read(digest) == b"before"
    store.path(digest).unlink()
    with pytest.raises(BlobCorrupted):
        store.read(digest)


def test_a_name_that_is_not_a_hash_names_no_file(tmp_path):
    with pytest.raises(ValueError):
        BlobStore(tmp_path).path("../../etc/passwd")
