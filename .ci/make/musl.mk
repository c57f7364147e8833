# `make test-musl`: the module on musl (Alpine's C library). Lua 5.4 is
# built from Debian's lua5.4 source package (apt-get source, see
# spec/windows/fetch-lua.sh) and the module from this tree, both by
# musl-gcc (package musl-tools); under that Lua run the C unit tests,
# examples/demo.lua and spec/smoke/smoke.lua (no busted).

MUSL_BUILD ?= $(BUILD)/musl
MUSL_CC ?= musl-gcc

.PHONY: test-musl deps-musl

deps-musl:
	@if ! command -v $(MUSL_CC) >/dev/null 2>&1 || ! command -v dpkg-source >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing: musl-tools dpkg-dev"; apt-get update -qq; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      musl-tools dpkg-dev >/dev/null; \
	  else echo "run:  sudo apt-get install -y musl-tools dpkg-dev" >&2; exit 1; fi; \
	fi

test-musl: deps-musl
	@sh spec/windows/fetch-lua.sh $(MUSL_BUILD)/lua
	@MUSL='$(MUSL_BUILD)' MUSL_CC='$(MUSL_CC)' WERROR='$(WERROR)' sh .ci/musl/run.sh
