#!lua name=blackfriday

-- The consumer's one atomic write per Kafka batch (docs/contracts.md §5).
--
-- bf_apply_batch(KEYS = {offsets_key}, ARGV = {ttl_seconds, series_maxlen, series_category,
--                 dedup_window_seconds, then 7 values per record: partition, offset, sale_id,
--                 categoria, producto_id, precio, cantidad_vendida})
--
-- offsets_key (bf:offsets:<topic>) maps partition -> next offset to apply. A record whose
-- offset is below that is skipped, so a batch delivered twice (crash before the Kafka commit,
-- rebalance, a new consumer group) changes nothing. A record with an empty categoria only
-- advances the offset (a record the consumer could not decode). series_category limits the
-- price streams to one category's products ("" = every category).
--
-- Offsets catch the same RECORD twice; sale ids catch the same SALE in two records (a client
-- retried an answer that was in doubt, and the first try had reached Kafka too). Counted sale ids
-- go into time buckets: the hash bf:sales:<n> (sale_id -> categoria) holds the ids counted during
-- the n-th stretch of window/5 seconds of Valkey's clock. A record whose sale id is in the current
-- bucket or one of the 6 before it only advances the offset. So a retry is recognised when its
-- record is consumed within the window of the first one (6 buckets back cover window + one
-- bucket), and each bucket expires 7 buckets after it began: memory holds at most 1.4 windows of
-- sale ids, as hash fields (~100 bytes each; a key per id with its own TTL costs ~280). A record
-- without a sale id ("") is counted without this check.
--
-- The batch is aggregated in Lua tables first, so each key is written once per batch instead
-- of once per sale; only the price streams get one XADD per sale (one entry per sale is the
-- point of a time series), and each stream is trimmed once per batch (XTRIM MAXLEN ~), not by
-- every XADD: an XADD that trims has its trim arguments rewritten for the AOF and the replica
-- (to "=" and the exact threshold), two more objects per sale (docs/capacity.md, P4).
-- The lookups are per batch too: one HMGET of the offsets for every
-- partition in the batch, and one HMGET per dedup bucket for all the batch's sale ids (not one
-- HEXISTS per sale and bucket); a sale id twice in the same batch is caught by a Lua table of the
-- ids counted so far, and the new ids go into the current bucket in one multi-field HSET. In
-- batches of 5,000 sales that is 0.38 instead of 8.37 Valkey commands per sale (docs/capacity.md,
-- third round). Running inside a function makes the read-modify-write of min/max and averages atomic,
-- also with two consumers.
--
-- Returns {applied, skipped, duplicates}.

local K_REPORTS = 'bf:reports'
local K_UNITS = 'bf:units'
local K_PRICE_SUM = 'bf:price_sum'
local K_AVG_UNITS = 'bf:avg_units'
local K_AVG_PRICE = 'bf:avg_price'
local K_MAX = 'bf:price:max'
local K_MIN = 'bf:price:min'
local K_PRODUCT_UNITS = 'bf:product_units'
local K_SALES = 'bf:sales:'
local BUCKETS_BACK = 6   -- buckets of window/5 seconds looked up before the current one
-- Most fields per HMGET/HSET: a call's arguments come from unpack(), which Lua 5.1 bounds by its
-- C stack (~8000 values); a batch holds up to the consumer's --max-batch (5000) records.
local CHUNK = 1000

local function int(n) return string.format('%.0f', n) end
local function exact(x) return string.format('%.17g', x) end
-- Averages are for display: 6 decimals, trailing zeros dropped ("43.5", "2").
local function avg(x)
  local s = string.format('%.6f', x):gsub('0+$', ''):gsub('%.$', '')
  return s
end

-- better(p1, id1, p2, id2, higher): is (p1, id1) a better extreme than (p2, id2)? Equal prices
-- go to the smaller producto_id, so the winner does not depend on the order of consumption.
local function better(p1, id1, p2, id2, higher)
  if p2 == nil then return true end
  if p1 == p2 then return id1 < id2 end
  if higher then return p1 > p2 end
  return p1 < p2
