"""The Valkey key names of contract/valkey-keys.json (the consumer's Valkey function is tested
against the same file; the dashboard generator reads it too)."""
import json
from pathlib import Path

_CONTRACT = json.loads((Path(__file__).resolve().parents[3] / "contract" / "valkey-keys.json").read_text())
KEYS = _CONTRACT["keys"]
PREFIXES = _CONTRACT["prefixes"]
