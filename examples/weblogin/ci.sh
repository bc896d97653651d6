#!/usr/bin/env bash
# CI for examples/weblogin: the example's own tests run with the core
# module; this script runs the browser test, a nested module that drives
# Debian's headless Chromium with chromedp. It installs chromium (and a
# CJK font, so the screenshots show Chinese names) when missing.
# Screenshots go to $WEBLOGIN_SCREENSHOTS, default a new temp dir, whose
# path the test logs.
set -euo pipefail
cd "$(dirname "$0")/browsertest"

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-zenhei
  else
    sudo apt-get update
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-zenhei
  fi
fi
chromium --version

unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
WEBLOGIN_REQUIRE_BROWSER=1 go test -count=1 -v ./...
