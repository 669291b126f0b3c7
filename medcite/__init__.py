"""medcite: guideline-cited clinical answers, self-hosted and offline."""

from medcite.config import Settings, get_settings
from medcite.errors import (
    CompositionError,
    CorpusError,
    IndexMismatchError,
    InvalidInputError,
    IndexMissingError,
    IndexStoreError,
    MedciteError,
    NotFoundError,
    RetrievalError,
)

__all__ = [
    "CompositionError",
    "CorpusError",
    "IndexMismatchError",
    "InvalidInputError",
    "IndexMissingError",
    "IndexStoreError",
    "MedciteError",
    "NotFoundError",
    "RetrievalError",
    "Settings",
    "get_settings",
]
