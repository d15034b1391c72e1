"""The numbered sections of docs/benchmarks.md, each a function of the results that
returns its lines (bench/report.py puts them together)."""

from bench import stats


def md_table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _ops(by_operation: dict) -> str:
    return ", ".join(f"{name} {count}" for name, count in by_operation.items()) or "none"


def _med(samples: list[dict], key: str, fmt: str = "{:.2f}") -> str:
    values = [sample[key] for sample in samples]
    spread = stats.spread(values)
    return (
        f"{fmt.format(spread['median'])} ({fmt.format(spread['min'])}-{fmt.format(spread['max'])})"
    )


def _cost_cells(row: dict) -> list:
    return [
        row["dynamodb_requests"],
        _ops(row["dynamodb_by_operation"]),
        f"{row['http_attempts']} ({row['retries']} retried)",
        f"{row['read_capacity']} / {row['write_capacity']}",
        f"{row['table_capacity']} + {row['index_capacity']}",
        row["items_read"],
        row["sql_queries"],
    ]


COST_HEADERS = [
    "DynamoDB calls",
    "by operation",
    "HTTP attempts",
    "capacity read / write",
    "of it table + index",
    "items read",
    "SQL queries",
]


def request_cost(results: dict) -> list[str]:
    return [
        "## 1. Request cost per operation",
        "",
        "Each API operation through the whole Django stack in the bench process, warm."
        " DynamoDB calls are counted by botocore's `before-call` hook (once per call) and"
        " HTTP attempts by `before-send` (once per attempt, retries included); capacity is"
        " what DynamoDB returned for `ReturnConsumedCapacity=INDEXES`, added to every"
        " request by a `before-parameter-build` hook. SQL from Django's"
        " `CaptureQueriesContext`, cache from `messaging.stats`.",
        "",
        md_table(
            ["operation", "variant", *COST_HEADERS, "cache", "ms"],
            [
                [
                    row["operation"],
                    row["variant"],
                    *_cost_cells(row),
                    ", ".join(f"{k} {v}" for k, v in row["cache"].items()) or "-",
                    f"{row['ms']:.1f}",
                ]
                for row in results["request_cost"]
            ],
        ),
        "",
    ]


def throughput(results: dict) -> list[str]:
    sizes = results["meta"]["sizes"]
    rows = []
    for case in results["http"].values():
        for label in ("cache_hit", "cache_disabled"):
            runs = case["samples"][label]
            rows.append(
                [
                    f"`{case['path']}`",
                    label.replace("_", " "),
                    _med(runs, "requests_per_s", "{:.0f}"),
                    _med(runs, "p50_ms"),
                    _med(runs, "p99_ms"),
                    sum(run["requests"] for run in runs),
                    sum(run["errors"] for run in runs),
                ]
            )
        rows.append(
            [
                f"`{case['path']}`",
                "hit / disabled",
                stats.describe(case["speedup"]),
                "",
                "",
                "",
                "",
            ]
        )
    return [
        "## 2. Throughput and floors",
        "",
        f"wrk, 8 connections, {sizes['http_seconds']} s a run, pages of"
        f" {_rows(results)} rows;"
        " the app's gunicorn with the cache on (every request a hit after the first)"
        ' against a second one with `MESSAGING_CACHE_TTL=0` ("cache disabled": every page'
        " read from DynamoDB; names and API tokens still come from the cache, whose TTLs"
        " are their own). Median (min-max) over the rounds.",
        "",
        md_table(["endpoint", "cache", "req/s", "p50 ms", "p99 ms", "requests", "errors"], rows),
        "",
    ]


FLOOR_LABELS = {
    "api_uncached": "the endpoint, cache disabled",
    "api_hit": "the endpoint, cache hit",
    "bare_wsgi": "bare WSGI app: the same DynamoDB requests, no Django",
    "django_no_io": "Django view answering the same body, no I/O",
}


def floors(results: dict) -> list[str]:
    out = [
        "Floors, one connection (pure latency), on the same gunicorns: a bare WSGI"
        " endpoint sending the very requests the endpoint sent (recorded in process:"
        f" {', '.join(f'{k}: {_ops_list(v)}' for k, v in results['floor_requests'].items())}),"
        " and a Django view (the whole middleware stack) returning the endpoint's own"
        " response body from memory.",
        "",
    ]
    for case in results["floors"].values():
        out += [
            md_table(
                [f"`{case['path']}`", "p50 ms", "p99 ms"],
                [
                    [
                        label,
                        _med(case["samples"][key], "p50_ms"),
                        _med(case["samples"][key], "p99_ms"),
                    ]
                    for key, label in FLOOR_LABELS.items()
                ],
            ),
            "",
            md_table(
                ["ratio of p50s", "median (spread)", "load 1m"],
                [
                    [ratio.replace("/", " / "), stats.describe(stat), _load(stat["load_1m"])]
                    for ratio, stat in case["ratios"].items()
                ],
            ),
            "",
        ]
    return out


