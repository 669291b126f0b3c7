"""Ingest: load guideline texts, chunk them on sections and sentences, embed offline, index in Chroma + bm25s."""

from ingest.chunking import chunk_document, split_sections, split_sentences, word_count_tokens
from ingest.embedding import ChunkVectors, Embedder, SentenceTransformerEmbedder
from ingest.index import Index, IndexStats
from ingest.loaders import load_paths, parse_front_matter, record_to_document
from ingest.models import Audience, Chunk, Document, Filters, IngestFailure, IngestReport, Span
from ingest.pipeline import Progress, ingest_paths
from ingest.protocols import KeywordHits, KeywordIndex, Passages, VectorIndex

__all__ = [
    "Audience",
    "Chunk",
    "ChunkVectors",
    "Document",
    "Embedder",
    "Filters",
    "Index",
    "IndexStats",
    "IngestFailure",
    "IngestReport",
    "KeywordHits",
    "KeywordIndex",
    "Passages",
    "Progress",
    "SentenceTransformerEmbedder",
    "Span",
    "VectorIndex",
    "chunk_document",
    "ingest_paths",
    "load_paths",
    "parse_front_matter",
    "record_to_document",
    "split_sections",
    "split_sentences",
    "word_count_tokens",
]
