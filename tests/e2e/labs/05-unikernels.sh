#!/usr/bin/env bash
# tests/e2e/labs/05-unikernels.sh: lab 05 passes `vlab check` here and
# grades a complete workbook (predictions made, then compared) to full
# marks and an empty one to zero.
. "$(dirname "$0")/lib.bash"
lab_requires jq
lab_test 05-unikernels \
	'{"predict-size": "3", "predict-boot": "10 to 100 ms", "q-refused": "exec",
	  "q-why": "2", "q-update": "3"}' \
	'{"q-image-ratio": (.["image.ct"] / .["image.uk"]),
	  "q-guest-boot": .["boot.uk.ready"],
	  "q-mem-growth": (.["uk.fp.after"] - .["uk.fp.before"]),
	  "q-hypercalls": .["uk.hypercalls"]}'
lab_done
