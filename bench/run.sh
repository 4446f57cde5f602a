#!/usr/bin/env bash
# bench/run.sh — efspipe vs `qpdf --split-pages` + `zstd -3 -T0` on real PDFs
# (Debian doc packages, never committed) plus synthetic documents for RSS
# flatness. Prints a Markdown table of medians. Usage: bench/run.sh
# Env: RUNS (default 3), FILES (number of real PDFs, default 3),
#      SYNTH (synthetic page counts, default "100 1000 10000"; empty for none),
#      PDFS (space-separated PDFs to use instead of the Debian corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
NFILES=${FILES:-3}
SYNTH=${SYNTH-"100 1000 10000"}
CORPUS=bench/corpus
GO=${GO:-go}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need qpdf || ! need zstd || [ ! -x /usr/bin/time ]; then
	SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq && $SUDO apt-get install -y -qq qpdf zstd time >/dev/null
fi

# 1. Corpus: Debian doc packages, extracted into the ignored folder.
mkdir -p "$CORPUS/deb" "$CORPUS/x" "$CORPUS/synth"
# (grep without -q: under pipefail, -q's early exit fails apt-cache with
# SIGPIPE and every package looked absent.)
for pkg in r-doc-pdf octave-doc gnuplot-doc; do
	if ! ls "$CORPUS/deb/${pkg}"_*.deb >/dev/null 2>&1; then
		if apt-cache policy "$pkg" 2>/dev/null | grep "Candidate: [0-9]" >/dev/null; then
			(cd "$CORPUS/deb" && apt-get download "$pkg" >/dev/null 2>&1) || echo "skip $pkg: download failed" >&2
		else
			echo "skip $pkg: not in apt sources" >&2
		fi
	fi
done
for d in "$CORPUS"/deb/*.deb; do [ -e "$d" ] && dpkg -x "$d" "$CORPUS/x"; done

# The largest documents by page count, one per distinct document (R's refman
# and fullrefman differ only in metadata: same pages, same size).
if [ -n "${PDFS:-}" ]; then read -r -a REAL <<<"$PDFS"; else mapfile -t REAL < <(
	find "$CORPUS/x" -name '*.pdf' -size +500k -print0 |
	while IFS= read -r -d '' f; do
		n=$(qpdf --show-npages "$f" 2>/dev/null || echo 0)
		echo "$n $(stat -c %s "$f") $f"
	done | sort -k1,2 -u | sort -rn | awk '$1 >= 200 {print $3}' | head -n "$NFILES"
); fi

# 2. Build.
$GO build -tags grpcnotrace -o bin/efspipe ./cmd/efspipe  # as the Makefile builds it
$GO run ./bench/gen -pages 1 "$CORPUS/synth/warm.pdf" >/dev/null
SYN=()
for n in $SYNTH; do
	f="$CORPUS/synth/synth-$n.pdf"
	[ -s "$f" ] || $GO run ./bench/gen -pages "$n" "$f"
	SYN+=("$f")
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/efsbench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
sumbytes() { find "$@" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }

# Wall times come from bash's EPOCHREALTIME (microseconds): /usr/bin/time's
# %e has 10 ms steps, which made a 40 ms run's ratio a matter of rounding.
# /usr/bin/time still gives the peak RSS (%M, KiB).
clock() { local t=${EPOCHREALTIME/[.,]/}; echo "${t}"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.4f", (b-a)/1e6}'; }

# peak_anon OUT CMD...: runs CMD and writes its peak RssAnon (KiB) to OUT,
# sampled from /proc with bash builtins only, so as not to load the cores
# the run uses more than it must. It is a separate, untimed run: RSS counts
# the pages of the binary too (efspipe's is 20 MiB of its 43 MB: Go
# packages' init and the runtime), anonymous memory is what the run itself
# allocated.
peak_anon() {
	local out=$1 max=0 k v _; shift
	"$@" >/dev/null 2>&1 & local pid=$!
	# The process can end between the test and the read: the failed
	# redirection ends the sampling, where under set -e it ended the script.
	while [ -r "/proc/$pid/status" ]; do
		{ while read -r k v _; do
			if [ "$k" = RssAnon: ]; then [ "$v" -gt "$max" ] && max=$v; break; fi
		done <"/proc/$pid/status"; } 2>/dev/null || break
	done
	wait "$pid" || true
	echo "$max" >"$out"
}

# run_baseline IN -> "wall rssKiB bytes" (qpdf's RSS; zstd's wall added)
run_baseline() {
	local in=$1 d="$TMP/base" t0 t1 t2 t3
	rm -rf "$d"; mkdir -p "$d"
	t0=$(clock)
	/usr/bin/time -f '%M' -o "$TMP/t1" qpdf --split-pages "$in" "$d/p-%d.pdf"
	t1=$(clock)
	# the glob may exceed ARG_MAX at 10k pages: let zstd read the list
	find "$d" -name 'p-*.pdf' >"$TMP/list"
	t2=$(clock)
	zstd -3 -T0 -q --filelist="$TMP/list"
	t3=$(clock)
	read -r m1 <"$TMP/t1"
	echo "$(awk -v a="$(secs "$t0" "$t1")" -v b="$(secs "$t2" "$t3")" 'BEGIN{print a+b}') $m1 $(sumbytes "$d" -name '*.zst')"
}

# run_efspipe IN -> "wall rssKiB bytes"
run_efspipe() {
	local in=$1 m="$TMP/mnt" o="$TMP/out" t0 t1
	rm -rf "$m" "$o"; mkdir -p "$m" "$o"
	t0=$(clock)
	/usr/bin/time -f '%M' -o "$TMP/t3" bin/efspipe run --mount "$m" --out "$o" --json "$in" >"$TMP/res.json"
	t1=$(clock)
	local job; job=$(sed -n 's/.*"job": *"\([^"]*\)".*/\1/p' "$TMP/res.json")
	read -r m1 <"$TMP/t3"
	echo "$(secs "$t0" "$t1") $m1 $(sumbytes "$o/$job")"
}

