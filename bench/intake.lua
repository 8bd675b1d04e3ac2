-- wrk script for the intake benchmark: realistic ticket bodies, a fresh Idempotency-Key each.
--   TOKEN=$(curl -s -X POST localhost:8000/api/v1/auth/token -d 'username=operator&password=operator1022' \
--     | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
--   TOKEN=$TOKEN wrk -t2 -c32 -d20s --latency -s bench/intake.lua http://127.0.0.1:8000
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
    ["Idempotency-Key"] = string.format("wrk-%d-%d-%d", os.time(), thread_id, counter),
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
