#!/usr/bin/env bash
# End-to-end on a real solana-test-validator: `tessera localnet` (validator + program + mint +
# network + faucet), four `tessera-worker` processes over RPC (one liar), jobs submitted and
# collected with the `tessera` CLI:
#   1. a matmul job and an MLP job the liar takes part in, on the refereed network `localnet`
#      sets up: the liar and the honest worker play a dispute game in each between their
#      processes (the MLP's through its tensor chain), the liar loses and is slashed, the
#      results download from the winning worker and their roots verify;
#   2. a job whose worker is killed (-9) after committing and restarted: it reveals and is paid.
# Two ways to run it, both in CI (.ci/run):
#   scripts/e2e.sh                                    # starts its own validator (tessera localnet)
#   anchor test --skip-build --validator legacy       # Anchor starts the validator with the
#                                                     # .so and runs this ([scripts] test)
# Needs solana-test-validator on PATH (scripts/install-solana-tools.sh) and the .so
# (scripts/build-sbf.sh). Exits non-zero on any failure; leaves logs in $E2E_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
E2E_DIR=${E2E_DIR:-$(mktemp -d /tmp/tessera-e2e.XXXXXX)}
RPC_PORT=${RPC_PORT:-18899}
FAUCET_PORT=${FAUCET_PORT:-18651}
if [ -n "${ANCHOR_PROVIDER_URL:-}" ]; then
  # Under `anchor test`: the validator is Anchor's, with the program already loaded,
  # upgradeable, with the provider wallet as upgrade authority (Anchor.toml [test]): only
  # that key may initialize the network.
  URL=$ANCHOR_PROVIDER_URL
  attach=(--attach)
  authority=${ANCHOR_WALLET:-$HOME/.config/solana/id.json}
  authority=${authority/#\~/$HOME}
else
  URL=http://127.0.0.1:$RPC_PORT
  attach=()
  authority=$E2E_DIR/authority.json
fi
export RUST_LOG=${RUST_LOG:-info}
start=$(date +%s)
echo "e2e: working in $E2E_DIR against $URL" >&2

cargo build -q --locked -p tessera-app --bin tessera -p tessera-worker --bin tessera-worker \
  --features tessera-worker/sim # one worker is a liar
bin=${CARGO_TARGET_DIR:-target}/debug
tessera() { "$bin/tessera" --url "$URL" "$@"; }
pids=()
cleanup() {
  # SIGTERM: workers finish their pass, localnet stops its validator.
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

[ -f "$authority" ] || "$bin/tessera" keygen --out "$authority" >/dev/null
"$bin/tessera" --url "$URL" --keypair "$authority" localnet "${attach[@]}" \
  --ledger "$E2E_DIR/ledger" --addresses "$E2E_DIR/addresses.json" --rpc-port "$RPC_PORT" \
  --faucet-port "$FAUCET_PORT" >"$E2E_DIR/localnet.log" 2>&1 &
pids+=($!)
for _ in $(seq 120); do
  [ -s "$E2E_DIR/addresses.json" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || break
  sleep 1
done
[ -s "$E2E_DIR/addresses.json" ] || { cat "$E2E_DIR/localnet.log"; echo "e2e: localnet did not start" >&2; exit 1; }
sleep 1

fund() { # keypair-file -> token account
  local wallet
  wallet=$("$bin/tessera" keygen --out "$1")
  curl -sf "http://127.0.0.1:$FAUCET_PORT/fund/$wallet?tokens=1000000000" | tr -d '\n'
}

start_worker() { # name behaviour port
  local name=$1 behaviour=$2 port=$3 dir=$E2E_DIR/$1
  mkdir -p "$dir"
  echo "$port" >"$dir/port"
  [ -f "$dir/id.json" ] || fund "$dir/id.json" >"$dir/token"
  "$bin/tessera-worker" --rpc-url "$URL" --keypair "$dir/id.json" --storage "$dir" \
    --listen "127.0.0.1:$port" --backend cpu \
    --set token_account="$(cat "$dir/token")" --set stake=50000000 --set region=3 \
    --set public_url="http://127.0.0.1:$port" --set poll_interval=1s --set behaviour="$behaviour" \
    >>"$dir/worker.log" 2>&1 &
  echo $! >"$dir/pid"
  pids+=($!)
}

# A reader that stops early (grep -q, head, awk's exit) would cut the CLI off mid-output, and
# under pipefail its SIGPIPE fails the check: read each command's whole output first.
shows() { # pattern command... -> whether the command succeeds and its output matches
  local pattern=$1 out
  shift
  out=$("$@") || return 1
  grep -q "$pattern" <<<"$out"
}
node_of() {
  local out
  out=$(tessera --keypair "$E2E_DIR/$1/id.json" node show) || return 1
  awk 'NR == 1 {print $2}' <<<"$out"
}

wait_for() { # seconds command...
  local seconds=$1
  shift
  for _ in $(seq "$seconds"); do "$@" && return 0; sleep 1; done
  return 1
}

submitter_token=$(fund "$E2E_DIR/submitter.json")
input() { # nonce -> a random 8×10 · 10×12 matmul_f32 input in $E2E_DIR/input-<nonce>.bin
  python3 -c "
import struct, random
random.seed($1)
open('$E2E_DIR/input-$1.bin', 'wb').write(b''.join(struct.pack('<f', random.uniform(-1, 1)) for _ in range(8*10 + 10*12)))"
}
submit() { # nonce replicas -> job address (flags, as a script would; the faucet's token account)
  input "$1"
  tessera --keypair "$E2E_DIR/submitter.json" job submit --yes --kernel matmul_f32 \
    --params-hex 080000000c0000000a000000 --input "$E2E_DIR/input-$1.bin" --replicas "$2" \
    --reward 1000000 --nonce "$1" --token-account "$submitter_token" | awk '/^job /{print $2}'
}
submit_spec() { # nonce replicas -> job address (a spec file, as a person would; the wallet's
  # associated token account, which the faucet funded, by default)
  input "$1"
  cat >"$E2E_DIR/job-$1.toml" <<EOF
version = 1
kernel = "matmul_f32"
replicas = $2
reward = "1"
deadline = "1h"
[matmul]
m = 8
n = 12
k = 10
[input]
path = "input-$1.bin"
EOF
  tessera --keypair "$E2E_DIR/submitter.json" job submit --yes "$E2E_DIR/job-$1.toml" \
    --nonce "$1" | awk '/^job /{print $2}'
}
claimed() { tessera job status "$1" | grep -c "^  slot " | grep -qx "$2"; }
ended() { shows "status \(Accepted\|InputUnavailable\|NoQuorum\|NoResult\|Refuted\)" tessera job status "$1"; }

# 1. The liar and one honest worker take a two-replica job. The network is refereed: their
#    roots differ, so they play a dispute game (descent, bisection, the referee's step) between
#    the two worker processes, and the liar loses it. Two more honest workers arrive for job 2.
start_worker liar liar 18701
start_worker honest1 honest 18702
wait_for 60 tessera --keypair "$E2E_DIR/liar/id.json" node show >/dev/null
wait_for 60 tessera --keypair "$E2E_DIR/honest1/id.json" node show >/dev/null
job1=$(submit 1 2)
echo "e2e: job 1 $job1" >&2
# And an MLP inference beside it (a spec file): its game bisects the tensor chain first.
python3 -c "
import struct, random
random.seed(11)
i8 = lambda n: bytes(random.randint(-8, 8) & 0xff for _ in range(n))
i32 = lambda n: b''.join(struct.pack('<i', random.randint(-64, 64)) for _ in range(n))
open('$E2E_DIR/input-mlp.bin', 'wb').write(i8(8 * 16) + i8(16 * 24) + i32(24) + i8(24 * 8) + i32(8))"
cat >"$E2E_DIR/job-mlp.toml" <<EOF
version = 1
kernel = "mlp_infer"
replicas = 2
reward = "1"
deadline = "1h"
[mlp]
batch = 8
inputs = 16
[[mlp.layer]]
outputs = 24
shift = 6
[[mlp.layer]]
outputs = 8
shift = 0
[input]
path = "input-mlp.bin"
EOF
jobm=$(tessera --keypair "$E2E_DIR/submitter.json" job submit --yes "$E2E_DIR/job-mlp.toml" \
  --nonce 10 | awk '/^job /{print $2}')
echo "e2e: job mlp $jobm" >&2
wait_for 60 claimed "$job1" 2 || { tessera job status "$job1"; exit 1; }
wait_for 60 claimed "$jobm" 2 || { tessera job status "$jobm"; exit 1; }
start_worker honest2 honest 18703
start_worker honest3 honest 18704
wait_for 240 ended "$job1" || { tessera job status "$job1"; exit 1; }
tessera job status "$job1"
shows "status Accepted" tessera job status "$job1"
shows "escalated false" tessera job status "$job1"
shows "dispute since" tessera job status "$job1"
shows "over (closed)" tessera job status "$job1"
shows "its challenge window closed at" tessera job status "$job1"
tessera --keypair "$E2E_DIR/submitter.json" job result "$job1" --out "$E2E_DIR/result-1.npy"
liar_node=$(node_of liar)
tessera node show "$liar_node"
shows "slashed [1-9]" tessera --base-units node show "$liar_node"
echo "e2e: job 1 settled by a dispute game between worker processes and a challenge window, the liar slashed, the result verified" >&2
wait_for 240 ended "$jobm" || { tessera job status "$jobm"; exit 1; }
tessera job status "$jobm"
shows "status Accepted" tessera job status "$jobm"
shows "dispute since" tessera job status "$jobm"
shows "over (closed)" tessera job status "$jobm"
tessera --keypair "$E2E_DIR/submitter.json" job result "$jobm" --out "$E2E_DIR/logits.npy"
echo "e2e: the MLP job settled by a game through its tensor chain, the result verified" >&2

# 2. A worker killed with -9 after committing, then restarted.
kill -9 "$(cat "$E2E_DIR/liar/pid")" || true
job2=$(submit_spec 2 2)
echo "e2e: job 2 $job2" >&2
wait_for 60 claimed "$job2" 2 || { tessera job status "$job2"; exit 1; }
committed() { [ "$(tessera job status "$1" | grep -c "^  slot .*Committed")" -ge 1 ]; }
wait_for 60 committed "$job2" || { tessera job status "$job2"; exit 1; }
status2=$(tessera job status "$job2")
victim=$(awk '/^  slot .*Committed/ && !found {print $4; found = 1}' <<<"$status2")
for w in honest1 honest2 honest3; do
  if [ "$(node_of "$w")" = "$victim" ]; then
    kill -9 "$(cat "$E2E_DIR/$w/pid")"
    echo "e2e: killed $w (-9) after it committed" >&2
    sleep 2
    start_worker "$w" honest "$(cat "$E2E_DIR/$w/port")"
  fi
done
wait_for 120 ended "$job2" || { tessera job status "$job2"; exit 1; }
shows "status Accepted" tessera job status "$job2"
shows "earnings [1-9]" tessera --base-units node show "$victim"
tessera network stats
echo "e2e: job 2 settled after a kill -9 and restart; every check passed in $(( $(date +%s) - start )) s" >&2
