-- wrk script for the activation test: every response must be one release's
-- index.html with that release's ETag (args: etagA etagB).
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; bad = 0; ea = args[1]; eb = args[2] end
function response(status, headers, body)
  local etag
  for k, v in pairs(headers) do if string.lower(k) == "etag" then etag = v end end
  local a = body:find('data-release="A"', 1, true) and etag == ea
  local b = body:find('data-release="B"', 1, true) and etag == eb
  if status == 200 and (a or b) and not (a and b) then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local o, b = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("bad") end
  io.write(string.format("flip-check ok=%d bad=%d\n", o, b))
end
