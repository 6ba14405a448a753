-- The bare endpoint: POST /insert, one INSERT each (bench/bare_app.py).
-- wrk ... -- THREADS COUNT
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

function init(args)
   limit, n = share(tonumber(args[2]), tonumber(args[1])), 0
end

function request()
   if n >= limit then
      return finished()
   end
   sending()
   return wrk.format("POST", "/insert", FORM, "value=row+" .. id .. "-" .. n)
end

function response(status, headers, body)
   outcome(status >= 200 and status < 300, status)
   n = n + 1
end
