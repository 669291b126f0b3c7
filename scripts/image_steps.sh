#!/usr/bin/env bash
# The Dockerfile's steps without a container engine, in a temp folder standing for the image's file system.
# pip steps reuse an installed virtualenv (checked for what they would install); the index build and the
# HEALTHCHECK command are read from the Dockerfile and really run, against the service with 2 workers.
# Usage: scripts/image_steps.sh [VENV]   (default .venv); prints the size estimate of the image's parts.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=$(cd "${1:-.venv}" && pwd)
PY="$VENV/bin/python"
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/medcite-image.XXXXXX")
SERVER=""
cleanup() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi; rm -rf "$ROOT"; }
trap cleanup EXIT
# The service's log without uvicorn's lines about restarting workers, which would hide why they stop.
serve_log() { grep -v 'Waiting for child process\|Child process \[' "$ROOT/serve.log" | tail -50 >&2 || true; }
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False PIP_DISABLE_PIP_VERSION_CHECK=1
step() { echo "image-steps: $*"; }

# RUN pip install ... "torch==X": the venv has that torch, built for CPU only.
torch_pin=$(sed -n 's/^RUN .*pip install .*"torch==\([0-9.]*\)".*/\1/p' Dockerfile)
[ -n "$torch_pin" ] || { echo "image-steps: no torch pin in the Dockerfile" >&2; exit 1; }
"$PY" - "$torch_pin" <<'EOF'
import sys, torch
have = torch.__version__.split("+")[0]
assert have == sys.argv[1], f"venv torch {have}, Dockerfile pins {sys.argv[1]}"
assert torch.version.cuda is None, "the venv's torch is a CUDA build; the image's is CPU-only"
EOF
step "torch $torch_pin (CPU) as pinned"

# RUN pip install . : medcite and its dependencies are installed and consistent.
"$PY" -m pip check >/dev/null
"$PY" -c "import medcite, ingest, service, sentence_transformers, chromadb" 
step "medcite installed, pip check clean"

