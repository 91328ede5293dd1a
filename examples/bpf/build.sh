#!/bin/sh
# Rebuilds the committed BPF objects from the C sources with clang-19 (deterministic output:
# the same source always gives the same bytes, wherever the tree lives). cpu v3 for all but the v4-only program; -g for
# the BTF-defined maps. Usage: examples/bpf/build.sh [OUTDIR] (default: this folder).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
CLANG=${CLANG:-clang-19}
cd "$here"
build() { # name cpu extra...
  name=$1; cpu=$2; shift 2
  "$CLANG" -target bpf -O2 -mcpu="$cpu" -fdebug-compilation-dir=. "$@" -c "$name.c" -o "$out/$name.o"
}
build checksum v3
build filter v3
build count_btf v3 -g
build count_legacy v3
build loop v3
build signed_v4 v4
