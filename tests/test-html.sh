#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# memscope-html without a browser: memscope-run --report makes the
# dashboard of a workload with known totals; the page is the template
# with exactly the substitutions of memscope-html(1) (the reports safely
# escaped, nothing fetched from the network); the options; every error
# with its message and exit status, and no file left behind.
set -u
. "$MS_TOP_SRCDIR/tests/test-run-common.sh"

T=$ms_test_tmp
V=$MS_VICTIMS
HTML="$MS_TOP_BUILDDIR/cli/memscope-html"
JSON="$MS_TOP_BUILDDIR/tests/ms-json"
MAN="$MS_TOP_SRCDIR/man/memscope-html.1"
DATA="$MS_TOP_SRCDIR/data"
# U+2028 LINE SEPARATOR, in UTF-8
LS=$(printf '\342\200\250')

if ! have_shim; then
  echo "1..0 # SKIP the preload library is not built"
  exit 0
fi

# escape_json FILE: what memscope-html makes of a JSON report in a
# <script> element
escape_json () {
  sed -e 's/</\\u003c/g' -e "s/$LS/\\\\u2028/g" -e "s/$(printf '\342\200\251')/\\\\u2029/g" "$1"
}

# expected_page TITLE-HTML DATA RANKINGS: the template with each marker
# replaced (RANKINGS empty: null), independently of memscope-html
expected_page () {
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      *"/*@MEMSCOPE_CSS@*/"*) printf '%s' "${line%%"/*@MEMSCOPE_CSS@*/"*}"; cat "$DATA/dashboard.css"
                              printf '%s\n' "${line#*"/*@MEMSCOPE_CSS@*/"}" ;;
      *"/*@MEMSCOPE_JS@*/"*) printf '%s' "${line%%"/*@MEMSCOPE_JS@*/"*}"; cat "$DATA/dashboard.js"
                             printf '%s\n' "${line#*"/*@MEMSCOPE_JS@*/"}" ;;
      *@MEMSCOPE_DATA@*) printf '%s' "${line%%@MEMSCOPE_DATA@*}"; escape_json "$2"
                         printf '%s\n' "${line#*@MEMSCOPE_DATA@}" ;;
      *@MEMSCOPE_RANKINGS@*) printf '%s' "${line%%@MEMSCOPE_RANKINGS@*}"
                             if [ -n "$3" ]; then escape_json "$3"; else printf null; fi
                             printf '%s\n' "${line#*@MEMSCOPE_RANKINGS@}" ;;
      *) printf '%s\n' "$line" ;;
    esac
  done < "$DATA/dashboard.html" | awk -v title="$1" '{ gsub (/@MEMSCOPE_TITLE@/, title); print }'
}

# same_page DESCRIPTION EXPECTED ACTUAL
same_page () {
  if cmp -s "$2" "$3"; then ok 0 "$1"
  else diff "$2" "$3" | head -n 10 | sed 's/^/#   /'; ok 1 "$1"; fi
}

# nothing_left DIR DESCRIPTION: DIR holds no dashboard nor temporary file
nothing_left () {
  check_eq "$2: no file left behind" "" "$(ls -A "$1" | grep -e '_dashboard\.html' -e '^\.' | tr '\n' ' ')"
}

# fails STATUS MESSAGE DESCRIPTION [ARG...]: memscope-html ARG... exits
# with STATUS, says MESSAGE on stderr and writes nothing on stdout
# (run as $as_user when set)
as_user=""
fails () {
  local status=$1 message=$2 what=$3; shift 3
  $as_user "$HTML" "$@" > "$T/fail.out" 2> "$T/fail.err"
  check_eq "$what: exit status" "$status" $?
  contains "$T/fail.err" "$message" "$what: the message"
  check_eq "$what: nothing on standard output" "" "$(cat "$T/fail.out")"
}

