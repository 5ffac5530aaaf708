# Shared by scripts/demo, scripts/test and .ci/run: set-up that every fresh
# machine needs, done once and skipped when already in place.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
HANDLER_TARGET="x86_64-unknown-linux-gnu.2.34"
BOOTSTRAP="$ROOT/target/x86_64-unknown-linux-gnu/lambda/bootstrap"

say() { printf '\n==> %s\n' "$*" >&2; }

# cargo-zigbuild, zig and cargo-lambda from the package index into .venv,
# re-installed only when scripts/requirements-build.txt changes.
ensure_build_tools() {
  local req="$ROOT/scripts/requirements-build.txt" stamp="$VENV/.build-tools.sha256" want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [[ ! -x "$VENV/bin/cargo-zigbuild" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    say "installing cargo-zigbuild, ziglang and cargo-lambda into .venv"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$req"
    echo "$want" > "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}

# The handler as Lambda runs it: release profile `lambda`, linked for glibc 2.34.
build_bootstrap() {
  say "building the Lambda handler (cargo zigbuild --profile lambda --target $HANDLER_TARGET)"
  (cd "$ROOT" && cargo zigbuild --profile lambda --target "$HANDLER_TARGET" -p relay-handler --bin bootstrap)
  export RELAY_BOOTSTRAP="$BOOTSTRAP"
}

# Starts the fake AWS on a free port; sets FAKE_PID and RELAYCTL_FAKE_AWS_URL.
start_fake_aws() {
  local port_file
  port_file="$(mktemp)"
  rm -f "$port_file"
  say "starting the fake AWS (moto; the first start installs it into tests/fake-aws/.venv)"
  "$ROOT/tests/fake-aws/serve" --port 0 --port-file "$port_file" >/dev/null &
  FAKE_PID=$!
  local waited=0
  until [[ -s "$port_file" ]]; do
    if ! kill -0 "$FAKE_PID" 2>/dev/null; then
      echo "the fake AWS did not start; see the messages above" >&2
      return 1
    fi
    sleep 0.5
    waited=$((waited + 1))
    if (( waited > 1200 )); then
      echo "the fake AWS was not ready after 10 minutes" >&2
      return 1
    fi
  done
  RELAYCTL_FAKE_AWS_URL="$(cat "$port_file")"
  rm -f "$port_file"
  export RELAYCTL_FAKE_AWS_URL
  echo "fake AWS at $RELAYCTL_FAKE_AWS_URL" >&2
}

stop_fake_aws() {
  if [[ -n "${FAKE_PID:-}" ]] && kill -0 "$FAKE_PID" 2>/dev/null; then
    kill "$FAKE_PID" 2>/dev/null || true
    wait "$FAKE_PID" 2>/dev/null || true
  fi
  FAKE_PID=""
}
