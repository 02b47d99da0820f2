"""The `kubricgen` command line."""
