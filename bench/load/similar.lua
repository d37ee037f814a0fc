-- wrk script: GET /recommend/similar/{id}?limit=10 over track ids 1..TRACKS (default the demo's 50,000).
local tracks = tonumber(os.getenv("TRACKS") or "50000")
local counter = 0
request = function()
  counter = counter + 1
  local track = (counter * 7919) % tracks + 1
  return wrk.format("GET", "/recommend/similar/" .. track .. "?limit=10")
end
