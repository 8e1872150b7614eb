-- wrk script for the activation test on a large file (answered from the
-- edge's file and answer pipes once hot): every response must be one
-- release's big.bin, all 'A' or all 'B' and LEN bytes, with that release's
-- ETag (args: etagA etagB LEN).
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; bad = 0; ea = args[1]; eb = args[2]; len = tonumber(args[3]) end
function response(status, headers, body)
  local etag
  for k, v in pairs(headers) do if string.lower(k) == "etag" then etag = v end end
  local good = status == 200 and #body == len and
    ((etag == ea and not body:find("[^A]")) or (etag == eb and not body:find("[^B]")))
  if good then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local o, b = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("bad") end
  io.write(string.format("flip-check-big ok=%d bad=%d\n", o, b))
end