bin/efspipe run --mount "$TMP/warm" --out "$TMP/warmout" --json "$CORPUS/synth/warm.pdf" >/dev/null

echo "| file | pages | source MB | efspipe s | baseline s | wall ratio | pages/s | MB/s | efspipe bytes/src | baseline bytes/src | efspipe RSS MiB | qpdf RSS MiB | RSS ratio | efspipe anon MiB | qpdf anon MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for f in "${REAL[@]}" ${SYN[@]+"${SYN[@]}"}; do
	pages=$(qpdf --show-npages "$f"); size=$(stat -c %s "$f")
	: >"$TMP/e"; : >"$TMP/b"
	for _ in $(seq "$RUNS"); do
		run_efspipe "$f" >>"$TMP/e"
		run_baseline "$f" >>"$TMP/b"
	done
	rm -rf "$TMP/mnt" "$TMP/out" "$TMP/base"; mkdir -p "$TMP/base"
	peak_anon "$TMP/ea" bin/efspipe run --mount "$TMP/mnt" --out "$TMP/out" "$f"
	peak_anon "$TMP/ba" qpdf --split-pages "$f" "$TMP/base/p-%d.pdf"
	ew=$(cut -d' ' -f1 "$TMP/e" | median); em=$(cut -d' ' -f2 "$TMP/e" | median); eb=$(cut -d' ' -f3 "$TMP/e" | median)
	bw=$(cut -d' ' -f1 "$TMP/b" | median); bm=$(cut -d' ' -f2 "$TMP/b" | median); bb=$(cut -d' ' -f3 "$TMP/b" | median)
	awk -v f="$(basename "$f")" -v p="$pages" -v s="$size" -v ew="$ew" -v bw="$bw" -v eb="$eb" -v bb="$bb" -v em="$em" -v bm="$bm" \
		-v ea="$(cat "$TMP/ea")" -v ba="$(cat "$TMP/ba")" 'BEGIN {
		printf "| %s | %d | %.2f | %.3f | %.3f | %.2f× | %.0f | %.2f | %.2f× | %.2f× | %.0f | %.0f | %.2f× | %.1f | %.1f |\n",
			f, p, s/1e6, ew, bw, ew/bw, p/ew, s/1e6/ew, eb/s, bb/s, em/1024, bm/1024, em/bm, ea/1024, ba/1024 }'
done
echo
echo "medians of $RUNS runs; baseline = qpdf --split-pages + zstd -3 -T0 (wall summed, RSS = qpdf's); efspipe = bin/efspipe run --json, fresh mount per run, bytes = out/<job>; anon = peak RssAnon of one more run each (efspipe, qpdf), sampled from /proc."
