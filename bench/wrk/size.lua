-- One query of the cost-in-size benchmark (bench/size.sh), with a random existing key per
-- request spread over the whole data set. QUERY (env): bagtree, billpage, recentscans, stats,
-- baglist, billlist, scansummary. PARENTS: how many parents the seed made (cmd/seed numbers
-- them SB00000.., M444-00000.., SB0000000..); BILLS: how many bills; TOKEN: an admin's token.
local which = os.getenv("QUERY")
local parents = tonumber(os.getenv("PARENTS") or "33333")
local bills = tonumber(os.getenv("BILLS") or "300")
local queries = {
  bagtree = '{bag(qr:"%s"){qr childCount children(first:30){edges{node{qr createdAt}}}}}',
  billpage = '{bill(billNumber:"%s"){billNumber parentBagCount parentBags(first:50){edges{node{qr childCount}}}}}',
  recentscans = '{scans(first:50){edges{node{id kind at bagQr}}}}',
  stats = '{stats{parentBags childBags bills openBills inProgressBills completedBills totalScans scansToday users}}',
  baglist = '{bags(first:20,filter:{type:PARENT,billed:false,areaCode:"%s"}){totalCount edges{node{qr status childCount weightKg createdAt}}}}',
  billlist = '{bills(first:20){totalCount edges{node{id billNumber status capacity parentBagCount childBagCount totalWeightKg createdAt}}}}',
  scansummary = '{scanSummary(groupBy:DAY){key count}}',
}
local areas = {"lucknow", "indore", "jaipur", "hisar", "sri_ganganagar", "sangaria", "bathinda", "raipur", "ranchi", "akola"}
local template = assert(queries[which], "QUERY must name one of the queries in bench/wrk/size.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

local function parentQR()
  local i = math.random(0, parents - 1)
  if i < 100000 then return string.format("SB%05d", i) end
  if i < 200000 then return string.format("M444-%05d", i - 100000) end
  return string.format("SB%07d", i - 200000)
end

request = function()
  local key = ""
  if which == "bagtree" then key = parentQR()
  elseif which == "billpage" then key = string.format("BILL-%06d", math.random(1, bills))
  elseif which == "baglist" then key = areas[math.random(1, #areas)] end
  local q = string.format(template, key):gsub('"', '\\"')
  return wrk.format(nil, nil, nil, '{"query":"' .. q .. '"}')
end

local threads = {}
function setup(thread) table.insert(threads, thread) end
errors = 0
response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then errors = errors + 1 end
end

done = function(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + (t:get("errors") or 0) end
  io.write(string.format("RESULT query=%s p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f requests=%d errors=%d\n", which,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, summary.requests,
    failed + summary.errors.status + summary.errors.connect + summary.errors.timeout))
end
