-- wrk script: file a request (POST /api/itsm/requests) on every call.
wrk.method = "POST"
wrk.body = '{"title":"Benchmark request","details":"Filed by wrk to measure durable creation throughput.","priority":"normal"}'
wrk.headers["Content-Type"] = "application/json"

-- Count answers that are not 201 so a fast failure never passes as speed.
local errors = 0
response = function(status, headers, body)
  if status ~= 201 then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
  end
end
