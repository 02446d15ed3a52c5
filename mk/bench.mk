# mk/bench.mk: the benchmark tools (bench/tools/) and the peers they are
# measured against.  `make bench` runs bench/run.sh.

DEBS_BENCH += crun runc bubblewrap jq

BENCH_TOOLS := readytime
BENCH_TARGETS += $(BENCH_TOOLS:%=$(O)/bench/%)

$(O)/bench/%: bench/tools/%.c mk/bench.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -o $@ $<
