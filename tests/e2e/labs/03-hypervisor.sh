#!/usr/bin/env bash
# tests/e2e/labs/03-hypervisor.sh: lab 03 passes `vlab check` here and
# grades a complete workbook to full marks and an empty one to zero.
. "$(dirname "$0")/lib.bash"
lab_requires jq
lab_test 03-hypervisor \
	'{"q-type": "2", "predict-exits": "2", "q-virtio": "2", "q-why-emulate": "1"}' \
	'{"q-io-ratio": (.["io.uk.512"] / .["io.host.512"]),
	  "q-doctor": .["doctor.ratio"],
	  "q-vm-slower": (.["sieve.host"] / .["sieve.vm"])}'
lab_done
