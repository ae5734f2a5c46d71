-- bag(qr){children} for random seeded parents: TOKEN=<admin token> wrk ... -s bench/wrk/tree.lua URL
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
counter = 0
request = function()
  counter = counter + 1
  local qr = string.format("SB%05d", (counter * 7919) % 100000)
  local body = '{"query":"{ bag(qr: \\"' .. qr .. '\\") { qr status childCount children { edges { node { qr createdAt } } } } }"}'
  return wrk.format("POST", nil, nil, body)
end
dofile("bench/wrk/percentiles.lua")
