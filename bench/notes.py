"""The prose of docs/benchmarks.md that is not a measurement: how to read the run, what
was changed because of it, and what it found outside the bench. Numbers never go here;
they come from latest.json."""

NOTES = [
    "How to read it: 2 cores run everything at once (wrk, two gunicorns, the stream"
    " worker, DynamoDB Local in Java, Postgres, Redis), and while this was built other"
    " work shared them too (see the load averages above). Absolute numbers are this"
    " machine's and noisy. The ratios, measured side by side in one run, are the point.",
]

CHANGES = [
    "Changes to how things are measured, each found while reading a run:",
    "",
    "- **Workers are warmed before anything is timed.** In the first short runs, cache"
    " hits looked slower than misses. Each gunicorn worker was paying for its lazy imports"
    " and first connections inside the timed window. Every wrk run now starts with a few"
    " untimed requests.",
    "- **Seeding is compared on a warm engine.** A fresh DynamoDB Local is several times"
    " slower until its JIT has warmed up, and the batch run, which came first, paid for"
    " that. The comparison now runs after the scale data is loaded.",
    "- **Scale pages are like for like.** A 10-conversation inbox cannot fill the default"
    " 20-row page, so both inboxes are read with the same full page size.",
    "- **Capacity is recorded on every call.** The gateway asks for"
    " `ReturnConsumedCapacity` on Queries only, so the bench adds it to each call through a"
    " botocore hook. Capacity is measured, not estimated.",
    "",
    "What the profiles showed, and what was done about it:",
    "",
    "- **The gateway's client sends a fixed user agent** (`messaging/dynamo/client.py`)."
    " The client-on-its-own profile splits a bare Query into stages. Before this change,"
    " building the user-agent string was the largest stage after the round trip, larger"
    " than signing or parsing: botocore rebuilds and sanitises its composite user agent"
    " twice on every request unless `Config(user_agent=...)` fixes it. pyinstrument"
    " overstates stages made of many tiny calls, so the real saving is smaller than that"
    " row suggested, but every DynamoDB call paid it. The table above shows the stage"
    " after the change. The other client stages (response parsing, which grows with the"
    " items on a page, and SigV4 signing) have no setting. Parameter validation is"
    " small, so it stays on.",
    "- **gunicorn worker class: left at the default.** gthread workers (keep-alive,"
    " threads overlapping DynamoDB waits) were tried against sync workers. Across runs"
    " neither won consistently, at one or at 8 connections, so the bench keeps gunicorn's"
    " default sync workers.",
    "- **The cache-hit path is mostly SQL (reported, not changed: outside the bench's"
    " files).** In the inbox cache-hit profile, DRF's token lookup and `people_by_uuid`"
    " (current names from Postgres) take most of a hit. That is why a hit is not 5x"
    " cheaper than a miss. To get there, the hit path has to skip both: take names from"
    " the copy already on the inbox rows (or cache them with the page and invalidate on a"
    " profile change), and cache token-to-user lookups.",
    "- **A conversation hit still costs a GetItem (reported).** The membership read of"
    " invariant 5 is never cached, so a conversation hit makes 1 DynamoDB request, not 0,"
    " and its throughput gains little from the cache. Direct-message groups never lose a"
    " member, so a positive membership could be cached safely. That is a design decision"
    " (DESIGN invariant 5), left to the lead.",
    "- **Seeding: batching saves per-request work, not per-item work (reported).** The"
    " engine CPU columns show what DynamoDB Local spends per message either way, and"
    " that bounds what BatchWriteItem can gain on this engine. `conversation_load` already"
    " writes from 4 threads; trying 2 and 8 moved the rate by no more than the noise.",
]
