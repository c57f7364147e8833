# `make bench`: per-datagram receive and send cost on loopback of plain C
# loops, LuaSocket and this module, in one table (bench/bench.lua).
# BENCH_K datagrams per round, BENCH_ROUNDS rounds per pass, BENCH_PASSES
# passes; the defaults take about a minute.

BENCH_K ?= 2000
BENCH_ROUNDS ?= 10
BENCH_PASSES ?= 5
CLOOP = $(BUILD)/bench/cloop

.PHONY: bench

$(CLOOP): bench/cloop.c
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -O2 -g $(WARNINGS) $(WERROR) -o $@ bench/cloop.c

bench: deps-test $(MODULE) $(CLOOP)
	@$(RUN_ENV) $(LUA) bench/bench.lua $(CLOOP) $(BENCH_K) $(BENCH_ROUNDS) $(BENCH_PASSES)

# `make bench-callgrind`: instructions per datagram of each variant under
# valgrind (Debian: apt-get install valgrind); explains the ratios above.
.PHONY: bench-callgrind
bench-callgrind: $(MODULE)
	@$(RUN_ENV) sh bench/callgrind.sh $(LUA) 20000
