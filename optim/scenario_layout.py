"""What a scenario is made of: its files (or workbook sheets) and the columns of each table.

The input contract, for analysts, is docs/scenario.md; these names are what `optim.scenario`
reads and checks.
"""

FILES = {
    "scenario": "scenario.yaml",
    "clients": "clients.csv",
    "team": "team.csv",
    "pairs": "pairs.csv",
}
OPTIONAL_FILES = ("pairs",)
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")

CLIENT_COLUMNS = (
    "client_id", "name", "segment", "direction", "region", "status",
    "revenue_last_year", "potential", "owner", "locked", "lat", "lon",
)  # fmt: skip
TEAM_COLUMNS = ("rep_id", "name", "role", "direction", "region", "fte", "lat", "lon")
PAIR_COLUMNS = ("client_id", "rep_id", "hours", "cost")
COLUMNS = {"clients": CLIENT_COLUMNS, "team": TEAM_COLUMNS, "pairs": PAIR_COLUMNS}
REQUIRED_COLUMNS = {
    "clients": (
        "client_id", "name", "segment", "direction", "status", "revenue_last_year", "potential",
    ),
    "team": ("rep_id", "name", "role"),
    "pairs": PAIR_COLUMNS,
}  # fmt: skip
