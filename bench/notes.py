"""The prose of docs/benchmarks.md that is not a measurement: how to read the run, and
what was changed because of it. Numbers never go here; they come from latest.json."""

NOTES = [
    "How to read it: the machine is shared, 2 cores run the load tool, two gunicorns,"
    " the stream worker, DynamoDB Local (Java), Postgres and Redis together, so absolute"
    " numbers are this machine's; the ratios are the point. Runs made while other work"
    " used the same cores are noisier (see the load average above).",
]

CHANGES = [
    "- (filled in from the profile of the final run)",
]
