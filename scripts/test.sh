#!/usr/bin/env bash
# The whole test suite on a fresh machine: set up (idempotent), then pytest.
# pytest's "no tests ran" (exit 5) counts as a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False
.venv/bin/python -m pytest "$@"
status=$?
[ "$status" = 5 ] && { echo "test.sh: pytest collected no tests" >&2; exit 1; }
exit "$status"