# --- memscope-run --report ---------------------------------------------------
"$MS_RUN" -o "$T/run" --report -- "$V/agg-workload" 3 250 > "$T/run.out" 2> "$T/run.err"
check_eq "memscope-run --report: the exit status is the program's" 0 $?
if grep -q "not available" "$T/run.err"; then
  sed 's/^/#   /' "$T/run.err"; ok 1 "memscope-run --report finds memscope-html"
else
  ok 0 "memscope-run --report finds memscope-html"
fi
COMP="$T/run/agg-workload_comprehensive.json"
RANK="$T/run/agg-workload_resource_rankings.json"
PAGE="$T/run/agg-workload_dashboard.html"
check_eq "memscope-run --report: PREFIX_dashboard.html beside the reports" yes "$([ -s "$PAGE" ] && echo yes)"
contains "$T/run.err" "Dashboard written to $PAGE" "memscope-run --report: where the dashboard is (on stderr)"
check_eq "memscope-run --report: standard output is the program's alone" "" "$(cat "$T/run.out")"
[ -s "$PAGE" ] || { echo "Bail out! no dashboard to check"; exit 1; }

# --- the page ------------------------------------------------------------------
expected_page "memscope — agg-workload" "$COMP" "$RANK" > "$T/expected.html"
same_page "the page is the template with the title, style, script and both reports" "$T/expected.html" "$PAGE"
"$JSON" script "$PAGE" memscope-data > "$T/data.txt"
check_eq "the embedded data, un-escaped, is the comprehensive report byte for byte" same \
  "$(escape_json "$COMP" | cmp -s - "$T/data.txt" && sed -e 's/\\u003c/</g' "$T/data.txt" | cmp -s - "$COMP" && echo same)"
"$JSON" equal "$T/data.txt" "$COMP"
ok $? "the embedded data parses to the comprehensive report"
"$JSON" script "$PAGE" memscope-rankings > "$T/rankings.txt"
"$JSON" equal "$T/rankings.txt" "$RANK"
ok $? "the embedded rankings parse to PREFIX_resource_rankings.json"
check_le "the embedded data holds the workload's 303 allocations" 303 "$("$JSON" get "$T/data.txt" summary.allocations)"
check_eq "... in two threads" 2 "$("$JSON" get "$T/data.txt" summary.threads)"
check_eq "... and its resource samples" yes \
  "$([ "$("$JSON" get "$T/data.txt" processes.0.resources.series)" -ge 1 ] && echo yes)"
check_eq "every marker is replaced" 0 "$(grep -c '@MEMSCOPE_' "$PAGE")"
check_eq "nothing from the network: no src/href to http(s) or //, no stylesheet link, no @import" 0 \
  "$(grep -c -i -E '(src|href|action)=["'"'"']?(https?:)?//|<link[^>]*stylesheet|@import|url\(["'"'"']?(https?:)?//' "$PAGE")"
check_eq "three script elements end where they should (data, rankings, script)" 3 "$(grep -o '</script' "$PAGE" | wc -l)"
check_eq "the <title> names the program" "<title>memscope — agg-workload</title>" \
  "$(grep -o '<title>.*</title>' "$PAGE")"

# --- hostile names -----------------------------------------------------------
# A function name with </script>, <!-- and U+2028 must not end the
# element nor the script: they arrive escaped, and parse back as they were.
mkdir "$T/hostile"
sed -e "0,/\"function\" *: *\"[^\"]*\"/s//\"function\" : \"operator<\/script><script>alert(1)<!--$LS-->\"/" \
  "$COMP" > "$T/hostile/h_comprehensive.json"
check_eq "(the hostile report has the hostile name)" 1 "$(grep -c -F "</script><script>alert(1)<!--$LS" "$T/hostile/h_comprehensive.json")"
"$HTML" -q "$T/hostile/h_comprehensive.json"
check_eq "a hostile name: exit status" 0 $?
H="$T/hostile/h_dashboard.html"
check_eq "a hostile name: still three script elements" 3 "$(grep -o '</script' "$H" | wc -l)"
"$JSON" script "$H" memscope-data > "$T/h.txt"
check_eq "a hostile name: no < nor U+2028 left in the data" "0 0" \
  "$(grep -c -e '<' "$T/h.txt") $(grep -c -F "$LS" "$T/h.txt")"
