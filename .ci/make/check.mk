# Hostile-input checks (issue 6). Each builds in its own directory:
#   make check-asan       the module built by clang with AddressSanitizer and
#                         UndefinedBehaviorSanitizer (build/asan), the C unit
#                         tests too; the whole spec run with clang's runtime
#                         preloaded into the (unsanitized) interpreter; fails
#                         on any report, in any process the spec starts.
#   make check-valgrind   the spec under memcheck (build/valgrind, -O1 -g):
#                         zero errors, nothing definitely or indirectly lost.
#   make fuzz FUZZ_SECONDS=60   every libFuzzer target of spec/fuzz/ for
#                         that long (FUZZ_SECONDS=0: replay the corpus only).
# Debian: clang libclang-rt-14-dev valgrind (.ci/steps/60-asan, 61-fuzz,
# 62-valgrind install them).

CLANG ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD ?= build/fuzz
ASAN_BUILD ?= build/asan
VALGRIND_BUILD ?= build/valgrind
VALGRIND ?= valgrind
BUSTED ?= busted
# Specs that size themselves down under the slow runners read this.
CHECK_LOAD_N ?= 20000
# A spec that hangs under a checker fails it instead of stalling CI.
CHECK_TIMEOUT ?= 1800
# Spec files to run (default: all of spec/).
CHECK_SPECS ?=

ASAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
             -fno-sanitize-recover=undefined
# The runtime the interpreter must load first (lua5.4 is not sanitized).
ASAN_RT = $(shell $(CLANG) -print-file-name=libclang_rt.asan-$$(uname -m).so 2>/dev/null)
ASAN_LOGS = $(ASAN_BUILD)/reports
ASAN_LUA = $(abspath $(ASAN_BUILD))/lua
# Reports go to files (one per process, named after the program) so that a
# report from a helper process is counted too; leaks in the interpreter or
# busted's own C modules that are not ours are listed in lsan.supp.
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:log_path=$(abspath $(ASAN_LOGS))/report:log_exe_name=1:detect_odr_violation=0 \
    LSAN_OPTIONS=suppressions=$(abspath spec/fuzz/lsan.supp):print_suppressions=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(abspath $(ASAN_LOGS))/report:log_exe_name=1

# The interpreter as the specs see it: lua5.4 with the runtime preloaded
# (and LD_PRELOAD forgotten again for the programs it starts). exec -a keeps
# this wrapper's path in arg[-1], where specs find the interpreter for
# their helper processes.
$(ASAN_LUA): spec/fuzz/noinherit.c
	@mkdir -p $(dir $@)
	$(CLANG) -shared -fPIC -o $(ASAN_BUILD)/noinherit.so spec/fuzz/noinherit.c
	printf '#!/bin/bash\nLD_PRELOAD="%s %s" exec -a "$$0" %s "$$@"\n' '$(ASAN_RT)' \
	    '$(abspath $(ASAN_BUILD))/noinherit.so' '$(shell command -v $(LUA))' >$@
	chmod +x $@

.PHONY: check-asan check-valgrind fuzz fuzz-replay

# A busted --filter-out pattern (no spaces) for tests to leave out under
# the checkers; empty: none. Specs see PKTINFO_SANITIZER=asan|valgrind and
# skip resident-size figures themselves (the checkers' allocators keep
# freed blocks on purpose).
CHECK_FILTER_OUT ?=

# Prints busted's counts of $(1) (a log) plus $(2) extra failures as the
# closing "N passed, N failed, N skipped" line CI sums.
define check_summary
line=$$(grep -E '[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' $(1) | tail -n 1); \
set -- $$(echo "$$line" | grep -oE '[0-9]+ (success|failure|error|pending)' | grep -oE '^[0-9]+'); \
[ -n "$$line" ] || set -- 0 1 0 0; \
echo "$$1 passed, $$(( $$2 + $$3 + $(2) )) failed, $$4 skipped"
endef

