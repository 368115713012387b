-- wrk: a random X-Session-ID per request (10,000 sessions), so a router's split on the
-- session key spreads the load over blue and green as a canary does.
math.randomseed(7)
request = function()
  return wrk.format("GET", "/v1/models", {["X-Session-ID"] = "bench-" .. math.random(1, 10000)})
end
