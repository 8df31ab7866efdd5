-- POST /api/employee: every request is a different user (token, phone, ID number, SMS code).
-- $BENCH_WRITERS holds "token<TAB>json body" lines; thread t takes lines t, t+T, t+2T… ($BENCH_THREADS = T).
local platform = os.getenv("BENCH_PLATFORM") or "demo"
local stride = tonumber(os.getenv("BENCH_THREADS") or "1")
local nthreads = 0

function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end

function init(args)
  writers = {}
  local i = 0
  for line in io.lines(os.getenv("BENCH_WRITERS")) do
    if i % stride == tid then
      local tab = line:find("\t", 1, true)
      writers[#writers + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
    end
    i = i + 1
  end
  n = 0
end

function request()
  n = n + 1
  -- Past the last writer the requests repeat users and get 409: run.py counts them as failures.
  local w = writers[(n - 1) % #writers + 1]
  return wrk.format("POST", nil, {
    ["X-platform-code"] = platform,
    ["X-auth-token"] = w[1],
    ["Content-Type"] = "application/json",
  }, w[2])
end
