-- POST signed Zalo deliveries, each once: a file of "<signature>\t<body>" lines, the threads taking
-- every n-th line from their own offset, so no delivery is sent twice in a run:
--   wrk -t2 -s bench/lua/webhook.lua URL -- deliveries.txt 2
local signatures, bodies = {}, {}
local counter = 0
local step = 1
local next_id = 0

-- runs in the main state, once per thread: thread:set makes "id" a global of that thread's state
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  for line in io.lines(args[1]) do
    local tab = line:find("\t", 1, true)
    signatures[#signatures + 1] = line:sub(1, tab - 1)
    bodies[#bodies + 1] = line:sub(tab + 1)
  end
  counter = id  -- luacheck: globals id
  step = tonumber(args[2] or "1")  -- the number of threads
end

function request()
  local n = counter % #bodies + 1
  counter = counter + step
  return wrk.format("POST", "/webhooks/zalo",
    { ["Content-Type"] = "application/json", ["X-ZEvent-Signature"] = signatures[n] }, bodies[n])
end
