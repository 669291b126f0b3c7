"""ONNX Runtime for the bundled sentence-transformers model: local export, opt-in int8, token embeddings.

The export is made once from the local weights (torch + transformers, never a download) into the configured
ONNX folder and reused; files are written to a temporary name and renamed, so a half-written model is never
opened. Pooling and normalisation stay in the embedder (mean over real tokens, L2), as in the model's
modules.json (Transformer → mean Pooling → Normalize).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

EXPORT_VERSION = "2"  # bump when the export recipe changes, so old exports are not reused
OPSET = 17
Precision = Literal["fp32", "int8"]


@dataclass(frozen=True, slots=True)
class TokenOutput:
    """One text's contextual token vectors (real tokens only) and their character offsets."""

    tokens: npt.NDArray[np.float32]
    offsets: npt.NDArray[np.int64]


def weights_digest(model_dir: Path) -> str:
    """Hash of the model's weights and config: an export is reused only for the weights it was made from."""
    digest = hashlib.sha256(EXPORT_VERSION.encode())
    for name in ("config.json", "model.safetensors"):
        with (model_dir / name).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def _write_atomic(target: Path, write: Any) -> None:
    """Call write(temp_path), then rename the temp file onto target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.onnx")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _export_fp32(model_dir: Path, tmp: Path) -> None:
    """torch.onnx.export of the transformer: (input_ids, attention_mask, token_type_ids) → token embeddings."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model  # a submodule, so its weights are exported as initialisers

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = tokenizer(["an example", "a second, longer example sentence"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "token_embeddings"]}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shape checks that are constant for an encoder
        torch.onnx.export(TokenEmbeddings(), tuple(sample[n] for n in names), str(tmp), input_names=names,
                          output_names=["token_embeddings"], dynamic_axes=axes, opset_version=OPSET, dynamo=False)


def _quantize(fp32: Path, tmp: Path) -> None:
    """Dynamic int8 quantization of the fp32 export (weights int8, activations quantized at run time).

    Per-channel weight scales keep the vectors at cosine ~0.99 to fp32 on short texts; per-tensor scales gave
    0.94-0.97."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)


def ensure_onnx(model_dir: Path, folder: Path, precision: Precision) -> Path:
    """The ONNX file of this model and precision in folder; exported (and quantized) locally when missing."""
    base = folder / weights_digest(model_dir)
    fp32 = base / "model.onnx"
    if not fp32.exists():
        log.info("exporting %s to ONNX in %s (once)", model_dir, base)
        _write_atomic(fp32, lambda tmp: _export_fp32(model_dir, tmp))
    if precision == "fp32":
        return fp32
    int8 = base / "model_int8.onnx"
    if not int8.exists():
        log.info("quantizing %s to int8", fp32)
        _write_atomic(int8, lambda tmp: _quantize(fp32, tmp))
    return int8


class OnnxSentenceModel:
    """Tokenizer + ONNX Runtime session giving per-text token embeddings, batched by token length."""

    def __init__(self, model_dir: Path, onnx_path: Path, threads: int = 0) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        # The model's own fast tokenizer file, read by the tokenizers library alone: the same ids and offsets as
        # transformers' AutoTokenizer without importing transformers and torch (about 8 s at every start).
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.max_seq_length = int(st_config["max_seq_length"])
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.pad_id = self.tokenizer.token_to_id("[PAD]") or 0
        self._counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))  # counts whole texts: no truncation
        self._counter.no_truncation()
        self._counter.no_padding()
        self.dim = int(json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["hidden_size"])
        options = ort.SessionOptions()
        # Idle threads sleep instead of spinning: a spinning pool starves the other worker processes and the
        # thread that answers uvicorn's health check between requests (torch's pool does not spin).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    def count_tokens(self, text: str) -> int:
        """Word-piece tokens of a text, without special tokens."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def encode(self, texts: Sequence[str], batch_size: int, *, sort_by_length: bool = True) -> list[TokenOutput]:
        """Token embeddings of every text, in input order; batches are formed after sorting by token count."""
        encoded = self.tokenizer.encode_batch(list(texts))
        ids: list[list[int]] = [e.ids for e in encoded]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i])) if sort_by_length else list(range(len(ids)))
        result: list[TokenOutput | None] = [None] * len(ids)
        pad = self.pad_id
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            width = max(len(ids[i]) for i in batch)
            input_ids = np.full((len(batch), width), pad, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                input_ids[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            feeds = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)}
            (hidden,) = self.session.run(["token_embeddings"], feeds)
            for row, i in enumerate(batch):
                result[i] = TokenOutput(tokens=np.asarray(hidden[row, : len(ids[i])], dtype=np.float32),
                                        offsets=np.asarray(encoded[i].offsets, dtype=np.int64))
        return [r for r in result if r is not None]
