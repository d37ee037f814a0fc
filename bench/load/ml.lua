-- wrk script: GET /recommend/user/{id}/ml?limit=20 over user ids 1..USERS (default the demo's 10,000).
local users = tonumber(os.getenv("USERS") or "10000")
local counter = 0
request = function()
  counter = counter + 1
  local user = (counter * 7919) % users + 1
  return wrk.format("GET", "/recommend/user/" .. user .. "/ml?limit=20")
end
