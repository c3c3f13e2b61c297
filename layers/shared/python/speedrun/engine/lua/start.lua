-- ARGV: now, the host's connection id. lobby -> running; the run's keys stop expiring.
local meta = load_meta()
if not meta then return fail('not_found', 'unknown speed-run') end
local refused = refuse_connection('host', ARGV[2])
if refused then return refused end
if meta.status ~= 'lobby' then return fail('conflict', 'the speed-run has already started') end
local ends_at = NOW + tonumber(meta.run_duration_ms)
redis.call('HSET', K_META, 'status', 'running', 'started_at', json(NOW), 'ends_at', json(ends_at))
for _, key in ipairs(KEYS) do redis.call('PERSIST', key) end
emit('run_started', json({started_at = NOW, ends_at = ends_at}))
return ok({started_at = NOW, ends_at = ends_at, question_count = tonumber(meta.question_count),
           question_duration_s = tonumber(meta.question_duration_s), options = run_options(meta), images = meta.images, join_code = meta.join_code,
           conns = connections()})
