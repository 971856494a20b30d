-- GET <path prefix><token> with a token drawn at random from a file of tracking tokens (one a line):
--   wrk -s bench/lua/tokens.lua URL -- tokens.txt /t/
local tokens = {}
local prefix = "/t/"

function init(args)
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
  prefix = args[2] or prefix
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  return wrk.format("GET", prefix .. tokens[math.random(#tokens)])
end
