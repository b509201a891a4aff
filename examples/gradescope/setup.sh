#!/usr/bin/env bash
# Gradescope autograder setup: runs once, as root, when the autograder image
# is built. The autograder zip holds this file, run_autograder, and the
# echoconf binary (built with: CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build
# -o echoconf ./cmd/echoconf), and optionally rubric.yaml.
set -euo pipefail
cd "$(dirname "$0")"

# Students' C servers are built with make or gcc; prlimit (util-linux) sets
# the resource limits.
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	build-essential util-linux ca-certificates >/dev/null

install -m 0755 echoconf /usr/local/bin/echoconf
echoconf version
