#!/bin/sh
# The end-to-end HTTP benchmark: the dashboard host against a plain Task.WhenAll endpoint, driven by wrk on loopback.
# Installs wrk if it is missing (Debian: apt-get, as root or through sudo), builds Release, runs the --http mode.
set -eu
cd "$(dirname "$0")/../.."

if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk is not on PATH: installing it (apt-get install -y wrk)" >&2
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update
    $SUDO apt-get install -y wrk
fi

dotnet build -c Release Actors.sln
dotnet run -c Release --no-build --project tests/Actors.Aggregation.Benchmarks -- --http "$@"
