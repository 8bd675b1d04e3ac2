-- wrk script for the intake benchmark: realistic ticket bodies, a fresh Idempotency-Key each.
--   TOKEN=$(curl -s -X POST localhost:8000/api/v1/auth/token -d 'username=operator&password=operator1022' \
--     | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
--   TOKEN=$TOKEN wrk -t2 -c32 -d20s --latency -s bench/intake.lua http://127.0.0.1:8000
-- Keys are "wrk-<run id>-<thread>-<counter>", the run id 64 random bits from /dev/urandom, so
-- no two runs share a key (a warm-up and the measured run starting in the same second did when
-- the key was built from the clock: 157 answers were 409 conflicts, not tickets).
-- wrk counts every answer of 400 or more as an error; done() reports them.
local areas = {"Cầu Giấy", "cau giay", "P. Ba Đình", "phuong-hoan-kiem", "Xã Bát Tràng", "Trúc Bạch", "Hai Bà Trưng"}
local topics = {'"moi-truong.rac-thai"', '"nuoc-sach.mat-nuoc"', '"cay-xanh-chieu-sang"', '"giao-thong"', 'null'}
local descriptions = {
  "Rác thải ùn ứ đầu ngõ nhiều ngày chưa được thu gom",
  "Mất nước từ sáng, cả khu tập thể không có nước sinh hoạt",
  "Đèn đường không sáng, đoạn đường tối rất nguy hiểm",
  "Ổ gà lớn giữa đường, xe máy dễ ngã",
}
local prefixes = {"090", "091", "093", "096", "097", "098", "086", "088"}
local counter = 0
local thread_id = 0
local next_id = 0

-- 16 hex digits from the kernel's random source; each thread's Lua state draws its own.
local function random_run_id()
  local source = assert(io.open("/dev/urandom", "rb"), "bench/intake.lua needs /dev/urandom")
  local bytes = source:read(8)
  source:close()
  return (bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
local run_id = random_run_id()

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

function init(args)
  math.randomseed(os.time() + thread_id * 7919)
end

local function pick(list) return list[math.random(#list)] end

function request()
  counter = counter + 1
  local body = string.format(
    '{"channel":"phone","caller":{"name":"Nguyễn Văn An","phone":"%s%07d"},' ..
    '"description":"%s","area":"%s","topic":%s,"address":"Số %d ngõ %d"}',
    pick(prefixes), math.random(0, 9999999), pick(descriptions), pick(areas), pick(topics),
    math.random(1, 200), math.random(1, 100))
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
    ["Idempotency-Key"] = string.format("wrk-%s-%d-%d", run_id, thread_id, counter),
  }
  return wrk.format("POST", "/api/v1/tickets", headers, body)
end

local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("requests/s %.0f  p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
