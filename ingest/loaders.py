"""Read files of every supported kind into Documents; a bad file becomes an IngestFailure, never an exception."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from ingest.models import Document, IngestFailure
from medcite.errors import CorpusError

log = logging.getLogger(__name__)

SUFFIXES = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".jsonl": "jsonl",
}
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_H1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_SLUG = re.compile(r"[^a-z0-9._-]+")

LoadResult = Document | IngestFailure


def slugify(text: str) -> str:
    """A lowercase id made of [a-z0-9._-]."""
    return _SLUG.sub("-", text.lower()).strip("-") or "doc"


def iter_files(paths: Iterable[Path]) -> Iterator[tuple[Path, bool]]:
    """Files to ingest under the given paths, sorted; the flag says whether the file was named explicitly."""
    for path in paths:
        if not path.exists():
            raise CorpusError(f"{path}: no such file or folder")
        if path.is_file():
            yield path, True
            continue
        for file in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES):
            if not any(part.startswith(".") for part in file.relative_to(path).parts):
                yield file, False


def load_paths(paths: Iterable[Path]) -> Iterator[LoadResult]:
    """Every Document under `paths`, with one IngestFailure per unreadable file or record."""
    for file, explicit in iter_files(paths):
        kind = SUFFIXES.get(file.suffix.lower())
        if kind is None:
            yield IngestFailure(
                str(file), f"unsupported file type {file.suffix!r} (use {', '.join(SUFFIXES)})"
            )
            continue
        try:
            if kind == "jsonl":
                yield from _load_jsonl(file)
            elif kind == "markdown":
                doc = _load_markdown(file, require_front_matter=not explicit)
                if doc is not None:
                    yield doc
            else:
                yield {"text": _load_text, "html": _load_html, "pdf": _load_pdf}[kind](file)
        except CorpusError as exc:
            yield IngestFailure(str(file), str(exc))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            yield IngestFailure(str(file), f"cannot read: {exc}")


def _read_text(file: Path) -> str:
    text = file.read_text(encoding="utf-8")
    if not text.strip():
        raise CorpusError("file is empty")
    return text


def parse_front_matter(raw: str) -> tuple[dict[str, Any], str]:
    """Split a Markdown text into its YAML front matter (possibly empty) and body."""
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise CorpusError(f"malformed front matter{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(meta, dict):
        raise CorpusError("front matter is not a mapping of fields")
    return meta, raw[match.end() :]


def _as_str(meta: dict[str, Any], key: str) -> str:
    value = meta.get(key)
    return "" if value is None else str(value).strip()


def _as_dois(value: Any) -> tuple[str, ...]:
    """Front matter `doi`: one DOI or a list of DOIs (the first is the primary one), blanks and repeats dropped."""
    if value is None or value == "":
        return ()
    items = value if isinstance(value, list) else [value]
    dois: list[str] = []
    for item in items:
        if isinstance(item, (dict, list)):
            raise CorpusError("doi must be a DOI or a list of DOIs")
        doi = "" if item is None else str(item).strip()
        if doi and doi not in dois:
            dois.append(doi)
    return tuple(dois)


def _as_year(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        year = int(str(value)[:4])
    except ValueError:
        raise CorpusError(f"year {value!r} is not a year") from None
    if not 1900 <= year <= 2100:
        raise CorpusError(f"year {year} is out of range")
    return year


def _load_markdown(file: Path, *, require_front_matter: bool) -> Document | None:
    raw = _read_text(file)
    meta, body = parse_front_matter(raw)
    if not meta and require_front_matter:
        log.info("skipping %s: Markdown without front matter is not a corpus document", file)
        return None
    if not body.strip():
        raise CorpusError("document has front matter but no text")
    topics = meta.get("topics") or []
    if isinstance(topics, str):
        topics = [topics]
    if not isinstance(topics, list):
        raise CorpusError("topics must be a list")
    audience = _as_str(meta, "audience") or "clinician"
    if audience not in ("clinician", "patient"):
        raise CorpusError(f"audience must be clinician or patient, not {audience!r}")
    h1 = _H1.search(body)
    dois = _as_dois(meta.get("doi"))
    return Document(
        id=slugify(_as_str(meta, "id") or file.stem),
        title=_as_str(meta, "title") or (h1.group(1) if h1 else file.stem),
        text=body,
        source=str(file),
        issuer=_as_str(meta, "issuer"),
        year=_as_year(meta.get("year")),
        version=_as_str(meta, "version"),
        url=_as_str(meta, "url"),
        doi=dois[0] if dois else "",
        dois=dois,
        topics=tuple(str(t) for t in topics),
        specialty=_as_str(meta, "specialty"),
        audience=audience,  # type: ignore[arg-type]
        evidence_scheme=_as_str(meta, "evidence_scheme"),
        supersedes=slugify(_as_str(meta, "supersedes")) if meta.get("supersedes") else "",
        status=_as_str(meta, "status"),
        kind="markdown",
    )


def _load_text(file: Path) -> Document:
    text = _read_text(file)
    return Document(id=slugify(file.stem), title=file.stem, text=text, source=str(file), kind="text")


def _load_html(file: Path) -> Document:
    import trafilatura  # heavy import, only when HTML is ingested

    raw = _read_text(file)
    text = trafilatura.extract(raw, output_format="markdown", include_comments=False, include_tables=False)
    if not text or not text.strip():
        raise CorpusError("no main text found in the HTML")
    meta = trafilatura.extract_metadata(raw)
    title = (meta.title if meta is not None and meta.title else "") or file.stem
    return Document(
        id=slugify(file.stem),
        title=title,
        text=text,
        source=str(file),
        kind="html",
        url=(meta.url or "") if meta is not None else "",
    )


def _load_pdf(file: Path) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(file)
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, KeyError, TypeError) as exc:
        raise CorpusError(f"malformed PDF: {exc}") from None
    starts: list[int] = []
    parts: list[str] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        parts.append(page)
        offset += len(page) + 2
    text = "\n\n".join(parts)
    if not text.strip():
        raise CorpusError("PDF has no extractable text (scanned images need OCR first)")
    title = (reader.metadata.title if reader.metadata and reader.metadata.title else "") or file.stem
    return Document(
        id=slugify(file.stem),
        title=str(title),
        text=text,
        source=str(file),
        kind="pdf",
        page_starts=tuple(starts),
    )


def record_to_document(record: dict[str, Any], source: str) -> Document:
    """One JSON Lines record (shared/data schema) as a Document: the reference answer is the text."""
    for key in ("id", "question", "answer"):
        if not isinstance(record.get(key), str):
            raise CorpusError(f"record has no string field {key!r}")
    answer = record["answer"].strip()
    if not answer:
        raise CorpusError(f"record {record['id']} has an empty answer")
    meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
    assert isinstance(meta, dict)
    focus = str(meta.get("focus") or "").strip()
    qtype = str(meta.get("question_type") or "").strip()
    extra = [("question", record["question"]), ("dataset", str(record.get("source") or ""))]
    if record.get("doc_id"):
        extra.append(("source_doc", str(record["doc_id"])))
    return Document(
        id=slugify(record["id"]),
        title=focus or record["question"],
        text=answer,
        source=source,
        issuer=str(meta.get("collection") or record.get("source") or ""),
        year=_as_year(meta.get("year")) if meta.get("year") else None,
        url=str(record.get("url") or ""),
        topics=(focus,) if focus else (),
        kind="jsonl",
        base_section=qtype.capitalize(),
        extra=tuple(extra),
    )


def _load_jsonl(file: Path) -> Iterator[LoadResult]:
    empty = True
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            empty = False
            where = f"{file}:{number}"
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise CorpusError("line is not a JSON object")
                yield record_to_document(record, where)
            except json.JSONDecodeError as exc:
                yield IngestFailure(where, f"malformed JSON: {exc.msg}")
            except CorpusError as exc:
                yield IngestFailure(where, str(exc))
    if empty:
        raise CorpusError("file is empty")
