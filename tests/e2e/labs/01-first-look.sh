#!/usr/bin/env bash
# tests/e2e/labs/01-first-look.sh: lab 01 passes `vlab check` here and
# grades a complete workbook to full marks and an empty one to zero.
. "$(dirname "$0")/lib.bash"
lab_requires jq
lab_test 01-first-look \
	'{"predict-startup": "2", "q-kernel": "2", "q-smallest": "3", "q-vm-kernel": "Linux"}' \
	'{"q-startup": .["startup.container"],
	  "q-ratio": (.["image.vm"] / .["image.unikernel"])}'
lab_done
