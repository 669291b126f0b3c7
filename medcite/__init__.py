"""medcite: guideline-cited clinical answers, self-hosted and offline."""

from medcite.config import Settings, get_settings
from medcite.errors import (
    CompositionError,
    CorpusError,
    IndexMismatchError,
    IndexMissingError,
    IndexStoreError,
    InvalidInputError,
    MedciteError,
    NotFoundError,
    RetrievalError,
)

__all__ = [
    "CompositionError",
    "CorpusError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexStoreError",
    "InvalidInputError",
    "MedciteError",
    "NotFoundError",
    "RetrievalError",
    "Settings",
    "get_settings",
]
