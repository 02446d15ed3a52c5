#!/usr/bin/env bash
# tests/e2e/labs/04-container-isolation.sh: lab 04 passes `vlab check` here
# and grades a complete workbook to full marks and an empty one to zero.
. "$(dirname "$0")/lib.bash"
lab_requires jq
lab_test 04-container-isolation \
	'{"your-rule": "2", "q-pid1": "2", "q-oom": "2", "q-errno": "EPERM", "q-tenants": "2"}' \
	'{"q-processes": .["box.processes"]}'
lab_done