# COPY corpus /app/corpus ; RUN medcite ingest ... (the Dockerfile's own command, paths moved under ROOT).
mkdir -p "$ROOT/app" "$ROOT/data"
cp -r corpus "$ROOT/app/corpus"
ingest=$(sed -n 's/^RUN \(medcite ingest .*\)$/\1/p' Dockerfile)
[ -n "$ingest" ] || { echo "image-steps: no ingest step in the Dockerfile" >&2; exit 1; }
ingest=${ingest//\/app\//$ROOT/app/}
ingest=${ingest//\/data\//$ROOT/data/}
step "$ingest"
# ENV MEDCITE_EMBEDDING__ONNX_DIR=/data/onnx: the ingest exports the default (ONNX) embedding model there.
grep -q 'MEDCITE_EMBEDDING__ONNX_DIR=/data/onnx' Dockerfile ||
  { echo "image-steps: the Dockerfile sets no MEDCITE_EMBEDDING__ONNX_DIR=/data/onnx" >&2; exit 1; }
export MEDCITE_EMBEDDING__ONNX_DIR="$ROOT/data/onnx"
PATH="$VENV/bin:$PATH" bash -c "$ingest" >/dev/null
[ -s "$ROOT/data/index/store.sqlite" ] || { echo "image-steps: the ingest step built no index" >&2; exit 1; }
onnx_files() { find "$ROOT/data/onnx" -name '*.onnx' -printf '%p %T@ %s\n' 2>/dev/null | sort; }
exported=$(onnx_files)
[ -n "$exported" ] || { echo "image-steps: the ingest step exported no ONNX model into /data/onnx" >&2; exit 1; }
step "ONNX model exported at build time: ${exported%% *}"

# Runtime stage: the image's ENV and its CMD (with 2 workers, as compose runs it) on a free port.
port=$("$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
health=$("$PY" - "$port" <<'EOF'
import json, re, shlex, sys
text = open("Dockerfile").read().replace("\\\n", " ")
cmd = json.loads(re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", text, re.M).group(1))
print(shlex.join(a.replace("127.0.0.1:8000", f"127.0.0.1:{sys.argv[1]}") for a in cmd))
EOF
)
health="$VENV/bin/$health"
if bash -c "$health" 2>/dev/null; then echo "image-steps: the healthcheck passes with no server" >&2; exit 1; fi
# USER uid:gid: as root, the runtime steps run as the image's uid (setpriv), on files given to it as the image's
# COPY --chown does. Only reading is widened (CAP_DAC_READ_SEARCH, and only when this machine's interpreter is
# where that uid cannot read, such as under a mode-700 /root): writes stay those of an unprivileged user.
user=$(sed -n 's/^USER \([0-9]*:[0-9]*\)$/\1/p' Dockerfile)
[ -n "$user" ] || { echo "image-steps: no numeric USER uid:gid in the Dockerfile" >&2; exit 1; }
mkdir -p "$ROOT/tmp" && chmod 1777 "$ROOT/tmp"  # the image's /tmp, where its PROMETHEUS_MULTIPROC_DIR is
metrics="$ROOT/tmp/medcite-metrics"
mkdir -p "$metrics"
as_user=()
as="$(id -un) (uid $(id -u))"
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$ROOT"
  chown -R "$user" "$ROOT/app" "$ROOT/data" "$metrics"
  as_user=(setpriv --reuid="${user%:*}" --regid="${user#*:}" --clear-groups)
  # Its interpreter must be able to start itself again (uvicorn's workers are new interpreters).
  if ! "${as_user[@]}" "$PY" -c "import subprocess, sys; subprocess.run([sys.executable, '-c', 'import medcite'], check=True)" \
      >/dev/null 2>&1; then
    as_user+=(--inh-caps=+dac_read_search --ambient-caps=+dac_read_search)
  fi
  "${as_user[@]}" "$PY" -c "import os, sys; sys.exit(os.getuid() == 0 or os.access('$ROOT', os.W_OK))" ||
    { echo "image-steps: uid ${user%:*} could write where it should not" >&2; exit 1; }
  as="uid ${user%:*}"
fi
(cd "$ROOT/app" && exec env HOME="$ROOT/app" MEDCITE_INDEX_DIR="$ROOT/data/index" MEDCITE_API__HOST=127.0.0.1 \
  PROMETHEUS_MULTIPROC_DIR="$metrics" ${as_user[@]+"${as_user[@]}"} "$VENV/bin/medcite" serve --port "$port" --workers 2 \
  >"$ROOT/serve.log" 2>&1) &
SERVER=$!
for _ in $(seq 1 120); do
  if bash -c "$health" 2>/dev/null; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null; then serve_log; echo "image-steps: the service exited" >&2; exit 1; fi
  sleep 1
done
bash -c "$health" 2>/dev/null || { serve_log; echo "image-steps: /readyz never became healthy" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then
  for pid in $SERVER $(pgrep -P "$SERVER" || true); do
    [ "$(ps -o uid= -p "$pid" | tr -d ' ')" = "${user%:*}" ] ||
      { echo "image-steps: service process $pid does not run as uid ${user%:*}" >&2; exit 1; }
  done
fi
step "HEALTHCHECK passes against the service (2 workers) run as $as"
# A first answer runs on the build-time export: the service exports nothing at run time.
"$PY" - "http://127.0.0.1:$port/v1/answers" <<'EOF'
import json, sys, urllib.request
request = urllib.request.Request(sys.argv[1], data=json.dumps({"question": "How is asthma treated?"}).encode(),
                                 headers={"Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=120) as response:
    assert response.status == 200 and json.load(response)["id"], "no answer"
EOF
[ "$(onnx_files)" = "$exported" ] || { echo "image-steps: the service exported the ONNX model again" >&2; exit 1; }
step "first answer served on the build-time ONNX export"

# Size estimate of the runtime image's parts (the python:3.11-slim base adds about 130 MB).
site=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
step "sizes: venv $(du -sh "$VENV" | cut -f1) (site-packages $(du -sh "$site" | cut -f1), dev tools included)," \
  "index $(du -sh "$ROOT/data/index" | cut -f1), corpus $(du -sh "$ROOT/app/corpus" | cut -f1)"
echo "image-steps: ok"
