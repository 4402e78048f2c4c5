#!/bin/sh
# SPDX-License-Identifier: MIT
# Instructions per body byte of `cloudfact extract`, counted by callgrind: a measure of
# the extractor's cost that a busy machine does not disturb (the `extraction` figure of
# `make bench` is CPU time, which it does).
#
# usage: bench/extract_ir.sh BINDIR [N]
#   BINDIR  a Release bin directory (its `cloudfact`)
#   N       bench corpus articles to run (default 200; build/bench/corpus, made by
#           `make bench` or `bench/run.py --only extraction`)
# Prints, per body byte: the instructions inside cf_extract_article, and those of the
# whole command minus a one-file run (start-up and data loading), i.e. with its JSON
# output, as the `extraction` figure counts them.
set -eu
bin=${1:?usage: bench/extract_ir.sh BINDIR [N]}
n=${2:-200}
corpus=${CF_BENCH_CORPUS:-build/bench/corpus}
command -v valgrind >/dev/null || { echo "extract_ir: valgrind is not installed" >&2; exit 2; }
[ -d "$corpus" ] || { echo "extract_ir: no $corpus (run make bench once)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ls "$corpus"/*.txt | head -n "$n" >"$tmp/files"
bytes=0
while read -r f; do
    b=$(tail -n +2 "$f" | wc -c)
    bytes=$((bytes + b))
done <"$tmp/files"

total() { # Ir of `cloudfact extract FILES...`, optionally inside one function
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" ${2:+--toggle-collect=$2} \
        "$bin/cloudfact" extract $1 >/dev/null 2>"$tmp/err" || true
    sed -n 's/^summary: *//p;s/^totals: *//p' "$tmp/cg" | head -n 1
}
files=$(cat "$tmp/files")
one=$(head -n 1 "$tmp/files")
inner=$(total "$files" cf_extract_article)
whole=$(total "$files")
start=$(total "$one")
awk -v i="$inner" -v w="$whole" -v s="$start" -v b="$bytes" -v n="$n" 'BEGIN {
    printf "articles %d, body bytes %d\n", n, b
    printf "cf_extract_article   %8.1f Ir/byte\n", i / b
    printf "cloudfact extract    %8.1f Ir/byte (minus a one-file run)\n", (w - s) / b
}'
