#!/usr/bin/env bash
# Fresh machine to running service: set up, index the bundled corpus (incremental, reused), serve it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False
export MEDCITE_INDEX_DIR=${MEDCITE_INDEX_DIR:-.medcite/index}
.venv/bin/medcite ingest corpus --prune
exec .venv/bin/medcite serve "$@"
