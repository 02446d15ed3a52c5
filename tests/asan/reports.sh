#!/usr/bin/env bash
# tests/asan/reports.sh DIR: prints every sanitizer report that a process
# of `make check-asan` left in DIR (ASan, UBSan and LSan write there through
# log_path, instance processes included) and fails when there is any.
set -u
dir=${1:?usage: reports.sh DIR}
shopt -s nullglob
reports=("$dir"/san*)
if [ ${#reports[@]} -eq 0 ]; then
	echo "==== sanitizers: no reports"
	exit 0
fi
for r in "${reports[@]}"; do
	echo "==== sanitizer report $r"
	cat "$r"
done
echo "==== sanitizers: ${#reports[@]} report(s): check-asan fails"
exit 1
