-- stats over HTTP: TOKEN=<admin token> wrk -t1 -c1 -d15s -s bench/wrk/stats.lua http://127.0.0.1:8080/graphql
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"query":"{ stats { parentBags childBags bills openBills inProgressBills completedBills totalScans scansToday users } }"}'
dofile("bench/wrk/percentiles.lua")
