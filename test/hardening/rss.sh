#!/usr/bin/env bash
# Reproductions of issue 20 (hardening), each under /usr/bin/time -v: prints
# what the command answered and its peak RSS. Not part of CI (it writes a few
# hundred MB and takes about a minute and a half).
#   usage: test/hardening/rss.sh [BITNET_BINARY]   (default: builds ./bitnet)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-}
if [ -z "$bin" ]; then
	(cd "$here/../.." && go build -o bitnet ./cmd/bitnet) || exit 1
	bin=$here/../../bitnet
fi
bin=$(realpath "$bin")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

rss() { grep -E "Maximum resident" "$1" | sed 's/^\s*/  /'; }
first() { grep -v "^\s\|Command " "$1" | head -1 | cut -c1-240 | sed 's/^/  /'; }

# killed: SIG DELAY -- command...: sends SIG to the command after DELAY s.
killed() {
	local sig=$1 delay=$2; shift 3
	/usr/bin/time -v "$@" 2> time.err &
	local tp=$!
	sleep "$delay"
	kill -"$sig" "$(pgrep -P $tp)"
	wait $tp
	echo "  exit $?; left in out/: $(ls -A out | tr '\n' ' ')"
	first time.err; rss time.err
}

echo "== setup: 125M checkpoint and GGUF"
"$bin" dummy --size 125M --hf hf -q && "$bin" dummy --size 125M -q -o m.gguf || exit 1
mkdir -p out

echo "== 1. convert, SIGINT after 1.5 s"
killed INT 1.5 -- "$bin" convert hf -q -o out/x.gguf
echo "== 1. dummy --size 100B, SIGTERM after 3 s"
killed TERM 3 -- "$bin" dummy --size 100B -q -o out/big.gguf
echo "== 1. dummy --size 100B, SIGKILL after 2 s, then a rerun (125M) of the same output"
killed KILL 2 -- "$bin" dummy --size 100B -q -o out/big.gguf
"$bin" dummy --size 125M -q -o out/big.gguf && echo "  after the rerun: $(ls -A out | tr '\n' ' ')"
rm -f out/*

echo "== 2. config.json with num_hidden_layers 4194304"
cp -r hf hfbad && sed -i 's/"num_hidden_layers": *[0-9]*/"num_hidden_layers": 4194304/' hfbad/config.json
/usr/bin/time -v "$bin" convert hfbad -o out/x.gguf 2> t.err; first t.err; rss t.err

echo "== 6. config.json with max_position_embeddings 2^62"
cp -r hf hfctx && sed -i 's/"max_position_embeddings": *[0-9]*/"max_position_embeddings": 4611686018427387904/' hfctx/config.json
/usr/bin/time -v "$bin" convert hfctx -o out/x.gguf 2> t.err; first t.err; rss t.err

echo "== also: -o into a missing folder"
"$bin" convert hf -q -o missing/x.gguf 2>&1 | sed 's/^/  /'

echo "== 3. serve: 16 concurrent /v1/completions with a 3.9 MB prompt, max_tokens 1"
python3 -c "import json; open('big.json','w').write(json.dumps({'prompt':'hello world, '*300000,'max_tokens':1}))"
port=$((20000 + RANDOM % 20000))
/usr/bin/time -v "$bin" serve -m m.gguf --port $port --parallel 4 2> serve.err &
tp=$!
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:$port/health && break; sleep 0.2; done
pids=()
for i in $(seq 16); do curl -s -o r$i.json -H 'Content-Type: application/json' --data-binary @big.json http://127.0.0.1:$port/v1/completions & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done
echo "  answers: $(cat r*.json | grep -o '"code":"[a-z_]*"' | sort | uniq -c | tr -s ' ')"
kill -TERM "$(pgrep -P $tp)"; wait $tp; rss serve.err

echo "== 4. serve --timeout 20s under ulimit -n 256: 300 slow-body clients for 30 s, /health probed every second"
port=$((20000 + RANDOM % 20000))
(ulimit -n 256; exec /usr/bin/time -v "$bin" serve -m m.gguf --port $port --timeout 20s 2> slow.err) &
tp=$!
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:$port/health && break; sleep 0.2; done
python3 "$here/slow_clients.py" $port 300 30 | sed 's/^/  /'
kill -TERM "$(pgrep -P $tp)"; wait $tp; rss slow.err

echo "== 5. hub: tree listing of 20 pages, each one 60 MB path"
python3 "$here/hostile_hub.py" longpath > port.txt 2>/dev/null &
hp=$!
sleep 1.5
HF_HOME=$work/hfhome HF_ENDPOINT=http://127.0.0.1:$(cat port.txt) /usr/bin/time -v "$bin" download o/r 2> t.err
echo "  error message: $(head -1 t.err | wc -c) bytes"; first t.err; rss t.err
kill $hp

echo "== also: a permanent redirect loop"
python3 "$here/hostile_hub.py" redirect > port.txt 2>/dev/null &
hp=$!
sleep 1.5
HF_HOME=$work/hfhome HF_ENDPOINT=http://127.0.0.1:$(cat port.txt) /usr/bin/time -v "$bin" download o/r 2> t.err
first t.err; grep Elapsed t.err | sed 's/^\s*/  /'; rss t.err
kill $hp