def _ops_list(floor: dict) -> str:
    return " + ".join(floor["operations"])


def _rows(results: dict) -> str:
    return " and ".join(
        f"{floor['rows']} ({name})" for name, floor in results["floor_requests"].items()
    )


def _load(value) -> str:
    return "-" if not value else f"{value[0]}-{value[1]}"


def api_scale(results: dict) -> list[str]:
    rows = []
    for kind, case in results["scale"].items():
        for label in ("small", "large"):
            side = case[label]
            rows.append(
                [
                    kind,
                    f"{side['size']:,}",
                    case["page_size"],
                    _med(case["samples"][label], "p50_ms"),
                    *_cost_cells(side),
                ]
            )
        rows.append(
            [
                kind,
                "large / small",
                "",
                stats.describe(case["latency_ratio"]),
                "",
                "",
                "",
                "",
                "",
                "",
                "",
            ]
        )
    return [
        "## 3. Scale: the first page, small against large",
        "",
        "### API",
        "",
        "Cache disabled (pages; names and tokens cached), one connection, small and large"
        " alternated; both sides ask for"
        " the same page size (`?page_size=`, one less than the small side holds) so both"
        " pages are full. Request cost measured in process.",
        "",
        md_table(["case", "size", "page size", "p50 ms", *COST_HEADERS], rows),
        "",
    ]


def pages(results: dict) -> list[str]:
    rows = []
    for kind, case in results["pages"].items():
        for label in ("small", "large"):
            peer = case.get("peer", {}).get(label)
            for cache, side, sample, versus in (
                ("disabled", case[label], f"ours_{label}", "versus_peer"),
                ("on", case[label]["cached"], f"cached_{label}", "versus_peer_cached"),
            ):
                rows.append(
                    [
                        kind,
                        f"{case[label]['size']:,}",
                        cache,
                        f"{side['rows']} / {peer['rows']}" if peer else side["rows"],
                        _med(case["samples"][sample], "p50_ms"),
                        *_cost_cells(side),
                        _med(case["samples"][f"peer_{label}"], "p50_ms") if peer else "-",
                        peer["sql_queries"] if peer else "-",
                        stats.describe(case[versus][label]) if peer else "-",
                    ]
                )
        rows.append(
            [kind, "large / small", "disabled", "", stats.describe(case["latency_ratio"])]
            + [""] * 10
        )
    return [
        "### Pages (HTML, signed-in session)",
        "",
        "The inbox page and the conversation page as a browser gets them (session cookie),"
        " one connection: ours from the cache-disabled gunicorn and, as shipped, from the"
        " one with the cache on (every view a hit after the first; the conversation still"
        " makes its membership read), and the same pages of the peer (django-postman,"
        " `bench/peer/`: its inbox paged by dj-pagination at 20, its conversation view"
        " limited to the newest 20, no cache) over the same data shape. Each size's three"
        ' sides in turn, every round. "vs postman" is postman\'s p50 over ours: above 1,'
        " ours answers faster.",
        "",
        md_table(
            [
                "page",
                "size",
                "our cache",
                "rows (ours / postman)",
                "ours p50 ms",
                *COST_HEADERS,
                "postman p50 ms",
                "postman SQL",
                "vs postman",
            ],
            rows,
        ),
        "",
    ]


def _backlog_rows(case: dict) -> list[list]:
    rows = []
    for mode, data in case["modes"].items():
        for unread, row in data["rows"].items():
            if "error" in row:
                rows.append([mode, f"{int(unread):,}", "fails", "", "", "", row["error"]])
                continue
            stream = "applied_ms" in row
            rows.append(
                [
                    mode,
                    f"{int(unread):,}",
                    _spread_cell(row["write_capacity"]),
                    f"{row['table_capacity']['median']} + {row['index_capacity']['median']}",
                    _spread_cell(row["ms"]),
                    _spread_cell(row["applied_ms"]) if stream else "-",
                    f"worker writes {row['worker_writes']['median']}" if stream else "",
                ]
            )
        for unread, ratios in data["versus_small"].items():
            ratio = f"{int(unread):,} / {case['small']:,}"
            rows.append(
                [
                    mode,
                    ratio,
                    stats.describe(ratios["write_capacity"]),
                    "",
                    stats.describe(ratios["ms"]),
                    "",
                    "",
                ]
            )
    return rows


