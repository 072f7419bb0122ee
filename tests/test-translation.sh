#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The zh_CN catalogue as a user meets it: the built catalogue is complete,
# memscope-run, memscope-aggregate and memscope-html print Chinese under LANGUAGE=zh_CN
# (their --help and their errors), and English in the C locale.
set -u
. "$MS_TOP_SRCDIR/tests/test-run-common.sh"

T=$ms_test_tmp
AGG="$MS_TOP_BUILDDIR/cli/memscope-aggregate"
PO="$MS_TOP_SRCDIR/po/zh_CN.po"

if ! command -v msgfmt > /dev/null 2>&1; then
  echo "1..0 # SKIP msgfmt (gettext) is not installed"
  exit 0
fi

# --- the catalogue ---------------------------------------------------------
msgfmt --check --statistics -o "$T/zh_CN.mo" "$PO" 2> "$T/msgfmt.err"
ok $? "msgfmt --check accepts po/zh_CN.po"
# e.g. "181 translated messages." and nothing about fuzzy or untranslated
stats=$(grep 'translated message' "$T/msgfmt.err")
case $stats in
  *fuzzy* | *untranslated* | "") sed 's/^/#   /' "$T/msgfmt.err"; ok 1 "every message is translated" ;;
  *) ok 0 "every message is translated ($stats)" ;;
esac
[ "$(grep -c . "$T/msgfmt.err")" -eq 1 ]
ok $? "msgfmt has no warning about po/zh_CN.po (header complete)"

# The build puts the catalogue it installs into the source tree's po/
# (gettext's po/Makefile); test that one, or ours where NLS is disabled.
gmo="$MS_TOP_SRCDIR/po/zh_CN.gmo"
mkdir -p "$T/locale/zh_CN/LC_MESSAGES"
if [ -f "$gmo" ]; then
  # (the build merges the .po with the .pot first: headers may differ)
  msgunfmt "$gmo" | sed '1,/^$/d' > "$T/built.txt"
  msgunfmt "$T/zh_CN.mo" | sed '1,/^$/d' > "$T/source.txt"
  if cmp -s "$T/built.txt" "$T/source.txt"; then
    ok 0 "the built po/zh_CN.gmo holds the translations of po/zh_CN.po"
  else
    # po/Makefile remakes it when the .pot changes, not when the .po does
    echo "# po/zh_CN.gmo is older than po/zh_CN.po: run make -C po update-gmo"
    ok 1 "the built po/zh_CN.gmo holds the translations of po/zh_CN.po"
  fi
  cp "$gmo" "$T/locale/zh_CN/LC_MESSAGES/memscope.mo"
else
  skip "po/zh_CN.gmo was not built (--disable-nls?): testing po/zh_CN.po compiled here"
  cp "$T/zh_CN.mo" "$T/locale/zh_CN/LC_MESSAGES/memscope.mo"
fi

# in_zh, in_en, in_c PROGRAM [ARG...]: run PROGRAM, with the catalogue
# in reach, in Chinese (a UTF-8 locale and LANGUAGE=zh_CN), in the same
# locale without LANGUAGE, or in the C locale, where gettext ignores
# LANGUAGE; whatever the caller's locale.
in_zh () {
  env -u LC_ALL -u LC_MESSAGES MEMSCOPE_LOCALEDIR="$T/locale" LANG=C.UTF-8 LANGUAGE=zh_CN "$@"
}
in_en () {
  env -u LC_ALL -u LC_MESSAGES -u LANGUAGE MEMSCOPE_LOCALEDIR="$T/locale" LANG=C.UTF-8 "$@"
}
in_c () {
  env -u LC_MESSAGES MEMSCOPE_LOCALEDIR="$T/locale" LC_ALL=C LANG=C LANGUAGE=zh_CN "$@"
}

