-- wrk script: each request takes the next line of a requests file, so every request can carry
-- its own learner's session cookie, path and body. Line: METHOD<TAB>PATH<TAB>COOKIE<TAB>BODY
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
  table.insert(threads, thread)
end

function init(args)
  lines = {}
  for line in io.lines(args[1]) do
    local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    table.insert(lines, { method = method, path = path, cookie = cookie, body = body })
  end
  index = offset % #lines
end

function request()
  index = index % #lines + 1
  local r = lines[index]
  local headers = { Cookie = r.cookie }
  if r.method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["Accept"] = "application/json"
  end
  return wrk.format(r.method, r.path, headers, r.body ~= "" and r.body or nil)
end

function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d seconds=%.3f bad=%d mean_ms=%.3f\n",
    summary.requests, summary.duration / 1e6, bad, latency.mean / 1000))
end