def backlog(results: dict) -> list[str]:
    group = _group_line(results["group_of_8"])
    sends = results["meta"]["sizes"].get("backlog_sends", 1)
    return [
        "## 4. One send against the recipient's unread backlog",
        "",
        "A conversation whose recipient has that many unread messages (bulk-loaded), then"
        " replies through the API in process, inline and stream fan-out, alternated:"
        f" {sends} a side each round, the round's sample their median latency and mean"
        " cost. In stream mode the worker's capacity for the same message (from its own"
        ' meter) is added to the request\'s, and "applied" is the time until the'
        " recipient's row shows it.",
        "",
        md_table(
            [
                "fan-out",
                "unread",
                "write capacity",
                "table + index",
                "request ms",
                "applied ms",
                "notes",
            ],
            _backlog_rows(results["backlog"]),
        ),
        "",
        group,
        "",
    ]


def _group_line(case: dict | None) -> str:
    if case is None:
        return "Group of 8 vs pair: not measured in this run."
    if "error" in case["group"] or "error" in case["pair"]:
        return f"Group of 8 vs pair: failed ({(case['group'] | case['pair']).get('error')})."
    ratio = case["versus_pair"]["write_capacity"]
    return (
        f"Group of {case['members']} vs pair, inline sends (as above): write capacity"
        f" {_spread_cell(case['group']['write_capacity'])} vs"
        f" {_spread_cell(case['pair']['write_capacity'])},"
        f" ratio {_spread_cell(ratio)}; request ms"
        f" {_spread_cell(case['group']['ms'])} vs {_spread_cell(case['pair']['ms'])}."
    )


def _spread_cell(stat: dict) -> str:
    return f"{stat['median']} ({stat['min']}-{stat['max']})"


def seeding(results: dict) -> list[str]:
    case = results["seeding"]
    labels = {
        "batch": f"BatchWriteItem, 25 a request, {case['threads']} threads",
        "single": f"one PutItem a message, {case['threads']} threads",
        "naive": "one PutItem a message, 1 thread",
    }
    return [
        "## 5. Seeding, like for like",
        "",
        f"{case['messages']:,} messages a run, items built before the clock starts, each"
        " strategy in turn every round. Engine CPU from /proc for the DynamoDB Local"
        " process.",
        "",
        md_table(
            ["strategy", "messages/s", "requests", "engine CPU ms / message"],
            [
                [
                    label,
                    _med(case["samples"][key], "messages_per_s", "{:.0f}"),
                    case["samples"][key][0]["requests"],
                    _med(case["samples"][key], "engine_cpu_ms_per_message", "{:.3f}"),
                ]
                for key, label in labels.items()
            ],
        ),
        "",
        f"- Like for like (batch / single puts, both {case['threads']} threads):"
        f" {stats.describe(case['like_for_like'])}.",
        f"- Best against naive (batch on {case['threads']} threads / one put at a time):"
        f" {stats.describe(case['best_vs_naive'])}.",
        "",
    ]


def fanout(results: dict) -> list[str]:
    case = results["fanout"]
    worker, function = case["worker"], case.get("lambda")
    rows = [
        [
            "stream worker (bench/worker.py, its meter)",
            case["sends"],
            worker["dynamodb_requests"],
            _ops(worker["dynamodb_by_operation"]),
            f"{worker['http_attempts']} ({worker['retries']} retried)",
            worker["write_capacity"],
            case["worker_writes_per_send"],
            case["worker_write_capacity_per_send"],
        ]
    ]
    notes = []
    if function is not None:
        rows.append(
            [
                "Lambda handler (in process, metered)",
                function["sends"],
                function["dynamodb_requests"],
                _ops(function["dynamodb_by_operation"]),
                f"{function['http_attempts']} ({function['retries']} retried)",
                function["write_capacity"],
                function["writes_per_send"],
                function["write_capacity_per_send"],
            ]
        )
        notes = [
            f"The Lambda row: the worker paused, {function['sends']} more sends, then the"
            f" {function['records']} stream records taken meanwhile handed to"
            f" `messaging.stream.lambda_handler.handler` in {function['batches']} batch(es) of"
            " at most 100 (the template's batch size); failed records reported:"
            f" {function['failures']}; recipients whose inbox did not show their pair's last"
            f" message afterwards: {function['unseen']}. Reading the stream is the event source"
            " mapping's work, not the function's, so no stream call is in its row.",
            "",
        ]
    return [
        "## 6. Fan-out lag (stream mode)",
        "",
        f"{case['sends']} sends from {case['pairs']} pairs in parallel; each waits from the"
        " 201 of POST `/api/messages` until the recipient's GET `/api/message_groups`"
        f" (through the cache, polled every 10 ms) shows it. p50 {case['p50_ms']} ms,"
        f" p95 {case['p95_ms']} ms, max {case['max_ms']} ms, {case['lost']} not seen within"
        " 10 s.",
        "",
        "The fan-out's own requests over those sends:",
        "",
        md_table(
            [
                "applied by",
                "sends",
                "DynamoDB + Streams calls",
                "by operation",
                "HTTP attempts",
                "write capacity",
                "writes / send",
                "write capacity / send",
            ],
            rows,
        ),
        "",
        *notes,
    ]


