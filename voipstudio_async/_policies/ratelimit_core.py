"""The limiter's one algorithm: a state machine over a flat state of numbers.

``LocalLimiter`` keeps the state in a dict and runs the Python functions below;
``RedisLimiter`` keeps it in one Redis hash and runs ``LUA``, the same functions written
in Lua. ``tests/ratelimit_traces.yaml`` drives both through the same scenarios, so
neither can drift. Every field is a number that defaults to 0, and the state has a
fixed set of fields (``FIELDS``) whatever the run length.

States: *unlimited* (``rate0 == 0``: no 429 seen, only the optional static cap paces),
*slow start* (``slow == 1``: the rate doubles every ``RATE_SLOW_START_DOUBLING`` s from
the accepted rate measured at the first 429) and *CUBIC* (around ``ceiling``, the
accepted rate measured at the last cut; ``RATE_PROBE_AFTER`` s past the ceiling with no
429 the limit went up, and the rate doubles every ``RATE_PROBE_DOUBLING`` s until the
next 429). Events:

- ``reserve``: book the next send time (GCRA: ``tat`` is when the schedule is free
  again; the interval is the rate's at that time, so bookings made in slow start follow
  the rate as it will be, not as it is). A send that finds the schedule idle (demand
  below the rate) moves ``grows`` forward by the idle time, so the rate does not grow
  while it is not used (TCP's congestion-window validation); an idle gap of at least
  ``RATE_MIN_WINDOW`` restarts the measurement span (``busy``), so successes drawn
  from the server's refilled burst after a quiet spell are not taken for its rate. A
  refused reservation (its wait above ``left``) changes nothing: the idle time is
  counted once, by the send that ends it.
- ``succeed``: count a success in a ring of ``RING`` buckets of 1/``RING`` s.
- ``join``: a process back from its own limiter (the shared state was lost to it at
  ``left_at``) brings its successes of the last ``RATE_WINDOW``. If the state has cut
  since ``left_at``, that cut measured without this process's traffic, which the server
  was accepting alongside: rates of disjoint flows add, so the current rate rises by
  it (a restarted Redis's first cut saw only the processes back first, and a second
  cut over the short span since then set a ceiling of ~35/s of 200 for 2.5 s), and the
  measurement span restarts (``busy``): its successes before now are not in the ring.
  Into an empty (restarted) state, a process whose own limiter has seen 429s starts
  slow start from its own rate (as a cut at ``now``), so the processes back after it
  add theirs instead of all sending an unpaced first wave. Otherwise (unlimited, or no
  cut since it left) the successes go to the ring, for the next cut to measure. Its own
  limiter's bookings are still sent: the shared schedule (``tat``) starts after them.
- ``throttle``: a 429. It always extends the pause (``paused``) by its ``Retry-After``.
  It is an *echo*, changing nothing else, when its request was sent before the last
  cut, or when less than ``RATE_MIN_WINDOW`` of successes since the last cut's pause
  ended can be measured (one cut per measurement, as TCP cuts once per round trip: a
  burst of 429s cuts once, and never by halving blindly). Otherwise it *cuts*: the
  first 429 starts slow start from ``RATE_FIRST_CUT`` (half) of the successes of the
  last second divided by a full second (a burst at the start of a run is not a rate,
  and that second may hold the server's initial bucket: from all of it, slow start
  began up to 1.8 times the limit, and its 429s went on until the next cut); later
  ones set ``ceiling`` to the accepted rate over the whole buckets since ``max(busy,
  pause end, now - RATE_WINDOW)``, capped by the current rate, and restart CUBIC from
  ``RATE_CUBIC_BETA`` times it (``rate0``; CUBIC's ``K`` is the time from ``rate0``
  back up to ``ceiling``). A ceiling above the last one may hold the server's refilled
  burst, drained by a probe after a quiet spell, so CUBIC then climbs towards it from
  ``RATE_CUBIC_BETA`` times the larger of the last ceiling and half the new one, and
  the next 429 measures again. A cut bumps ``epoch``: reservations booked before it
  are void and booked again.
"""

from __future__ import annotations

import math
from typing import Final

from .._constants import (
    RATE_CUBIC_BETA,
    RATE_CUBIC_SCALE,
    RATE_FIRST_CUT,
    RATE_MIN,
    RATE_MIN_WINDOW,
    RATE_PROBE_AFTER,
    RATE_PROBE_DOUBLING,
    RATE_RING,
    RATE_SLOW_START_DOUBLING,
    RATE_SLOW_START_MAX_DOUBLINGS,
    RATE_WINDOW,
)

