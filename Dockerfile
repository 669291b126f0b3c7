# medcite: offline service on the bundled corpus. Build: docker build -t medcite . ; run: docker run -p 8000:8000 medcite
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False \
    MEDCITE_INDEX_DIR=/data/index MEDCITE_API__HOST=0.0.0.0
WORKDIR /app
# CPU-only torch first, from PyTorch's CPU index, so the image does not carry CUDA libraries.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
COPY pyproject.toml README.md ./
COPY medcite medcite
COPY ingest ingest
COPY service service
COPY eval eval
RUN pip install .
COPY corpus corpus
# The index of the bundled corpus is built into the image; mount /data to keep your own.
RUN medcite ingest corpus --index /data/index
EXPOSE 8000
CMD ["medcite", "serve", "--host", "0.0.0.0", "--port", "8000"]
