-- scanChildren with 30 new children into empty parents listed one per line in $PARENTS
-- (psql -tAc "SELECT qr FROM bags WHERE type = 'PARENT' AND child_count = 0 LIMIT 3000")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
parents = {}
for line in io.lines(os.getenv("PARENTS")) do parents[#parents + 1] = line end
counter = 0
request = function()
  counter = counter + 1
  local kids = {}
  for k = 1, 30 do kids[k] = string.format('\\"W%dT%dK%d\\"', math.random(1, 1000000000), counter, k) end
  local body = '{"query":"mutation { scanChildren(parentQr: \\"' .. parents[(counter % #parents) + 1] ..
    '\\", childQrs: [' .. table.concat(kids, ",") .. ']) { parent { childCount } linked { qr } rejected { code } } }"}'
  return wrk.format("POST", nil, nil, body)
end
dofile("bench/wrk/percentiles.lua")
