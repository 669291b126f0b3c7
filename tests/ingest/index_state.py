"""What an index folder holds, read by a fresh process: `python -m tests.ingest.index_state FOLDER [--empty-vectors]`.

Tests read crashed indexes through this rather than in their own process because chromadb caches one client per
path for the life of a process: a folder another process has since rewritten (or deleted and rebuilt) is then read
through the old client, which can answer with the old collection, or with none. `--empty-vectors` first removes
every vector and the sync marker, leaving the store and keyword index: the state of a run killed after its chunk
store commits and before their vectors reached Chroma."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from ingest import Index
from ingest.generations import FOLDER, POINTER
from medcite.config import Settings


def state(folder: Path) -> dict[str, object]:
    """The published (or working) chunk ids, vector ids, keyword ids, document hashes and generation."""
    index = Index.open(Settings(index_dir=folder))
    try:
        return {
            "chunks": index.store.chunk_ids(),
            "vectors": sorted(index.vectors.ids()),
            "keyword": sorted(index.keyword().ids),
            "documents": sorted(index.store.document_hashes().items()),
            "generation": index.generation,
        }
    finally:
        index.close()


def empty_vectors(folder: Path) -> None:
    """Remove every vector, the sync marker and the published generations; the working store stays."""
    index = Index.open(Settings(index_dir=folder), create=True)
    try:
        index.vectors.delete(sorted(index.vectors.ids()))
        index.store.set_meta({"chroma_fingerprint": ""})
    finally:
        index.close()
    (folder / POINTER).unlink(missing_ok=True)
    shutil.rmtree(folder / FOLDER, ignore_errors=True)


def main(argv: list[str]) -> None:
    """Print the folder's state as JSON (after emptying its vectors with --empty-vectors)."""
    folder = Path(argv[0])
    if "--empty-vectors" in argv[1:]:
        empty_vectors(folder)
    print(json.dumps(state(folder)))


if __name__ == "__main__":
    main(sys.argv[1:])
