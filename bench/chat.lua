-- wrk: a short chat completion per request with a random X-Session-ID, and the bearer key of
-- $CUTOVER_BENCH_KEY when set (a gateway such as LiteLLM wants its own key).
math.randomseed(7)
local key = os.getenv("CUTOVER_BENCH_KEY")
local body = '{"model":"gpt-4.1","messages":[{"role":"user","content":"bench"}],"max_tokens":16}'
request = function()
  local headers = {["X-Session-ID"] = "bench-" .. math.random(1, 10000), ["Content-Type"] = "application/json"}
  if key then headers["Authorization"] = "Bearer " .. key end
  return wrk.format("POST", "/v1/chat/completions", headers, body)
end
