"""Stream fan-out: the one core (`core.records_apply`) that moves inbox rows for new
messages, the local poller that feeds it from DynamoDB Streams (`manage.py ddb_stream`),
and the Lambda entry that feeds it in AWS. Imports nothing from Django.
"""
