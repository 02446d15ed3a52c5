#!/usr/bin/env bash
# tests/e2e/labs/06-performance.sh: lab 06 (all seven metrics on the four
# engines) passes `vlab check` here and grades a complete workbook to full
# marks and an empty one to zero.
. "$(dirname "$0")/lib.bash"
lab_requires jq
lab_test 06-performance \
	'{"predict-startup": "3", "predict-image": "3", "predict-footprint": "2",
	  "predict-cpu": "2", "predict-mem": "the container", "predict-disk": "1",
	  "predict-net": "3", "q-choose-kernel": "2", "q-choose-density": "1",
	  "q-choose-tenants": "2", "q-choose-function": "1"}' \
	'{"q-startup": (.["perf.vm.startup"] / .["perf.container.startup"]),
	  "q-image": (.["perf.vm.image"] / .["perf.unikernel.image"]),
	  "q-footprint": .["perf.vm.footprint"],
	  "q-cpu": (100 * .["perf.container.cpu.int"] / .["perf.host.cpu.int"]),
	  "q-disk": (.["perf.container.disk.write"] / .["perf.vm.disk.write"]),
	  "q-net": .["perf.unikernel.net.rtt"]}'
lab_done