__all__ = [
    "FIELDS",
    "LUA",
    "RING",
    "State",
    "join",
    "rate_at",
    "recent_successes",
    "reserve",
    "succeed",
    "throttle",
]

RING: Final = RATE_RING
"""Success buckets per ``RATE_WINDOW`` (slot ``i`` holds bucket id ``b<i>``, count ``n<i>``)."""

FIELDS: Final = (
    "paused",
    "tat",
    "last",
    "epoch",
    "throttled_at",
    "grows",
    "rate0",
    "ceiling",
    "slow",
    "busy",
    *(f"b{i}" for i in range(RING)),
    *(f"n{i}" for i in range(RING)),
)

State = dict[str, float]


def _bucket(now: float) -> int:
    return math.floor(now * RING / RATE_WINDOW)


def rate_at(st: State, at: float, cap: float) -> float | None:
    """The send rate at ``at`` (requests/s); None when unlimited. ``cap`` 0: no cap."""
    adaptive: float | None = None
    rate0 = st.get("rate0", 0.0)
    if rate0 > 0:
        elapsed = max(0.0, at - st.get("grows", 0.0))
        if st.get("slow", 0.0) == 1:
            adaptive = rate0 * 2.0 ** min(
                elapsed / RATE_SLOW_START_DOUBLING, RATE_SLOW_START_MAX_DOUBLINGS
            )
        else:
            ceiling = st.get("ceiling", rate0)
            k = (max(0.0, ceiling - rate0) / RATE_CUBIC_SCALE) ** (1 / 3)
            probe = k + RATE_PROBE_AFTER
            if elapsed <= probe:
                adaptive = ceiling + RATE_CUBIC_SCALE * (elapsed - k) ** 3
            else:
                # Past the ceiling with no 429 for a while: the limit went up. CUBIC's
                # cubic climb took 5 s from 50 to 150/s; doubling finds it in about 1.
                doublings = min(
                    (elapsed - probe) / RATE_PROBE_DOUBLING, RATE_SLOW_START_MAX_DOUBLINGS
                )
                base = ceiling + RATE_CUBIC_SCALE * RATE_PROBE_AFTER**3
                adaptive = base * 2.0**doublings
        adaptive = max(RATE_MIN, adaptive)
    if cap > 0:
        return cap if adaptive is None else min(cap, adaptive)
    return adaptive


def succeed(st: State, now: float, count: int = 1) -> None:
    """``count`` requests answered below 400 at ``now``."""
    bucket = _bucket(now)
    slot = bucket % RING
    if st.get(f"b{slot}", 0.0) != bucket:
        st[f"b{slot}"] = bucket
        st[f"n{slot}"] = 0.0
    st[f"n{slot}"] = st.get(f"n{slot}", 0.0) + count


def join(
    st: State, now: float, count: float, left_at: float, limited: bool = False, booked: float = 0
) -> None:
    """A process back at ``now`` from its own limiter: ``count`` successes of its last
    ``RATE_WINDOW``, ``limited`` when that limiter has seen the server's 429s, and
    ``booked`` the end of the sends it booked (0: none ahead); it lost the shared
    state at ``left_at``."""
    if count > 0:
        _join_successes(st, now, count, left_at, limited)
    # Its own limiter's bookings are still sent as booked, and every process back had
    # its share booked as far: the shared schedule starts after them (overlapping it,
    # they drew 25-50 429s at a Redis restart).
    if booked > st.get("tat", 0.0):
        st["tat"] = booked


def _join_successes(st: State, now: float, count: float, left_at: float, limited: bool) -> None:
    rate0 = st.get("rate0", 0.0)
    if rate0 == 0 and limited:
        # An empty (restarted) state, but the server limits: left unlimited, every
        # process back would send a first wave unpaced. Slow start from what the
        # server accepted from this one; each one back after it adds its own.
        st["rate0"] = max(RATE_MIN, count / RATE_WINDOW)
        st["slow"] = 1.0
        # As a cut: the schedule and CUBIC's clock start now (a send finding tat at 0
        # would take all time since for idle, and the rate would never grow).
        st["throttled_at"] = st["grows"] = st["busy"] = st["tat"] = st["last"] = now
        return
    if rate0 == 0 or st.get("throttled_at", 0.0) <= left_at:
        succeed(st, now, int(count))
        return
    rate = count / RATE_WINDOW
    # The measurement span restarts: before now this traffic was not in the ring.
    st["busy"] = now
    if st.get("slow", 0.0) == 1:
        doublings = min(
            max(0.0, now - st.get("grows", 0.0)) / RATE_SLOW_START_DOUBLING,
            RATE_SLOW_START_MAX_DOUBLINGS,
        )
        st["rate0"] = rate0 + rate / 2.0**doublings  # the rate at ``now`` rises by ``rate``
    else:
        ceiling = st.get("ceiling", rate0) + rate
        st["ceiling"] = ceiling
        st["rate0"] = ceiling * RATE_CUBIC_BETA