contains "$T/h.txt" 'operator\u003c/script>\u003cscript>alert(1)\u003c!--\u2028-->' "a hostile name: escaped as JSON"
"$JSON" equal "$T/h.txt" "$T/hostile/h_comprehensive.json"
ok $? "a hostile name: the data parses back to the very report"
check_eq "a hostile name: no rankings beside it, null" 1 \
  "$(grep -c -F '<script id="memscope-rankings" type="application/json">null</script>' "$H")"

# --- options -------------------------------------------------------------------
"$HTML" -o - "$COMP" > "$T/stdout.html" 2> "$T/stdout.err"
check_eq "-o -: exit status" 0 $?
same_page "-o -: the same page on standard output" "$PAGE" "$T/stdout.html"
check_eq "-o -: nothing on stderr" "" "$(cat "$T/stdout.err")"
"$HTML" -o "$T/out.html" "$COMP" > "$T/o.out"
check_eq "-o FILE: where it says" "Dashboard written to $T/out.html" "$(cat "$T/o.out")"
same_page "-o FILE: the same page" "$PAGE" "$T/out.html"
"$HTML" -q -o "$T/quiet.html" "$COMP" > "$T/q.out"
check_eq "-q: nothing printed" "" "$(cat "$T/q.out")"
"$HTML" -q -o - --title '<b>&"x"</b>' "$COMP" | grep -o '<title>.*</title>' > "$T/title.txt"
check_eq "--title: escaped" "<title>&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;</title>" "$(cat "$T/title.txt")"
cp "$COMP" "$T/alone.json"
"$HTML" -q -o "$T/alone.html" "$T/alone.json"
check_eq "a report of another name: no rankings" 1 \
  "$(grep -c -F '<script id="memscope-rankings" type="application/json">null</script>' "$T/alone.html")"
"$HTML" -q -o "$T/ranked.html" --rankings="$RANK" "$T/alone.json"
"$JSON" script "$T/ranked.html" memscope-rankings > "$T/ranked.txt"
"$JSON" equal "$T/ranked.txt" "$RANK"
ok $? "--rankings=FILE: embedded"
mkdir "$T/named" && cp "$COMP" "$T/named/x.json"
"$HTML" -q "$T/named/x.json"
check_eq "a report of another name: x_dashboard.html beside it" yes "$([ -s "$T/named/x_dashboard.html" ] && echo yes)"

"$HTML" --version > "$T/version.out"
contains "$T/version.out" "memscope-html (memscope)" "--version"
"$HTML" --help > "$T/help.out"
contains "$T/help.out" "COMPREHENSIVE-JSON" "--help names the argument"
help_opts=$(grep -o -- '--[a-z][a-z-]*' "$T/help.out" | grep -v -- '--help' | sort -u)
man_opts=$(sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$MAN" | grep -A1 '^\.TP' | grep -o -- '\\-\\-[a-z][a-z\\-]*' |
  sed 's/\\-/-/g' | grep -v -- '--help' | sort -u)
check_eq "man page: the options of --help" "$help_opts" "$man_opts"

# --- errors ----------------------------------------------------------------------
mkdir "$T/e"
fails 1 "No report given" "no report"
fails 1 "Give one report, not “$COMP” too" "two reports" "$COMP" "$COMP"
fails 1 "Unknown option --bogus" "an unknown option" --bogus "$COMP"
fails 2 "“$T/e/none_comprehensive.json” does not exist" "a missing report" "$T/e/none_comprehensive.json"
fails 2 "“$T/e” is not a file" "a directory" "$T/e"
printf '{\n "report": "comprehensive",\n "schema_version": x\n}\n' > "$T/e/bad_comprehensive.json"
fails 2 "“$T/e/bad_comprehensive.json” is not JSON: line 3, column" "not JSON" "$T/e/bad_comprehensive.json"
: > "$T/e/empty_comprehensive.json"
fails 2 "“$T/e/empty_comprehensive.json” is empty" "an empty file" "$T/e/empty_comprehensive.json"
cp "$RANK" "$T/e/r_comprehensive.json"
fails 2 "“$T/e/r_comprehensive.json” is not a memscope-aggregate PREFIX_comprehensive.json" \
  "the rankings instead of the comprehensive report" "$T/e/r_comprehensive.json"
