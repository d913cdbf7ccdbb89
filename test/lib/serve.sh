# Shared by the end-to-end test scripts that serve a model (test/openai,
# test/webui), which source it after setting test_name: common.sh, the
# bitnet binary with its small test model, and starting and stopping
# `bitnet serve` (a server still running at exit is stopped).

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
server_pid=""
url=""

# on_exit stops the server, if it still runs, before $work goes.
on_exit() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
}

# build_bitnet_and_model writes $work/bitnet and $work/model.gguf: the
# 125M layout with its vocabulary cut to the built-in tokenizer's 512
# tokens, so every sampled token is text or end-of-generation and replies
# are visible.
build_bitnet_and_model() {
	echo "== build bitnet and the test model"
	(cd "$root" && go build -o "$work/bitnet" ./cmd/bitnet) || fail "go build"
	"$work/bitnet" dummy --size 125M --vocab 512 -q -o "$work/model.gguf" || fail "writing the test model"
}

# start_server ARGS... runs `bitnet serve -m $work/model.gguf --host
# 127.0.0.1 --port 0 ARGS...` in the background and sets url once it listens.
start_server() {
	echo "== bitnet serve"
	"$work/bitnet" serve -m "$work/model.gguf" --host 127.0.0.1 --port 0 "$@" 2>"$work/serve.log" &
	server_pid=$!
	url=""
	for _ in $(seq 1 300); do
		url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -n 1 || true)
		[ -n "$url" ] && break
		kill -0 "$server_pid" 2>/dev/null || fail "the server exited: $(cat "$work/serve.log")"
		sleep 0.1
	done
	[ -n "$url" ] || fail "the server did not start: $(cat "$work/serve.log")"
	echo "serving on $url"
}

# stop_server sends SIGTERM, which must end the server cleanly, and sets
# server_status to its exit status.
stop_server() {
	kill -TERM "$server_pid"
	server_status=0
	wait "$server_pid" || server_status=$?
	server_pid=""
}
