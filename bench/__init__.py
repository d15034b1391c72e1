"""`make bench`: the Cruddur benchmark harness (see bench/run.py)."""
