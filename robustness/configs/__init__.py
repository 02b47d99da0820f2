"""Training configs as Python files with `get_config()` (big_vision style); `kubricgen train --config NAME` finds
them here by name, or takes any path to such a file."""