def _successes_since(st: State, start: float, now: float) -> tuple[float, float]:
    """Successes in the whole buckets after ``start``'s, and the span they cover."""
    first, last = _bucket(start), _bucket(now)
    total = 0.0
    for slot in range(RING):
        if first < st.get(f"b{slot}", 0.0) <= last:
            total += st.get(f"n{slot}", 0.0)
    return total, now - (first + 1) * RATE_WINDOW / RING


def recent_successes(st: State, now: float) -> float:
    """Successes counted in the last ``RATE_WINDOW`` before ``now``."""
    return _successes_since(st, now - RATE_WINDOW, now)[0]


def reserve(st: State, now: float, cap: float, burst: int, left: float) -> tuple[bool, float]:
    """Book a send time: ``(ok, wait)``; not ok (nothing booked) when ``left >= 0`` and
    the wait is longer. ``cap`` 0: no static cap."""
    start = max(now, st.get("paused", 0.0))
    gap = start - max(st.get("tat", 0.0), st.get("last", 0.0))
    rate0 = st.get("rate0", 0.0)
    idle = gap if gap > 0 and rate0 > 0 else 0.0  # idle: the rate does not grow
    tat = max(st.get("tat", 0.0), start)
    # The rate when this send's slot comes up, with ``grows`` moved by the idle time.
    rate = rate_at(st, tat - idle, cap)
    at, next_tat = start, None
    if rate is not None:
        interval = 1.0 / rate
        allowed = burst if rate0 == 0 else 1  # an adaptive rate is the server's: no burst
        at = max(start, tat - (allowed - 1) * interval)
        next_tat = tat + interval
    wait = at - now
    if 0 <= left < wait:
        # Nothing booked, nothing changed: the idle time is counted once, by the send
        # that ends it (counted by every refusal, it moved ``grows`` seconds into the
        # future under deadline refusals, and the rate froze above the limit).
        return False, wait
    if idle > 0:
        st["grows"] = st.get("grows", 0.0) + idle
    if gap >= RATE_MIN_WINDOW:
        st["busy"] = start  # a quiet spell: the server's bucket refilled
    if next_tat is not None:
        st["tat"] = next_tat
    st["last"] = at
    return True, wait


def throttle(st: State, now: float, sent_at: float, pause: float, cap: float) -> bool:
    """A 429 at ``now`` for a request sent at ``sent_at``; True when it cut the rate."""
    paused = max(st.get("paused", 0.0), now + pause)
    st["paused"] = paused
    rate0 = st.get("rate0", 0.0)
    last_cut = st.get("throttled_at", 0.0)
    if sent_at < last_cut:
        return False
    current = rate_at(st, now, cap)
    if rate0 == 0:
        # Half the last second's successes over a full second: a burst is not a rate,
        # and the second may hold the server's initial bucket.
        count, _ = _successes_since(st, now - RATE_WINDOW, now)
        st["rate0"] = max(RATE_MIN, RATE_FIRST_CUT * count / RATE_WINDOW)
        st["slow"] = 1.0
    else:
        start = max(now - RATE_WINDOW, st.get("busy", 0.0), st.get("grows", 0.0))
        count, span = _successes_since(st, start, now)
        if span < RATE_MIN_WINDOW:
            return False  # too soon after the last cut to measure again
        ceiling = count / span
        if current is not None:
            ceiling = min(ceiling, current)
        ceiling = max(RATE_MIN, ceiling)
        restart = ceiling
        last = st.get("ceiling", 0.0) if st.get("slow", 0.0) == 0 else 0.0
        if 0 < last < ceiling:
            # More than the last ceiling may be the server's refilled burst drained by a
            # probe (one second's worth at most doubles what a second measures): climb
            # back from no higher than half of it, and let the next 429 measure again.
            restart = max(last, ceiling / 2)
        st["ceiling"] = ceiling
        st["rate0"] = restart * RATE_CUBIC_BETA
        st["slow"] = 0.0
    st["throttled_at"] = now
    st["grows"] = st["tat"] = st["last"] = paused
    st["epoch"] = st.get("epoch", 0.0) + 1
    return True


