-- Paced load for bench/health/run.sh: each connection waits a random 0 to 2*PACE_MS
-- milliseconds (default PACE_MS 5) after a response before it sends the next request,
-- so 64 connections offer roughly 64 * 1000 / (PACE_MS + latency) requests a second
-- (about 12,000 at 5 ms) at random moments: a steady probe load below the server's
-- capacity. (A fixed delay keeps the connections in step, so they arrive as bursts of
-- 64 and the latency measured is the burst's queue.)
local pace = tonumber(os.getenv("PACE_MS") or "5")

function delay()
	return math.random(0, 2 * pace)
end
