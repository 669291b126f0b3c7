"""Numbered references by first use, each with the exact spans quoted from its guideline."""

from __future__ import annotations

from service.models import Evidence, QuotedSpan, Reference


class ReferenceBook:
    """Hands out reference numbers in order of first citation and collects each document's quoted spans."""

    def __init__(self) -> None:
        self.references: list[Reference] = []
        self._by_doc: dict[str, Reference] = {}

    def cite(self, evidence: Evidence, sentence: int) -> int:
        """The reference number of the evidence's document, quoting sentence `sentence` of its chunk."""
        doc = evidence.document
        ref = self._by_doc.get(doc.id)
        if ref is None:
            ref = Reference(
                number=len(self.references) + 1,
                doc_id=doc.id,
                title=doc.title,
                issuer=doc.issuer,
                year=doc.year,
                version=doc.version,
                url=doc.url,
                doi=doc.doi,
                dois=doc.dois,
                audience=doc.audience,
                superseded_by=evidence.superseded_by,
            )
            self.references.append(ref)
            self._by_doc[doc.id] = ref
        chunk = evidence.chunk
        span = chunk.sentences[sentence]
        start = chunk.start + span.start
        text = chunk.text[span.start:span.end]
        quote = QuotedSpan(
            section=chunk.section or doc.title,
            text=text,
            start=start,
            end=start + len(text),
            page=chunk.page,
        )
        if quote not in ref.spans:
            ref.spans.append(quote)
        return ref.number
