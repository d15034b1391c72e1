"""OpenAPI post-processing (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""


def request_bodies_required(result, generator, request, public):
    """Every body this API reads is required, but drf-spectacular only infers that from a
    serializer's required fields, which a oneOf (POST /api/messages) has none of."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if body:
                body["required"] = True
    return result
