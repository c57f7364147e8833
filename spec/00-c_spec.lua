-- Runs the C unit tests of the plain-C layer (spec/c/test_c.c, built by
-- `make test`): the address formatter against inet_ntop on 400,000
-- addresses, the parser, control-message decode/encode bytes, the reply
-- rules, the IPv4-disabled rule and segmentation offload (the fallbacks
-- when the kernel refuses, through a hook).
describe("plain-C layer", function()
  it("passes its C unit tests", function()
    local build = os.getenv("PKTINFO_BUILD") or "build"
    local f = assert(io.popen(build .. "/test_c 2>&1; echo \"exit=$?\""))
    local out = f:read("*a")
    f:close()
    assert.matches("C unit tests: %d+ passed, 0 failed", out, 1, false)
    assert.matches("exit=0", out, 1, true)
  end)
end)
