-- Cast POSTs from ballot pages fetched beforehand: one distinct ballot per request.
-- wrk ... -- THREADS FILE   (lines: path TAB session cookie TAB form body with the CSRF token and answers)
-- A cast counts when it answers 303 with the receipt cookie (ballot.votes.views.RECEIPT_COOKIE).
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

function init(args)
   pages, n = my_lines(args[2], tonumber(args[1])), 1
end

function request()
   if n > #pages then
      return finished()
   end
   sending()
   local page = fields(pages[n])
   return wrk.format("POST", page[1], { ["Content-Type"] = FORM["Content-Type"], ["Cookie"] = page[2] }, page[3])
end

function response(status, headers, body)
   local receipt = status == 303 and cookie_of(headers, "ballot_receipt")
   outcome(receipt, status == 303 and "303 without a receipt" or status)
   n = n + 1
end
