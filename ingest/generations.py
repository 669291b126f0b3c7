"""Published index generations: what a running service reads, replaced atomically by each ingest.

Ingest writes the chunk store in place (`index/store.sqlite`), then publishes a generation: a snapshot of the store
and its keyword index in `index/generations/<fingerprint>/`, written in a temp folder and renamed, after which the
small pointer file `index/CURRENT` is replaced (write, fsync, rename) to name it. Services open the generation the
pointer names and stat the pointer to notice a new one. A generation's store and keyword index are built from one
set of chunk ids (the folder is named by its fingerprint), so they can never be out of step."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from ingest.protocols import KeywordIndex
from ingest.store import ChunkStore
from medcite.errors import IndexStoreError

log = logging.getLogger(__name__)

POINTER = "CURRENT"
FOLDER = "generations"
STORE = "store.sqlite"
KEYWORD = "keyword"

Stamp = tuple[int, int, int]


def publish(root: Path, store: ChunkStore, keyword: KeywordIndex) -> str:
    """Snapshot the store and keyword index as a generation and point CURRENT at it; returns its name."""
    if keyword.fingerprint != store.fingerprint():
        raise IndexStoreError(f"index folder {root}: keyword index and chunk store differ; run `medcite ingest`")
    name = keyword.fingerprint
    folders = root / FOLDER
    final = folders / name
    previous = _read_pointer(root)
    if not (final / STORE).exists():
        tmp = folders / f".{name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        store.backup(tmp / STORE)
        keyword.save(tmp / KEYWORD)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    tmp_pointer = root / f".{POINTER}.tmp-{os.getpid()}"
    with tmp_pointer.open("w") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp_pointer, root / POINTER)
    # The previous generation stays: a worker may still be loading it. Older ones and leftovers of killed runs go.
    for old in folders.iterdir():
        if old.name not in (name, previous):
            shutil.rmtree(old, ignore_errors=True)
    return name


def _read_pointer(root: Path) -> str | None:
    try:
        return (root / POINTER).read_text().strip() or None
    except FileNotFoundError:
        return None


def published(root: Path) -> Path | None:
    """The folder of the generation CURRENT names, None for an index from before generations existed."""
    name = _read_pointer(root)
    if name is None:
        return None
    folder = root / FOLDER / name
    if not (folder / STORE).is_file() or os.sep in name or name.startswith("."):
        raise IndexStoreError(
            f"index folder {root}: {POINTER} names generation {name!r}, which is missing; rerun `medcite ingest`")
    return folder


def stamp(root: Path) -> Stamp | None:
    """What changes when a generation is published (one stat call; cheap enough for every request)."""
    try:
        st = os.stat(root / POINTER)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size
