#!/bin/sh
# Renders the pictures of docs/authoring.md from the bundled cases with `mesosim render`:
# one B-mode per skin variant and feature, never painted. Run by the CMake target `docs`
# (cmake --build build --target docs) or by hand: sh docs/build.sh build/mesosim
# Writes docs/img/<case>.png; the same build and cases give the same bytes.
set -eu
exe=${1:?usage: docs/build.sh PATH/TO/mesosim}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/docs/img"
mkdir -p "$out"
# case  probe pose (where the case's feature is under the probe)
while read -r name pose; do
    "$exe" render --scenario "$root/scenarios/$name.json" --probe "$pose" --out "$out/$name.png" >/dev/null
    echo "docs/img/$name.png"
done <<LIST
adult_back x=0,y=0
adolescent_back x=0,y=0
hyperkeratosis x=0,y=0
thin_skin x=0,y=0
excess_adipose x=0,y=0
perforator x=-12,y=0
prominence_fold x=0,y=0
tutorial x=0,y=0
steep_trap x=-8,y=0
LIST
