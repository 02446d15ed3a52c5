#!/usr/bin/env bash
# tests/e2e/labs/07-density.sh: lab 07 (8 containers, 8 unikernels, 2 VMs
# side by side) passes `vlab check` here and grades a complete workbook to
# full marks and an empty one to zero.
. "$(dirname "$0")/lib.bash"
lab_requires jq
lab_test 07-density \
	'{"predict-density": "4", "q-worst": "2", "q-cpu": "3"}' \
	'{"q-container-cost": (.["container.cost"] * 1024),
	  "q-fit-unikernels": .["fit.unikernel.rest"],
	  "q-uk-per-vm": .["uk.per.vm"]}'
lab_done
