-- wrk script: GET /api/me with the bearer token from KB_TOKEN (the
-- per-request cost of the HTTP stack and session check, for comparison).
local token = os.getenv("KB_TOKEN") or ""
request = function()
  return wrk.format("GET", "/api/me", { ["Authorization"] = "Bearer " .. token })
end
