#!/usr/bin/env bash
# Seeds the AFL++ corpora from the bundled scenarios/: every TOML file for
# the `scenario` target, every trace for `trace`, and every quoted quantity
# (durations, rates, sizes, money, dates, ...) for `units`.
set -euo pipefail
cd "$(dirname "$0")"
scenarios=../scenarios

rm -rf corpus
mkdir -p corpus/scenario corpus/trace corpus/units

find "$scenarios" -name '*.toml' | sort | while read -r f; do
  cp "$f" "corpus/scenario/$(echo "${f#"$scenarios"/}" | tr / _)"
done
find "$scenarios" -name '*.csv' | sort | while read -r f; do
  cp "$f" "corpus/trace/$(basename "$f")"
done

# One file per distinct quoted value that starts with a digit or a sign.
n=0
find "$scenarios" -name '*.toml' -exec grep -ohE '"[-+0-9][^"]*"' {} + |
  tr -d '"' | sort -u | while IFS= read -r value; do
    n=$((n + 1))
    printf '%s' "$value" > "corpus/units/$n"
  done

# A dictionary of the words scenarios are made of: keys, section headers
# and units, for AFL++'s -x.
{
  find "$scenarios" -name '*.toml' -exec grep -ohE '^\s*\[{1,2}[a-z_.]+\]{1,2}|^\s*[a-z_]+\s*=' {} + |
    sed -E 's/^\s+//; s/\s*=$/ = /' | sort -u
  printf '%s\n' ns us ms s m min h d w /s /min /h /d B kB MB GB TB PB KiB MiB GiB TiB PiB \
    USD EUR % true false
} | sed 's/\\/\\\\/g; s/"/\\"/g; s/.*/"&"/' > corpus/scenario.dict

for t in scenario trace units; do
  echo "corpus/$t: $(find "corpus/$t" -type f | wc -l) files"
done
