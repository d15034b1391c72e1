"""The API's one body parser: JSON, bounded in size and depth, so no body can turn into
a 500 (a RecursionError from nesting, an unknown charset) or into unbounded work."""

import json

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser

# No request body of this API nests deeper than 2; 32 leaves room for any client while
# staying far below the recursion limit that the standard decoder hits near 1,000.
MAX_JSON_DEPTH = 32


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _depth(value) -> int:
    # Iterative: a recursive walk would fail on the very inputs this guards against.
    deepest = 0
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        pending.extend((child, depth + 1) for child in node)
    return deepest


class JSONParser(BaseParser):
    """UTF-8 (or UTF-16/32, as RFC 8259 allows) JSON; any charset parameter is ignored
    rather than handed to a codec lookup. Bodies over DATA_UPLOAD_MAX_MEMORY_SIZE are a
    413 before they are decoded."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(body) > limit:
            raise RequestTooLarge(f"The request body is over {limit} bytes.")
        try:
            data = json.loads(body, parse_constant=_reject_constant)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON is nested too deeply.") from exc
        except ValueError as exc:
            # UnicodeDecodeError is a ValueError too: bad encoding is a parse error.
            raise exceptions.ParseError("The body is not valid JSON.") from exc
        if _depth(data) > MAX_JSON_DEPTH:
            raise exceptions.ParseError(f"JSON is nested deeper than {MAX_JSON_DEPTH} levels.")
        return data