def profiles(results: dict) -> list[str]:
    out = ["## 7. Where the time goes", ""]
    for profile in results["profiles"]:
        out += _profile(profile)
    client = results["client_profile"]
    return [
        *out,
        "### The boto3 client on its own",
        "",
        f"pyinstrument over {client['calls']} bare inbox Queries ({client['ms_per_call']} ms"
        " a call under the profiler), by stage (inclusive; the round trip includes the"
        " engine's time):",
        "",
        md_table(
            ["stage", "ms / call"],
            [[label, f"{ms:.3f}"] for label, ms in client["stages"].items()],
        ),
        "",
    ]


def _profile(profile: dict) -> list[str]:
    layers, total = profile["by_layer"], profile["ms_per_request"]
    shares = ", ".join(
        f"{label.split(' (')[0]} {ms / total:.0%}" for label, ms in layers.items() if ms and total
    )
    return [
        f"### GET `{profile['path']}`, cache {profile['cache']}",
        "",
        f"pyinstrument over {profile['requests']} requests in the bench process"
        f" ({total} ms a request under the profiler; the full tree is in"
        f" bench/results/profile-{profile['name']}.txt). Share of a request by layer"
        f" (inclusive, so they overlap): {shares}.",
        "",
        md_table(
            ["layer (inclusive)", "ms / request"],
            [[label, f"{ms:.2f}"] for label, ms in profile["by_layer"].items()],
        ),
        "",
        md_table(
            ["the project's own functions (inclusive)", "ms / request"],
            [
                [f"`{row['frame']}`", f"{row['ms_per_request']:.3f}"]
                for row in profile["top_project"]
            ],
        ),
        "",
        md_table(
            ["top frames by self time", "ms / request", "share"],
            [
                [f"`{row['frame']}`", f"{row['ms_per_request']:.3f}", f"{row['share'] * 100:.1f}%"]
                for row in profile["top_self"]
            ],
        ),
        "",
    ]


def live(results: dict) -> list[str]:
    case = results["live"]
    held = case["open_streams"]
    before, during = held["before"], held["held"]
    return [
        "## 8. Live events",
        "",
        "Each send waits from the 201 of POST `/api/messages` until its `message` event"
        " reaches the recipient's open `GET /api/events` stream (one uvicorn process; an"
        " asyncio client, one coroutine per stream); an event that arrives before the"
        " sender has read its 201 counts as 0 ms, one later than 10 s still counts with its"
        " lag, and one that never arrives is lost. Inline fan-out publishes in the request,"
        " stream fan-out from the stream worker.",
        "",
        md_table(
            ["fan-out", "streams open", "sends", "p50 ms", "p95 ms", "max ms", "lost"],
            [
                [
                    label,
                    streams,
                    row["sends"],
                    row["p50_ms"],
                    row["p95_ms"],
                    row["max_ms"],
                    row["lost"],
                ]
                for label, streams, row in (
                    ("inline", 1, case["inline"]),
                    ("stream", 1, case["stream"]),
                    ("stream", f"{held['streams'] + 1:,}", held["delivery"]),
                )
            ],
        ),
        "",
        f"{held['streams']:,} streams (one user each) opened {held['open_concurrency']} at a"
        f" time in {held['open_seconds']} s ({held['opens_per_second']} per second); held open:"
        f" {held['held_open']:,}, ended early: {held['ended_early']}; through at least one"
        f" {held['heartbeat_seconds']} s heartbeat: {held['with_heartbeat']:,}. The server"
        " process before the streams (one opened and closed first) and with them all open:",
        "",
        md_table(
            ["", "RSS MiB", "threads", "Redis connections", "Postgres connections"],
            [
                [
                    label,
                    round(row["rss_kib"] / 1024, 1),
                    row["threads"],
                    row["redis_connections"],
                    row["postgres_connections"],
                ]
                for label, row in (("before", before), ("streams open", during))
            ],
        ),
        "",
        f"- Memory per stream (RSS delta / streams): {held['kib_per_stream']} KiB.",
        "- Threads per stream:"
        f" {(during['threads'] - before['threads']) / held['streams']:.2f}. Django runs a"
        " request's synchronous middleware on a thread of the request's own, which lives as"
        " long as the response: an open stream parks one, idle.",
        "- Publishing paused after a Redis error (warnings in the logs over the whole run):"
        f" inline {case['publish_outages']['inline']},"
        f" stream worker {case['publish_outages']['stream']}.",
        "",
    ]


SECTIONS = (
    request_cost,
    throughput,
    floors,
    api_scale,
    pages,
    backlog,
    seeding,
    fanout,
    profiles,
    live,
)
