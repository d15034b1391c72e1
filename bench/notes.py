"""The prose of docs/benchmarks.md that is not a measurement: how to read the run, what
was changed because of it, and what it found outside the bench. Numbers never go here;
they come from latest.json."""

NOTES = [
    "How to read it: 2 cores run everything at once (wrk, three gunicorns, the stream"
    " worker, DynamoDB Local in Java, Postgres, Redis), and during the day other work"
    " shared them too (see the load averages above), so absolute numbers are this"
    " machine's and noisy; the ratios measured side by side in one run are the point.",
]

CHANGES = [
    "- **gunicorn runs gthread workers** (2 workers x 4 threads) instead of sync workers."
    " The profile put the in-process request close to the floor, yet over HTTP each"
    " request paid for a new TCP connection, because sync workers close it after every"
    " response. Threads keep connections alive and overlap a worker's waits on DynamoDB."
    " The floor table measures both worker classes in the same run.",
    "- **Seeding is compared on a warm engine.** A fresh DynamoDB Local runs several times"
    " slower until its JIT has warmed up, and the batch run, which came first, paid for"
    " it. The comparison now runs after the scale data is loaded.",
    "- **Like-for-like scale pages.** A 10-conversation inbox cannot fill the default"
    " 20-row page, so both inboxes are read with the same full page size.",
    "- **Capacity on every call.** The gateway asks for `ReturnConsumedCapacity` only on"
    " Queries, so the bench adds it to each call through a botocore hook. It is"
    " measured, not estimated.",
    "",
    "Found by the profiles, reported rather than changed (outside the bench's files):",
    "",
    "- **The cache-hit path is mostly SQL.** See the inbox cache-hit profile: DRF's token"
    " lookup and `people_by_uuid` (current names from Postgres) together take most of a"
    " hit, so a hit cannot be 5x cheaper than a miss. To get there, the hit path must skip"
    " them: resolve names from the copy already on the inbox rows (or cache them with the"
    " page, invalidated on a profile change), and cache token-to-user lookups.",
    "- **A conversation hit still costs a GetItem.** The membership read of invariant 5 is"
    " never cached, so a conversation hit makes 1 DynamoDB request, not 0. Direct-message"
    " groups never lose a member, so a positive membership could be cached safely, but that"
    " is a design decision (DESIGN invariant 5), left to the lead.",
    "- **BatchWriteItem seeding is bound by the engine.** The DynamoDB Local CPU column"
    " shows the engine busy for most of the batch run. Against AWS, where the engine is"
    " not on the same 2 cores, the batch path gains more over one PutItem per message.",
]
