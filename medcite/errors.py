"""medcite's exception tree; the API and the CLI each turn it into messages in one place.

MedciteError
├── CorpusError          a document cannot be read or parsed
├── IndexStoreError      the index is missing, corrupt or built with other settings
│   ├── IndexMissingError
│   ├── IndexMismatchError
│   └── VectorStoreUnavailableError  the Chroma server cannot be reached (HTTP 503 with Retry-After)
├── InvalidInputError    a question or filter is not acceptable (empty, too long, unknown value)
├── RetrievalError       a query cannot be run
├── CompositionError     an answer cannot be composed
│   └── LLMError         the language model failed (timeout, error, refusal, unparsable reply)
├── NotFoundError        an answer or conversation id is unknown
├── ConflictError        a change the current state does not allow (a review transition, an edit of an approved answer)
└── AccessError          a request may not do this
    ├── AuthenticationError   no key, or a wrong or revoked one
    ├── PermissionDeniedError the key's role may not do this
    │   └── OriginRefusedError    a browser origin the site key (or the settings) does not allow
    └── RateLimitedError      too many requests (failed keys, questions) from one address or site
"""

from __future__ import annotations


class MedciteError(Exception):
    """Base of every error medcite raises on purpose."""


class CorpusError(MedciteError):
    """A document cannot be read or parsed."""


class IndexStoreError(MedciteError):
    """The index is unusable."""


class IndexMissingError(IndexStoreError):
    """No index exists where one was expected."""


class IndexMismatchError(IndexStoreError):
    """The index was built with another model or chunking."""


class VectorStoreUnavailableError(IndexStoreError):
    """The vector store (a Chroma server) cannot be reached; the request may be retried."""

    retry_after = 5


class InvalidInputError(MedciteError):
    """A question or filter is not acceptable."""


class RetrievalError(MedciteError):
    """A query or filter is invalid."""


class CompositionError(MedciteError):
    """An answer could not be composed."""


class LLMError(CompositionError):
    """The language model did not produce a usable answer; callers fall back to the extractive composer."""


class NotFoundError(MedciteError):
    """An answer or conversation id is unknown."""


class ConflictError(MedciteError):
    """The current state does not allow the change (e.g. a review transition that is not allowed)."""


class AccessError(MedciteError):
    """A request may not do what it asks."""


class AuthenticationError(AccessError):
    """No API key, or a wrong or revoked one."""


class PermissionDeniedError(AccessError):
    """The key's role may not do this."""


class OriginRefusedError(PermissionDeniedError):
    """The request's browser origin is not one its site key (or, without a key, the settings) allows."""


class RateLimitedError(AccessError):
    """Too many requests from one client address or site key."""

    def __init__(self, message: str, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after
