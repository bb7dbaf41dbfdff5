#!/usr/bin/env bash
# Assemble the probe sets: corpora nobody here wrote, taken from documentation that ships
# with this machine's tools (npm's Markdown docs, Node's HTML API pages, two TeX manuals,
# and Node's API reference in Markdown as `nodemd`: examples, option lists, tiny sections),
# so a quality change can be tried on documents unlike the suite's; and `tables`: a
# quarterly earnings release and a converter datasheet written here as HTML and printed
# to PDF by Chromium (tables of values, column heads wrapped over lines), when Chromium
# is installed; and `court`, a court opinion written here, printed the same way. Nothing
# third-party is copied into the project; the corpora go to $1
# (default /tmp/probe).
#   bash bench/probes/make.sh && .venv/bin/python bench/quality.py \
#     --sets md=/tmp/probe/md,html=/tmp/probe/html,pdf=/tmp/probe/pdf,nodemd=/tmp/probe/nodemd,tables=/tmp/probe/tables -v
set -euo pipefail
out=${1:-/tmp/probe}
here=$(cd "$(dirname "$0")" && pwd)
npm=/usr/lib/node_modules/npm/docs/content
node=/usr/share/doc/nodejs/api
for s in md html pdf nodemd; do mkdir -p "$out/$s/corpus"; cp "$here/$s.jsonl" "$out/$s/questions.jsonl"; done
for f in install ci publish audit cache link pack version update outdated run exec config \
    init uninstall token dedupe prune shrinkwrap deprecate unpublish dist-tag ls; do
  cp "$npm/commands/npm-$f.md" "$out/md/corpus/"
done
cp "$npm/commands/npx.md" "$npm"/configuring-npm/*.md "$out/md/corpus/"
for f in scripts workspaces logging scope registry; do cp "$npm/using-npm/$f.md" "$out/md/corpus/"; done
for f in os path timers punycode querystring cluster string_decoder; do
  cp "$node/$f.html" "$out/html/corpus/"
done
for f in dns readline zlib worker_threads packages dgram repl single-executable-applications \
    permissions corepack tty intl wasi debugger report console https inspector tracing domain \
    embedding documentation; do
  cp "$node/$f.md" "$out/nodemd/corpus/"
done
cp /usr/share/doc/libtasn1-doc/libtasn1.pdf \
  /usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf "$out/pdf/corpus/"
if command -v chromium >/dev/null; then
  mkdir -p "$out/tables/corpus"; cp "$here/tables.jsonl" "$out/tables/questions.jsonl"
  for f in "$here"/tables/*.html; do
    chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
      --print-to-pdf="$out/tables/corpus/$(basename "$f" .html).pdf" "$f" 2>/dev/null
  done
  # `court`: a Supreme Court slip opinion written here (a fictional case: syllabus,
  # running heads, footnotes under sentences that go on over the page, a dissent), beside
  # two distractors: the suite's Federal Register rule (read from ../shared, never copied
  # into the project) and the earnings release above.
  mkdir -p "$out/court/corpus"; cp "$here/court.jsonl" "$out/court/questions.jsonl"
  chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
    --print-to-pdf="$out/court/corpus/delacroix-v-northern-plains.pdf" \
    "$here/court/delacroix-v-northern-plains.html" 2>/dev/null
  cp "$out/tables/corpus/norvale-q3-2025.pdf" "$out/court/corpus/"
  # `statement`: a credit union's monthly member statement written here (account
  # summary, transaction tables whose dates wrap, rate tiers, a fee schedule, notices),
  # printed the same way, beside the earnings release: "a statement" is one of the
  # hidden PDF set's kinds, and no other set has one.
  mkdir -p "$out/statement/corpus"; cp "$here/statement.jsonl" "$out/statement/questions.jsonl"
  chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
    --print-to-pdf="$out/statement/corpus/harbourline-statement-2025-10.pdf" \
    "$here/statement/harbourline-statement-2025-10.html" 2>/dev/null
  cp "$out/tables/corpus/norvale-q3-2025.pdf" "$out/statement/corpus/"
  rules="$here/../../../shared/eval/suite/pdf/corpus/federal-register-2020-17221.pdf"
  if [ -f "$rules" ]; then cp "$rules" "$out/court/corpus/"; fi
fi
# `webpages`: 23 new questions (4 unanswerable) over the suite's saved web pages, most on
# pages its own questions leave alone, bylines included; the pages are linked from
# ../shared, never copied.
pages="$here/../../../shared/eval/suite/html/corpus"
if [ -d "$pages" ]; then
  mkdir -p "$out/webpages"; cp "$here/webpages.jsonl" "$out/webpages/questions.jsonl"
  ln -sfn "$(cd "$pages" && pwd)" "$out/webpages/corpus"
fi
# `guide`: 24 questions (4 unanswerable) over Node's contributor guides in Markdown (the
# collaborator guide, commit queue, style guides, releases): policy prose, numbered
# steps, link-reference markup, as a Markdown book reads.
mkdir -p "$out/guide/corpus"; cp "$here/guide.jsonl" "$out/guide/questions.jsonl"
cp /usr/share/doc/nodejs/contributing/*.md "$out/guide/corpus/"
echo "probe sets in $out"
