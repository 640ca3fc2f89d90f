-- wrk script of the many-users rows (t/bench/run.sh): every request
-- carries the next of the tokens in a file, round-robin, in a header.
--   wrk ... -s tokens.lua URL -- FILE HEADER [PREFIX [LIMIT]]
-- PREFIX goes before the token ("Bearer ", "jwt=" for a cookie).  Each
-- thread starts at its own place in the file, so two threads do not send
-- the same token at once.  tokens-limit.lua adds LIMIT.
local threads = 0

function setup(thread)
    thread:set("id", threads)
    threads = threads + 1
end

local toks, n, i, header, prefix = {}, 0, 0, nil, ""

function init(args)
    for line in io.lines(args[1]) do
        n = n + 1
        toks[n] = line
    end
    header = args[2]
    prefix = args[3] or ""
    i = (math.floor(n / 2) * (id or 0)) % n
end

function request()
    i = i % n + 1
    wrk.headers[header] = prefix .. toks[i]
    return wrk.format(nil)
end
