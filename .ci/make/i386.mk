# `make test-i386`: the whole spec on 32-bit x86 under Debian's i386 Lua 5.4
# and 5.1 (unpacked into $(I386_BUILD)/root, not installed: see
# .ci/i386/root.sh), the module and the C unit tests built by gcc -m32.

I386_BUILD ?= $(BUILD)/i386
I386_LUAS ?= lua5.4 lua5.1

.PHONY: test-i386

test-i386: deps-test
	@sh .ci/i386/root.sh $(I386_BUILD)/root
	@I386='$(I386_BUILD)' LUAS='$(I386_LUAS)' WERROR='$(WERROR)' sh .ci/i386/run.sh
