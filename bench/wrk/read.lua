-- GET with X-platform-code and an X-auth-token rotating through $BENCH_TOKENS (one token a line).
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local platform = os.getenv("BENCH_PLATFORM") or "demo"
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
  local headers = { ["X-platform-code"] = platform }
  if #tokens > 0 then headers["X-auth-token"] = tokens[(n * 7919) % #tokens + 1] end
  return wrk.format("GET", nil, headers)
end
