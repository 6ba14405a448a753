-- The bare voter: GET /row/<token> (one SELECT), then POST /insert (one INSERT) with what it read,
-- as a browser would (bench/bare_app.py). A pair counts when its POST succeeds.
-- wrk ... -- THREADS COUNT ROWS   (rows voter-0 ... voter-<ROWS - 1> exist)
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

function init(args)
   threads = tonumber(args[1])
   limit, rows, n, value = share(tonumber(args[2]), threads), tonumber(args[3]), 0, nil
end

function request()
   if n >= limit then
      return finished()
   end
   sending()
   if value then
      return wrk.format("POST", "/insert", FORM, "value=" .. value)
   end
   return wrk.format("GET", "/row/voter-" .. ((id + n * threads) % rows))
end

function response(status, headers, body)
   if value == nil and status == 200 then
      value = body:match("^(%w+)")  -- the row's value: the POST sends it back
      if value then
         return
      end
   end
   outcome(value ~= nil and status >= 200 and status < 300, (value and "POST " or "GET ") .. status)
   n, value = n + 1, nil
end
