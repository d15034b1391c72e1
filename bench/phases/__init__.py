"""The measurements, one module per section of the report. Each phase returns plain
data for results/latest.json."""
