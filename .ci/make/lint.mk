# `make lint`: luacheck (with .luacheckrc) on every Lua file, cppcheck on
# src/ (every #ifdef configuration, Windows included) and clang-tidy on the
# C files built on this platform, with the Lua headers of $(LUA). Runs all
# three, then prints "N passed, N failed" and fails if any did.
# Debian: apt-get install lua-check cppcheck clang-tidy (.ci/steps/21-lint).

LUACHECK ?= luacheck
CPPCHECK ?= cppcheck
CLANG_TIDY ?= clang-tidy

CPPCHECK_FLAGS = -q --std=c99 --enable=warning,portability,performance,style \
    --inline-suppr --error-exitcode=1 -Isrc \
    --suppress=missingIncludeSystem --suppress=variableScope

# The analyzer and bug-prone checks, less the ones that flag this code's
# deliberate idioms: (void *)(uintptr_t) to drop const for msghdr fields
# (-Wcast-qual), a method prologue macro that declares `self`.
TIDY_CHECKS = -*,clang-analyzer-*,bugprone-*,performance-*,portability-*,\
cert-err34-c,cert-flp30-c,misc-redundant-expression,\
-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,\
-bugprone-macro-parentheses,-bugprone-implicit-widening-of-multiplication-result,\
-performance-no-int-to-ptr

.PHONY: lint lint-lua lint-cppcheck lint-tidy

lint:
	@pass=0; fail=0; \
	for t in lint-lua lint-cppcheck lint-tidy; do \
	  echo "== $$t"; \
	  if $(MAKE) --no-print-directory $$t; then pass=$$((pass+1)); \
	  else fail=$$((fail+1)); echo "== $$t FAILED"; fi; \
	done; \
	echo "lint: $$pass passed, $$fail failed"; \
	[ $$fail -eq 0 ]

lint-lua:
	$(LUACHECK) --no-color --formatter plain --codes .

lint-cppcheck:
	$(CPPCHECK) $(CPPCHECK_FLAGS) src/

lint-tidy:
	@out=$$(mktemp); \
	$(CLANG_TIDY) -quiet --checks='$(TIDY_CHECKS)' --warnings-as-errors='*' \
	    $(SRC) -- -std=c99 -D_GNU_SOURCE -Isrc $(LUA_CFLAGS) >$$out 2>&1; \
	rc=$$?; grep -v 'generated\.$$' $$out; rm -f $$out; \
	echo "clang-tidy: $(words $(SRC)) files, exit $$rc"; exit $$rc