end

-- slices(list, n, f): f(first, last) for consecutive ranges of at most n elements of list.
local function slices(list, n, f)
  for first = 1, #list, n do f(first, math.min(first + n - 1, #list)) end
end

local function apply_batch(keys, args)
  -- Locals for the hot loop: a global lookup costs a table access each time in Lua 5.1. (Globals
  -- can only be read when the function runs, not while the library loads.)
  local call, tonumber, unpack = redis.call, tonumber, unpack
  -- The per-record lists keep their length in a counter: `t[#t + 1] = v` costs a binary search
  -- for the border in Lua 5.1 (luaH_getn), ≈ 7 % of Valkey's CPU in the consumer benchmark's
  -- profile (docs/capacity.md, P4).
  local offsets_key = keys[1]
  local ttl = tonumber(args[1])
  local maxlen = args[2]
  local series_category = args[3]
  local bucket_len = math.max(1, math.floor(tonumber(args[4]) / 5))
  local bucket = math.floor(tonumber(call('TIME')[1]) / bucket_len)
  local bucket_key = K_SALES .. bucket

  -- The stored next offset of every partition in the batch, in one HMGET.
  local next_offset = {}   -- partition -> next offset (stored value, advanced as we go)
  local parts = {}
  for i = 5, #args, 7 do
    local part = args[i]
    if next_offset[part] == nil then next_offset[part] = false; parts[#parts + 1] = part end
  end
  if #parts == 0 then return {0, 0, 0} end -- no records (HMGET needs a field)
  local stored_offsets = call('HMGET', offsets_key, unpack(parts))
  for j, part in ipairs(parts) do next_offset[part] = tonumber(stored_offsets[j] or '0') end

  -- Pass 1, offsets: which records are new (in batch order, so a record twice in the batch is
  -- new once), and the distinct sale ids among the new decodable ones.
  local dirty = {}         -- partitions whose next offset changed
  local fresh, nfresh = {}, 0  -- ARGV index of every new decodable record, in batch order
  local ids, nids, listed = {}, 0, {}
  local skipped = 0
  for i = 5, #args, 7 do
    local part = args[i]
    local off = tonumber(args[i + 1])
    if off < next_offset[part] then
      skipped = skipped + 1
    else
      next_offset[part] = off + 1
      dirty[part] = true
      local sale_id = args[i + 2]
      if args[i + 3] ~= '' then
        nfresh = nfresh + 1; fresh[nfresh] = i
        if sale_id ~= '' and not listed[sale_id] then listed[sale_id] = true; nids = nids + 1; ids[nids] = sale_id end
      end
    end
  end

  -- counted[id]: the sale id is in the current bucket or one of the BUCKETS_BACK before it. Each
  -- bucket is asked only for the ids not found in a newer one.
  local counted = {}
  local pending = ids
  for b = bucket, bucket - BUCKETS_BACK, -1 do
    if #pending == 0 then break end
    local key, left, nleft = K_SALES .. b, {}, 0
    slices(pending, CHUNK, function(first, last)
      local found = call('HMGET', key, unpack(pending, first, last))
      for j = first, last do
        if found[j - first + 1] then counted[pending[j]] = true else nleft = nleft + 1; left[nleft] = pending[j] end
      end
    end)
    pending = left
  end

  -- Pass 2: count every new record whose sale id is not counted (earlier or in this batch).
  local reports, units, price_sum = {}, {}, {}
  local product_units = {} -- producto_id -> units
  local category_units = {} -- categoria -> {producto_id -> units}
  local series = {}        -- series keys touched
  local new_ids, nnew = {}, 0 -- sale_id, categoria, ... for the current bucket's HSET
  local max_p, max_id, max_cat, max_raw
  local min_p, min_id, min_cat, min_raw
  local applied, duplicates = 0, 0

  for k = 1, nfresh do
    local i = fresh[k]
    local sale_id, cat = args[i + 2], args[i + 3]
    if sale_id ~= '' and counted[sale_id] then
      duplicates = duplicates + 1
    else
      if sale_id ~= '' then
        counted[sale_id] = true
        new_ids[nnew + 1] = sale_id
        new_ids[nnew + 2] = cat
        nnew = nnew + 2
      end
      applied = applied + 1
      local id, raw = args[i + 4], args[i + 5]
      local p, u = tonumber(raw), tonumber(args[i + 6])
      reports[cat] = (reports[cat] or 0) + 1
      units[cat] = (units[cat] or 0) + u
      price_sum[cat] = (price_sum[cat] or 0) + p
      product_units[id] = (product_units[id] or 0) + u
      local cu = category_units[cat]
      if cu == nil then cu = {}; category_units[cat] = cu end
      cu[id] = (cu[id] or 0) + u
      if better(p, id, max_p, max_id, true) then max_p, max_id, max_cat, max_raw = p, id, cat, raw end
      if better(p, id, min_p, min_id, false) then min_p, min_id, min_cat, min_raw = p, id, cat, raw end
      if series_category == '' or series_category == cat then
        local sk = 'bf:series:' .. id
        call('XADD', sk, '*', 'precio', raw, 'cantidad_vendida', args[i + 6])
        series[sk] = true
      end
    end
  end

  local avg_units, avg_price = {}, {} -- categoria, average, ... for one HSET each
  for cat, n in pairs(reports) do
    local r = call('HINCRBY', K_REPORTS, cat, int(n))
    local u = call('HINCRBY', K_UNITS, cat, int(units[cat]))
    local s = tonumber(call('HINCRBYFLOAT', K_PRICE_SUM, cat, exact(price_sum[cat])))
    avg_units[#avg_units + 1] = cat; avg_units[#avg_units + 1] = avg(u / r)
    avg_price[#avg_price + 1] = cat; avg_price[#avg_price + 1] = avg(s / r)
  end
  if #avg_units > 0 then
    call('HSET', K_AVG_UNITS, unpack(avg_units))
    call('HSET', K_AVG_PRICE, unpack(avg_price))
  end

  local function extreme(key, p, id, cat, raw, higher)
    if p == nil then return end
    local cur = call('HMGET', key, 'precio', 'producto_id')
    local cur_p = cur[1] and tonumber(cur[1]) or nil
    if better(p, id, cur_p, cur[2] or '', higher) then
      call('HSET', key, 'precio', raw, 'producto_id', id, 'categoria', cat)
    end
  end
  extreme(K_MAX, max_p, max_id, max_cat, max_raw, true)
  extreme(K_MIN, min_p, min_id, min_cat, min_raw, false)

  -- Growing keys get their TTL refreshed on every write, so products that stop selling expire.
  if next(product_units) ~= nil then
    for id, u in pairs(product_units) do
      call('ZINCRBY', K_PRODUCT_UNITS, int(u), id)
    end
    call('EXPIRE', K_PRODUCT_UNITS, ttl)
  end
  for cat, cu in pairs(category_units) do
    local key = K_PRODUCT_UNITS .. ':' .. cat
    for id, u in pairs(cu) do
      call('ZINCRBY', key, int(u), id)
    end
    call('EXPIRE', key, ttl)
  end
  for sk in pairs(series) do
    call('XTRIM', sk, 'MAXLEN', '~', maxlen)
    call('EXPIRE', sk, ttl)
  end

  if nnew > 0 then
    slices(new_ids, 2 * CHUNK, function(first, last) call('HSET', bucket_key, unpack(new_ids, first, last)) end)
    call('EXPIRE', bucket_key, (BUCKETS_BACK + 1) * bucket_len)
  end

  local offsets = {}       -- partition, next offset, ... for one HSET
  for part in pairs(dirty) do
    offsets[#offsets + 1] = part
    offsets[#offsets + 1] = int(next_offset[part])
  end
  if #offsets > 0 then call('HSET', offsets_key, unpack(offsets)) end
  return {applied, skipped, duplicates}
end

redis.register_function('bf_apply_batch', apply_batch)
