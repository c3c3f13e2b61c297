-- ARGV: now, meta fields (JSON object of strings), questions (JSON array of question JSON strings),
-- run_created event data (JSON)
if redis.call('EXISTS', K_META) == 1 then return fail('conflict', 'run id already in use') end
local fields = cjson.decode(ARGV[2])
for name, value in pairs(fields) do redis.call('HSET', K_META, name, value) end
local questions = cjson.decode(ARGV[3])
for i, question in ipairs(questions) do redis.call('HSET', K_QUESTIONS, i - 1, question) end
emit('run_created', ARGV[4])
follow_lobby_expiry(fields)
return ok({})
