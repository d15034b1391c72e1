import time

from django.core.management.base import CommandError

from messaging import seeding
from messaging.errors import NotFound
from messaging.management.base import DynamoCommand


class Command(DynamoCommand):
    help = (
        "Load demo data: the users andrewbrown, bayko and londo (in Postgres, if missing)"
        " and their conversations (in DynamoDB), every timestamp in the past. Running it"
        " again adds nothing twice. --messages N instead seeds one big conversation for"
        " benchmarks with BatchWriteItem, between existing users unless --create-users."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", help="set this password on the seeded users (dev logins only)"
        )
        parser.add_argument(
            "--messages",
            type=int,
            metavar="N",
            help="seed one conversation of N messages between --between users",
        )
        parser.add_argument(
            "--between",
            nargs=2,
            metavar=("HANDLE", "HANDLE"),
            default=("bench_alice", "bench_bob"),
            help="the two users of the --messages conversation (default: bench_alice bench_bob)",
        )
        parser.add_argument(
            "--create-users",
            action="store_true",
            help="with --messages: create --between users that do not exist (else an error)",
        )
        parser.add_argument(
            "--one-put-per-message",
            action="store_true",
            help="with --messages: write each message with its own PutItem (benchmark baseline)",
        )

    def handle(self, *args, password=None, messages=None, between=None, **options):
        started = time.perf_counter()
        if messages is not None:
            if messages < 1:
                raise CommandError("--messages must be at least 1")
            try:
                result = seeding.conversation_bulk_seed(
                    handles=tuple(between),
                    count=messages,
                    password=password,
                    batch=not options["one_put_per_message"],
                    create_users=options["create_users"],
                )
            except NotFound as exc:
                raise CommandError(f"{exc} (add --create-users to create it)") from exc
        else:
            result = seeding.demo_data_seed(password=password)
        elapsed = time.perf_counter() - started
        rate = result.messages_written / elapsed if elapsed else 0.0
        self.stdout.write(
            f"users created: {result.users_created}; conversations created:"
            f" {result.conversations_created}, already there: {result.conversations_skipped};"
            f" messages written: {result.messages_written} in {result.write_requests}"
            f" write requests, {elapsed:.2f}s ({rate:.0f} messages/s)"
        )