printf '[1, 2]\n' > "$T/e/array_comprehensive.json"
fails 2 "is not a memscope-aggregate PREFIX_comprehensive.json" "JSON of another kind" "$T/e/array_comprehensive.json"
ours=$("$JSON" get "$COMP" schema_version)
sed "s/\"schema_version\" *: *\"$ours\"/\"schema_version\" : \"99.0\"/" "$COMP" > "$T/e/new_comprehensive.json"
fails 2 "“$T/e/new_comprehensive.json” has report schema 99.0, newer than the $ours that this memscope-html reads" \
  "a newer schema" "$T/e/new_comprehensive.json"
sed "s/\"report\" *: *\"resource_rankings\"/\"report\" : \"other\"/" "$RANK" > "$T/e/other.json"
fails 2 "“$T/e/other.json” is not a memscope-aggregate PREFIX_resource_rankings.json" "--rankings of another kind" \
  --rankings="$T/e/other.json" "$COMP"
fails 2 "“$T/e/no.json” does not exist" "a missing --rankings" --rankings="$T/e/no.json" "$COMP"
nothing_left "$T/e" "the bad reports"
cp "$COMP" "$T/e/ok_comprehensive.json"
cp "$T/e/bad_comprehensive.json" "$T/e/ok_resource_rankings.json"
fails 2 "“$T/e/ok_resource_rankings.json” is not JSON" "broken rankings beside the report" "$T/e/ok_comprehensive.json"
nothing_left "$T/e" "broken rankings"
fails 2 "Cannot write the dashboard into “$T/e/none”: No such file or directory" "a missing directory" \
  -o "$T/e/none/x.html" "$COMP"
fails 2 "Cannot write the dashboard into “$T/e/ok_comprehensive.json”: Not a directory" "a file as directory" \
  -o "$T/e/ok_comprehensive.json/x.html" "$COMP"
mkdir "$T/e/d_dashboard.html"
fails 2 "Cannot write “$T/e/d_dashboard.html”: Is a directory" "a directory in the way" -o "$T/e/d_dashboard.html" "$COMP"
rmdir "$T/e/d_dashboard.html"
nothing_left "$T/e" "unwritable places"
# an earlier dashboard stays as it was when the new one cannot be made
echo earlier > "$T/e/ok_dashboard.html"
"$HTML" -q "$T/e/ok_comprehensive.json" 2> /dev/null
check_eq "a failure leaves an earlier dashboard as it was" earlier "$(cat "$T/e/ok_dashboard.html")"
# Permissions do not stop root: run as nobody there.
as_user=$(unprivileged "$HTML" "$T" "$T/run")
if [ "$as_user" != skip ]; then
  chmod 644 "$COMP"
  mkdir "$T/ro" && chmod 555 "$T/ro"
  fails 2 "Cannot write the dashboard into “$T/ro”: Permission denied" "a read-only directory" \
    -o "$T/ro/x.html" "$COMP"
  check_eq "a read-only directory: nothing written" "" "$(ls -A "$T/ro")"
  chmod 755 "$T/ro"
  as_user=""
else
  skip "root writes into read-only directories"
  skip "root writes into read-only directories"
  skip "root writes into read-only directories"
  skip "root writes into read-only directories"
fi
if [ -w /dev/full ]; then
  "$HTML" -o - "$COMP" > /dev/full 2> "$T/full.err"
  check_eq "a full standard output: exit status" 2 $?
  contains "$T/full.err" "Writing to standard output failed: No space left on device" "a full standard output: the message"
else
  skip "no /dev/full"
  skip "no /dev/full"
fi

finish