# option_texts FILE: the descriptions of the program's options in a --help
# output (not --help's own, which GLib's catalogue translates, if installed)
option_texts () {
  sed -n -e '/^  -h, --help /d' -e '/^  --help-/d' -e 's/^  -[^ ]*\( --[^ ]*\)\?  *\(.*\)$/\2/p' "$1"
}

# untranslated_options C-HELP ZH-HELP: the English option descriptions
# that the Chinese --help still shows.
untranslated_options () {
  option_texts "$1" | while IFS= read -r text; do
    grep -q -F -- "$text" "$2" && printf '%s\n' "$text"
  done
}

# options_translated PROGRAM C-HELP ZH-HELP: every option's description in
# the Chinese --help is translated, and none is missing.
options_translated () {
  check_eq "$1 --help: every option's help is translated" "" "$(untranslated_options "$2" "$3")"
  check_eq "$1 --help: as many options in Chinese as in English" \
    "$(option_texts "$2" | wc -l)" "$(option_texts "$3" | wc -l)"
}

# --- memscope-run ------------------------------------------------------------
in_zh "$MS_RUN" --help > "$T/run-zh.txt" 2>&1
ok $? "LANGUAGE=zh_CN memscope-run --help succeeds"
contains "$T/run-zh.txt" "剖析 PROGRAM 及其启动的所有程序的内存使用。" "memscope-run --help: the summary is in Chinese"
contains "$T/run-zh.txt" "  -o, --output=DIR " "memscope-run --help: option names and DIR stay as they are"
contains "$T/run-zh.txt" "将跟踪数据写入 DIR（默认：./memscope-PROGRAM-PID）" "memscope-run --help: an option's help is in Chinese"
contains "$T/run-zh.txt" "memscope-run(1) 中所述的 MEMSCOPE_* 环境变量同样适用。" "memscope-run --help: the description is in Chinese"
in_c "$MS_RUN" --help > "$T/run-c.txt" 2>&1
contains "$T/run-c.txt" "Profile the memory of PROGRAM and everything it starts." "memscope-run --help in the C locale is English"
options_translated memscope-run "$T/run-c.txt" "$T/run-zh.txt"

in_zh "$MS_RUN" -q -o "$T/run1" -- "$T/no-such-program" > "$T/missing-zh.txt" 2>&1
check_eq "memscope-run: a missing program exits with 2" 2 $?
check_eq "memscope-run: a missing program, in Chinese" \
  "memscope-run: 找不到“$T/no-such-program”：没有这个文件" "$(cat "$T/missing-zh.txt")"
in_en "$MS_RUN" -q -o "$T/run2" -- "$T/no-such-program" > "$T/missing-en.txt" 2>&1
check_eq "memscope-run: a missing program, without LANGUAGE" \
  "memscope-run: “$T/no-such-program” was not found: no such file" "$(cat "$T/missing-en.txt")"
# (the C locale has no “ ”: GLib prints ? for them)
in_c "$MS_RUN" -q -o "$T/run3" -- "$T/no-such-program" > "$T/missing-c.txt" 2>&1
contains "$T/missing-c.txt" " was not found: no such file" "memscope-run: a missing program, in the C locale"

# The translation puts the option before the value: %2$s ... %1$s
in_zh "$MS_RUN" --depth=abc -- true > "$T/usage-zh.txt" 2>&1
check_eq "memscope-run: a usage error exits with 1" 1 $?
check_eq "memscope-run: a usage error, reordered arguments and the hint in Chinese" \
  "memscope-run: --depth 的值“abc”无效：应为整数
请尝试执行“memscope-run --help”来获取更多信息。" "$(cat "$T/usage-zh.txt")"

