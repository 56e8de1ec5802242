-- wrk script: POST /api/itsm/kedb/search as a requester, cycling through
-- realistic queries. The bearer token comes from KB_TOKEN.
local token = os.getenv("KB_TOKEN") or ""
local queries = {
  "outlook", "vpn", "wifi", "pasword", "reset password", "printer offline", "teams no sound",
  "onedrive not syncing", "laptop slow", "new starter", "install adobe acrobat", "bitlocker recovery key",
  "cannot connect to vpn from home", "outlok crashing", "certificate warning", "shared calendars",
  "docking station monitor", "sap gui error", "jira access", "can't get on the internet at the office",
  "wireless", "mfa new phone", "zoom", "excel freezes", "s drive missing", "ERR-4521", "keyboard",
  "remote desktop", "sign in problem", "meeting room display", "battery drains", "print blank pages",
}
local i = math.random(#queries)
request = function()
  i = i + 1
  local q = queries[(i % #queries) + 1]
  return wrk.format("POST", "/api/itsm/kedb/search",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token },
    '{"query":"' .. q .. '"}')
end
