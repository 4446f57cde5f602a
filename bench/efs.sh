#!/usr/bin/env bash
# bench/efs.sh — efspipe on local disk vs on an EFS-like FUSE mount
# (internal/slowfs: passthrough adding 1 ms per read op, 2.7 ms per
# write/metadata op, per operation, concurrently). Issue 7, target P7:
# slow-mount wall ≤ 1.5× local wall.
#
# Usage: bench/efs.sh [PDF...]   (root and /dev/fuse needed)
#   default: testdata/sample.pdf plus the FILES (default 2) largest PDFs in
#   bench/corpus/x if present (make bench fetches them).
# Env: RUNS (default 3), READ_LAT (1ms), WRITE_LAT (2.7ms), FILES (2).
# Prints a Markdown table of medians, then per-stage medians (ms, from
# `efspipe run -v`) and the slow mount's operation counts of the last run.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
READ_LAT=${READ_LAT:-1ms}
WRITE_LAT=${WRITE_LAT:-2.7ms}
GO=${GO:-go}

[ -e /dev/fuse ] || { echo "efs.sh: /dev/fuse is absent; cannot mount slowfs" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "efs.sh: run as root (FUSE DirectMount)" >&2; exit 1; }

if [ $# -gt 0 ]; then PDFS=("$@"); else
	PDFS=(testdata/sample.pdf)
	if [ -d bench/corpus/x ]; then
		mapfile -t -O 1 PDFS < <(find bench/corpus/x -name '*.pdf' -size +500k -printf '%s %p\n' |
			sort -rn | awk '!seen[$1]++ {print $2}' | head -n "${FILES:-2}")
	fi
fi

$GO build -tags grpcnotrace -o bin/efspipe ./cmd/efspipe  # as the Makefile builds it
$GO build -o bin/slowfs ./bench/slowfs

TMP=$(mktemp -d "${TMPDIR:-/tmp}/efsbench.XXXXXX")
SLOWPID=
cleanup() {
	if [ -n "$SLOWPID" ]; then kill -TERM "$SLOWPID" 2>/dev/null || true; wait "$SLOWPID" 2>/dev/null || true; fi
	umount "$TMP/mnt" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }

# run_one KIND PDF -> appends "wall" to $TMP/KIND.wall, stage sums to $TMP/KIND.stages
run_one() {
	local kind=$1 pdf=$2 m o t0 t1
	rm -rf "$TMP/back" "$TMP/local" "$TMP/out"; mkdir -p "$TMP/back" "$TMP/local" "$TMP/out" "$TMP/mnt"
	if [ "$kind" = slow ]; then
		bin/slowfs --read-latency "$READ_LAT" --write-latency "$WRITE_LAT" "$TMP/back" "$TMP/mnt" 2>"$TMP/slowfs.log" &
		SLOWPID=$!
		for _ in $(seq 200); do grep -qs " $TMP/mnt " /proc/mounts && break; sleep 0.02; done
		grep -qs " $TMP/mnt " /proc/mounts || { cat "$TMP/slowfs.log" >&2; exit 1; }
		m=$TMP/mnt
	else
		m=$TMP/local
	fi
	o=$TMP/out
	t0=$(now)
	bin/efspipe run -v --json --log-format json --mount "$m" --out "$o" "$pdf" >"$TMP/res.json" 2>"$TMP/log"
	t1=$(now)
	if [ "$kind" = slow ]; then
		kill -TERM "$SLOWPID"; wait "$SLOWPID" || true; SLOWPID=
		sed -n 's/^slowfs: ops //p' "$TMP/slowfs.log" >"$TMP/ops"
	fi
	awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f\n", b-a}' >>"$TMP/$kind.wall"
	sed -n 's/.*"pages": *\([0-9]*\).*/\1/p' "$TMP/res.json" >"$TMP/pages"
	# one line per run: stage=ms summed over calls of that stage
	sed -n 's/.*"msg":"done","stage":"\([^"]*\)",.*"ms":\([0-9]*\).*/\1 \2/p' "$TMP/log" |
		awk '{s[$1]+=$2} END {for (k in s) print k, s[k]}' >>"$TMP/$kind.stages"
}

bin/efspipe run --mount "$TMP/warm" --out "$TMP/warmout" --json testdata/sample.pdf >/dev/null

echo "| file | pages | local s | slow-mount s | ratio (target ≤ 1.5×) |"
echo "|---|---:|---:|---:|---:|"
: >"$TMP/report"
for f in "${PDFS[@]}"; do
	: >"$TMP/local.wall"; : >"$TMP/slow.wall"; : >"$TMP/local.stages"; : >"$TMP/slow.stages"
	for _ in $(seq "$RUNS"); do
		run_one local "$f"
		run_one slow "$f"
	done
	lw=$(median <"$TMP/local.wall"); sw=$(median <"$TMP/slow.wall")
	awk -v f="$(basename "$f")" -v p="$(cat "$TMP/pages")" -v l="$lw" -v s="$sw" 'BEGIN {
		printf "| %s | %d | %.2f | %.2f | %.2f× |\n", f, p, l, s, s/l }'
	{
		echo "$(basename "$f") — stage medians, ms (local → slow):"
		for st in $(cut -d' ' -f1 "$TMP/local.stages" "$TMP/slow.stages" | sort -u); do
			l=$(awk -v s="$st" '$1==s {print $2}' "$TMP/local.stages" | median)
			s=$(awk -v s="$st" '$1==s {print $2}' "$TMP/slow.stages" | median)
			printf '  %-11s %7s → %7s  (+%s)\n' "$st" "$l" "$s" "$(awk -v a="$l" -v b="$s" 'BEGIN{print b-a}')"
		done
		echo "  slow-mount ops (last run): $(cat "$TMP/ops")"
	} >>"$TMP/report"
done
echo
echo "medians of $RUNS runs; wall of \`bin/efspipe run -v --json\`; slow mount = bin/slowfs (read $READ_LAT, write $WRITE_LAT per op) over a local temp dir, fresh per run; --out is local in both."
echo
cat "$TMP/report"