check-asan: deps-test
	@test -f "$(ASAN_RT)" || { echo "no $(ASAN_RT): apt-get install clang libclang-rt-14-dev"; exit 1; }
	$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CC=$(CLANG) \
	    CFLAGS='$(ASAN_FLAGS)' LDFLAGS='$(ASAN_FLAGS)' \
	    $(ASAN_BUILD)/pktinfo/core.so $(ASAN_BUILD)/test_c $(ASAN_LUA)
	@rm -rf $(ASAN_LOGS); mkdir -p $(ASAN_LOGS)
	@echo "== spec under ASan/UBSan ($(notdir $(ASAN_RT)) preloaded into $(LUA))"
	@$(ASAN_ENV) PKTINFO_LOAD_N=$(CHECK_LOAD_N) PKTINFO_MEMORY_COUNT=$(CHECK_LOAD_N) PKTINFO_SANITIZER=asan \
	    LUA=$(ASAN_LUA) BUILD=$(ASAN_BUILD) timeout $(CHECK_TIMEOUT) sh .ci/busted \
	    $(if $(CHECK_FILTER_OUT),--filter-out='$(CHECK_FILTER_OUT)') $(CHECK_SPECS) \
	    >$(ASAN_BUILD)/spec.log 2>&1; rc=$$?; \
	grep -vE '^[-+*]+$$' $(ASAN_BUILD)/spec.log | tail -n 25; \
	n=0; for f in $(ASAN_LOGS)/*; do [ -f "$$f" ] || continue; n=$$((n+1)); \
	  echo "== $$f"; head -n 60 "$$f"; done; \
	echo "sanitizer reports: $$n (spec exit $$rc)"; \
	$(call check_summary,$(ASAN_BUILD)/spec.log,$$n); \
	[ $$rc -eq 0 ] && [ $$n -eq 0 ]

# The spec under memcheck, busted run in-process (helper processes the specs
# start run unchecked). -O1 keeps the stacks readable. A leak counts only
# if definite or indirect; memcheck.log lists them with their stacks.
check-valgrind: deps-test
	$(MAKE) --no-print-directory BUILD=$(VALGRIND_BUILD) CFLAGS='-O1 -g' \
	    $(VALGRIND_BUILD)/pktinfo/core.so $(VALGRIND_BUILD)/test_c
	@echo "== spec under valgrind memcheck"
	@LUA_CPATH='$(VALGRIND_BUILD)/?.so;;' LUA_PATH='lua/?.lua;spec/?.lua;;' \
	    PKTINFO_BUILD=$(VALGRIND_BUILD) PKTINFO_LOAD_N=$(CHECK_LOAD_N) PKTINFO_MEMORY_COUNT=$(CHECK_LOAD_N) \
	    PKTINFO_SANITIZER=valgrind LUA=$(LUA) \
	    timeout $(CHECK_TIMEOUT) $(VALGRIND) --tool=memcheck --error-exitcode=99 --leak-check=full \
	    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
	    --track-fds=no --num-callers=30 --log-file=$(VALGRIND_BUILD)/memcheck.log \
	    $(LUA) $$(command -v $(BUSTED)) $(if $(CHECK_FILTER_OUT),--filter-out='$(CHECK_FILTER_OUT)') $(CHECK_SPECS) \
	    >$(VALGRIND_BUILD)/spec.log 2>&1; rc=$$?; \
	grep -vE '^[-+*]+$$' $(VALGRIND_BUILD)/spec.log | tail -n 25; \
	grep -E 'in use at exit|no leaks are possible|definitely lost|indirectly lost|ERROR SUMMARY' $(VALGRIND_BUILD)/memcheck.log; \
	e=$$(sed -nE 's/.*ERROR SUMMARY: ([0-9]+) errors.*/\1/p' $(VALGRIND_BUILD)/memcheck.log | tail -n 1); \
	echo "memcheck errors: $${e:-?} (exit $$rc; 99: memcheck errors, see $(VALGRIND_BUILD)/memcheck.log)"; \
	$(call check_summary,$(VALGRIND_BUILD)/spec.log,$${e:-1}); \
	[ $$rc -eq 0 ]

fuzz:
	@CLANG=$(CLANG) bash spec/fuzz/run $(FUZZ_SECONDS) $(FUZZ_BUILD)

fuzz-replay:
	@CLANG=$(CLANG) bash spec/fuzz/run 0 $(FUZZ_BUILD)
