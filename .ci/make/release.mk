# `make rock`: the installable source rock of this release, built from the
# tree (issue 14). A tarball of the files a build and a user need
# (lua-pktinfo-V.tar.gz, top directory lua-pktinfo-V/) is made first; then
# `luarocks pack` packs the versioned rockspec, its source URL pointed at
# that tarball, into $(ROCK_DIR)/lua-pktinfo-V-1.src.rock. The rock holds
# the tarball, so `luarocks install` of it downloads nothing. It refuses
# when the rockspec's version is not the module's (PK_VERSION).
# Debian: luarocks (with zip), tar, gzip.

ROCK_VERSION ?= $(shell sed -n 's/^\#define PK_VERSION "\(.*\)"/\1/p' src/lpktinfo.c)
ROCK_REVISION ?= 1
ROCK_DIR ?= $(BUILD)/rock
ROCK_NAME = lua-pktinfo-$(ROCK_VERSION)
ROCK_SPEC = rockspec/$(ROCK_NAME)-$(ROCK_REVISION).rockspec
# What the tarball holds (no build output, no CI or test machinery).
ROCK_FILES = README.md CHANGELOG.md Makefile bin lua src types rockspec examples

.PHONY: rock

rock:
	@test -f $(ROCK_SPEC) || { echo "no $(ROCK_SPEC) for version $(ROCK_VERSION) (src/lpktinfo.c PK_VERSION)"; exit 1; }
	@grep -q '^version = "$(ROCK_VERSION)-$(ROCK_REVISION)"$$' $(ROCK_SPEC) || \
	    { echo "$(ROCK_SPEC): version is not $(ROCK_VERSION)-$(ROCK_REVISION)"; exit 1; }
	@rm -rf $(ROCK_DIR) && mkdir -p $(ROCK_DIR)
	tar -czf $(ROCK_DIR)/$(ROCK_NAME).tar.gz --sort=name --owner=0 --group=0 --numeric-owner \
	    --transform 's,^,$(ROCK_NAME)/,' $(ROCK_FILES)
	sed 's|^  url = .*|  url = "file://$(abspath $(ROCK_DIR))/$(ROCK_NAME).tar.gz",|' $(ROCK_SPEC) \
	    >$(ROCK_DIR)/$(notdir $(ROCK_SPEC))
	cd $(ROCK_DIR) && luarocks --lua-version=$(LUA_VERSION) pack $(notdir $(ROCK_SPEC))
	@test -f $(ROCK_DIR)/$(ROCK_NAME)-$(ROCK_REVISION).src.rock
	@echo "built $(ROCK_DIR)/$(ROCK_NAME)-$(ROCK_REVISION).src.rock"