# The functions above in Lua, for one Redis hash (KEYS[1]). ARGV[1] is the clock ("-1":
# Redis's TIME; the trace tests pass theirs), ARGV[2] the operation, then its arguments.
# Numbers go out as strings: Lua numbers become integers in replies.
LUA: Final = f"""
local key = KEYS[1]
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1e6
end
local op = ARGV[2]
local st = {{}}
local raw = redis.call('HGETALL', key)
for i = 1, #raw, 2 do st[raw[i]] = tonumber(raw[i + 1]) end
local dirty = {{}}
local function get(name) return st[name] or 0 end
local function put(name, value) st[name] = value; dirty[name] = true end
local function bucket(at) return math.floor(at * {RING} / {RATE_WINDOW}) end
local function rate_at(at, cap)
  local adaptive = nil
  local rate0 = get('rate0')
  if rate0 > 0 then
    local elapsed = math.max(0, at - get('grows'))
    if get('slow') == 1 then
      local doublings = elapsed / {RATE_SLOW_START_DOUBLING}
      adaptive = rate0 * 2 ^ math.min(doublings, {RATE_SLOW_START_MAX_DOUBLINGS})
    else
      local ceiling = st['ceiling'] or rate0
      local k = (math.max(0, ceiling - rate0) / {RATE_CUBIC_SCALE}) ^ (1 / 3)
      local probe = k + {RATE_PROBE_AFTER}
      if elapsed <= probe then
        adaptive = ceiling + {RATE_CUBIC_SCALE} * (elapsed - k) ^ 3
      else
        local doublings = math.min((elapsed - probe) / {RATE_PROBE_DOUBLING},
          {RATE_SLOW_START_MAX_DOUBLINGS})
        local base = ceiling + {RATE_CUBIC_SCALE} * {RATE_PROBE_AFTER} ^ 3
        adaptive = base * 2 ^ doublings
      end
    end
    adaptive = math.max({RATE_MIN}, adaptive)
  end
  if cap > 0 then
    if adaptive == nil then return cap end
    return math.min(cap, adaptive)
  end
  return adaptive
end
local function succeed(at, count)
  local b = bucket(at)
  local slot = b % {RING}
  if get('b' .. slot) ~= b then
    put('b' .. slot, b)
    put('n' .. slot, 0)
  end
  put('n' .. slot, get('n' .. slot) + count)
end
local function join_successes(count, left_at, limited)
  local rate0 = get('rate0')
  if rate0 == 0 and limited == 1 then
    put('rate0', math.max({RATE_MIN}, count / {RATE_WINDOW}))
    put('slow', 1)
    put('throttled_at', now)
    put('grows', now)
    put('busy', now)
    put('tat', now)
    put('last', now)
    return
  end
  if rate0 == 0 or get('throttled_at') <= left_at then
    succeed(now, count)
    return
  end
  local rate = count / {RATE_WINDOW}
  put('busy', now)
  if get('slow') == 1 then
    local doublings = math.min(math.max(0, now - get('grows')) / {RATE_SLOW_START_DOUBLING},
      {RATE_SLOW_START_MAX_DOUBLINGS})
    put('rate0', rate0 + rate / 2 ^ doublings)
  else
    local ceiling = (st['ceiling'] or rate0) + rate
    put('ceiling', ceiling)
    put('rate0', ceiling * {RATE_CUBIC_BETA})
  end
end
local function join(count, left_at, limited, booked)
  if count > 0 then join_successes(count, left_at, limited) end
  if booked > get('tat') then put('tat', booked) end
end
local function successes_since(start)
  local first, last = bucket(start), bucket(now)
  local total = 0
  for slot = 0, {RING - 1} do
    local b = get('b' .. slot)
    if first < b and b <= last then total = total + get('n' .. slot) end
  end
  return total, now - (first + 1) * {RATE_WINDOW} / {RING}
end
local function reserve(cap, burst, left)
  local start = math.max(now, get('paused'))
  local gap = start - math.max(get('tat'), get('last'))
  local rate0 = get('rate0')
  local idle = 0
  if gap > 0 and rate0 > 0 then idle = gap end
  local tat = math.max(get('tat'), start)
  local rate = rate_at(tat - idle, cap)
  local at = start
  local next_tat = nil
  if rate ~= nil then
    local interval = 1 / rate
    local allowed = burst
    if rate0 > 0 then allowed = 1 end
    at = math.max(start, tat - (allowed - 1) * interval)
    next_tat = tat + interval
  end
  local wait = at - now
  if left >= 0 and left < wait then return 0, wait end
  if idle > 0 then put('grows', get('grows') + idle) end
  if gap >= {RATE_MIN_WINDOW} then put('busy', start) end
  if next_tat ~= nil then put('tat', next_tat) end
  put('last', at)
  return 1, wait
end
local function throttle(sent_at, pause, cap)
  local paused = math.max(get('paused'), now + pause)
  put('paused', paused)
  local rate0 = get('rate0')
  local last_cut = get('throttled_at')
  if sent_at < last_cut then return 0 end
  local current = rate_at(now, cap)
  if rate0 == 0 then
    local count = successes_since(now - {RATE_WINDOW})
    put('rate0', math.max({RATE_MIN}, {RATE_FIRST_CUT} * count / {RATE_WINDOW}))
    put('slow', 1)
  else
    local start = math.max(now - {RATE_WINDOW}, get('busy'), get('grows'))
    local count, span = successes_since(start)
    if span < {RATE_MIN_WINDOW} then return 0 end
    local ceiling = count / span
    if current ~= nil then ceiling = math.min(ceiling, current) end
    ceiling = math.max({RATE_MIN}, ceiling)
    local restart = ceiling
    local last = 0
    if get('slow') == 0 then last = get('ceiling') end
    if last > 0 and last < ceiling then restart = math.max(last, ceiling / 2) end
    put('ceiling', ceiling)
    put('rate0', restart * {RATE_CUBIC_BETA})
    put('slow', 0)
  end
  put('throttled_at', now)
  put('grows', paused)
  put('tat', paused)
  put('last', paused)
  put('epoch', get('epoch') + 1)
  return 1
end
local function save()
  local flat = {{}}
  for name, _ in pairs(dirty) do
    table.insert(flat, name)
    table.insert(flat, string.format('%.17g', st[name]))
  end
  if #flat > 0 then redis.call('HSET', key, unpack(flat)) end
  redis.call('EXPIRE', key, tonumber(ARGV[3]))
end
local reply
if op == 'acquire' then
  -- ARGV[4..]: cap, burst, successes to add, seconds left (-1: none), epoch to
  -- confirm (-1: book), then a join's four: successes a returning process brings, when
  -- it left, 1 when its own limiter has seen 429s, and the end of that one's bookings.
  -- Reply: ok, wait, epoch, now.
  local cap, burst = tonumber(ARGV[4]), tonumber(ARGV[5])
  local add, left, confirm = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
  join(tonumber(ARGV[9]) or 0, tonumber(ARGV[10]) or 0, tonumber(ARGV[11]) or 0,
    tonumber(ARGV[12]) or 0)
  if add > 0 then succeed(now, add) end
  if confirm >= 0 and confirm == get('epoch') then
    reply = {{1, '0', tostring(get('epoch')), string.format('%.17g', now)}}
  else
    local ok, wait = reserve(cap, burst, left)
    reply = {{ok, string.format('%.17g', wait), tostring(get('epoch')),
      string.format('%.17g', now)}}
  end
elseif op == 'throttle' then
  -- ARGV[4..]: cap, sent_at, pause, successes to add first (the first 429 of a run
  -- must see the first wave's successes), then a join's four. Reply: 1 when cut.
  local add = tonumber(ARGV[7])
  join(tonumber(ARGV[8]) or 0, tonumber(ARGV[9]) or 0, tonumber(ARGV[10]) or 0,
    tonumber(ARGV[11]) or 0)
  if add > 0 then succeed(now, add) end
  reply = throttle(tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[4]))
elseif op == 'succeed' then
  succeed(now, tonumber(ARGV[4]))
  reply = 1
elseif op == 'join' then
  join(tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]) or 0, tonumber(ARGV[7]) or 0)
  reply = 1
else
  -- 'rate' (ARGV[4]: cap), for the trace tests. Reply: the rate, or -1 (unlimited).
  reply = string.format('%.17g', rate_at(now, tonumber(ARGV[4])) or -1)
end
save()
return reply
"""
