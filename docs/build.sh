#!/bin/sh
# Renders the pictures of docs/authoring.md from the bundled cases with `mesosim render`:
# one B-mode per skin variant and feature, never painted. Run by the CMake target `docs`
# (cmake --build build --target docs) or by hand: sh docs/build.sh build/mesosim
# Writes docs/img/<case>.png, and the bone and Doppler pictures named below; the same build
# and cases give the same bytes.
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
# picture  case  probe pose  further render options (bone under the probe; Doppler over a point)
while read -r pic name pose opts; do
    # shellcheck disable=SC2086 # opts is a list of options
    "$exe" render --scenario "$root/scenarios/$name.json" --probe "$pose" $opts --out "$out/$pic.png" >/dev/null
    echo "docs/img/$pic.png"
done <<LIST
bone prominence_fold x=4,y=0
doppler_color perforator x=-12,y=0 --doppler color --box -4,1,4,9 --prf 4000
doppler_power perforator x=-12,y=0 --doppler power --box -4,1,4,9 --prf 4000
LIST
