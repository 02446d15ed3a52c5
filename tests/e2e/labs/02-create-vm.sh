#!/usr/bin/env bash
# tests/e2e/labs/02-create-vm.sh: lab 02 passes `vlab check` here (its VMs
# emulated where this host's KVM cannot run a guest kernel), and grades a
# complete workbook to full marks and an empty one to zero.
. "$(dirname "$0")/lib.bash"
lab_requires jq
lab_test 02-create-vm \
	'{"predict-memory": "2", "predict-sparse": "2", "predict-fixed": "2",
	  "q-nx": "1", "q-pae": "2", "q-fixed": "3"}' \
	'{"q-memory-missing": (.["vm1.mem_given"] - .["vm1.mem_seen"]),
	  "q-disk-growth": (.["vm1.disk_alloc_after"] - .["vm1.disk_alloc_before"]),
	  "q-vcpus": .["vm2.cpus"],
	  "q-boot": (.["vm1.startup"] / 1000)}'
lab_done
