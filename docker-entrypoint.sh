#!/bin/sh
# Started by a Beam runner (arguments are flags such as --id=...): boot Beam's SDK harness.
# Started by a person (arguments are a command such as `kubricgen render ...`): run that command.
case "$1" in
  --*) exec /opt/apache/beam/boot "$@" ;;
  *) exec "$@" ;;
esac
