# `make test-all`: the whole spec (`make test`) under every Lua in
# MATRIX_LUA, built by every compiler in MATRIX_CC, each cell in its own
# $(BUILD)/matrix/<lua>-<cc> directory. Prints one line per cell, then
# "matrix: N passed, N failed, N skipped"; fails if any cell failed.
# `make test-all MATRIX_LUA=luajit MATRIX_CC=clang` runs one cell.
# luajit means OpenResty's LuaJIT 2.1 (Debian luajit2, .ci/deps).

MATRIX_LUA ?= lua5.1 lua5.2 lua5.3 lua5.4 luajit
MATRIX_CC ?= gcc clang

.PHONY: test-all

test-all:
	@pass=0; fail=0; skip=0; cells=""; \
	log=$$(mktemp); rcf=$$(mktemp); \
	for lua in $(MATRIX_LUA); do for cc in $(MATRIX_CC); do \
	  echo "=== matrix cell: $$lua with $$cc"; \
	  { $(MAKE) --no-print-directory test LUA=$$lua CC=$$cc \
	      BUILD=$(BUILD)/matrix/$$lua-$$cc WERROR='$(WERROR)'; \
	    echo $$? >$$rcf; } 2>&1 | tee $$log; \
	  rc=$$(cat $$rcf); \
	  line=$$(grep -E '^[0-9]+ passed, [0-9]+ failed' $$log | tail -n 1); \
	  p=$$(echo "$$line" | sed -nE 's/^([0-9]+) passed.*/\1/p'); \
	  f=$$(echo "$$line" | sed -nE 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/p'); \
	  s=$$(echo "$$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p'); \
	  p=$${p:-0}; f=$${f:-0}; s=$${s:-0}; \
	  if [ "$$rc" -ne 0 ] && [ "$$f" -eq 0 ]; then f=1; fi; \
	  pass=$$((pass+p)); fail=$$((fail+f)); skip=$$((skip+s)); \
	  cells="$$cells$$lua/$$cc: $$p passed, $$f failed, $$s skipped (exit $$rc)\n"; \
	done; done; \
	rm -f $$log $$rcf; \
	echo "=== matrix summary"; printf "$$cells" | sed 's/^/  /'; \
	echo "matrix: $$pass passed, $$fail failed, $$skip skipped"; \
	[ $$fail -eq 0 ]


# The C files of the module here and in the Windows build, for
# spec/42-luarocks_spec.lua (the rockspec must list the same).
.PHONY: print-sources
print-sources:
	@echo "posix: $(SRC)"
	@echo "win32: $(WIN_SRC)"