# --- memscope-aggregate ------------------------------------------------------
in_zh "$AGG" --help > "$T/agg-zh.txt" 2>&1
ok $? "LANGUAGE=zh_CN memscope-aggregate --help succeeds"
contains "$T/agg-zh.txt" "分析 memscope 跟踪数据：写出 JSON 报告并打印一张表格。" "memscope-aggregate --help: the summary is in Chinese"
contains "$T/agg-zh.txt" "  -r, --report=REPORT " "memscope-aggregate --help: option names stay as they are"
contains "$T/agg-zh.txt" "要打印的表格：summary、threads、stacks、leaks" "memscope-aggregate --help: report names stay as they are"
contains "$T/agg-zh.txt" "退出状态：成功时为 0" "memscope-aggregate --help: the exit statuses are in Chinese"
in_c "$AGG" --help > "$T/agg-c.txt" 2>&1
contains "$T/agg-c.txt" "Analyse a memscope trace: write the JSON reports and print one table." \
  "memscope-aggregate --help in the C locale is English"
options_translated memscope-aggregate "$T/agg-c.txt" "$T/agg-zh.txt"

in_zh "$AGG" "$T/no-such-dir" > "$T/nodir-zh.txt" 2>&1
check_eq "memscope-aggregate: a missing trace directory exits with 2" 2 $?
check_eq "memscope-aggregate: a missing trace directory, in Chinese" \
  "memscope-aggregate: “$T/no-such-dir”不存在：请指定 memscope-run 写出的跟踪目录" "$(cat "$T/nodir-zh.txt")"
in_en "$AGG" "$T/no-such-dir" > "$T/nodir-en.txt" 2>&1
check_eq "memscope-aggregate: a missing trace directory, without LANGUAGE" \
  "memscope-aggregate: “$T/no-such-dir” does not exist: give the trace directory that memscope-run wrote" \
  "$(cat "$T/nodir-en.txt")"
in_c "$AGG" "$T/no-such-dir" > "$T/nodir-c.txt" 2>&1
contains "$T/nodir-c.txt" " does not exist: give the trace directory that memscope-run wrote" \
  "memscope-aggregate: a missing trace directory, in the C locale"
in_zh "$AGG" > "$T/noarg-zh.txt" 2>&1
check_eq "memscope-aggregate: no trace directory, in Chinese" \
  "memscope-aggregate: 未指定跟踪目录
请尝试执行“memscope-aggregate --help”来获取更多信息。" "$(cat "$T/noarg-zh.txt")"

# --- memscope-html -------------------------------------------------------------
HTML="$MS_TOP_BUILDDIR/cli/memscope-html"
in_zh "$HTML" --help > "$T/html-zh.txt" 2>&1
ok $? "LANGUAGE=zh_CN memscope-html --help succeeds"
contains "$T/html-zh.txt" "生成 HTML 仪表板：一个可离线使用的文件。" "memscope-html --help: the summary is in Chinese"
contains "$T/html-zh.txt" "  -o, --output=FILE " "memscope-html --help: option names stay as they are"
in_c "$HTML" --help > "$T/html-c.txt" 2>&1
contains "$T/html-c.txt" "Make the HTML dashboard of a memscope-aggregate report" "memscope-html --help in the C locale is English"
options_translated memscope-html "$T/html-c.txt" "$T/html-zh.txt"
in_zh "$HTML" "$T/no_comprehensive.json" > "$T/html-missing-zh.txt" 2>&1
check_eq "memscope-html: a missing report exits with 2" 2 $?
check_eq "memscope-html: a missing report, in Chinese" \
  "memscope-html: “$T/no_comprehensive.json”不存在：请指定 memscope-aggregate 写出的 PREFIX_comprehensive.json" \
  "$(cat "$T/html-missing-zh.txt")"
in_en "$HTML" "$T/no_comprehensive.json" > "$T/html-missing-en.txt" 2>&1
check_eq "memscope-html: a missing report, without LANGUAGE" \
  "memscope-html: “$T/no_comprehensive.json” does not exist: give a PREFIX_comprehensive.json that memscope-aggregate wrote" \
  "$(cat "$T/html-missing-en.txt")"

finish
