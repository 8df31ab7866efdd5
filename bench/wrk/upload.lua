-- POST /api/image: the multipart body in $BENCH_BODY (boundary $BENCH_BOUNDARY), tokens rotating.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local platform = os.getenv("BENCH_PLATFORM") or "demo"
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
local body = f:read("*a")
f:close()
local content_type = "multipart/form-data; boundary=" .. os.getenv("BENCH_BOUNDARY")
local nthreads = 0

function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end

function init(args)
  n = tid
end

function request()
  n = n + 1
  return wrk.format("POST", nil, {
    ["X-platform-code"] = platform,
    ["X-auth-token"] = tokens[(n * 7919) % #tokens + 1],
    ["Content-Type"] = content_type,
  }, body)
end
