# `make bench`: per-datagram receive and send cost on loopback of plain C
# loops, LuaSocket and this module, in one table (bench/bench.lua), and
# the bulk-flow rows of segmentation offload (bench/cbulk.c, bench/bulk.lua).
# BENCH_K datagrams per round, BENCH_ROUNDS rounds per pass, BENCH_PASSES
# passes; the defaults take about ten seconds.

BENCH_K ?= 2000
BENCH_ROUNDS ?= 20
BENCH_PASSES ?= 10
# The bulk-flow rows (1,200-byte datagrams of one flow, with and without
# segmentation offload, on loopback and a veth pair): datagrams per round,
# rounds per pass (default: half of BENCH_ROUNDS).
BENCH_BULK_K ?= 3200
BENCH_BULK_ROUNDS ?=
CLOOP = $(BUILD)/bench/cloop
CBULK = $(BUILD)/bench/cbulk

.PHONY: bench

$(CLOOP): bench/cloop.c bench/cbench.h
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -O2 -g $(WARNINGS) $(WERROR) -o $@ bench/cloop.c

$(CBULK): bench/cbulk.c bench/cbench.h
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -O2 -g $(WARNINGS) $(WERROR) -o $@ bench/cbulk.c

bench: deps-test $(MODULE) $(CLOOP) $(CBULK)
	@$(RUN_ENV) BENCH_CBULK=$(CBULK) BENCH_BULK_K=$(BENCH_BULK_K) \
	    $(if $(BENCH_BULK_ROUNDS),BENCH_BULK_ROUNDS=$(BENCH_BULK_ROUNDS)) \
	    $(LUA) bench/bench.lua $(CLOOP) $(BENCH_K) $(BENCH_ROUNDS) $(BENCH_PASSES)

# `make bench-callgrind`: instructions per datagram of each variant under
# valgrind (Debian: apt-get install valgrind); explains the ratios above.
.PHONY: bench-callgrind
bench-callgrind: $(MODULE)
	@$(RUN_ENV) sh bench/callgrind.sh $(LUA) 20000

# `make test-batch-loop`: the batch specs against a module whose
# recvmany/sendmany use the one-datagram-at-a-time loop that platforms
# without recvmmsg/sendmmsg (Windows) get, built with -DPK_NO_MMSG.
LOOP_BUILD = $(BUILD)/batch-loop
.PHONY: test-batch-loop
test-batch-loop: deps-test
	@$(MAKE) --no-print-directory BUILD=$(LOOP_BUILD) CFLAGS='-O2 -g -DPK_NO_MMSG' \
	    $(LOOP_BUILD)/pktinfo/core.so
	@LUA=$(LUA) BUILD=$(LOOP_BUILD) PKTINFO_MEMORY_COUNT=100000 sh .ci/busted \
	    spec/30-batch_spec.lua spec/31-memory_spec.lua
