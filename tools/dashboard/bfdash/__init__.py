"""bfdash: checks and runs the Grafana dashboard of the Black Friday pipeline without Grafana.

- load: the dashboard JSON from the file or from `blackfriday-operator render` output
- lint: project rules (unique ids, datasource uid, gridPos, wireframe titles, variables)
- query: every panel's redis-datasource query against a real Valkey, shaped as the panel shapes it
- render: the whole dashboard to a PNG (matplotlib) and a terminal summary
"""
