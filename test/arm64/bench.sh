#!/usr/bin/env bash
# The arm64 kernels' sanity proxy for speed: bitnet bench on a 125M dummy
# under qemu-user with the default kernel path (the best this qemu CPU
# offers) and with --kernel-path generic, side by side, and their ratio.
# qemu emulates vector instructions with helpers, so the figures say
# nothing about a real core; they show that a non-generic path is picked
# and does far less work. Usage: test/arm64/bench.sh [QEMU_CPU] (default max).
set -euo pipefail
cpu=${1:-max}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v qemu-aarch64-static >/dev/null || { echo "qemu-aarch64-static is missing (apt-get install qemu-user-static)"; exit 1; }
(cd "$root" && go build -o "$work/bitnet" ./cmd/bitnet && GOARCH=arm64 go build -o "$work/bitnet-arm64" ./cmd/bitnet)
"$work/bitnet" dummy --size 125M -o "$work/125M.gguf" >/dev/null
run() {
	qemu-aarch64-static -cpu "$cpu" "$work/bitnet-arm64" bench -m "$work/125M.gguf" -t 1 -p 32 -n 16 -r 1 \
		--stream-mib 64 --json "$@" 2>/dev/null
}
best=$(run)
generic=$(run --kernel-path generic)
python3 - "$best" "$generic" <<'PY'
import json, sys
best, generic = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"qemu cpu: {best[0]['cpu']}; paths {','.join(best[0]['kernel_paths'])} vs {','.join(generic[0]['kernel_paths'])}")
ok = True
for b, g in zip(best, generic):
    ratio = b['avg_ts'] / g['avg_ts']
    print(f"{b['test']}: {b['avg_ts']:.2f} t/s vs generic {g['avg_ts']:.2f} t/s: {ratio:.1f}x")
    ok = ok and ratio >= 5
print("PASS" if ok else "below 5x")
PY
