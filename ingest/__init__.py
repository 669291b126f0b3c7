"""Ingest: load guideline texts, chunk them on sections and sentences, embed offline, index in Chroma + bm25s."""

from ingest.chunking import chunk_document, split_sentences, word_count_tokens
from ingest.embedding import ChunkVectors, Embedder, SentenceTransformerEmbedder
from ingest.index import Index, IndexStats
from ingest.keyword import KeywordIndex
from ingest.loaders import load_paths, parse_front_matter, record_to_document
from ingest.models import Audience, Chunk, Document, IngestFailure, IngestReport, Span
from ingest.pipeline import Progress, ingest_paths

__all__ = [
    "Audience",
    "Chunk",
    "ChunkVectors",
    "Document",
    "Embedder",
    "Index",
    "IndexStats",
    "IngestFailure",
    "IngestReport",
    "KeywordIndex",
    "Progress",
    "SentenceTransformerEmbedder",
    "Span",
    "chunk_document",
    "ingest_paths",
    "load_paths",
    "parse_front_matter",
    "record_to_document",
    "split_sentences",
    "word_count_tokens",
]
