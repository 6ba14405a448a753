-- Whole casts, as a voter's browser makes them: GET a distinct ballot link, read the CSRF token
-- and the session cookie from the page, POST the cast. A cast counts when it answers 303 with
-- the receipt cookie (ballot.votes.views.RECEIPT_COOKIE).
-- wrk ... -- THREADS FILE   (lines: path TAB the answers, form-encoded)
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

function init(args)
   links, n, page = my_lines(args[2], tonumber(args[1])), 1, nil
end

function request()
   if n > #links then
      return finished()
   end
   sending()
   local link = fields(links[n])
   if page then
      return wrk.format("POST", link[1], { ["Content-Type"] = FORM["Content-Type"], ["Cookie"] = page.cookie },
                        "csrf_token=" .. page.csrf .. "&step=cast&" .. link[2])
   end
   return wrk.format("GET", link[1])
end

function response(status, headers, body)
   if page == nil then
      local csrf, cookie = body:match('name="csrf_token" value="([^"]+)"'), cookie_of(headers, "session")
      if status == 200 and csrf and cookie then
         page = { csrf = csrf, cookie = cookie }
         return
      end
      outcome(false, status == 200 and "GET 200 without a form" or "GET " .. status)
   else
      local receipt = status == 303 and cookie_of(headers, "ballot_receipt")
      outcome(receipt, status == 303 and "POST 303 without a receipt" or "POST " .. status)
   end
   n, page = n + 1, nil
end
